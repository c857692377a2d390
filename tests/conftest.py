"""Shared helpers: temporary git repositories and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_lrlint(
    *args: str, cwd: Path, env: dict | None = None, input: str | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """``python -m lrlint ...`` in ``cwd``, without colors (``timeout``: seconds before the test fails)."""
    outer = {k: v for k, v in os.environ.items() if not k.startswith("PRE_COMMIT")}  # a hook's run is a test's own
    e = {**outer, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    e.pop("FORCE_COLOR", None)
    e.pop("LRLINT_OUTPUT_FORMAT", None)
    return subprocess.run(
        [sys.executable, "-m", "lrlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=e,
        input=input,
        timeout=timeout,
    )


class GitRepo:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "Dev")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True, text=True).stdout

    def write(self, rel: str, text: str) -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return p

    def commit(self, message: str = "commit") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def lrlint(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return run_lrlint(*args, cwd=self.path, **kw)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")
