"""Output formats. Each module renders findings to text; imported only when chosen."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from lrlint.findings import Finding
    from lrlint.results import Result
    from lrlint.settings import Settings

FORMATS = {
    "full": "lrlint.report.full",
    "concise": "lrlint.report.concise",
    "json": "lrlint.report.json_format",
    "json-lines": "lrlint.report.json_format",
    "sarif": "lrlint.report.sarif",
    "github": "lrlint.report.github",
    "gitlab": "lrlint.report.gitlab",
    "junit": "lrlint.report.junit",
}


@dataclass
class ReportContext:
    findings: list[Finding]  # sorted
    result: Result  # sources for code frames, files, notes
    settings: Settings
    stream: TextIO
    color: bool = False
    format: str = "full"
    fixed: dict = field(default_factory=dict)  # path -> list of (code, name) fixed by --fix
    show_fixes: bool = False
    unsafe_fixes: bool = False
    root: str = "."


def available(name: str) -> bool:
    if name not in FORMATS:
        return False
    try:
        importlib.util.find_spec(FORMATS[name])  # type: ignore[attr-defined]
    except (ImportError, ValueError):
        return False
    return importlib.util.find_spec(FORMATS[name]) is not None  # type: ignore[attr-defined]


def render(ctx: ReportContext) -> None:
    mod = importlib.import_module(FORMATS[ctx.format])
    mod.render(ctx)


def summary_lines(ctx: ReportContext) -> list[str]:
    """ruff's closing lines: counts and the fix hint."""
    from lrlint.findings import SAFE, UNSAFE

    n = len(ctx.findings)
    lines = []
    fixed = sum(len(v) for v in ctx.fixed.values())
    if n == 0 and fixed == 0:
        lines.append("All checks passed!")
        return lines
    if fixed:
        lines.append(f"Found {n + fixed} error{'s' if n + fixed != 1 else ''} ({fixed} fixed, {n} remaining).")
    else:
        lines.append(f"Found {n} error{'s' if n != 1 else ''}.")
    safe = sum(1 for f in ctx.findings if f.fix and f.fix.applicability == SAFE)
    unsafe = sum(1 for f in ctx.findings if f.fix and f.fix.applicability == UNSAFE)
    if safe or (unsafe and ctx.unsafe_fixes):
        k = safe + (unsafe if ctx.unsafe_fixes else 0)
        lines.append(f"[*] {k} fixable with the `--fix` option.")
    if unsafe and not ctx.unsafe_fixes:
        lines.append(
            f"{unsafe} hidden fix{'es' if unsafe != 1 else ''} can be enabled with the `--unsafe-fixes` option."
        )
    return lines


def fix_marker(finding, unsafe_fixes: bool) -> str:
    from lrlint.findings import SAFE, UNSAFE

    if finding.fix is None:
        return ""
    if finding.fix.applicability == SAFE or (finding.fix.applicability == UNSAFE and unsafe_fixes):
        return "[*] "
    return ""
