"""The real pre-commit (pinned in the test extra) running this checkout's hooks with ``try-repo``.

A snapshot of this checkout (tracked and untracked-not-ignored files, committed once) serves every
scenario, so pre-commit builds the hook's virtualenv once per session in a private PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, GitRepo

pytestmark = pytest.mark.slow

SGD = (
    "train:\n  batch_size: {bs}\n  warmup_epochs: 5\n  optimizer:\n    name: sgd\n    lr: {lr}  # tuned\n"
    "    momentum: 0.9\n"
)


def _pre_commit() -> list[str]:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("pre-commit is not installed (it is pinned in the test extra)")
        pytest.skip("pre-commit is not installed")
    return [sys.executable, "-m", "pre_commit"]


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> Path:
    """This checkout's files, committed in a throw-away repository (untracked files included)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    dest = tmp_path_factory.mktemp("lrlint-hook-repo")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file() or rel.startswith(("bench/corpus/",)):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    assert (dest / ".pre-commit-hooks.yaml").is_file()
    repo = GitRepo(dest)
    repo.commit("snapshot of the lrlint checkout")
    return dest


@pytest.fixture(scope="session")
def pc_env(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_", "LRLINT_"))}
    env.update(PRE_COMMIT_HOME=str(home), NO_COLOR="1", PRE_COMMIT_COLOR="never")
    return env


def try_repo(project: GitRepo, hook_repo: Path, env: dict, hook: str, *files: str) -> subprocess.CompletedProcess:
    cmd = [*_pre_commit(), "try-repo", str(hook_repo), hook, "--color", "never", "--verbose", "--files", *files]
    return subprocess.run(cmd, cwd=project.path, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture
def project(tmp_path) -> GitRepo:
    repo = GitRepo(tmp_path / "project")
    repo.write("configs/train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit("tuned at batch 256")
    return repo


def test_lrlint_hook_fails_on_a_staged_unscaled_lr(project, hook_repo, pc_env):
    project.write("configs/train.yaml", SGD.format(bs=1024, lr=0.1))
    project.git("add", "configs/train.yaml")
    r = try_repo(project, hook_repo, pc_env, "lrlint", "configs/train.yaml")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "Failed" in out and "LR001" in out and "expected 0.4" in out


def test_lrlint_hook_passes_on_a_scaled_lr(project, hook_repo, pc_env):
    project.write("configs/train.yaml", SGD.format(bs=1024, lr=0.4))
    project.git("add", "configs/train.yaml")
    r = try_repo(project, hook_repo, pc_env, "lrlint", "configs/train.yaml")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Passed" in out


def test_lrlint_fix_hook_rewrites_fails_once_then_passes(project, hook_repo, pc_env):
    project.write("configs/train.yaml", SGD.format(bs=1024, lr=0.1))
    project.git("add", "configs/train.yaml")
    r = try_repo(project, hook_repo, pc_env, "lrlint-fix", "configs/train.yaml")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "Failed" in out
    assert (project.path / "configs/train.yaml").read_text() == SGD.format(bs=1024, lr=0.4)
    project.git("add", "configs/train.yaml")
    r = try_repo(project, hook_repo, pc_env, "lrlint-fix", "configs/train.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (project.path / "configs/train.yaml").read_text() == SGD.format(bs=1024, lr=0.4)


HOOKS = ROOT / ".pre-commit-hooks.yaml"


def _hooks() -> list[dict]:
    import yaml

    return yaml.safe_load(HOOKS.read_text(encoding="utf-8"))


def test_hooks_types_or_match_the_include_globs():
    identify = pytest.importorskip("identify.identify")
    from lrlint.settings import Settings

    include = Settings(root=".").include
    assert include == ["*.yaml", "*.yml", "*.json", "*.py"]
    for hook in _hooks():
        types = set(hook["types_or"])
        # each included file name is one of the hook's types, and each type is reached by an include glob
        tags = {g: identify.tags_from_filename("x" + g[1:]) for g in include}
        assert all(t & types for t in tags.values()), (hook["id"], tags)
        assert all(any(ty in t for t in tags.values()) for ty in types), hook["id"]
        # types_or arrived in pre-commit 2.9.0
        assert tuple(int(p) for p in hook["minimum_pre_commit_version"].split(".")) >= (2, 9, 0)


def test_documented_base_args_compare_with_the_branch(tmp_path):
    """The header's example, ``args: [--base, origin/main]``, as pre-commit runs it: entry, args, file names."""
    assert "args: [--base, origin/main]" in HOOKS.read_text(encoding="utf-8")
    repo = GitRepo(tmp_path / "project")
    repo.write("configs/train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit("tuned at batch 256")
    repo.git("checkout", "-q", "-b", "bigger")
    repo.write("configs/train.yaml", SGD.format(bs=1024, lr=0.1))
    repo.commit("bigger batch, committed: HEAD has it too")
    main = repo.git("rev-parse", "main").strip()
    [hook] = [h for h in _hooks() if h["id"] == "lrlint"]
    entry = hook["entry"].split()[1:]
    at_head = repo.lrlint(*entry, "configs/train.yaml")
    assert at_head.returncode == 0, at_head.stdout  # against HEAD nothing changed
    r = repo.lrlint(*entry, "--base", "main", "--output-format", "concise", "configs/train.yaml")
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == (
        "configs/train.yaml:2:15: LR001 [*] error: effective batch 256 -> 1024 (x4) but train.optimizer.lr stays 0.1; "
        "expected 0.4 (linear rule)"
    )
    r = repo.lrlint(*entry, "--base", "main", "configs/train.yaml")
    assert f"  = note: compared with git main (merge base {main[:10]}) (batch 256, lr 0.1)\n" in r.stdout
