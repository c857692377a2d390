"""The default output, in ruff's layout: a headline (``LR001 [*] error: what changed; what is expected``),
``-->`` and the location, a code frame of the batch and lr lines, then ``= note:`` lines (where the
compared numbers come from, each naming its file), ``= why:`` and ``= help:`` (the fix).

Lines are fitted to the terminal (:mod:`lrlint.report.layout`): text wraps between words, a long source
line is cut to a window around its marks. Coloured through rich; plain text without colour (pre-commit
and CI pipes: rich is not even imported)."""

from __future__ import annotations

from collections.abc import Mapping

from lrlint.findings import ERROR, INFO, WARNING, Finding
from lrlint.report import ReportContext, fix_marker, pre_existing_mark, summary_lines
from lrlint.report._common import printable
from lrlint.report.layout import window, wrap
from lrlint.sources import Source
from lrlint.spans import Span

SEVERITY_STYLE = {ERROR: "bold red", WARNING: "bold yellow", INFO: "bold cyan"}
HEADLINE_INDENT = 4  # continuation lines of a wrapped headline


class _Out:
    """Writes lines of (text, style) segments: through rich with colour, as plain text without."""

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


def _frame(out: _Out, path: str, marks, src, primary_path: str, gutter: int, width: int | None) -> None:
    lines = src.lines
    wanted: dict[int, list] = {}
    for span, label, primary in marks:
        wanted.setdefault(span.line, []).append((span, label, primary))
    shown = sorted({x for ln in wanted for x in (ln - 1, ln) if 1 <= x <= len(lines.line_starts)})
    pad = " " * gutter
    avail = None if width is None else max(width - gutter - 3, 10)
    if path != primary_path:
        out.print((f"{pad}::: ", "bold blue"), f"{path}:{marks[0][0].line}:{marks[0][0].col}")
    out.print((f"{pad} |", "bold blue"))
    prev = None
    for ln in shown:
        if prev is not None and ln > prev + 1:
            out.print((f"{pad}...", "bold blue"))
        prev = ln
        # a character that cannot be shown takes one column, as in the file: the marks below stay aligned
        raw = "".join(c if c.isprintable() else "\ufffd" for c in lines.line_text(ln).expandtabs(4))
        here = []
        for span, label, primary in wanted.get(ln, []):
            end_col = span.end_col if span.end_line == span.line else len(raw) + 1
            n = max(1, end_col - span.col)
            here.append((span.col - 1, n, label, primary))
        text, shift = window(raw, avail, [(c, n + (1 + len(lb) if lb else 0)) for c, n, lb, _ in here])
        out.print((f"{ln:>{gutter}} | ", "bold blue"), text)
        for col, n, label, primary in here:
            col = max(col - shift, 0)
            if avail is not None:
                n = max(1, min(n, avail - col))
            mark = ("^" if primary else "-") * n + (" " + label if label else "")
            style = "bold red" if primary else "bold cyan"
            out.print((f"{pad} | ", "bold blue"), (" " * col + mark, style))
    out.print((f"{pad} |", "bold blue"))


def _annotation(out: _Out, kind: str, text: str, style: str, width: int | None) -> None:
    head = f"  = {kind}: "
    for i, line in enumerate(wrap(text, width, head)):
        out.print((head, style), line[len(head) :]) if i == 0 else out.print(line)


def headline(f, unsafe_fixes: bool) -> tuple[str, str]:
    """(``LR001 [*] error: ``, the message): the code, the fix marker, the severity."""
    return f"{f.code} {fix_marker(f, unsafe_fixes)}{f.severity}{pre_existing_mark(f)}: ", f.message


def _finding(out: _Out, f, ctx: ReportContext) -> None:
    sources = ctx.result.sources
    head, msg = headline(f, ctx.unsafe_fixes)
    indent = " " * min(len(head), HEADLINE_INDENT)
    for i, line in enumerate(wrap(msg, ctx.width, head, indent)):
        if i == 0:
            sev = SEVERITY_STYLE.get(f.severity, "bold")
            out.print((f.code, sev), (line[len(f.code) : len(head)], sev), line[len(head) :])
        else:
            out.print(line)
    frames = _frames(f, sources)
    gutter = len(str(max((span.line for _, marks in frames for span, _l, _p in marks), default=f.span.line)))
    out.print((f"{' ' * gutter}--> ", "bold blue"), f"{f.span.path}:{f.span.line}:{f.span.col}")
    for path, marks in frames:
        _frame(out, path, marks, sources[path], f.span.path, gutter, ctx.width)
    for note in f.notes:
        _annotation(out, "note", note, "bold", ctx.width)
    why = f.data.note() if f.data is not None else None
    if why:
        _annotation(out, "why", why, "bold", ctx.width)
    if f.fix is not None:
        hint = f.fix.message
        if f.fix.applicability != "safe" and f.fix.why:
            hint += f" (unsafe fix: {f.fix.why})" if f.fix.applicability == "unsafe" else f" ({f.fix.why})"
        _annotation(out, "help", hint, "bold cyan", ctx.width)
    out.print("")


def render(ctx: ReportContext) -> None:
    out = _Out(ctx.stream, ctx.color)
    for f in ctx.findings:
        _finding(out, f, ctx)
    if ctx.summary:
        for s in summary_lines(ctx):
            out.print((s, "bold" if s.startswith("Found") else ""))
