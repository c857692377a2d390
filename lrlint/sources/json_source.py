"""JSON -> Document: every scalar leaf under its dotted key path, with its exact span.

Python's json module keeps no positions, so this is a small strict scanner:
iterative (an explicit stack, no recursion; nesting beyond ``limits.max_depth``
is LIMIT_EXCEEDED), strings through ``json.decoder.scanstring`` (C-accelerated),
numbers by json's own regular expression. It accepts what ``json.loads``
accepts (including ``NaN``/``Infinity``) and reports errors with json's wording
at a 1-based line/column. Duplicate keys: the last wins, as in ``json.loads``.
"""

from __future__ import annotations

import json.decoder
import re
from collections.abc import Callable
from typing import cast

from lrlint.regex import pattern
from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, Limits, Source, SourceError
from lrlint.values import LITERAL, STRING, Document, Scalar, Value
from lrlint.vocabulary import Provenance

__all__ = ["parse"]

# json's own string scanner (C-accelerated); typeshed leaves it out of json.decoder's stubs
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WS = r"[ \t\n\r]*"
_NUMBER = r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?"
_CONSTANTS = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}
_CONSTANT_START = {
    "t": ("true",),
    "f": ("false",),
    "n": ("null",),
    "N": ("NaN",),
    "I": ("Infinity",),
    "-": ("-Infinity",),
}


def parse(source: Source, limits: Limits) -> list[Document]:
    """Parse a JSON source into one Document (``format="json"``, no comments)."""
    problems: list[SourceError] = []
    values = _scan(source, limits, problems)
    return [Document(source.path, "json", values, 0, source.lines, {}, problems)]


def _scan(source: Source, limits: Limits, problems: list[SourceError]) -> dict[str, Value]:
    """The document's values; past ``limits.max_values`` the rest is not read (an LR905 in ``problems``)."""
    text = source.text
    n = len(text)
    lines = source.lines
    span = lines.span
    path_name = source.path
    # the whitespace pattern matches the empty string too: its match is never None
    ws = cast(Callable[[str, int], re.Match[str]], pattern(_WS).match)
    number = pattern(_NUMBER).match
    max_depth = limits.max_depth
    max_values = limits.max_values

    def error(reason: str, pos: int, code: str = PARSE_ERROR) -> SourceError:
        line, col = lines.line_col(min(pos, n))
        return SourceError(code, reason, line, col)

    values: dict[str, Value] = {}
    # Open containers: [is_object, path prefix, next index (arrays) or seen keys (objects)]
    stack: list[list] = []
    pos = ws(text, 0).end()
    if pos >= n:
        raise error("empty JSON document", 0)
    key = ""  # path of the value about to be read
    while True:
        # --- a value at pos ---
        if pos >= n:
            raise error("Expecting value", pos)
        c = text[pos]
        if c == "{" or c == "[":
            if len(stack) >= max_depth:
                raise error(f"JSON nesting deeper than {max_depth} levels", pos, LIMIT_EXCEEDED)
            is_obj = c == "{"
            stack.append([is_obj, key + "." if key else "", set() if is_obj else 0])
            pos = ws(text, pos + 1).end()
            close = "}" if is_obj else "]"
            if pos < n and text[pos] == close:
                stack.pop()
                pos += 1
                # an empty container: no leaves; fall through to "after a value"
            elif is_obj:
                key, pos = _key(text, pos, stack[-1], values, error, ws)
                continue
            else:
                key = stack[-1][1] + "0"
                stack[-1][2] = 1
                continue
        else:
            start = pos
            if c == '"':
                try:
                    value: Scalar
                    value, pos = _scanstring(text, pos + 1, True)
                except json.JSONDecodeError as e:
                    raise error(_msg(e), e.pos) from None
                prov: Provenance = STRING
            else:
                m = number(text, pos)
                if m is not None:
                    integer, frac, exp = m.groups()
                    pos = m.end()
                    try:
                        value = float(integer + (frac or "") + (exp or "")) if frac or exp else int(integer)
                    except ValueError:  # an integer past the digits Python converts (4,300)
                        reason = f"an integer of {len(integer)} characters is past what lrlint reads; value skipped"
                        problems.append(error(reason, start, LIMIT_EXCEEDED))
                        value = None
                else:
                    word = _constant_at(text, pos)
                    if word is None:
                        raise error("Expecting value", pos)
                    value = _CONSTANTS[word]
                    pos += len(word)
                prov = LITERAL
            if stack and not (value is None and prov == LITERAL and c != "n"):  # a skipped integer: no value
                values[key] = Value(key, value, span(path_name, start, pos), prov, text[start:pos])
                if len(values) > max_values:  # checked up to here; the rest is not read
                    del values[key]
                    problems.append(
                        error(
                            f"JSON document has more than {max_values} values: the values from this line on were "
                            "not read, the checks saw only those before it",
                            start,
                            LIMIT_EXCEEDED,
                        )
                    )
                    return values
            # a top-level scalar has no key path: no values
        # --- after a value: ',' or the container's end ---
        while True:
            pos = ws(text, pos).end()
            if not stack:
                if pos < n:
                    raise error("Extra data", pos)
                return values
            top = stack[-1]
            is_obj = top[0]
            if pos < n and text[pos] == ",":
                pos = ws(text, pos + 1).end()
                if is_obj:
                    if pos < n and text[pos] == "}":
                        raise error("Illegal trailing comma before end of object", pos)
                    key, pos = _key(text, pos, top, values, error, ws)
                else:
                    if pos < n and text[pos] == "]":
                        raise error("Illegal trailing comma before end of array", pos)
                    key = top[1] + str(top[2])
                    top[2] += 1
                break
            if pos < n and text[pos] == ("}" if is_obj else "]"):
                stack.pop()
                pos += 1
                continue
            raise error("Expecting ',' delimiter", pos)


def _msg(e: json.JSONDecodeError) -> str:
    """json's message without its dangling "at" ("Unterminated string starting at")."""
    msg = e.msg
    for tail in (" starting at", " at"):
        if msg.endswith(tail):
            return msg[: -len(tail)]
    return msg


def _constant_at(text: str, pos: int) -> str | None:
    for word in _CONSTANT_START.get(text[pos], ()):
        if text.startswith(word, pos):
            return word
    return None


def _key(text: str, pos: int, top: list, values: dict, error, ws) -> tuple[str, int]:
    """Read ``"key" :`` at ``pos``; returns the value's path and the position of the value."""
    if pos >= len(text) or text[pos] != '"':
        raise error("Expecting property name enclosed in double quotes", pos)
    try:
        name, pos = _scanstring(text, pos + 1, True)
    except json.JSONDecodeError as e:
        raise error(_msg(e), e.pos) from None
    pos = ws(text, pos).end()
    if pos >= len(text) or text[pos] != ":":
        raise error("Expecting ':' delimiter", pos)
    path = top[1] + name
    seen = top[2]
    if name in seen:  # duplicate key: the last one wins, as json.loads
        below = path + "."
        for k in [k for k in values if k == path or k.startswith(below)]:
            del values[k]
    else:
        seen.add(name)
    return path, ws(text, pos + 1).end()
