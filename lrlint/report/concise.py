"""One line per finding: ``path:line:col: CODE [*] severity: message`` (the headline; notes are in the
full, JSON and SARIF formats)."""

from __future__ import annotations

from lrlint.report import ReportContext, fix_marker, pre_existing_mark, summary_lines
from lrlint.report._common import printable


def line(f, unsafe_fixes: bool = False) -> str:
    where = f"{printable(f.span.path)}:{f.span.line}:{f.span.col}"
    return f"{where}: {f.code} {fix_marker(f, unsafe_fixes)}{f.severity}{pre_existing_mark(f)}: {printable(f.message)}"


def render(ctx: ReportContext) -> None:
    w = ctx.stream.write
    for f in ctx.findings:
        w(line(f, ctx.unsafe_fixes) + "\n")
    if ctx.summary:
        for s in summary_lines(ctx):
            w(s + "\n")
