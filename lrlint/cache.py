"""lrlint's own derived files: the built rules and validated settings, pickled in the user's cache.

A pre-commit run on one file must feel instant, and importing pydantic alone costs more than
checking the file. So what pydantic validated once (a ``[tool.lrlint]`` table, a user profile)
and the shipped rules are kept here, keyed by everything they were built from (lrlint's
version, the Python version, the code of the classes, the input itself); a stale, corrupt or
unwritable cache only means building again. ``LRLINT_CACHE_DIR`` moves it; an empty value turns
it off.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cache_dir() -> Path | None:
    """``LRLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lrlint`` (``~/.cache/lrlint``); None: off."""
    raw = os.environ.get("LRLINT_CACHE_DIR")
    if raw is not None:
        return Path(raw) if raw else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lrlint"


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
        except OSError:
            pass
    return value
