"""GitHub Actions workflow commands: ``::error file=...,line=...::message``, then a summary line."""

from __future__ import annotations

from lrlint.findings import ERROR, WARNING
from lrlint.report import ReportContext, pre_existing_mark
from lrlint.report._common import printable, rel_uri, summary

COMMAND = {ERROR: "error", WARNING: "warning"}


def escape_data(s: str) -> str:
    """actions/toolkit ``escapeData``."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    """actions/toolkit ``escapeProperty``."""
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def line(f, root: str = ".") -> str:
    s = f.span
    props = [("file", printable(rel_uri(s.path, root))), ("line", str(max(1, s.line)))]
    if s.end_line == s.line:  # GitHub rejects columns on multi-line annotations
        props.append(("col", str(max(1, s.col))))
    props.append(("endLine", str(max(s.line, s.end_line))))
    if s.end_line == s.line:
        props.append(("endColumn", str(max(s.col, s.end_col, 1))))
    props.append(("title", f"{f.code} {f.name}{pre_existing_mark(f)}"))
    msg = "\n".join([f.message, *(f"note: {n}" for n in f.notes)])
    if f.fix is not None and f.fix.edits:
        msg += f"\nhelp: {f.fix.message}" + (f" ({f.fix.applicability} fix)" if f.fix.applicability != "safe" else "")
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    text = escape_data(printable(msg, keep="\n"))  # a line break is the format's own %0A
    command = "notice" if f.pre_existing else COMMAND.get(f.severity, "notice")  # it does not fail the run
    return f"::{command} {head}::{text}"


def render(ctx: ReportContext) -> None:
    for f in ctx.findings:
        ctx.stream.write(line(f, ctx.root) + "\n")
    ctx.stream.write(summary(ctx) + "\n")
