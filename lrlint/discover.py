"""Which files to check: explicit files always, directories walked (git's view when in a repo)."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from lrlint import gitproc, globs
from lrlint.records import Record
from lrlint.regex import pattern
from lrlint.sources import format_of

if TYPE_CHECKING:
    from lrlint.settings import Settings

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


class Target(Record):
    path: str  # as shown (relative to cwd when below it)
    fs_path: Path
    format: str


class PathError(Exception):
    """A path given on the command line does not exist: exit 2."""


# a run's resolved paths (``resolving()``): each path is resolved once per run, however many stages ask
_RESOLVED: ContextVar[dict[Path, Path] | None] = ContextVar("lrlint_resolved", default=None)


@contextmanager
def resolving() -> Iterator[None]:
    """Within the block, ``resolved`` resolves each path once (a run: links do not change under it); a block
    inside another one (a stage of a run: the check, then --fix's re-check) shares the run's paths."""
    if _RESOLVED.get() is not None:
        yield
        return
    token = _RESOLVED.set({})
    try:
        yield
    finally:
        _RESOLVED.reset(token)


def resolved(p: Path) -> Path:
    """``p`` with its links followed; a link loop (or a path the OS refuses) stays as written, made absolute."""
    cache = _RESOLVED.get()
    if cache is None:
        return _resolve(p)
    hit = cache.get(p)
    if hit is None:
        name, parent = p.name, p.parent
        if name in ("", ".", "..") or "\x00" in name or parent == p:
            hit = _resolve(p)
        else:  # the parent's links are followed once per run; then only the last part is looked at
            q = resolved(parent) / name
            hit = _resolve(p) if os.path.islink(q) else q
        cache[p] = hit
    return hit


def _resolve(p: Path) -> Path:
    try:
        return p.resolve()
    except (RuntimeError, OSError, ValueError):  # RuntimeError: a link loop (Python < 3.13); ValueError: a NUL
        return Path(os.path.abspath(p))


def is_file(p: Path) -> bool:
    """Whether ``p`` is a file; False for a name the OS refuses (too long, a NUL), where ``Path.is_file``
    raises (a base named by a repository may be any text)."""
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def display_path(p: Path, cwd: Path) -> str:
    """``p`` as shown: relative to ``cwd`` when below it."""
    try:
        return resolved(p).relative_to(cwd).as_posix()
    except ValueError:
        return p.as_posix()


def _skipped_dir(part: str) -> bool:
    return (part.startswith(".") and part not in (".", "..")) or part in SKIP_DIRS or part.endswith(".egg-info")


def _matches_any(rel: str, patterns: list[str]) -> bool:
    """Whether a path relative to the settings' root matches one of the gitignore-style ``patterns``."""
    return globs.matches(rel, patterns)


_STAGED = r"(?s)([0-7]{6}) [0-9a-f]{40,64} [0-3]\t(.*)"
GITLINK = "160000"  # the index mode of a submodule


def _git_files(directory: Path) -> tuple[list[str], list[str]] | None:
    """Files git tracks or would track below ``directory``, and the submodules there (one ``git ls-files``)."""
    try:
        out = gitproc.run(
            ["ls-files", "-z", "--stage", "--cached", "--others", "--exclude-standard", "--deduplicate", "--", "."],
            directory,
        )
    except OSError:
        return None
    if out.returncode != 0:
        return None
    files: list[str] = []
    submodules: list[str] = []
    for entry in out.stdout.split("\0"):
        m = pattern(_STAGED).fullmatch(entry)
        if m is None:  # an untracked file: its path alone
            if entry:
                files.append(entry)
        elif m[1] == GITLINK:
            submodules.append(m[2])
        else:
            files.append(m[2])
    return list(dict.fromkeys(files)), list(dict.fromkeys(submodules))


def _walk(directory: Path) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(d))
        rel_root = Path(root).relative_to(directory)
        found.extend((rel_root / f).as_posix() for f in sorted(files))
    return found


def excluded(p: Path, settings: Settings) -> bool:
    """Whether the exclude globs of ``settings`` cover the file ``p``."""
    root = Path(settings.root).resolve()
    try:
        rel = resolved(p).relative_to(root).as_posix()
    except ValueError:
        rel = p.as_posix()
    return _matches_any(rel, list(settings.exclude) + list(settings.extend_exclude))


def included(p: Path, settings: Settings) -> bool:
    """Whether the file matches the include globs of ``settings`` (what a directory walk would check)."""
    try:
        rel = resolved(p).relative_to(resolved(Path(settings.root))).as_posix()
    except ValueError:
        rel = p.name
    return _matches_any(rel, settings.include)


def discover(
    paths: list[str],
    settings: Settings,
    force_exclude: bool = False,
    cwd: Path | None = None,
    notes: list[str] | None = None,
) -> list[Target]:
    """``notes``: receives what a walk did not look into (git submodules)."""
    cwd = (cwd or Path.cwd()).resolve()
    root = Path(settings.root).resolve()
    excludes = list(settings.exclude) + list(settings.extend_exclude)
    seen: set[Path] = set()
    out: list[Target] = []

    def rel_to_root(p: Path) -> str:
        try:
            return resolved(p).relative_to(root).as_posix()
        except ValueError:
            return p.as_posix()

    for raw in paths or ["."]:
        p = Path(raw)
        if not p.exists() and not p.is_symlink():
            raise PathError(f"{raw}: no such file or directory")
        if not p.is_dir():  # a file, a link to nothing or a loop, a FIFO or device: read (or refused) as a file
            fmt = format_of(p)
            if fmt is None:
                continue
            if force_exclude and _matches_any(rel_to_root(p), excludes):
                continue
            rp = resolved(p)
            if rp not in seen:
                seen.add(rp)
                out.append(Target(display_path(p, cwd), p, fmt))
            continue
        listed = _git_files(p) if settings.respect_gitignore else None
        rels = listed[0] if listed is not None else _walk(p)
        for sub in listed[1] if listed is not None else []:
            if notes is None or any(_skipped_dir(d) for d in sub.split("/")):
                continue
            if not _matches_any(rel_to_root(p / sub), excludes):
                shown = display_path(p / sub, cwd)
                notes.append(
                    f"{shown}: a git submodule: its files are not checked from here "
                    f"(check it on its own: lrlint check {shlex.quote(shown)})"
                )
        for rel in sorted(rels):
            parts = rel.split("/")
            if any(_skipped_dir(d) for d in parts[:-1]):
                continue
            fmt = format_of(rel)
            fp = p / rel
            if fmt is None or not _matches_any(rel_to_root(fp), settings.include):
                continue
            if _matches_any(rel_to_root(fp), excludes):
                continue
            rp = resolved(fp)
            if rp in seen:
                continue
            seen.add(rp)
            out.append(Target(display_path(fp, cwd), fp, fmt))
    return out
