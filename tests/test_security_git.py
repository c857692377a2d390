"""A hostile or odd repository: revisions are verified before git sees them, git runs none of the
repository's configured commands, and what git refuses is said, never silently lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GitRepo, run_lrlint

SGD = "train:\n  batch_size: {bs}\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
LR001 = "c.yaml:2:15: LR001 [*] error: effective batch 256 -> 512 (x2)"


def changed_repo(repo: GitRepo) -> GitRepo:
    repo.write("c.yaml", SGD.format(bs=256))
    repo.commit()
    repo.write("c.yaml", SGD.format(bs=512))
    return repo


def concise(repo: GitRepo, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return repo.lrlint("check", "--output-format", "concise", *args, env=env)


@pytest.mark.parametrize(
    "rev",
    ["--output=victim.txt", "--all", "-h", "--git-dir=elsewhere", "HEAD..HEAD", "HEAD^@", "HEAD^{tree}", "-"],
)
def test_a_base_that_is_not_one_commit_is_exit_2_and_reaches_git_as_nothing(repo, rev):
    changed_repo(repo)
    before = sorted(p.name for p in repo.path.iterdir())
    r = concise(repo, f"--base={rev}")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"--base {rev}: not a revision" in r.stderr
    assert sorted(p.name for p in repo.path.iterdir()) == before  # git created or truncated no file


def test_a_base_from_the_settings_is_verified_too(repo):
    changed_repo(repo)
    repo.write("pyproject.toml", '[tool.lrlint]\nbase = "--output=victim.txt"\n')
    r = concise(repo)
    assert r.returncode == 2 and "--base --output=victim.txt: not a revision" in r.stderr
    assert not any(p.name.startswith("victim") for p in repo.path.iterdir())


def test_a_revision_with_odd_characters_is_shown_escaped(repo):
    changed_repo(repo)
    r = concise(repo, "--base=\x1b[31mred\nx")
    assert r.returncode == 2 and "--base '\\x1b[31mred\\nx': not a revision" in r.stderr
    assert "\x1b" not in r.stderr


def test_a_real_revision_still_works_with_the_options_end(repo):
    changed_repo(repo)
    repo.git("tag", "v1")
    for rev in ("HEAD", "v1", "main", repo.git("rev-parse", "HEAD").strip()[:12]):
        r = concise(repo, "--base", rev)
        assert r.returncode == 1 and r.stdout.startswith(LR001), (rev, r.stdout, r.stderr)


def _hostile(repo: GitRepo, tmp_path: Path) -> list[Path]:
    """A .git/config that runs a program through core.fsmonitor, a clean and a process filter, a
    textconv and an external diff; each leaves a marker file when run."""
    markers = [tmp_path / f"ran-{n}" for n in ("fsmonitor", "clean", "process", "textconv", "extdiff")]
    for m in markers:
        script = tmp_path / f"{m.name}.sh"
        script.write_text(f"#!/bin/sh\ntouch '{m}'\ncat\n")
        script.chmod(0o755)
    repo.git("config", "core.fsmonitor", str(tmp_path / "ran-fsmonitor.sh"))
    repo.git("config", "filter.evil.clean", str(tmp_path / "ran-clean.sh"))
    repo.git("config", "filter.evil.required", "true")
    repo.git("config", "filter.a=b.process", str(tmp_path / "ran-process.sh"))  # a name git's -c cannot spell
    repo.git("config", "diff.evil.textconv", str(tmp_path / "ran-textconv.sh"))
    repo.git("config", "diff.external", str(tmp_path / "ran-extdiff.sh"))
    return markers


def test_git_runs_none_of_the_repositorys_configured_commands(repo, tmp_path):
    repo.write("c.yaml", SGD.format(bs=256))
    repo.write("d.yaml", SGD.format(bs=256))
    repo.commit()
    markers = _hostile(repo, tmp_path)
    repo.write(".gitattributes", "c.yaml filter=evil diff=evil\nd.yaml filter=a=b diff=evil\n")
    repo.write("c.yaml", SGD.format(bs=512))
    repo.write("d.yaml", SGD.format(bs=512))
    (repo.path / "e.yaml").write_text(SGD.format(bs=256))  # an added file: a rename candidate, its content read
    for args in ([], ["c.yaml"], ["--base", "HEAD", "."]):
        r = concise(repo, *args)
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout.startswith(LR001), r.stdout
        assert [m.name for m in markers if m.exists()] == []


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() != 0, reason="needs root to give the repository away")
def test_dubious_ownership_is_said_and_exit_2(tmp_path):
    repo = changed_repo(GitRepo(tmp_path / "theirs"))
    for d, _dirs, files in os.walk(repo.path):
        for n in [".", *files]:
            os.chown(os.path.join(d, n), 4321, 4321)
    env = {"GIT_CONFIG_GLOBAL": str(tmp_path / "empty-gitconfig")}  # no safe.directory from the machine
    r = run_lrlint("check", "--output-format", "concise", ".", cwd=repo.path, env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "detected dubious ownership in repository at" in r.stderr
    assert "safe.directory" in r.stderr
    assert "not inside a git work tree" not in r.stdout + r.stderr
    # nothing to compare: git is not needed, the run goes on
    (repo.path / "c.yaml").write_text("x: 1\n")
    r = run_lrlint("check", "--output-format", "concise", ".", cwd=repo.path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def _with_submodule(tmp_path: Path) -> GitRepo:
    sub = GitRepo(tmp_path / "sub")
    sub.write("s.yaml", "# lrlint: reference batch=256 lr=0.1\n" + SGD.format(bs=512))
    sub.commit()
    sup = GitRepo(tmp_path / "sup")
    sup.write("a.yaml", SGD.format(bs=256))
    sup.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "libs/sub")
    sup.commit()
    return sup


def test_files_in_a_submodule_are_said_to_be_unchecked(tmp_path):
    sup = _with_submodule(tmp_path)
    for fmt in ("concise", "json", "github"):
        r = sup.lrlint("check", "--output-format", fmt, ".")
        assert r.returncode == 0, r.stdout + r.stderr
        note = (
            "libs/sub: a git submodule: its files are not checked from here "
            "(check it on its own: lrlint check libs/sub)"
        )
        assert note in r.stdout + r.stderr
    # checked on its own, its finding is there
    r = sup.lrlint("check", "--output-format", "concise", "libs/sub")
    assert r.returncode == 1 and r.stdout.startswith("libs/sub/s.yaml:3:15: LR001"), r.stdout + r.stderr


def test_a_path_with_a_newline_reads_its_own_blob(repo):
    name = "odd\nHEAD:c.yaml.yaml"
    repo.write("c.yaml", SGD.format(bs=64))
    repo.write(name, SGD.format(bs=256))
    repo.commit()
    repo.write(name, SGD.format(bs=512))
    r = repo.lrlint("check", "--output-format", "json", "--select", "LR001", ".")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "effective batch 256 -> 512 (x2)" in r.stdout
