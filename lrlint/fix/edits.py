"""Which fixes a ``--fix`` round applies, and how their edits change a file's bytes."""

from __future__ import annotations

import ast
import json

from lrlint.findings import SAFE, UNSAFE, Edit, Finding


def applicable(f: Finding, unsafe: bool) -> bool:
    """Whether ``--fix`` (with ``--unsafe-fixes`` when ``unsafe``) applies this finding's fix."""
    if f.fix is None or not f.fix.edits:
        return False
    a = f.fix.applicability
    return a == SAFE or (unsafe and a == UNSAFE)


def select(findings: list[Finding], unsafe: bool) -> dict[str, list[Finding]]:
    """Per file, the applicable fixes whose edits overlap no earlier-chosen fix's edits.

    A fix whose edits span several files is taken only when all its files are free there.
    """
    chosen: dict[str, list[Finding]] = {}
    taken: dict[str, list[tuple[int, int]]] = {}
    for f in findings:
        if f.fix is None or not applicable(f, unsafe):
            continue
        edits = f.fix.edits
        ok = True
        for e in edits:
            for s, t in taken.get(e.span.path, []):
                if _overlaps((e.span.start, e.span.end), (s, t)):
                    ok = False
        if not ok:
            continue
        for e in edits:
            taken.setdefault(e.span.path, []).append((e.span.start, e.span.end))
        for p in {e.span.path for e in edits}:
            chosen.setdefault(p, []).append(f)
    return chosen


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a == b:
        return True
    if a[0] == a[1] or b[0] == b[1]:  # insertions: only at the same point, or strictly inside
        return a[0] == b[0] or (b[0] < a[0] < b[1]) or (a[0] < b[0] < a[1])
    return a[0] < b[1] and b[0] < a[1]


def newline_of(data: bytes) -> str:
    """The file's line ending: CRLF when most of its lines end that way."""
    crlf = data.count(b"\r\n")
    return "\r\n" if crlf and crlf * 2 >= data.count(b"\n") else "\n"


def apply_edits(data: bytes, edits: list[Edit], encoding: str = "utf-8") -> bytes:
    """Replace each edit's byte range with its content (in the file's encoding and newlines).

    Edits must not overlap. Insertions at the same offset compose, in the order given: two statements
    appended to one file are one line each, the first first. An insertion after a line without a line
    break starts with one (an override appended to a file without a final newline); the next insertion
    there does not need it again.
    """
    nl = newline_of(data)
    pieces: list[tuple[int, int, bytes]] = []  # (start, end, new bytes), insertions at one offset merged
    for e in sorted(edits, key=lambda e: (e.span.start, e.span.end)):  # stable: equal spans keep their order
        if e.span.start < 0 or e.span.end > len(data) or e.span.start > e.span.end:
            raise ValueError(f"edit {e.span.start}:{e.span.end} is outside the file ({len(data)} bytes)")
        content = e.content
        if nl == "\r\n" and "\n" in content:
            content = content.replace("\r\n", "\n").replace("\n", "\r\n")
        new = content.encode(encoding, "surrogateescape")
        if pieces and e.span.start == e.span.end and pieces[-1][:2] == (e.span.start, e.span.start):
            start, _end, before = pieces[-1]
            brk = nl.encode()
            if before.endswith(brk) and new.startswith(brk) and not data[:start].endswith(b"\n"):
                new = new[len(brk) :]  # the line break the first insertion already wrote
            pieces[-1] = (start, start, before + new)
            continue
        pieces.append((e.span.start, e.span.end, new))
    out = data
    last_start = None
    for start, end, new in reversed(pieces):
        if last_start is not None and end > last_start:
            raise ValueError(f"overlapping edits at byte {start}")
        out = out[:start] + new + out[end:]
        last_start = start
    return out


# -- the new literal must load as the same type as the old one ---------------------------------


def _load_scalar(fmt: str, text: str) -> type | None:
    """The type a scalar literal loads as in ``fmt``; None when the text is not a lone scalar."""
    text = text.strip()
    if not text or "\n" in text:
        return None
    try:
        if fmt == "yaml":
            import yaml

            v = yaml.safe_load(text)
        elif fmt == "json":
            v = json.loads(text)
        else:
            v = ast.literal_eval(text)
    except Exception:
        return None
    if isinstance(v, (dict, list, tuple, set)):
        return None
    return type(v)


def type_kept(fmt: str, old: str, new: str) -> bool:
    """False when ``old`` is a scalar literal and ``new`` would load as another type.

    PyYAML reads ``1e-5`` as a string and ``1.0e-5`` as a float: a fix keeps whichever the file used.
    An int literal may become a float (``lr: 1`` -> ``lr: 0.5``); anything else must stay. An edit of a
    trailing comment (removing it) loads no value: kept.
    """
    if old.strip().startswith("#") and (not new.strip() or new.strip().startswith("#")):
        return True
    t_old = _load_scalar(fmt, old)
    if t_old is None:
        return True
    t_new = _load_scalar(fmt, new)
    if t_new is None:
        return False
    return t_old is t_new or (t_old is int and t_new is float)
