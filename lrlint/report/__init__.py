"""Output formats. Each module renders findings to text; imported only when chosen."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, TextIO

from lrlint.records import Record, field

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


class ReportContext(Record):
    findings: list[Finding]  # sorted
    result: Result  # sources for code frames, files, notes
    settings: Settings
    stream: TextIO
    color: bool = False
    format: str = "full"
    fixed: dict = field(default_factory=dict)  # path -> the findings --fix removed (lrlint.fix.Fixed)
    show_fixes: bool = False
    unsafe_fixes: bool = False
    root: str = "."
    width: int | None = None  # the terminal's columns (text wraps between words); None: never wrapped
    summary: bool = True  # the closing "Found ..." lines (-q leaves them out)


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


def pre_existing_mark(f: Finding) -> str:
    """`` (pre-existing)`` after the severity of a finding already there at the git base (``--show-existing``)."""
    return " (pre-existing)" if f.pre_existing else ""


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 'es' if word.endswith('x') else 's'}"


def severity_counts(severities) -> str:
    """``6 errors and 2 warnings``: each severity that occurs (``0 errors`` when none does)."""
    from lrlint.findings import ERROR, INFO, WARNING

    seen = list(severities)
    parts = [
        plural(n, word)
        for sev, word in ((ERROR, "error"), (WARNING, "warning"), (INFO, "note"))
        if (n := sum(1 for s in seen if s == sev))
    ]
    if not parts:
        return plural(0, "error")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def summary_lines(ctx: ReportContext) -> list[str]:
    """ruff's closing lines, with the severities: ``Found 6 errors and 2 warnings.``, then the fix hints."""
    from lrlint.findings import SAFE, UNSAFE

    n = len(ctx.findings)
    fixed = [item for items in ctx.fixed.values() for item in items]
    if n == 0 and not fixed:
        return ["All checks passed!"]
    counts = severity_counts([f.severity for f in ctx.findings] + [i.severity for i in fixed])
    pre = sum(1 for f in ctx.findings if f.pre_existing)
    if pre:  # --show-existing: the ones that do not fail the run
        counts += f" ({pre} pre-existing)"
    lines = [f"Found {counts} ({len(fixed)} fixed, {n} remaining)." if fixed else f"Found {counts}."]
    safe = sum(1 for f in ctx.findings if f.fix and f.fix.applicability == SAFE)
    unsafe = sum(1 for f in ctx.findings if f.fix and f.fix.applicability == UNSAFE)
    if safe or (unsafe and ctx.unsafe_fixes):
        k = safe + (unsafe if ctx.unsafe_fixes else 0)
        lines.append(f"[*] {k} fixable with the `--fix` option.")
    if unsafe and not ctx.unsafe_fixes:
        lines.append(f"{plural(unsafe, 'hidden fix')} can be enabled with the `--unsafe-fixes` option.")
    return lines


def fix_marker(finding, unsafe_fixes: bool) -> str:
    from lrlint.findings import SAFE, UNSAFE

    if finding.fix is None:
        return ""
    if finding.fix.applicability == SAFE or (finding.fix.applicability == UNSAFE and unsafe_fixes):
        return "[*] "
    return ""
