"""lrlint's own derived files: the built rules and validated settings, pickled in the user's cache.

A pre-commit run on one file must feel instant, and importing pydantic alone costs more than
checking the file. So what pydantic validated once (a ``[tool.lrlint]`` table, a user profile)
and the shipped rules are kept here, keyed by everything they were built from (lrlint's
version, the Python version, the code of the classes, the input itself); a stale, corrupt or
unwritable cache only means building again. It lives in the platform's user cache directory
(platformdirs: ``~/.cache/lrlint`` on Linux), holds at most ``MAX_ENTRIES`` files (the least recently
used go first) and ``lrlint clean`` removes it. ``LRLINT_CACHE_DIR`` or ``--cache-dir`` moves it;
an empty ``LRLINT_CACHE_DIR`` or ``--no-cache`` turns it off.
"""

from __future__ import annotations

import contextlib
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_ENTRIES = 64  # distinct settings tables, profiles and rule builds kept
_chosen: tuple[Path | None] | None = None  # (the directory --cache-dir/--no-cache chose; None: off), or unset


def use_dir(directory: Path | None) -> None:
    """Use ``directory`` for this process's cache (None: no cache), over ``LRLINT_CACHE_DIR``."""
    global _chosen
    _chosen = (directory,)


def cache_dir() -> Path | None:
    """The chosen directory, else ``LRLINT_CACHE_DIR``, else the platform's user cache directory; None: off."""
    if _chosen is not None:
        return _chosen[0]
    raw = os.environ.get("LRLINT_CACHE_DIR")
    if raw is not None:
        return Path(raw) if raw else None
    plain = _plain_linux_cache()
    if plain is not None:
        return Path(plain)
    import platformdirs

    return Path(platformdirs.user_cache_dir("lrlint", appauthor=False))


def _plain_linux_cache() -> str | None:
    """platformdirs' user cache directory where every platformdirs version gives the same one: Linux (not
    Android) with an absolute ``$XDG_CACHE_HOME``, or none and an absolute ``$HOME``; else None (ask
    platformdirs). Importing platformdirs costs more than parsing a 50-line config."""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel") or "ANDROID_DATA" in os.environ:
        return None
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg:
        return os.path.join(xdg, "lrlint") if xdg.startswith("/") and xdg.strip() == xdg else None
    home = os.environ.get("HOME", "")
    return os.path.join(home, ".cache", "lrlint") if home.startswith("/") and home.strip() == home else None


def entries(where: Path) -> list[Path]:
    """lrlint's files in ``where`` (its pickles and their temporary files), nothing else."""
    try:
        return [p for p in where.iterdir() if p.is_file() and (p.suffix == ".pickle" or p.name.endswith(".tmp"))]
    except OSError:
        return []


def clean(where: Path) -> int:
    """Remove lrlint's files from ``where`` (and the directory when that leaves it empty); how many."""
    n = 0
    for p in entries(where):
        try:
            p.unlink()
            n += 1
        except OSError:
            pass
    with contextlib.suppress(OSError):  # absent, or holds files that are not lrlint's
        where.rmdir()
    return n


def _prune(where: Path) -> None:
    """Keep the ``MAX_ENTRIES`` most recently used files."""
    files = entries(where)
    if len(files) <= MAX_ENTRIES:
        return

    def used(p: Path) -> int:
        try:
            return p.stat().st_mtime_ns
        except OSError:
            return 0

    for p in sorted(files, key=used)[: len(files) - MAX_ENTRIES]:
        with contextlib.suppress(OSError):
            p.unlink()


def code_key(*modules: str) -> str:
    """lrlint's version, Python's, and the size and mtime of the named modules' files."""
    from lrlint import __version__

    parts = [f"{__version__} {sys.version_info[:2]}"]
    for name in modules:
        f = sys.modules[name].__file__ or ""
        st = os.stat(f)
        parts.append(f"{f} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(parts)


def cached(kind: str, key: str, make: Callable[[], Any]) -> Any:
    """``make()``, or its result from an earlier run with the same ``key``. Exceptions from ``make``
    propagate and nothing is stored (an invalid config is reported every time)."""
    import pickle

    where = cache_dir()
    path = (
        where / f"{kind}-{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}.pickle" if where is not None else None
    )
    if path is not None:
        try:
            with open(path, "rb") as fh:
                stored_key, value = pickle.load(fh)
            if stored_key == key:
                _touch(path)
                return value
        except Exception:  # absent, unreadable, or written by other code: build again
            pass
    value = make()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, path)
            _prune(path.parent)
        except OSError:
            pass
    return value


def _touch(path: Path) -> None:
    """Mark ``path`` used (its mtime orders the pruning); a read-only cache stays as it is."""
    with contextlib.suppress(OSError):
        os.utime(path)
