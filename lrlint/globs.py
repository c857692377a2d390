"""Globs as ``.gitignore`` and ruff read them, for ``include``, ``exclude`` and ``per-file-ignores``.

Paths are relative to the settings' root, with ``/`` between parts. A pattern with a ``/`` before its
end is anchored at the root (``configs/*.yaml`` is the YAML files directly in ``configs``); one without
matches a name at any depth (``*.yaml``, ``build``). ``*`` and ``?`` never match a ``/``; ``**`` matches
any number of directories (``configs/**/*.yaml``). A pattern that matches a directory covers everything
below it; a trailing ``/`` matches directories only. ``[abc]``, ``[!a-z]`` and ``\\*`` as in git.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


def _class(p: str, i: int) -> tuple[str, int]:
    """A ``[...]`` class at ``p[i]``: (its regex, the index after it); a ``[`` without ``]`` is literal."""
    j = i + 1
    if j < len(p) and p[j] in "!^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    j = p.find("]", j)
    if j < 0:
        return re.escape("["), i + 1
    body = p[i + 1 : j]
    negated = body[:1] in ("!", "^")
    body = body[1:] if negated else body
    return "[" + ("^/" if negated else "") + body.replace("\\", "\\\\") + "]", j + 1


def _body(p: str) -> str:
    out, i = [], 0
    while i < len(p):
        c = p[i]
        at_part = i == 0 or p[i - 1] == "/"
        if at_part and p.startswith("**/", i):
            out.append("(?:[^/]*/)*")  # no directory, or any number of them
            i += 3
        elif at_part and p.startswith("**", i) and i + 2 == len(p):
            out.append(".*")  # everything below
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            part, i = _class(p, i)
            out.append(part)
        elif c == "\\" and i + 1 < len(p):
            out.append(re.escape(p[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern[str] | None:
    """The regex of one pattern, matched against a whole relative path; None for an empty pattern."""
    p = pattern.strip()
    dir_only = p.endswith("/")
    p = p.rstrip("/")
    if not p:
        return None
    anchored = "/" in p
    p = p.lstrip("/")
    head = "" if anchored else "(?:.*/)?"
    tail = "/.+" if dir_only else "(?:/.*)?"
    return re.compile(head + _body(p) + tail, re.S)


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether the relative ``path`` (``a/b/c.yaml``) is matched by any of ``patterns``."""
    while path.startswith("./"):
        path = path[2:]
    for pattern in patterns:
        rx = compiled(pattern)
        if rx is not None and rx.fullmatch(path):
            return True
    return False
