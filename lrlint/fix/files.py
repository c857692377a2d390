"""Writing fixed files: a unified diff of the change, an atomic write that keeps the file's mode."""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from lrlint.regex import pattern
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


TEMP_SUFFIX = ".lrlint-tmp"
# write_atomic's temporary file of ``c.yaml``: ``.c.yaml.`` + mkstemp's 8 characters + TEMP_SUFFIX
_TEMP_NAME = r"^\.(?P<name>.+\.(?:ya?ml|json|py))\.[a-z0-9_]{8}\.lrlint-tmp$"
STALE_AFTER_S = 120  # a temporary file this old is left by a killed --fix (a running one's lives for seconds)
READ_ONLY = "the file is read-only: left as it is (--fix-read-only rewrites it and keeps its mode)"
CHANGED = "the file changed on disk since lrlint read it"


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file name of write_atomic (``.c.yaml.ab12cd34.lrlint-tmp``)."""
    return name.endswith(TEMP_SUFFIX) and pattern(_TEMP_NAME).match(name) is not None


def clean_stale(dirs: Iterable[Path], max_age: float = STALE_AFTER_S) -> list[Path]:
    """Remove the temporary files an interrupted ``--fix`` left in ``dirs``: only names write_atomic makes,
    regular files of this user, unchanged for ``max_age`` seconds. Returns the files removed."""
    removed = []
    now = time.time()
    uid = os.getuid() if hasattr(os, "getuid") else None
    for d in dirs:
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for ent in entries:
            if not is_temporary(ent.name):
                continue
            try:
                st = ent.stat(follow_symlinks=False)
                if (
                    not stat.S_ISREG(st.st_mode)
                    or (uid is not None and st.st_uid != uid)
                    or now - st.st_mtime < max_age
                ):
                    continue
                os.unlink(ent.path)
            except OSError:
                continue
            removed.append(Path(os.path.normpath(ent.path)))
    return removed


def read_only(p: Path, st: os.stat_result) -> bool:
    """The file's mode denies its owner writing, or this user cannot write it (root can: the mode decides)."""
    return not st.st_mode & stat.S_IWUSR or not os.access(p, os.W_OK)


class Pending:
    """A file being written atomically: its new bytes written to a temporary file beside it (``begin``), not
    yet synced to disk nor renamed over it (``finish``)."""

    __slots__ = ("path", "tmp", "fd", "failed")

    def __init__(self, path: Path, tmp: str, fd: int) -> None:
        self.path, self.tmp, self.fd = path, tmp, fd
        self.failed: str | None = None  # why the disk sync (or the close) failed


def begin(path: str, data: bytes, expected: bytes | None = None, rewrite_read_only: bool = False) -> Pending | str:
    """Write ``data`` to a temporary file in ``path``'s directory, with ``path``'s mode; or why not (the file
    changed on disk since it was read, it is read-only and ``rewrite_read_only`` is off, an OS error)."""
    p = Path(path)
    try:
        if expected is not None and read_current(p) != expected:
            return CHANGED
        st = p.stat()
        if not rewrite_read_only and read_only(p, st):
            return READ_ONLY
        fd, tmp = tempfile.mkstemp(dir=str(p.parent), prefix=f".{p.name}.", suffix=TEMP_SUFFIX)
    except OSError as e:
        return e.strerror or str(e)
    pending = Pending(p, tmp, fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.chmod(tmp, st.st_mode & 0o7777)  # by name: os.fchmod is POSIX-only before Python 3.13
    except OSError as e:
        drop(pending)
        return e.strerror or str(e)
    return pending


def sync(pending: Pending) -> None:
    """The temporary file's bytes to disk (a failure is kept for ``finish``)."""
    try:
        os.fsync(pending.fd)
    except OSError as e:
        pending.failed = e.strerror or str(e)


def finish(pending: Pending, expected: bytes | None = None) -> str | None:
    """Rename the synced temporary file over the file; None when written, else why not (the temporary file
    is removed)."""
    try:
        os.close(pending.fd)
    except OSError as e:
        pending.failed = pending.failed or e.strerror or str(e)
    pending.fd = -1
    if pending.failed is not None:
        drop(pending)
        return pending.failed
    try:
        if expected is not None and read_current(pending.path) != expected:
            drop(pending)
            return CHANGED
        os.replace(pending.tmp, pending.path)
    except OSError as e:
        drop(pending)
        return e.strerror or str(e)
    return None


def drop(pending: Pending) -> None:
    """Close and remove a temporary file that is not renamed."""
    if pending.fd >= 0:
        with contextlib.suppress(OSError):
            os.close(pending.fd)
        pending.fd = -1
    with contextlib.suppress(OSError):
        os.unlink(pending.tmp)


def write_atomic(
    path: str, data: bytes, expected: bytes | None = None, sync_dir: bool = True, rewrite_read_only: bool = False
) -> str | None:
    """Write ``data`` to ``path`` through a temporary file in the same directory; keep the mode.

    Returns None when written, else why not (the file changed on disk since it was read, it is read-only
    and ``rewrite_read_only`` is off, or an OS error).
    """
    pending = begin(path, data, expected, rewrite_read_only)
    if isinstance(pending, str):
        return pending
    sync(pending)
    why = finish(pending, expected)
    if why is None and sync_dir:
        fsync_dir(pending.path.parent)
    return why


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
