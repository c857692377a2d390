"""The one span type: a byte range in one file, with 1-based line/column ends."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from lrlint.regex import pattern

_LONE_CR = r"\r(?!\n)"


def lf_breaks(text: str) -> str:
    """``text`` with each lone CR (a classic Mac line break, one for YAML and Python) made an LF.

    Same length, same offsets: scanners that look for ``\n`` see every line break, CRLF included."""
    return pattern(_LONE_CR).sub("\n", text) if "\r" in text else text


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes ``start:end`` of ``path``; ``line``/``col`` are 1-based, columns in characters."""

    path: str
    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def file_start(cls, path: str) -> Span:
        """The empty span at the top of ``path`` (what is said of a file as a whole)."""
        return cls(path, 0, 0, 1, 1, 1, 1)


class LineIndex:
    """Maps character offsets of a decoded text to byte offsets and 1-based line/column."""

    def __init__(self, text: str, encoding: str = "utf-8", byte_offset: int = 0) -> None:
        self.text = text
        self.encoding = encoding
        self.byte_offset = byte_offset  # e.g. a BOM before the text
        self.ascii = text.isascii() and encoding.lower().replace("_", "-") in {
            "utf-8",
            "utf8",
            "ascii",
            "latin-1",
            "iso-8859-1",
        }
        starts = [0]
        find = lf_breaks(text).find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self.line_starts = starts

    def byte(self, char_offset: int) -> int:
        if self.ascii:
            return self.byte_offset + char_offset
        return self.byte_offset + len(self.text[:char_offset].encode(self.encoding, "surrogateescape"))

    def char(self, byte_offset: int) -> int:
        """Inverse of :meth:`byte`."""
        b = byte_offset - self.byte_offset
        if self.ascii:
            return b
        return len(self.text.encode(self.encoding, "surrogateescape")[:b].decode(self.encoding, "surrogateescape"))

    def line_col(self, char_offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.line_starts, char_offset) - 1
        return i + 1, char_offset - self.line_starts[i] + 1

    def offset(self, line: int, col: int) -> int:
        """Character offset of a 1-based line and column."""
        line = max(1, min(line, len(self.line_starts)))
        return self.line_starts[line - 1] + col - 1

    def span(self, path: str, start: int, end: int) -> Span:
        """Span for the character range ``start:end``."""
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(end)
        return Span(path, self.byte(start), self.byte(end), line, col, end_line, end_col)

    def line_text(self, line: int) -> str:
        start = self.line_starts[line - 1]
        end = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")
