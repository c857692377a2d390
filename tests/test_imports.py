"""Check latency guards: what a plain ``lrlint check`` imports, and how many git processes it starts.

A pre-commit run on one YAML file must not import libcst or torch (nor pydantic or rich); torch and
scikit-learn belong to ``lrlint verify`` only; the git reference makes a fixed, small number
of git calls whatever the number of files. Each run is a fresh interpreter (a subprocess), so
nothing imported by pytest or other tests can hide or fake an import.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, GitRepo, run_lrlint

HEAVY = ("libcst", "torch", "sklearn")

HF_OLD = "learning_rate: 1e-5\nper_device_train_batch_size: 8\noptim: adamw_torch\n"
HF_NEW = "learning_rate: 1e-5\nper_device_train_batch_size: 16\noptim: adamw_torch\n"
DS_OLD = json.dumps(
    {
        "train_micro_batch_size_per_gpu": 8,
        "gradient_accumulation_steps": 1,
        "optimizer": {"type": "AdamW", "params": {"lr": 0.0001}},
        "zero_optimization": {"stage": 2},
    },
    indent=2,
)
DS_NEW = DS_OLD.replace('"train_micro_batch_size_per_gpu": 8', '"train_micro_batch_size_per_gpu": 32')


def _changed_repo(tmp_path: Path, name: str, old: str, new: str) -> GitRepo:
    """A repo whose work tree changes the batch of one config (so the run reads, compares and reports)."""
    repo = GitRepo(tmp_path / "repo")
    repo.write(name, old)
    repo.commit("configs")
    repo.write(name, new)
    return repo


def _modules_after_check(repo: GitRepo, *args: str) -> tuple[int, set[str]]:
    """Run ``lrlint.cli.main(["check", *args])`` in a fresh interpreter; its exit code and ``sys.modules``."""
    out = repo.path.parent / "modules.json"
    code = (
        "import sys\n"
        "from lrlint.cli import main\n"
        f"rc = main(['check', *{list(args)!r}])\n"
        "modules = sorted(sys.modules)\n"
        "import json\n"  # after the run: json is not one of its imports
        f"open({str(out)!r}, 'w').write(json.dumps({{'rc': rc, 'modules': modules}}))\n"
    )
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    env.pop("LRLINT_OUTPUT_FORMAT", None)
    p = subprocess.run([sys.executable, "-c", code], cwd=repo.path, capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    return data["rc"], set(data["modules"])


def _loaded(modules: set[str], top: str) -> list[str]:
    return sorted(m for m in modules if m == top or m.startswith(top + "."))


def test_yaml_only_check_imports_no_libcst_torch_or_sklearn(tmp_path: Path) -> None:
    repo = _changed_repo(tmp_path, "train.yaml", HF_OLD, HF_NEW)
    rc, modules = _modules_after_check(repo, "train.yaml")
    assert rc == 1, "the batch change should be found: the whole pipeline (git, checks, full report) must have run"
    assert "lrlint.sources.yaml_source" in modules and "lrlint.report.full" in modules
    for heavy in HEAVY:
        assert not _loaded(modules, heavy), f"a YAML-only check imported {heavy}: {_loaded(modules, heavy)[:5]}"
    assert "lrlint.sources.python_source" not in modules
    # no settings to validate, no colour: the shipped rules are built without pydantic, the report without rich
    assert not _loaded(modules, "pydantic") and not _loaded(modules, "rich")


def test_settings_table_is_validated_by_pydantic_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LRLINT_CACHE_DIR", str(tmp_path / "cache"))
    repo = _changed_repo(tmp_path, "train.yaml", HF_OLD, HF_NEW)
    repo.write("pyproject.toml", '[tool.lrlint]\nignore = ["LR003"]\n')
    rc, modules = _modules_after_check(repo, "train.yaml")
    assert rc == 1 and "pydantic" in modules  # validated ...
    rc, modules = _modules_after_check(repo, "train.yaml")
    assert rc == 1 and "pydantic" not in modules  # ... once: the same table comes from the cache
    repo.write("pyproject.toml", '[tool.lrlint]\nignore = ["LR0O3"]\n')
    r = run_lrlint("check", "train.yaml", cwd=repo.path)
    assert r.returncode == 2 and "tool.lrlint.ignore: Value error, 'LR0O3' is not a rule code" in r.stderr


def test_json_only_check_imports_no_libcst(tmp_path: Path) -> None:
    repo = _changed_repo(tmp_path, "ds_config.json", DS_OLD, DS_NEW)
    rc, modules = _modules_after_check(repo, "--output-format", "concise", "ds_config.json")
    assert rc == 1, "the batch change should be found"
    assert "lrlint.sources.json_source" in modules
    for heavy in HEAVY:
        assert not _loaded(modules, heavy), f"a JSON-only check imported {heavy}: {_loaded(modules, heavy)[:5]}"
    assert "lrlint.sources.python_source" not in modules


def _git_logging_wrapper(tmp_path: Path) -> tuple[Path, Path]:
    """A ``git`` first on PATH that logs each invocation's arguments and execs the real git."""
    real = shutil.which("git")
    assert real is not None
    bindir, log = tmp_path / "bin", tmp_path / "git-calls.log"
    bindir.mkdir()
    wrapper = bindir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bindir, log


@pytest.mark.skipif(sys.platform == "win32", reason="the wrapper is a POSIX shell script")
@pytest.mark.parametrize("base", [None, "HEAD~1"], ids=["default-base", "base-HEAD~1"])
def test_single_yaml_file_makes_at_most_six_or_seven_git_calls(tmp_path: Path, base: str | None) -> None:
    repo = _changed_repo(tmp_path, "configs/train.yaml", HF_OLD, HF_NEW)
    repo.write("configs/other.yaml", "learning_rate: 0.1\nbatch_size: 32\n")
    repo.commit("second commit")  # HEAD~1 exists; the working tree changes train.yaml against HEAD~1 too
    repo.write("configs/train.yaml", HF_NEW.replace("16", "32"))
    bindir, log = _git_logging_wrapper(tmp_path)
    args = ["check", "configs/train.yaml"] + (["--base", base] if base else [])
    p = run_lrlint(*args, cwd=repo.path, env={"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"})
    assert p.returncode == 1, p.stdout + p.stderr  # found: the old blob was read through git
    calls = [c.removeprefix("-c core.fsmonitor=false ") for c in log.read_text().splitlines()] if log.exists() else []
    assert calls, "the wrapper logged nothing: lrlint did not run git through PATH, so nothing was counted"
    assert any(c.startswith("cat-file") for c in calls), calls
    # rev-parse, config (the filter drivers turned off), diff, cat-file; merge-base when the base is not HEAD;
    # one grep for the scripts that scale an lr at run time, one for the configs built on the changed file
    limit = 6 if base is None else 7
    assert sum(c.startswith("grep ") for c in calls) <= 2, calls
    assert len(calls) <= limit, f"{len(calls)} git calls for one file: {calls}"


def test_the_python_table_is_built_for_python_files_only(tmp_path: Path, monkeypatch) -> None:
    """The Python reader's table (every profile's python: section merged) has its own cache entry: a YAML
    run neither builds nor loads it; the first Python file does, and later runs read it from the cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("LRLINT_CACHE_DIR", str(cache))
    repo = _changed_repo(tmp_path, "train.yaml", HF_OLD, HF_NEW)
    rc, modules = _modules_after_check(repo, "train.yaml")
    assert rc == 1 and "lrlint.sources.python_source" not in modules and "lrlint.python_rules" not in modules
    assert [p.name.split("-")[0] for p in cache.glob("*.pickle")] == ["rules"]
    repo.write("train.py", "import torch\noptimizer = torch.optim.SGD(params, lr=0.1)\n")
    rc, modules = _modules_after_check(repo, "train.py")
    assert rc == 0 and "lrlint.sources.python_source" in modules
    assert sorted(p.name.split("-")[0] for p in cache.glob("*.pickle")) == ["python", "rules"]


# what a one-file YAML check with nothing changed needs none of: the Python reader, validation, the TOML
# parser (no config file), the CI formats' hashes, platformdirs (a plain Linux cache path), the modules of
# dependents, script scaling, fixes, the editor server and verify
NOT_ON_THE_YAML_PATH = (
    "libcst",
    "pydantic",
    "torch",
    "tomllib",
    "json",
    "hashlib",
    "platformdirs",
    "lrlint.sources.python_source",
    "lrlint.python_rules",
    "lrlint.dependents",
    "lrlint.script_scaling",
    "lrlint.fix",
    "lrlint.lsp",
    "lrlint.verify",
    "lrlint.report.sarif",
    "lrlint.report.json_format",
)


@pytest.mark.skipif(sys.platform != "linux", reason="the cache path without platformdirs is Linux's")
def test_unchanged_yaml_file_imports_only_the_yaml_path(tmp_path: Path, monkeypatch) -> None:
    """The pre-commit case the start-up time is measured on: one committed YAML config with a recipe."""
    monkeypatch.delenv("LRLINT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    repo = GitRepo(tmp_path / "repo")
    repo.write("train.yaml", HF_OLD)
    repo.commit("config")
    for run in ("builds the rules", "reads them from the cache"):
        rc, modules = _modules_after_check(repo, "--explain", "train.yaml")
        assert rc == 0, run
        assert "lrlint.sources.yaml_source" in modules and "lrlint.report.full" in modules, run
        loaded = [m for top in NOT_ON_THE_YAML_PATH for m in _loaded(modules, top)]
        if run == "builds the rules":
            continue  # building the shipped rules reads them with PyYAML: what matters is every later run
        assert not loaded, f"a one-file YAML check imported {loaded[:8]}"
    assert [p.name.split("-")[0] for p in (tmp_path / "xdg-cache" / "lrlint").glob("*.pickle")] == ["rules"]


@pytest.mark.skipif(sys.platform != "linux", reason="the shortcut is taken on Linux only")
@pytest.mark.parametrize(
    "env",
    [
        {"HOME": "/home/dev"},
        {"HOME": "/home/dev/"},
        {"HOME": "/"},
        {"HOME": "/home/dev", "XDG_CACHE_HOME": "/var/tmp/cache"},
        {"HOME": "/home/dev", "XDG_CACHE_HOME": "/var/tmp/cache/"},
        {"HOME": "/home/dev", "XDG_CACHE_HOME": ""},
        {"HOME": "/home/dev", "XDG_CACHE_HOME": "relative/cache"},
        {"HOME": "/home/dev", "XDG_CACHE_HOME": " /padded"},
        {"HOME": "relative-home"},
    ],
)
def test_cache_dir_without_platformdirs_is_platformdirs_own(env: dict, monkeypatch) -> None:
    """Where the cache path is computed without importing platformdirs, it is the path platformdirs gives;
    where it is not (relative or padded values), platformdirs is asked."""
    import platformdirs

    from lrlint import cache

    monkeypatch.delenv("LRLINT_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(cache, "_chosen", None)
    plain = cache._plain_linux_cache()
    if plain is None:
        assert env.get("XDG_CACHE_HOME", "x").startswith(("r", " ")) or not env["HOME"].startswith("/")
        return
    assert plain == platformdirs.user_cache_dir("lrlint", appauthor=False)
    assert cache.cache_dir() == Path(plain)


@pytest.mark.skipif(sys.platform == "win32", reason="the wrapper is a POSIX shell script")
def test_unchanged_yaml_file_makes_four_git_calls(tmp_path: Path) -> None:
    """The pre-commit case: the filter drivers, the top level, the scan of launch commands (started beside
    the diff) and the limited diff; nothing else (no dependents' grep: the file did not change)."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("train.yaml", HF_OLD)
    repo.write("train.sh", "torchrun --nproc_per_node 4 train.py --config train.yaml\n")
    repo.commit("config")
    bindir, log = _git_logging_wrapper(tmp_path)
    p = run_lrlint(
        "check", "--explain", "train.yaml", cwd=repo.path, env={"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "effective batch 32" in p.stdout  # 8 per device x the 4 devices of the launch command: the scan was read
    calls = [
        c.removeprefix("-c core.fsmonitor=false ").removeprefix("--literal-pathspecs ")
        for c in log.read_text().splitlines()
    ]
    assert sorted(c.split()[0] for c in calls) == ["config", "diff", "grep", "rev-parse"], calls


def test_the_start_pauses_the_collector_and_gives_back_only_its_own_pause() -> None:
    import gc

    from lrlint import gcpause

    assert gc.isenabled()
    try:
        gcpause.pause()
        assert not gc.isenabled()
        gcpause.pause()  # already off: nothing to give back twice
        gcpause.resume()
        assert gc.isenabled()
        gcpause.resume()
        assert gc.isenabled()
        gc.disable()  # the caller's own pause: resume leaves it as it is
        gcpause.pause()
        gcpause.resume()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_without_git_the_run_says_so(tmp_path: Path) -> None:
    """No git program on PATH: the note, no error (and no git process started before the check for it)."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("train.yaml", HF_OLD)
    repo.commit("config")
    empty = tmp_path / "no-git"
    empty.mkdir()
    p = run_lrlint("check", "--base", "HEAD", "train.yaml", cwd=repo.path, env={"PATH": str(empty)})
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stderr == "lrlint: note: --base HEAD: git is not installed: no history reference\n"
