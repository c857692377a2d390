"""GitLab Code Quality report: a JSON array of issues with fingerprints and positions."""

from __future__ import annotations

import json

from lrlint.findings import ERROR, WARNING
from lrlint.report import ReportContext, pre_existing_mark
from lrlint.report._common import clean, fingerprints, rel_uri

SEVERITY = {ERROR: "major", WARNING: "minor"}


def issue(f, ctx, fingerprint: str) -> dict:
    s = f.span
    return {
        "type": "issue",
        "check_name": f"{f.code} {f.name}",
        "description": f"{f.code}{pre_existing_mark(f)} {f.message}",
        "categories": ["Bug Risk"] if f.code.startswith("LR0") else ["Compatibility"],
        "severity": SEVERITY.get(f.severity, "info"),
        "fingerprint": fingerprint,
        "location": {
            "path": rel_uri(s.path, ctx.root),
            "positions": {
                "begin": {"line": max(1, s.line), "column": max(1, s.col)},
                "end": {"line": max(s.line, s.end_line, 1), "column": max(1, s.end_col)},
            },
        },
    }


def render(ctx: ReportContext) -> None:
    issues = [issue(f, ctx, fp) for f, fp in zip(ctx.findings, fingerprints(ctx), strict=True)]
    ctx.stream.write(json.dumps(clean(issues), indent=2) + "\n")
