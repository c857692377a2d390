"""The shipped rules/ files: valid under pydantic, and built without it to the very same objects.

lrlint builds its own profiles and optimizer table without validation (no pydantic import on a
pre-commit run); this test is what makes that safe: every shipped file passes the pydantic
validation users' profiles get, and the fast build gives equal objects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lrlint import profiles
from lrlint.profiles import OptimizerTable, Profile, RulesError, load_profile, rules_dir
from lrlint.settings import ConfigError, Settings, Thresholds
from lrlint.validation import build, validate

FRAMEWORKS = sorted((rules_dir() / "frameworks").glob("*.yaml"))


def test_every_framework_profile_is_shipped():
    assert [p.stem for p in FRAMEWORKS] == [
        "axolotl",
        "deepspeed",
        "detectron2",
        "detectron2_lazy",
        "generic",
        "huggingface",
        "hydra",
        "lightning",
        "mmengine",
        "python_script",
        "timm",
        "timm_script",
        "ultralytics",
    ]


@pytest.mark.parametrize("path", FRAMEWORKS, ids=lambda p: p.stem)
def test_shipped_profile_validates_and_fast_build_is_equal(path: Path):
    data = profiles._load_yaml(path)
    validated = validate(Profile, data)
    assert build(Profile, data) == validated
    assert validated.name == path.stem


def test_optimizer_table_validates_and_fast_build_is_equal():
    data = profiles._load_yaml(rules_dir() / "optimizers.yaml")
    table = validate(OptimizerTable, data)
    assert build(OptimizerTable, data) == table == profiles.optimizer_table()
    assert table.families["sgd"].band == (1.0, 1.0) and isinstance(table.families["adaptive"].band, tuple)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("name: x\ntitle: t\nroles: {learning_rate: [lr]}\n", "roles: Value error, unknown role 'learning_rate'"),
        ("name: x\ntitle: t\nroels: {}\n", "roels: Extra inputs are not permitted"),
        ("name: x\ntitle: t\nname_tags: [{pattern: 'bs(\\d+)'}]\n", "name_tags.0.pattern: Value error, name tag"),
        (
            "name: x\ntitle: t\nruntime_scaling: [{name: a, when: [{key: k, op: sometimes}], description: d}]\n",
            "runtime_scaling.0.when.0.op: Input should be 'eq', 'ne', 'present', 'absent', 'truthy', 'falsy' or 'matches'",
        ),
        ("title: t\n", "name: Field required"),
    ],
)
def test_broken_user_profile_names_file_and_key(tmp_path, text, needle):
    f = tmp_path / "mine.yaml"
    f.write_text(text)
    with pytest.raises(RulesError) as e:
        load_profile(f)
    assert str(e.value).startswith(f"{f}: ") and needle in str(e.value)


def test_user_settings_are_validated_defaults_are_not_needed():
    assert Settings() == build(Settings, {})
    s = Settings.from_table({"thresholds": {"error-factor": 3, "batch-tolerance": [0.8, 1.2]}, "max-file-size": 10})
    assert s.thresholds == Thresholds(error_factor=3.0, batch_tolerance=(0.8, 1.2)) and s.max_file_size == 10
    with pytest.raises(
        ConfigError, match=r"tool\.lrlint\.thresholds\.warmup-factor: Value error, Input should be greater than 1"
    ):
        Settings.from_table({"thresholds": {"warmup-factor": 1}})
    with pytest.raises(ConfigError, match=r"tool\.lrlint\.policy\.sgd\.band: Value error, band must be"):
        Settings.from_table({"policy": {"sgd": {"fix": "linear", "band": [1, 0.5]}}})


def test_shipped_rules_cache_is_used_rebuilt_when_corrupt_and_can_be_off(tmp_path, monkeypatch):
    monkeypatch.setenv("LRLINT_CACHE_DIR", str(tmp_path / "cache"))
    fresh = profiles._build_shipped()
    assert profiles._shipped_rules.__wrapped__() == fresh
    [pickle_file] = (tmp_path / "cache").glob("rules-*.pickle")
    pickle_file.write_bytes(b"not a pickle")
    assert profiles._shipped_rules.__wrapped__() == fresh  # corrupt: rebuilt from rules/ ...
    assert pickle_file.read_bytes()[:1] == b"\x80"  # ... and written again
    monkeypatch.setenv("LRLINT_CACHE_DIR", "")
    off = tmp_path / "off"
    monkeypatch.setenv("XDG_CACHE_HOME", str(off))
    assert profiles._shipped_rules.__wrapped__() == fresh and not off.exists()
