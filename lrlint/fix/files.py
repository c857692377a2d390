"""Writing fixed files: a unified diff of the change, an atomic write that keeps the file's mode."""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from pathlib import Path

from lrlint.sources import Source


def unified_diff(path: str, src: Source, new: bytes) -> str:
    """``--- a/path`` / ``+++ b/path`` unified diff of the decoded text (BOM left out)."""
    enc = src.encoding
    old_text = src.data[len(src.bom) :].decode(enc, "surrogateescape")
    new_body = new[len(src.bom) :] if src.bom and new.startswith(src.bom) else new
    new_text = new_body.decode(enc, "surrogateescape")
    a = old_text.splitlines(keepends=True)
    b = new_text.splitlines(keepends=True)
    rel = path.replace(os.sep, "/")
    out = []
    for line in difflib.unified_diff(a, b, fromfile=f"a/{rel}", tofile=f"b/{rel}"):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def write_atomic(path: str, data: bytes, expected: bytes | None = None, sync_dir: bool = True) -> str | None:
    """Write ``data`` to ``path`` through a temporary file in the same directory; keep the mode.

    Returns None when written, else why not (the file changed on disk since it was read, or an OS error).
    """
    p = Path(path)
    try:
        if expected is not None and read_current(p) != expected:
            return "the file changed on disk since lrlint read it"
        st = p.stat()
        fd, tmp = tempfile.mkstemp(dir=str(p.parent), prefix=f".{p.name}.", suffix=".lrlint-tmp")
    except OSError as e:
        return e.strerror or str(e)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        if expected is not None and read_current(p) != expected:
            os.unlink(tmp)
            return "the file changed on disk since lrlint read it"
        os.replace(tmp, p)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return e.strerror or str(e)
    if sync_dir:
        fsync_dir(p.parent)
    return None


def fsync_dir(d: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        dfd = os.open(str(d), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def read_current(p: Path) -> bytes | None:
    """The file's bytes now (None when it is gone); a seam for tests."""
    try:
        return p.read_bytes()
    except OSError:
        return None
