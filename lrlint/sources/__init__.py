"""Reading files: bytes -> Source -> Documents. Nothing here executes the file.

Each format's parser lives in its own module and is imported only when a file of
that format is parsed (a YAML-only run never imports libcst). Beside the parsers, the
editors that write a value into a file's text (``override_edit``, used by fixes that
override an inherited value in the child config).
"""

from __future__ import annotations

import codecs
import errno
import importlib
import os
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lrlint import gcpause
from lrlint.findings import Edit
from lrlint.problems import Missing as Missing  # re-exported beside the LR9xx codes
from lrlint.problems import SourceError as SourceError
from lrlint.records import Record
from lrlint.regex import pattern
from lrlint.spans import LineIndex
from lrlint.values import Document

# format -> module with ``parse(source: Source, limits: Limits) -> list[Document]``
PARSERS = {
    "yaml": "lrlint.sources.yaml_source",
    "json": "lrlint.sources.json_source",
    "python": "lrlint.sources.python_source",
}

# format -> module with ``override(source: Source, dotted: str, content: str) -> Edit | None``
EDITORS = {
    "yaml": "lrlint.sources.yaml_edit",
    "python": "lrlint.sources.python_edit",
}

SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".py": "python"}

# LR9xx: input problems (a finding each, never a traceback).
PARSE_ERROR = "LR901"  # syntax error in YAML/JSON/Python
UNREADABLE = "LR902"  # binary, undecodable, vanished or unreadable file
TOO_LARGE = "LR903"  # over the max-file-size setting
UNSAFE_TAG = "LR904"  # e.g. !!python/object: never constructed, reported
LIMIT_EXCEEDED = "LR905"  # alias expansion or nesting beyond the limits
INCLUDE_ERROR = "LR906"  # a base config / include that cannot be resolved
INTERNAL_ERROR = "LR907"  # an unexpected exception while checking or fixing one file (a bug)


class Limits(Record):
    max_file_size: int = 10 * 1024 * 1024
    max_values: int = 100_000  # flattened values per document (alias bombs)
    max_depth: int = 200  # nesting depth


@dataclass
class Source:
    """A file's bytes and decoded text. ``bom`` is kept so fixes write it back."""

    path: str  # as shown to the user (relative where possible)
    format: str
    data: bytes
    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    lines: LineIndex = field(init=False)

    def __post_init__(self) -> None:
        self.lines = LineIndex(self.text, self.encoding, len(self.bom))


def format_of(path: str | Path) -> str | None:
    return SUFFIXES.get(Path(path).suffix.lower())


_COOKIE = rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)"


def decode(path: str, fmt: str, data: bytes) -> Source:
    """Decode bytes (BOM and, for Python, a PEP 263 coding cookie respected)."""
    if b"\x00" in data[:8192]:
        raise SourceError(UNREADABLE, "binary file (contains NUL bytes)")
    bom = b""
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        bom = codecs.BOM_UTF8
    elif fmt == "python":
        for head in data.splitlines()[:2]:
            m = pattern(_COOKIE).match(head)
            if m:
                encoding = m.group(1).decode("ascii")
                break
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise SourceError(UNREADABLE, f"unknown encoding {encoding!r} in the coding declaration") from None
    if not getattr(info, "_is_text_encoding", True):  # rot13, hex, base64, zlib...: bytes to bytes
        raise SourceError(UNREADABLE, f"the coding declaration names {encoding!r}, which is not a text encoding")
    body = data[len(bom) :]
    try:
        with warnings.catch_warnings():  # unicode_escape warns about each invalid escape
            warnings.simplefilter("ignore")
            text = body.decode(encoding)
    except UnicodeDecodeError as e:
        line = body[: e.start].count(b"\n") + 1
        col = e.start - (body.rfind(b"\n", 0, e.start) + 1) + 1
        raise SourceError(
            UNREADABLE, f"not valid {encoding}: byte 0x{body[e.start]:02x} at offset {e.start + len(bom)}", line, col
        ) from None
    except (UnicodeError, ValueError, TypeError) as e:  # punycode, undefined: a codec that fails its own way
        raise SourceError(UNREADABLE, f"cannot decode as {encoding}: {e}") from None
    return Source(path, fmt, data, text, encoding, bom)


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(mode: int) -> SourceError | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return SourceError(UNREADABLE, "is a directory")
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return SourceError(UNREADABLE, f"not a regular file ({kind}): not read")


def _too_large(size: int, limits: Limits) -> SourceError:
    limit = limits.max_file_size / 2**20
    return SourceError(TOO_LARGE, f"file is {size / 2**20:.1f} MiB, over the max-file-size limit of {limit:.1f} MiB")


def _read_open(fd: int, limits: Limits) -> bytes:
    st = os.fstat(fd)  # what was opened, if the path changed since it was looked at
    err = _not_regular(st.st_mode) or (_too_large(st.st_size, limits) if st.st_size > limits.max_file_size else None)
    if err is not None:
        raise err
    with os.fdopen(fd, "rb", closefd=False) as fh:
        data = fh.read(limits.max_file_size + 1)
    if len(data) > limits.max_file_size:  # it grew while read
        raise _too_large(os.fstat(fd).st_size, limits)
    return data


def read_bytes(fs_path: Path, limits: Limits) -> bytes:
    """A regular file's bytes, at most ``limits.max_file_size``; never opens anything else, never blocks."""
    try:
        err = _not_regular(os.stat(fs_path).st_mode)  # follows links: a link is judged by what it points at
        if err is not None:
            raise err
        fd = os.open(fs_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        try:
            return _read_open(fd, limits)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise Missing(UNREADABLE, "file was deleted from the working tree") from None
    except IsADirectoryError:
        raise SourceError(UNREADABLE, "is a directory") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SourceError(UNREADABLE, "a symbolic link loop: not read") from None
        raise SourceError(UNREADABLE, f"cannot read: {e.strerror or e}") from None
    except ValueError:  # a name with a NUL byte (a base named by a config may be any text)
        raise SourceError(UNREADABLE, "cannot read: the name holds a NUL byte") from None


def from_bytes(path: str, fmt: str, data: bytes, limits: Limits) -> Source:
    """Bytes that are not read from disk (stdin, an editor's buffer), under the same limits as a file."""
    if len(data) > limits.max_file_size:
        raise _too_large(len(data), limits)
    return decode(path, fmt, data)


def read(path: str, fs_path: Path, fmt: str, limits: Limits) -> Source:
    """Read and decode one file; raises SourceError for every input problem."""
    return decode(path, fmt, read_bytes(fs_path, limits))


def preload(formats: Iterable[str]) -> None:
    """Import the parsers of ``formats`` and build what they build once (a run about to fork its workers
    does this first: the workers share it instead of each doing it again)."""
    for fmt in sorted(set(formats)):
        warm = getattr(importlib.import_module(PARSERS[fmt]), "warm", None)
        if warm is not None:
            warm()


def parse(source: Source, limits: Limits) -> list[Document]:
    """Parse with the format's parser (imported on first use)."""
    mod = importlib.import_module(PARSERS[source.format])
    docs: list[Document] = mod.parse(source, limits)
    gcpause.tick()
    return docs


def override_edit(source: Source, dotted: str, content: str) -> Edit | None:
    """An edit that sets ``dotted`` to the literal ``content`` in ``source``: the value replaced where the
    key is written, else the key inserted where the format's merge puts it. None where the format has no
    editor or the file's shape does not allow a safe edit."""
    name = EDITORS.get(source.format)
    if name is None:
        return None
    edit: Edit | None = importlib.import_module(name).override(source, dotted, content)
    return edit


def prepend_edits(source: Source, name: str, item: str) -> list[Edit] | None:
    """The edits that put the literal ``item`` first in the list that the top-level assignment ``name = [...]``
    writes (a single ``name = dict(...)`` becomes a list of two); None where the file does not assign
    ``name`` itself (it is inherited) or its format has no such editor."""
    module = EDITORS.get(source.format)
    editor = getattr(importlib.import_module(module), "prepend", None) if module else None
    if editor is None:
        return None
    edits: list[Edit] | None = editor(source, name, item)
    return edits
