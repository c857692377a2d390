"""The shipped rules/ files: valid under pydantic, and built without it to the very same objects.

lrlint builds its own profiles and optimizer table without validation (no pydantic import on a
pre-commit run); this test is what makes that safe: every shipped file passes the pydantic
validation users' profiles get, and the fast build gives equal objects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lrlint import profiles, python_rules
from lrlint.profile_docs import ProfileExample
from lrlint.profiles import OptimizerTable, Profile, RulesError, load_profile, rules_dir
from lrlint.python_rules import PythonSection
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
        "litgpt",
        "mmengine",
        "python_script",
        "timm",
        "timm_script",
        "ultralytics",
    ]


@pytest.mark.parametrize("path", FRAMEWORKS, ids=lambda p: p.stem)
def test_shipped_profile_validates_and_fast_build_is_equal(path: Path):
    """Every part of a profile file: the Profile checks use, its python: section and its examples."""
    data = profiles._load_yaml(path)
    apart = {k: data.pop(k) for k in profiles.APART if k in data}
    validated = validate(Profile, data)
    assert build(Profile, data) == validated == profiles.profile_file(path)[0]
    assert validated.name == path.stem
    if "python" in apart:
        assert build(PythonSection, apart["python"]) == validate(PythonSection, apart["python"])
    examples = apart.get("examples") or []
    assert examples and [build(ProfileExample, e) for e in examples] == [validate(ProfileExample, e) for e in examples]


def test_optimizer_table_validates_and_fast_build_is_equal():
    data = profiles._load_yaml(rules_dir() / "optimizers.yaml")
    table = validate(OptimizerTable, data)
    assert build(OptimizerTable, data) == table == profiles.optimizer_table()
    assert table.families["sgd"].band == (1.0, 1.0) and isinstance(table.families["adaptive"].band, tuple)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("name: x\ntitle: t\nroles: {learning_rate: [lr]}\n", "roles: Value error, unknown role 'learning_rate'"),
        ("name: x\ntitle: t\nroels: {}\n", "roels: unknown key `roels`; did you mean `roles`? (valid keys: name, "),
        ("name: x\ntitle: t\nname_tags: [{pattern: 'bs(\\d+)'}]\n", "name_tags.0.pattern: Value error, name tag"),
        (
            "name: x\ntitle: t\nruntime_scaling: [{name: a, when: [{key: k, op: sometimes}], description: d}]\n",
            "runtime_scaling.0.when.0.op: Input should be 'eq', 'ne', 'present', 'absent', 'truthy', 'falsy' or "
            "'matches'",
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


def test_every_optimizer_class_belongs_to_the_entry_it_is_listed_under():
    """One table: a Python class listed under an optimizer is that optimizer (same display and family) for
    the family lookup too; the classes of ``python.classes`` are recognised but of unknown family."""
    t = profiles.optimizer_table()
    for e in t.optimizers:
        assert e.classes, f"{e.display} lists no Python class"
        for c in e.classes:
            assert t.lookup(c) == (e.display, e.family), c
    for c in t.python.classes:
        assert t.lookup(c)[1] == "unknown", c
    assert set(t.torch_classes()) <= {e.display for e in t.optimizers}
    assert t.torch_classes()["SGD"] == profiles.TorchOptimizer(name="SGD", proxy_lr=0.01, calibrated=True)


def test_an_optimizer_of_an_unknown_family_is_rejected():
    data = profiles._load_yaml(rules_dir() / "optimizers.yaml")
    data["optimizers"].append({"display": "Foo", "family": "signish", "names": ["foo"]})
    with pytest.raises(Exception, match="Foo: unknown family 'signish'"):
        validate(OptimizerTable, data)


def test_python_constructors_name_each_callable_once():
    """A call matches at most one constructor of the merged table: no callable is named by two."""
    ctors = [c for _, sec in python_rules.shipped_sections() for c in sec.constructors]
    names = [n for c in ctors for n in c.names]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert sum(c.optimizers for c in ctors) == 1


def test_python_table_is_cached_apart_from_the_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("LRLINT_CACHE_DIR", str(tmp_path / "cache"))
    fresh = python_rules._build_shipped_table()
    assert python_rules.python_table.__wrapped__() == fresh
    [pickle_file] = (tmp_path / "cache").glob("python-rules-*.pickle")
    assert python_rules.python_table.__wrapped__() == fresh  # read back from the cache
    assert fresh.constructor("torch.optim.AdamW", "AdamW", set()).key == "optimizer"
    assert fresh.constructor("transformers.TrainingArguments", "TrainingArguments", set()).key == ""
    assert fresh.constructor("mylib.Trainer", "Trainer", {"devices"}).key == "trainer"  # by Lightning's keywords
    assert fresh.constructor("transformers.Trainer", "Trainer", {"devices"}) is None
    assert fresh.base_imports["read_base"].key == "_base_"  # the MMEngine profile's inherit.key


def test_a_user_profile_cannot_extend_the_python_reader(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("name: mine\ntitle: t\npython:\n  constructors: [{names: [MyTrainer], key: trainer}]\n")
    with pytest.raises(RulesError, match="python: the Python reader reads the python sections of lrlint's own"):
        load_profile(f)
