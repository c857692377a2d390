"""Inline comments lrlint reads: suppressions and declared references."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lrlint import numbers
from lrlint.records import Record, field
from lrlint.regex import pattern

if TYPE_CHECKING:
    from lrlint.findings import Finding

# the expressions' text (``lrlint.regex.pattern`` compiles each on first use)
_IGNORE = r"(?i)\blrlint:\s*(?:ignore|noqa)\b(?:\s*\[(?P<codes>[^\]]*)\]|:\s*(?P<codes2>[A-Z0-9, ]+))?"
_NOQA = r"(?i)(?:^|\s)noqa\b(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?"
IGNORE_BRACKETS = r"(?i)\blrlint:\s*ignore\s*\[(?P<codes>[^\]]*)\]"  # the bracket form, to add codes to
_REFERENCE = r"(?i)\blrlint:\s*reference\b(?P<args>.*)$"
# a key starts where no word character precedes it: a long word is tried once, not at each of its characters
_ARG = r"(?<![\w.])(?P<k>[A-Za-z_][\w.]*)\s*=\s*(?P<v>[^\s,;]+)"


def _codes(text: str | None) -> frozenset[str] | None:
    if not text or not text.strip():
        return None  # all codes
    return frozenset(c.strip().upper() for c in re.split(r"[,\s]+", text) if c.strip())


class Suppression(Record):
    """A suppression comment as written: ``comment`` (its text after ``#``), the lrlint ``codes`` it names
    (None: every code), where they stand in ``comment`` (the bracket form's ``[...]``; None otherwise) and
    whether the directive is the whole comment (it can be removed without removing anything else)."""

    comment: str
    codes: tuple[str, ...] | None
    codes_at: tuple[int, int] | None
    whole: bool


def _may_name(comment: str, *words: str) -> bool:
    """Whether ``comment`` may hold one of the directive ``words`` (each expression above needs one, in any
    case): a comment in ASCII without any of them is skipped without matching; any other is matched."""
    if not comment.isascii():
        return True
    low = comment.lower()
    return any(w in low for w in words)


def suppression(comment: str) -> Suppression | None:
    """The lrlint suppression in ``comment`` (``lrlint: ignore[...]``, or ``noqa`` naming lrlint codes); None
    for none, and for a ``noqa`` that names no lrlint code (it is another tool's)."""
    if not _may_name(comment, "lrlint", "noqa"):
        return None
    m = pattern(_IGNORE).search(comment)
    if m is not None:
        raw = m["codes"] if m["codes"] is not None else m["codes2"]
        codes = _codes(raw)
        at = (m.start("codes"), m.end("codes")) if m["codes"] is not None else None
        return Suppression(comment, tuple(sorted(codes)) if codes else None, at, m[0].strip() == comment.strip())
    m = pattern(_NOQA).search(comment)
    if m is None or not m["codes"]:
        return None
    codes = _codes(m["codes"]) or frozenset()
    ours = tuple(sorted(c for c in codes if c.startswith("LR")))
    if not ours:
        return None
    return Suppression(comment, ours, None, len(ours) == len(codes) and m[0].strip() == comment.strip())


def suppressed(comments: dict[int, str], line: int, code: str) -> bool:
    """Whether a ``# lrlint: ignore[...]`` or ``# noqa: ...`` comment on ``line`` covers ``code``."""
    text = comments.get(line)
    if not text or not _may_name(text, "lrlint", "noqa"):
        return False
    for rx in (_IGNORE, _NOQA):
        m = pattern(rx).search(text)
        if m:
            codes = _codes(m.groupdict().get("codes") or m.groupdict().get("codes2"))
            if codes is None or any(code.startswith(c) for c in codes):
                return True
    return False


def suppressed_at(f: Finding, comments: dict[int, str]) -> int | None:
    """The line whose suppression comment hides ``f``: its own line (first or last), or a line of its file it
    points to (the batch or the lr of the pair); None when none does."""
    lines = [f.span.line, f.span.end_line] + [r.span.line for r in f.related if r.span.path == f.span.path]
    return next((line for line in dict.fromkeys(lines) if suppressed(comments, line, f.code)), None)


class DeclaredReference(Record):
    """``# lrlint: reference batch=256 lr=0.1 SOLVER.MAX_ITER=90000``: every value the comment states."""

    line: int
    batch: float | None  # the effective batch the lr was tuned for
    lr: float | None
    text: str  # the whole comment
    values: dict[str, float] = field(default_factory=dict)  # the other ``KEY=value`` pairs that are numbers
    why: str = ""  # why the batch and lr are unknown, when they are numbers the checks cannot use


def declared_references(comments: dict[int, str]) -> list[DeclaredReference]:
    """The ``# lrlint: reference`` comments, in line order.

    ``batch`` and ``lr`` are read in any case (``LR=0.1``); a batch or lr that is not a positive finite
    number (``numbers.unusable``) makes both unknown. Other keys keep their spelling; a value that is not
    a number is left out.
    """
    out = []
    for line in sorted(comments):
        if not _may_name(comments[line], "lrlint"):
            continue
        m = pattern(_REFERENCE).search(comments[line])
        if not m:
            continue
        pairs = [(a["k"], a["v"]) for a in pattern(_ARG).finditer(m["args"])]
        args = {k.lower(): v for k, v in pairs}
        batch = lr = None
        try:
            if "batch" in args:
                batch = float(args["batch"])
            if "lr" in args:
                lr = float(args["lr"])
        except ValueError:
            batch = lr = None
        why = "; ".join(
            f"{name}={args[name]} is {bad}"
            for name, x in (("batch", batch), ("lr", lr))
            if x is not None and (bad := numbers.unusable(x))
        )
        if why:
            batch = lr = None  # zero, negative, NaN, infinite or out of range: no reference the checks can use
        values = {k: n for k, v in pairs if k.lower() not in ("batch", "lr") and (n := _number(v)) is not None}
        out.append(DeclaredReference(line, batch, lr, comments[line].strip(), values, why))
    return out


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
