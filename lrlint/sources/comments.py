"""``#`` comments of YAML text, per line: ``{line: text after '#'}``.

A ``#`` starts a comment only at the start of a line or after a space or tab,
and never inside a scalar (quoted, plain or block). Two ways to know where the
scalars are:

* exact: pass ``scalar_ranges``, the character ranges of the scalar tokens a
  YAML parser reported (the YAML source does this; for block scalars the range
  starts after the header line, so a ``| # note`` header comment is found);
* lexical (no ranges): a small line scanner that knows quoted scalars (also
  spanning lines), plain scalars (``don't # x`` has a comment) and block
  scalars (``|``/``>`` bodies hold no comments). Good for any YAML-like text,
  e.g. a file that did not parse.

The comment text keeps everything after the ``#`` except trailing whitespace
(and a CRLF's ``\\r``); only the first comment of a line counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from lrlint.regex import pattern

__all__ = ["find_comments"]


def find_comments(text: str, scalar_ranges: Sequence[tuple[int, int]] | None = None) -> dict[int, str]:
    """1-based line -> comment text (without the ``#``) for every comment in ``text``.

    ``scalar_ranges``: sorted, non-overlapping ``(start, end)`` character ranges
    of scalar tokens; a ``#`` inside one is not a comment.
    """
    if "#" not in text:
        return {}
    if scalar_ranges is not None:
        return _exact(text, scalar_ranges)
    return _lexical(text)


def _comment_at(text: str, pos: int) -> tuple[str, int]:
    """The comment starting at the ``#`` at ``pos``, and the offset of its line end."""
    end = text.find("\n", pos)
    if end == -1:
        end = len(text)
    return text[pos + 1 : end].rstrip(), end


def _exact(text: str, ranges: Sequence[tuple[int, int]]) -> dict[int, str]:
    out: dict[int, str] = {}
    starts = [r[0] for r in ranges]
    find = text.find
    pos = find("#")
    line = 1
    counted = 0  # text[:counted] has line - 1 newlines
    while pos != -1:
        if pos == 0 or text[pos - 1] in " \t\n":
            i = bisect.bisect_right(starts, pos) - 1
            if i < 0 or ranges[i][1] <= pos:
                line += text.count("\n", counted, pos)
                counted = pos
                body, end = _comment_at(text, pos)
                out[line] = body
                pos = find("#", end)
                continue
        pos = find("#", pos + 1)
    return out


_BLOCK_HEADER = r"[|>][-+0-9]*[ \t]*$"
_SEQ_PREFIX = r"[ \t]*(?:-[ \t]+)*"
_QUOTE_OPENERS = frozenset("-?:,[{")


def _lexical(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    quote = ""  # open quote character carried across lines
    block_indent = -1  # > -1: inside a block scalar whose parent is at this indentation
    for lineno, line in enumerate(text.split("\n"), 1):
        if block_indent >= 0:
            stripped = line.strip()
            if not stripped or len(line) - len(line.lstrip(" ")) > block_indent:
                continue
            block_indent = -1
        if (
            not quote
            and "#" not in line
            and "'" not in line
            and '"' not in line
            and "|" not in line
            and ">" not in line
        ):
            continue
        i, n = 0, len(line)
        comment_at = -1
        while i < n:
            c = line[i]
            if quote == "'":
                j = line.find("'", i)
                if j == -1:
                    i = n
                elif j + 1 < n and line[j + 1] == "'":
                    i = j + 2
                else:
                    quote, i = "", j + 1
                continue
            if quote == '"':
                j = i
                while True:
                    j = line.find('"', j)
                    if j == -1:
                        break
                    k = j
                    while k > 0 and line[k - 1] == "\\":
                        k -= 1
                    if (j - k) % 2 == 0:
                        break
                    j += 1
                if j == -1:
                    i = n
                else:
                    quote, i = "", j + 1
                continue
            if c == "#" and (i == 0 or line[i - 1] in " \t"):
                comment_at = i
                break
            if c in "'\"":
                before = line[:i].rstrip(" \t")
                if not before or before[-1] in _QUOTE_OPENERS or _after_property(before):
                    quote = c
            i += 1
        if comment_at >= 0:
            out[lineno] = line[comment_at + 1 :].rstrip()
            content = line[:comment_at]
        else:
            content = line
        if not quote and _opens_block_scalar(content):
            block_indent = _parent_indent(content)
    return out


def _opens_block_scalar(content: str) -> bool:
    m = pattern(_BLOCK_HEADER).search(content)
    if not m:
        return False
    before = content[: m.start()]
    if before and before[-1] not in " \t":
        return False
    before = before.rstrip(" \t")
    return not before or before[-1] in ":-" or _after_property(before)


def _after_property(before: str) -> bool:
    """Whether ``before`` ends with a tag or anchor (``!!str 'x'``, ``&a "x"``)."""
    word = before.rsplit(None, 1)[-1]
    return word[:1] in ("!", "&")


def _parent_indent(content: str) -> int:
    """Indentation a block scalar's body must exceed, for the line that opens it."""
    m = pattern(_SEQ_PREFIX).match(content)
    prefix = m.group(0) if m else ""
    rest = content[len(prefix) :]
    if ":" in rest and not rest.lstrip().startswith(("|", ">")):
        return len(prefix)  # ``  - key: |``: the key's column
    dash = prefix.rstrip(" \t")
    return max(len(dash) - 1, 0) if dash.endswith("-") else len(content) - len(content.lstrip(" "))
