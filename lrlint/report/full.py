"""The default output: each finding with a code frame of its batch and lr lines (rich when coloured)."""

from __future__ import annotations

from collections.abc import Mapping

from lrlint.findings import ERROR, INFO, WARNING, Finding
from lrlint.report import ReportContext, fix_marker, summary_lines
from lrlint.report._common import printable
from lrlint.sources import Source
from lrlint.spans import Span

SEVERITY_STYLE = {ERROR: "bold red", WARNING: "bold yellow", INFO: "bold cyan"}


class _Out:
    """Writes lines of (text, style) segments: through rich with colour, as plain text without
    (pre-commit and CI pipes: rich is not even imported)."""

    def __init__(self, stream, color: bool):
        self.stream, self.console = stream, None
        if color:
            from rich.console import Console

            self.console = Console(
                file=stream,
                force_terminal=True,
                color_system="auto",
                highlight=False,
                soft_wrap=True,
                emoji=False,
                markup=False,
            )

    def print(self, *segments) -> None:
        """Each segment's text escaped: no control character of a file name or key reaches the terminal."""
        parts = [(printable(s[0]), s[1]) if isinstance(s, tuple) else (printable(s), "") for s in segments]
        if self.console is None:
            self.stream.write("".join(t for t, _ in parts) + "\n")
        else:
            from rich.text import Text

            self.console.print(Text.assemble(*parts))


def _frames(f: Finding, sources: Mapping[str, Source]) -> list[tuple[str, list[tuple[Span, str, bool]]]]:
    """(path, [(span, label, primary)]) groups, primary file first."""
    groups: dict[str, list[tuple[Span, str, bool]]] = {f.span.path: [(f.span, "", True)]}
    for r in f.related:
        groups.setdefault(r.span.path, []).append((r.span, r.label, False))
    return [(p, marks) for p, marks in groups.items() if p in sources]


def _frame(console: _Out, path: str, marks, src, primary_path: str, width: int) -> None:
    lines = src.lines
    wanted: dict[int, list] = {}
    for span, label, primary in marks:
        wanted.setdefault(span.line, []).append((span, label, primary))
    shown: list[int] = []
    for ln in sorted(wanted):
        for x in (ln - 1, ln):
            if 1 <= x <= len(lines.line_starts) and x not in shown:
                shown.append(x)
    shown.sort()
    gutter = " " * width
    if path != primary_path:
        console.print((f"{gutter}::: ", "bold blue"), f"{path}:{marks[0][0].line}:{marks[0][0].col}")
    console.print((f"{gutter} |", "bold blue"))
    prev = None
    for ln in shown:
        if prev is not None and ln > prev + 1:
            console.print((f"{gutter}...", "bold blue"))
        prev = ln
        # a character that cannot be shown takes one column, as in the file: the marks below stay aligned
        text = "".join(c if c.isprintable() else "\ufffd" for c in lines.line_text(ln).expandtabs(4))
        console.print((f"{ln:>{width}} | ", "bold blue"), text)
        for span, label, primary in wanted.get(ln, []):
            end_col = span.end_col if span.end_line == span.line else len(lines.line_text(ln)) + 1
            n = max(1, end_col - span.col)
            style = "bold red" if primary else "bold cyan"
            mark = ("^" if primary else "-") * n
            console.print(
                (f"{gutter} | ", "bold blue"), (" " * (span.col - 1) + mark + (" " + label if label else ""), style)
            )
    console.print((f"{gutter} |", "bold blue"))


def render(ctx: ReportContext) -> None:
    console = _Out(ctx.stream, ctx.color)
    sources = ctx.result.sources
    for f in ctx.findings:
        sev = SEVERITY_STYLE.get(f.severity, "bold")
        console.print(
            (f"{f.span.path}:{f.span.line}:{f.span.col}: ", "bold"),
            (f.code, sev),
            " ",
            (fix_marker(f, ctx.unsafe_fixes), "cyan"),
            f.message,
        )
        frames = _frames(f, sources)
        width = len(
            str(max((span.line for _, marks in frames for span, _l, _p in marks), default=1))
        )  # one gutter for all
        for path, marks in frames:
            _frame(console, path, marks, sources[path], f.span.path, width)
        why = f.data.note() if f.data is not None else None
        if why:
            console.print(("  = why: ", "bold"), why)
        if f.fix is not None:
            hint = f.fix.message
            if f.fix.applicability != "safe" and f.fix.why:
                hint += f" (unsafe fix: {f.fix.why})" if f.fix.applicability == "unsafe" else f" ({f.fix.why})"
            console.print(("  = help: ", "bold cyan"), hint)
        console.print("")
    for note in ctx.result.notes:
        console.print(("note: ", "bold"), note)
    for s in summary_lines(ctx):
        console.print((s, "bold" if s.startswith("Found") else ""))
