"""Ignore comments written by lrlint: ``--add-noqa`` (every finding's line gets ``# lrlint: ignore[CODE]``)
and the editor's "ignore on this line" action. A comment is added at the end of the line, or its codes are
added to a ``# lrlint: ignore[...]`` already there; the edited text must parse and suppress the codes, or
the file is left as it is. JSON has no comments: its findings are left."""

from __future__ import annotations

import sys

from lrlint import directives, sources
from lrlint.findings import Edit, Finding
from lrlint.regex import pattern
from lrlint.results import Result
from lrlint.sources import Source


def ignore_edit(src: Source, path: str, line: int, codes: list[str]) -> Edit | None:
    """The edit that makes ``line`` of ``src`` suppress ``codes``; None for JSON, and where the edited text
    would not parse or would not suppress them."""
    if src.format not in ("yaml", "python"):
        return None
    lines = src.lines
    text = lines.line_text(line)
    start = lines.offset(line, 1)
    existing = pattern(directives.IGNORE_BRACKETS).search(text)
    if existing is not None:
        have = [c.strip() for c in existing["codes"].split(",") if c.strip()]
        content = ", ".join(have + [c for c in codes if c not in have])
        s, e = start + existing.start("codes"), start + existing.end("codes")
    else:
        s = e = start + len(text.rstrip())
        content = f"  # lrlint: ignore[{', '.join(codes)}]"
    new_text = src.text[:s] + content + src.text[e:]
    try:
        docs = sources.parse(
            sources.Source(path, src.format, new_text.encode(src.encoding, "surrogateescape"), new_text),
            sources.Limits(),
        )
    except sources.SourceError:
        return None
    comments: dict[int, str] = {}
    for d in docs:
        comments.update(d.comments)
    if not all(directives.suppressed(comments, line, c) for c in codes):
        return None
    return Edit(lines.span(path, s, e), content)


def _by_line(findings: list[Finding]) -> dict[str, dict[int, list[str]]]:
    """path -> line -> the codes flagged there (in code order, once each)."""
    out: dict[str, dict[int, list[str]]] = {}
    for f in findings:
        codes = out.setdefault(f.span.path, {}).setdefault(f.span.line, [])
        if f.code not in codes:
            codes.append(f.code)
    for lines in out.values():
        for codes in lines.values():
            codes.sort()
    return out


def add_noqa(result: Result, quiet: bool = False, rewrite_read_only: bool = False) -> int:
    """``--add-noqa``: suppress every finding of ``result`` on its line, file by file (written atomically; a
    read-only file only with ``rewrite_read_only``); says how many comments were added. Exit 0, or 1 when a
    file could not be written."""
    from lrlint.fix.edits import apply_edits
    from lrlint.fix.files import write_atomic
    from lrlint.report import plural
    from lrlint.report._common import printable

    added, failed = 0, False
    for path, lines in sorted(_by_line(result.findings).items()):
        src = result.sources.get(path)
        if src is None or path == "-":
            continue
        edits = [e for line, codes in sorted(lines.items()) if (e := ignore_edit(src, path, line, codes))]
        if not edits:
            continue
        new = apply_edits(src.data, edits, src.encoding)
        why = write_atomic(path, new, expected=src.data, rewrite_read_only=rewrite_read_only)
        if why is not None:
            print(f"lrlint: {printable(path)}: not written: {why}", file=sys.stderr)
            failed = True
            continue
        added += len(edits)
    if not quiet:
        print(f"Added {plural(added, 'ignore comment')}.", file=sys.stderr)
    return 1 if failed else 0
