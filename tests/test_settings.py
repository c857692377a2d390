"""[tool.lrlint] settings: discovery, validation errors with the key path, rule selection."""

import pytest

from lrlint.settings import ConfigError, Settings, load


def test_nearest_pyproject_with_tool_lrlint(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\nignore = ["LR002"]\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no [tool.lrlint]: skipped
    s = load(sub)
    assert s.ignore == ["LR002"] and s.config_file == str(tmp_path / "pyproject.toml")


def test_lrlint_toml_wins_in_same_directory(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\nignore = ["LR002"]\n')
    (tmp_path / "lrlint.toml").write_text('ignore = ["LR007"]\n')
    assert load(tmp_path).ignore == ["LR007"]


@pytest.mark.parametrize(
    "toml, needle",
    [
        ('[tool.lrlint]\nselect = ["XX1"]\n', "tool.lrlint.select: Value error, 'XX1' is not a rule code"),
        (
            "[tool.lrlint]\nunknown-key = 1\n",
            "tool.lrlint.unknown-key: unknown key `unknown-key` (valid keys: select, ",
        ),
        ('[tool.lrlint.policy]\nadaptive = "cubic"\n', "unknown policy 'cubic'"),
        ("[tool.lrlint.thresholds]\nerror-factor = 0.5\n", "tool.lrlint.thresholds.error-factor"),
        (
            '[tool.lrlint]\nconfig-sets = [["a.yaml"]]\n',
            "tool.lrlint.config-sets: Value error, a config set lists the files merged in order",
        ),
        ("[tool.lrlint\n", "cannot read TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, toml, needle):
    """The message names the file and the key, and what to write instead (never pydantic's wording)."""
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(ConfigError) as e:
        load(tmp_path)
    assert needle in str(e.value)
    assert "Extra inputs are not permitted" not in str(e.value)


def test_an_unknown_key_offers_the_closest_valid_one(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\nselec = ["LR0"]\n[tool.lrlint.thresholds]\nwarmup = 4\n')
    with pytest.raises(ConfigError) as e:
        load(tmp_path)
    path = tmp_path / "pyproject.toml"
    assert sorted(str(e.value).splitlines()) == [
        f"{path}: tool.lrlint.selec: unknown key `selec`; did you mean `select`? (valid keys: select, extend-select, "
        "ignore, extend-ignore, per-file-ignores, include, exclude, extend-exclude, respect-gitignore, base, "
        "show-existing, max-file-size, profiles, config-sets, policy, thresholds, verify, output-format, devices, "
        "nodes, show-dependents, runtime-scaling)",
        f"{path}: tool.lrlint.thresholds.warmup: unknown key `warmup`; did you mean `warmup-factor`? (valid keys: "
        "batch-tolerance, lr-tolerance, error-factor, max-safe-batch, max-safe-factor, warmup-factor, "
        "linear-regime-batch, usual-lr)",
    ]


def test_selection_prefixes_and_per_file_ignores():
    s = Settings()
    assert s.selected("LR001") and s.selected("LR901") and not s.selected("LR008")
    s = Settings.from_table({"extend-select": ["LR008"], "ignore": ["LR00"], "per-file-ignores": {"legacy/*": ["LR9"]}})
    assert s.selected("LR008")  # LR008 (5 chars) beats LR00 (4 chars)
    assert not s.selected("LR001")
    assert s.selected("LR901", "new/a.yaml") and not s.selected("LR901", "legacy/a.yaml")
