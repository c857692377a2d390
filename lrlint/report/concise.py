"""One line per finding: ``path:line:col: CODE [*] message``."""

from __future__ import annotations

from lrlint.report import ReportContext, fix_marker, summary_lines


def line(f, unsafe_fixes: bool = False) -> str:
    return f"{f.span.path}:{f.span.line}:{f.span.col}: {f.code} {fix_marker(f, unsafe_fixes)}{f.message}"


def render(ctx: ReportContext) -> None:
    w = ctx.stream.write
    for f in ctx.findings:
        w(line(f, ctx.unsafe_fixes) + "\n")
    for s in summary_lines(ctx):
        w(s + "\n")
