"""Which files to check: explicit files always, directories walked (git's view when in a repo)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from lrlint.sources import format_of

SKIP_DIRS = {
    "node_modules",
    "venv",
    ".venv",
    "env",
    "site-packages",
    "__pycache__",
    "dist-packages",
    "third_party",
    "vendor",
    ".tox",
    ".nox",
    ".eggs",
    "build",
    "dist",
    "wandb",
    "mlruns",
    "lightning_logs",
    "outputs",
}


@dataclass(frozen=True)
class Target:
    path: str  # as shown (relative to cwd when below it)
    fs_path: Path
    format: str
    explicit: bool


class PathError(Exception):
    """A path given on the command line does not exist: exit 2."""


def display_path(p: Path, cwd: Path) -> str:
    """``p`` as shown: relative to ``cwd`` when below it."""
    try:
        return p.resolve().relative_to(cwd).as_posix()
    except ValueError:
        return p.as_posix()


def _skipped_dir(part: str) -> bool:
    return (part.startswith(".") and part not in (".", "..")) or part in SKIP_DIRS or part.endswith(".egg-info")


def _matches_any(rel: str, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    for p in patterns:
        p = p.rstrip("/")
        if fnmatch(rel, p) or fnmatch(name, p) or fnmatch(rel, p + "/*") or rel.startswith(p + "/"):
            return True
    return False


def _git_files(directory: Path) -> list[str] | None:
    """Files git tracks or would track below ``directory`` (one ``git ls-files`` call)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate", "--", "."],
            cwd=directory,
            capture_output=True,
            check=False,
        )
    except (FileNotFoundError, OSError):
        return None
    if out.returncode != 0:
        return None
    return [p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def _walk(directory: Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(d))
        rel_root = Path(root).relative_to(directory)
        found.extend((rel_root / f).as_posix() for f in sorted(files))
    return found


def excluded(p: Path, settings) -> bool:
    """Whether the exclude globs of ``settings`` cover the file ``p``."""
    root = Path(settings.root).resolve()
    try:
        rel = p.resolve().relative_to(root).as_posix()
    except ValueError:
        rel = p.as_posix()
    return _matches_any(rel, list(settings.exclude) + list(settings.extend_exclude))


def discover(paths: list[str], settings, force_exclude: bool = False, cwd: Path | None = None) -> list[Target]:
    cwd = (cwd or Path.cwd()).resolve()
    root = Path(settings.root).resolve()
    excludes = list(settings.exclude) + list(settings.extend_exclude)
    seen: set[Path] = set()
    out: list[Target] = []

    def rel_to_root(p: Path) -> str:
        try:
            return p.resolve().relative_to(root).as_posix()
        except ValueError:
            return p.as_posix()

    for raw in paths or ["."]:
        p = Path(raw)
        if not p.exists() and not p.is_symlink():
            raise PathError(f"{raw}: no such file or directory")
        if p.is_file() or (p.is_symlink() and not p.exists()):
            fmt = format_of(p)
            if fmt is None:
                continue
            if force_exclude and _matches_any(rel_to_root(p), excludes):
                continue
            rp = p.resolve()
            if rp not in seen:
                seen.add(rp)
                out.append(Target(display_path(p, cwd), p, fmt, True))
            continue
        listed = _git_files(p) if settings.respect_gitignore else None
        rels = listed if listed is not None else _walk(p)
        for rel in sorted(rels):
            parts = rel.split("/")
            if any(_skipped_dir(d) for d in parts[:-1]):
                continue
            fmt = format_of(rel)
            if fmt is None or not _matches_any(parts[-1], settings.include):
                continue
            fp = p / rel
            if _matches_any(rel_to_root(fp), excludes):
                continue
            rp = fp.resolve()
            if rp in seen:
                continue
            seen.add(rp)
            out.append(Target(display_path(fp, cwd), fp, fmt, False))
    return out
