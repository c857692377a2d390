"""One line per finding: ``path:line:col: CODE [*] message``."""

from __future__ import annotations

from lrlint.report import ReportContext, fix_marker, summary_lines
from lrlint.report._common import printable


def line(f, unsafe_fixes: bool = False) -> str:
    where = f"{printable(f.span.path)}:{f.span.line}:{f.span.col}"
    return f"{where}: {f.code} {fix_marker(f, unsafe_fixes)}{printable(f.message)}"


def render(ctx: ReportContext) -> None:
    w = ctx.stream.write
    for f in ctx.findings:
        w(line(f, ctx.unsafe_fixes) + "\n")
    for s in summary_lines(ctx):
        w(s + "\n")
