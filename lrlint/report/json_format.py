"""JSON with ruff's field names (code, name, message, severity, filename, location, ...) plus ``notes``,
``related`` and ``data``.

Paths are absolute, as ruff writes ``filename``: ``filename`` and ``related[].filename`` alike. A file
read from git (``HEAD:configs/a.yaml``) is no path on disk and stays as shown; so does stdin's ``-``."""

from __future__ import annotations

import json
import os

from lrlint.report import ReportContext
from lrlint.report._common import clean


def _loc(line: int, col: int) -> dict:
    return {"row": line, "column": col}


def finding_dict(f, root: str = ".") -> dict:
    from lrlint import checks

    rule = checks.rule(f.code)
    fix = None
    if f.fix is not None:
        fix = {
            "applicability": f.fix.applicability,
            "message": f.fix.message,
            "why": f.fix.why or None,
            "edits": [
                {
                    "content": e.content,
                    "location": _loc(e.span.line, e.span.col),
                    "end_location": _loc(e.span.end_line, e.span.end_col),
                }
                for e in f.fix.edits
            ],
        }
    return {
        "code": f.code,
        "name": f.name,
        "message": f.message,
        "severity": f.severity,
        "filename": filename(f.span.path),
        "location": _loc(f.span.line, f.span.col),
        "end_location": _loc(f.span.end_line, f.span.end_col),
        "fix": fix,
        "noqa_row": f.span.line,
        "url": rule.url if rule else None,
        "related": [
            {
                "filename": filename(r.span.path),
                "location": _loc(r.span.line, r.span.col),
                "end_location": _loc(r.span.end_line, r.span.end_col),
                "message": r.label,
            }
            for r in f.related
        ],
        "notes": list(f.notes),
        "data": f.data.to_json() if f.data is not None else {},
        "pre_existing": f.pre_existing,
    }


def filename(path: str) -> str:
    """``path`` made absolute, unless it names no file on disk (a git revision's file, stdin)."""
    if path == "-" or (":" in path and not os.path.exists(path)):
        return path
    return os.path.abspath(path)


def render(ctx: ReportContext) -> None:
    items = clean([finding_dict(f) for f in ctx.findings])  # names and messages escaped, valid UTF-8
    if ctx.format == "json-lines":
        for it in items:
            ctx.stream.write(json.dumps(it, sort_keys=False) + "\n")
    else:
        ctx.stream.write(json.dumps(items, indent=2) + "\n")
