"""``--statistics``: a line per rule with its count and whether ``--fix`` fixes it (ruff's table: ``[*]``
fixable, ``[ ]`` not), then the summary; with ``--output-format json`` (or ``json-lines``) the same rows as
JSON."""

from __future__ import annotations

import json

from lrlint.report import ReportContext, fix_marker, summary_lines


def rows(ctx: ReportContext) -> list[dict]:
    """One row per rule, the most frequent first (then by code): code, name, count, fixable, fixable_count."""
    counts: dict[str, dict] = {}
    for f in ctx.findings:
        row = counts.setdefault(
            f.code, {"code": f.code, "name": f.name, "count": 0, "fixable": False, "fixable_count": 0}
        )
        row["count"] += 1
        if fix_marker(f, ctx.unsafe_fixes):
            row["fixable_count"] += 1
            row["fixable"] = True
    return sorted(counts.values(), key=lambda r: (-r["count"], r["code"]))


def render(ctx: ReportContext) -> None:
    table = rows(ctx)
    if ctx.format == "json":
        ctx.stream.write(json.dumps(table, indent=2) + "\n")
        return
    if ctx.format == "json-lines":
        ctx.stream.writelines(json.dumps(row) + "\n" for row in table)
        return
    width = max((len(str(r["count"])) for r in table), default=1)
    for r in table:
        ctx.stream.write(f"{r['count']:>{width}}\t{r['code']}\t{'[*]' if r['fixable'] else '[ ]'} {r['name']}\n")
    if ctx.summary:
        ctx.stream.writelines(line + "\n" for line in summary_lines(ctx))
