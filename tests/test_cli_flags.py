"""ruff's flag behaviours, as a ruff user expects them: --statistics, --diff, inline --config, gitignore-style
globs, a sub-command's usage, --fix-only, --add-noqa, the cache flags and `lrlint clean`, --show-settings,
--show-files and --watch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_lrlint

from lrlint import globs

D2 = "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n"


def _doubled(repo, *names):
    """Each file committed with batch 16, then raised to 64 without touching the lr (one LR001 each)."""
    for name in names:
        repo.write(name, D2)
    repo.commit()
    for name in names:
        repo.write(name, D2.replace("16", "64"))


# -- --statistics ---------------------------------------------------------------------------------


def test_statistics_has_the_fixable_column_and_the_summary():
    r = run_lrlint("check", "--statistics", "examples/", cwd=ROOT)
    assert r.returncode == 1
    assert r.stdout == (
        "6\tLR001\t[*] unscaled-lr\n"
        "2\tLR006\t[ ] schedule-not-rescaled\n"
        "Found 6 errors and 2 warnings.\n"
        "[*] 5 fixable with the `--fix` option.\n"
        "3 hidden fixes can be enabled with the `--unsafe-fixes` option.\n"
    )
    quiet = run_lrlint("check", "--statistics", "-q", "examples/", cwd=ROOT)
    assert quiet.stdout == "6\tLR001\t[*] unscaled-lr\n2\tLR006\t[ ] schedule-not-rescaled\n"


def test_statistics_honours_the_json_format():
    r = run_lrlint("check", "--statistics", "--output-format", "json", "--unsafe-fixes", "examples/", cwd=ROOT)
    assert json.loads(r.stdout) == [
        {"code": "LR001", "name": "unscaled-lr", "count": 6, "fixable": True, "fixable_count": 6},
        {"code": "LR006", "name": "schedule-not-rescaled", "count": 2, "fixable": True, "fixable_count": 2},
    ]


# -- --diff ---------------------------------------------------------------------------------------


def test_diff_says_what_it_would_fix_and_is_coloured_on_request(repo):
    _doubled(repo, "a.yaml")
    r = repo.lrlint("check", "--diff", "a.yaml")
    assert r.returncode == 1 and r.stderr == ""
    assert r.stdout == (
        "--- a/a.yaml\n+++ b/a.yaml\n@@ -1,3 +1,3 @@\n SOLVER:\n   IMS_PER_BATCH: 64\n"
        "-  BASE_LR: 0.02\n+  BASE_LR: 0.08\n\nWould fix 1 error.\n"
    )
    assert (repo.path / "a.yaml").read_text() == D2.replace("16", "64")  # nothing written
    coloured = repo.lrlint("check", "--diff", "--color", "always", "a.yaml").stdout
    assert "--- \x1b[31ma/a.yaml\x1b[0m\n+++ \x1b[32mb/a.yaml\x1b[0m\n" in coloured
    assert "\x1b[31m-  BASE_LR: 0.02\x1b[0m\n\x1b[32m+  BASE_LR: 0.08\x1b[0m\n" in coloured
    assert repo.lrlint("check", "--diff", "-q", "a.yaml").stdout.endswith("+  BASE_LR: 0.08\n")  # no closing line


def test_diff_counts_the_fixes_unsafe_fixes_would_add():
    r = run_lrlint("check", "--diff", "examples/", cwd=ROOT)
    assert r.stdout.endswith("\n\nWould fix 5 errors (3 additional fixes available with `--unsafe-fixes`).\n")


# -- --config KEY = VALUE -------------------------------------------------------------------------


def test_config_takes_inline_settings_over_the_file(repo):
    repo.write("pyproject.toml", '[tool.lrlint]\nexclude = ["b.yaml"]\n[tool.lrlint.thresholds]\nwarmup-factor = 8\n')
    _doubled(repo, "a.yaml", "b.yaml")
    both = repo.lrlint("check", "--output-format", "concise", "-q", "--config", "exclude = []")
    assert [line.split(":")[0] for line in both.stdout.splitlines()] == ["a.yaml", "b.yaml"]
    # a nested key keeps the file's other keys of its table
    shown = repo.lrlint("check", "--show-settings", "--config", "thresholds.error-factor = 3", "a.yaml").stdout
    assert "error-factor = 3.0\n" in shown and "warmup-factor = 8.0\n" in shown
    assert 'exclude = ["b.yaml"]\n' in shown


def test_config_inline_errors_name_the_flag(repo):
    repo.write("pyproject.toml", "[tool.lrlint]\n")
    r = repo.lrlint("check", "--config", "thresholds.nope = 1")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (
        "lrlint: error: --config: thresholds.nope: unknown key `nope` (valid keys: batch-tolerance, lr-tolerance, "
        "error-factor, max-safe-batch, max-safe-factor, warmup-factor, linear-regime-batch, usual-lr)\n"
    )
    bad = repo.lrlint("check", "--config", "output-format = concise")
    assert bad.returncode == 2
    assert bad.stderr.startswith("lrlint: error: --config 'output-format = concise': neither a config file nor a ")
    two = repo.lrlint("check", "--config", "pyproject.toml", "--config", "pyproject.toml")
    assert two.returncode == 2 and "only one config file can be given" in two.stderr


# -- gitignore-style globs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("configs/*.yaml", "configs/a.yaml", True),
        ("configs/*.yaml", "configs/sub/deep.yaml", False),  # fnmatch's * crossed the /
        ("configs/**/*.yaml", "configs/sub/deep.yaml", True),
        ("configs/**/*.yaml", "configs/a.yaml", True),
        ("*.yaml", "configs/sub/deep.yaml", True),  # no / : a name at any depth
        ("build", "src/build/x.yaml", True),  # a directory covers what is below it
        ("build/", "build", False),  # a trailing / : directories only
        ("/top.yaml", "sub/top.yaml", False),  # a leading / anchors
        ("c?g.yaml", "cfg.yaml", True),
        ("[!a]x.py", "ax.py", False),
        ("tests/fixtures/**", "tests/fixtures/a/b.yaml", True),
    ],
)
def test_globs_read_as_gitignore_does(pattern, path, expected):
    assert globs.matches(path, [pattern]) is expected


def test_globs_agree_with_pathspec_on_a_table():
    """The same answers as pathspec's gitignore patterns (when it is installed: it is no dependency)."""
    pathspec = pytest.importorskip("pathspec")
    patterns = ["configs/*.yaml", "tests/fixtures/**", "*.json", "build", "sub/", "**/deep/*.yaml", "/top.yaml"]
    patterns += ["a/**/b.yaml", "c?g.yaml", "[ab]*.py", "[!a]x.py", "x/**", "docs"]
    paths = ["configs/a.yaml", "configs/sub/deep.yaml", "tests/fixtures/x/y.yaml", "a/b.json", "build/x.yaml"]
    paths += ["src/build/x.yaml", "x/sub/a.yaml", "sub", "q/deep/z.yaml", "deep/z.yaml", "top.yaml", "q/top.yaml"]
    paths += ["a/b.yaml", "a/x/y/b.yaml", "cfg.yaml", "ax.py", "bx.py", "cx.py", "x/y/z.py", "x", "docs/conf.py"]
    for pattern in patterns:
        spec = pathspec.PathSpec.from_lines("gitignore", [pattern])
        assert [globs.matches(p, [pattern]) for p in paths] == [spec.match_file(p) for p in paths], pattern


def test_exclude_and_per_file_ignores_stay_in_their_directory(repo):
    repo.write(
        "pyproject.toml",
        '[tool.lrlint]\nexclude = ["configs/*.yaml"]\n[tool.lrlint.per-file-ignores]\n"other/*.yaml" = ["LR001"]\n',
    )
    _doubled(repo, "configs/x.yaml", "configs/sub/deep.yaml", "other/y.yaml", "other/sub/z.yaml")
    r = repo.lrlint("check", "--output-format", "concise", "-q")
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == ["configs/sub/deep.yaml", "other/sub/z.yaml"]
    files = repo.lrlint("check", "--show-files").stdout.splitlines()
    assert [os.path.relpath(f, repo.path) for f in files] == [
        "configs/sub/deep.yaml",
        "other/sub/z.yaml",
        "other/y.yaml",
    ]


# -- a sub-command's usage ------------------------------------------------------------------------


def test_an_unknown_option_shows_the_sub_commands_usage(tmp_path):
    r = run_lrlint("check", "--nope", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("usage: lrlint check [-h]")
    assert r.stderr.splitlines()[-1] == "lrlint check: error: unrecognized arguments: --nope"
    close = run_lrlint("check", "--statistcs", cwd=tmp_path)
    assert close.stderr.splitlines()[-1] == (
        "lrlint check: error: unrecognized arguments: --statistcs (did you mean --statistics?)"
    )


# -- --fix-only, --add-noqa -----------------------------------------------------------------------


def test_fix_only_fixes_and_reports_nothing_of_what_remains(repo):
    repo.write("b.yaml", "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n  MAX_ITER: 1000\n")
    _doubled(repo, "a.yaml")
    repo.write("b.yaml", "SOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.02\n  MAX_ITER: 1000\n")
    r = repo.lrlint("check", "--fix-only")
    assert (r.returncode, r.stdout, r.stderr) == (0, "Fixed 2 errors.\n", "")  # LR006 (unsafe) is left, unsaid
    assert (repo.path / "a.yaml").read_text() == "SOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n"
    assert repo.lrlint("check", "--fix-only").stdout == ""  # nothing left to fix: nothing to say
    assert repo.lrlint("check").returncode == 1  # the LR006 warnings remain


def test_add_noqa_suppresses_each_finding_on_its_line(repo):
    _doubled(repo, "a.yaml", "b.json")
    repo.write("b.json", '{"train_batch_size": 64, "lr": 0.1}\n')
    repo.write("a.yaml", "SOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.02  # lrlint: ignore[LR006]\n")
    r = repo.lrlint("check", "--add-noqa", "a.yaml")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "Added 1 ignore comment.\n")
    text = (repo.path / "a.yaml").read_text()
    flagged = [line for line in text.splitlines() if "LR001" in line]
    assert len(flagged) == 1 and flagged[0].endswith("  # lrlint: ignore[LR001]") or "LR006, LR001" in text
    assert repo.lrlint("check", "a.yaml").stdout == "All checks passed!\n"


# -- cache ----------------------------------------------------------------------------------------


def test_cache_flags_and_clean(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.lrlint]\n[tool.lrlint.thresholds]\nerror-factor = 3\n")
    (tmp_path / "a.yaml").write_text("lr: 0.1\n")
    cache = tmp_path / "cache"
    env = {"LRLINT_CACHE_DIR": str(tmp_path / "env-cache")}
    run_lrlint("check", "--cache-dir", str(cache), "a.yaml", cwd=tmp_path, env=env)
    kept = sorted(p.name.split("-")[0] for p in cache.iterdir())
    assert "settings" in kept and not (tmp_path / "env-cache").exists()
    run_lrlint("check", "--no-cache", "a.yaml", cwd=tmp_path, env=env)
    assert not (tmp_path / "env-cache").exists()
    run_lrlint("check", "a.yaml", cwd=tmp_path, env=env)  # LRLINT_CACHE_DIR still works
    assert (tmp_path / "env-cache").is_dir()
    (cache / "notes.txt").write_text("not lrlint's")
    r = run_lrlint("clean", "--cache-dir", str(cache), cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == f"Removed {len(kept)} cache files from {cache}.\n"
    assert [p.name for p in cache.iterdir()] == ["notes.txt"]  # only lrlint's files go


def test_cache_is_bounded(tmp_path, monkeypatch):
    from lrlint import cache

    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    cache.use_dir(tmp_path)
    try:
        for i in range(6):
            assert cache.cached("kind", f"key {i}", lambda i=i: i) == i
            time.sleep(0.01)
        assert cache.cached("kind", "key 5", lambda: -1) == 5
        assert len(cache.entries(tmp_path)) == 3
    finally:
        cache.use_dir(None)
        cache._chosen = None


def test_the_default_cache_is_the_platforms(monkeypatch, tmp_path):
    from lrlint import cache

    monkeypatch.delenv("LRLINT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert cache.cache_dir() == tmp_path / "lrlint"


# -- --show-settings / --show-files ---------------------------------------------------------------


def test_show_settings_prints_the_resolved_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\nextend-select = ["LR008"]\n')
    (tmp_path / "a.yaml").write_text("lr: 0.1\n")
    r = run_lrlint("check", "--show-settings", "a.yaml", cwd=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[:5] == [
        f'Resolved settings for: "{tmp_path / "a.yaml"}"',
        f'Settings path: "{tmp_path / "pyproject.toml"}"',
        f'Root: "{tmp_path}"',
        "",
        "[tool.lrlint]",
    ]
    assert 'extend-select = ["LR008"]' in lines and "# base is unset" in lines
    assert "[tool.lrlint.thresholds]" in lines and "warmup-factor = 4.0" in lines


# -- --watch --------------------------------------------------------------------------------------


def test_watch_checks_again_when_a_file_changes(repo):
    _doubled(repo, "a.yaml")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrlint", "check", "--watch", "--output-format", "concise", "a.yaml"],
        cwd=repo.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert "LR001" in proc.stdout.readline()  # the first check
        assert proc.stderr.readline().endswith("Watching for file changes (Ctrl-C stops).\n")
        repo.write("a.yaml", D2.replace("16", "64").replace("0.02", "0.08"))
        assert proc.stderr.readline().endswith("File change detected: checking again.\n")
        lines = []
        while "All checks passed!" not in "".join(lines):  # the second check, fresh: the lr was scaled
            lines.append(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- suppressions ---------------------------------------------------------------------------------

PAIR = "per_device_train_batch_size: {bs}{c1}\nlearning_rate: 2.0e-5{c2}\n"


@pytest.mark.parametrize("c1, c2", [("  # lrlint: ignore[LR001]", ""), ("", "  # lrlint: ignore[LR001]")])
def test_a_suppression_on_either_line_of_the_pair_hides_the_finding(repo, c1, c2):
    repo.write("a.yaml", PAIR.format(bs=8, c1="", c2=""))
    repo.commit()
    repo.write("a.yaml", PAIR.format(bs=32, c1="", c2=""))
    assert repo.lrlint("check", "a.yaml").returncode == 1
    repo.write("a.yaml", PAIR.format(bs=32, c1=c1, c2=c2))
    r = repo.lrlint("check", "--extend-select", "LR100", "a.yaml")
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n")  # hidden, and the suppression is used


def test_unused_suppressions_are_lr100_when_selected(repo):
    text = (
        "per_device_train_batch_size: 32  # lrlint: ignore[LR001]\n"
        "learning_rate: 2.0e-5  # noqa: E501\n"
        "warmup_steps: 10  # lrlint: ignore\n"
    )
    repo.write("a.yaml", text)
    assert repo.lrlint("check", "a.yaml").stdout == "All checks passed!\n"  # off by default, as RUF100
    r = repo.lrlint("check", "--extend-select", "LR100", "--output-format", "concise", "-q", "a.yaml")
    assert r.returncode == 1
    assert r.stdout == (
        "a.yaml:1:34: LR100 [*] warning: unused suppression `lrlint: ignore[LR001]`: it hides no LR001 finding "
        "here\n"
        "a.yaml:3:19: LR100 [*] warning: unused suppression `lrlint: ignore`: it hides no finding on this line\n"
    )  # a noqa naming only other tools' codes is theirs
    fixed = repo.lrlint("check", "--extend-select", "LR100", "--fix", "a.yaml")
    assert fixed.returncode == 0, fixed.stdout
    assert (repo.path / "a.yaml").read_text() == (
        "per_device_train_batch_size: 32\nlearning_rate: 2.0e-5  # noqa: E501\nwarmup_steps: 10\n"
    )


def test_lr100_keeps_the_codes_that_hide_a_finding(repo):
    repo.write("a.yaml", PAIR.format(bs=8, c1="", c2=""))
    repo.commit()
    repo.write("a.yaml", PAIR.format(bs=32, c1="  # lrlint: ignore[LR001, LR004]", c2=""))
    r = repo.lrlint("check", "--extend-select", "LR100", "--output-format", "json", "a.yaml")
    [f] = json.loads(r.stdout)
    assert (f["code"], f["message"]) == (
        "LR100",
        "unused suppression `lrlint: ignore[LR001, LR004]`: it hides no LR004 finding here",
    )
    assert f["fix"]["edits"][0]["content"] == "LR001"
    assert f["data"] == {"comment": "lrlint: ignore[LR001, LR004]", "unused": ["LR004"]}


# -- --explain ------------------------------------------------------------------------------------


def test_explain_prints_under_a_header(repo):
    repo.write(
        "cfg.yaml", "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 32\nlearning_rate: 2e-5\n"
    )
    r = repo.lrlint("check", "--explain", "--output-format", "concise", "cfg.yaml")
    out = r.stdout.split("\n\nRecipes checked (1):\n")
    assert len(out) == 2 and out[0].endswith("[*] 1 fixable with the `--fix` option.")
    assert out[1].startswith("cfg.yaml: learning_rate (huggingface profile): effective batch 32, lr 2e-5")
