"""Helpers the CI formats share: paths relative to the repository root and stable fingerprints."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote


def printable(text: str, keep: str = "") -> str:
    """``text`` safe to print in any report: every character that is not printable (control characters,
    a line break, a bidirectional override) becomes its escape (``\\x1b``, ``\\n``, ``\\u202e``), and a byte
    of a file name that is not UTF-8 (a lone surrogate after decoding) becomes ``\\xNN``. ``keep``: characters
    the format escapes itself (a message's line break in a GitHub annotation)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else _escape(c) for c in text)


def _escape(c: str) -> str:
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{o - 0xDC00:02x}"
    return repr(c)[1:-1]  # a character that is not printable: Python's escape for it


def clean(obj, keep: str = ""):
    """:func:`printable` over every string of a JSON-like document (keys too)."""
    if isinstance(obj, str):
        return printable(obj, keep)
    if isinstance(obj, dict):
        return {clean(k, keep): clean(v, keep) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v, keep) for v in obj]
    return obj


def uri_reference(path: str) -> str:
    """A relative path as a URI reference: each byte outside the unreserved set percent-encoded (a file
    name's bytes as they are on disk, UTF-8 or not)."""
    return quote(os.fsencode(path), safe="/")


def rel_uri(path: str, root: str) -> str:
    """``path`` relative to ``root`` with forward slashes; absolute (as given) when outside it."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
    if rel == ".." or rel.startswith(".." + os.sep):
        return Path(os.path.abspath(path)).as_posix()
    return Path(rel).as_posix()


def line_text(ctx, path: str, line: int) -> str:
    src = ctx.result.sources.get(path) if ctx.result is not None else None
    if src is None:
        return ""
    try:
        return src.lines.line_text(line)
    except (IndexError, AttributeError):
        return ""


def fingerprint(f, ctx, occurrence: int = 1) -> str:
    """Stable across runs and across line moves: never built from line numbers.

    Built from the rule, the file (relative to the root), the keys the finding is about (a schedule
    length, a batch key, the lr key) and the text of the flagged line
    (whitespace-normalized). ``occurrence``: the finding's rank among the report's findings that share
    all of these (two recipes of one file flagging one line), so that each finding has its own.
    """
    parts = [
        f.code,
        rel_uri(f.span.path, ctx.root),
        f.data.about() if f.data is not None else "",
        " ".join(line_text(ctx, f.span.path, f.span.line).split()),
    ]
    if occurrence > 1:
        parts.append(str(occurrence))
    import hashlib  # the CI formats' fingerprints only: a text report does not import it

    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def fingerprints(ctx) -> list[str]:
    """One fingerprint per finding of ``ctx``, all different (GitLab keeps one issue per fingerprint)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for f in ctx.findings:
        first = fingerprint(f, ctx)
        seen[first] = seen.get(first, 0) + 1
        out.append(first if seen[first] == 1 else fingerprint(f, ctx, seen[first]))
    return out


def line_hash(ctx, path: str, line: int) -> str:
    """GitHub's ``primaryLocationLineHash`` shape: a hash of the line's text (``hex:1``)."""
    import hashlib

    text = " ".join(line_text(ctx, path, line).split())
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def summary(ctx) -> str:
    """``lrlint: 6 errors and 2 warnings in 5 files (14 checked)``: the severities as the text formats'
    ``Found ...`` line counts them."""
    from lrlint.report import plural, severity_counts

    files = len({f.span.path for f in ctx.findings})
    checked = len(getattr(ctx.result, "files", []) or [])
    fixed = sum(len(v) for v in (getattr(ctx, "fixed", None) or {}).values())
    fixed_text = f", {fixed} fixed" if fixed else ""
    if not ctx.findings:
        return f"lrlint: all checks passed ({plural(checked, 'file')} checked{fixed_text})"
    counts = severity_counts(f.severity for f in ctx.findings)
    pre = sum(1 for f in ctx.findings if f.pre_existing)
    if pre:  # --show-existing: the ones that do not fail the run
        counts += f" ({pre} pre-existing)"
    return f"lrlint: {counts} in {plural(files, 'file')} ({checked} checked{fixed_text})"
