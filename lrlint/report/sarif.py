"""SARIF 2.1.0 for GitHub code scanning and other consumers (relative URIs, fingerprints, fixes)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lrlint.findings import ERROR, INFO, WARNING
from lrlint.report import ReportContext
from lrlint.report._common import clean, fingerprints, line_hash, printable, rel_uri, uri_reference

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/lrlint/lrlint"
LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}
SEVERITY = {ERROR: "error", WARNING: "warning", INFO: "recommendation"}
ROOT_ID = "%SRCROOT%"


def _region(span) -> dict:
    line = max(1, span.line)
    col = max(1, span.col)
    end_line = max(line, span.end_line)
    end_col = max(1, span.end_col)
    if end_line == line and end_col < col:
        end_col = col
    return {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}


def _location(span, root: str) -> dict:
    uri = rel_uri(span.path, root)
    loc: dict = {"uri": uri_reference(uri)}
    if not os.path.isabs(uri) and not uri.startswith("/"):
        loc["uriBaseId"] = ROOT_ID
    else:
        loc = {"uri": Path(uri).as_uri() if os.path.isabs(uri) else uri}
    return {"physicalLocation": {"artifactLocation": loc, "region": _region(span)}}


def _rule(r) -> dict:
    doc = (r.doc or r.summary).strip()
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "helpUri": r.url,
        "defaultConfiguration": {"level": LEVEL.get(r.severity, "warning"), "enabled": bool(r.default_enabled)},
        "properties": {
            "tags": ["lrlint", "learning-rate"] if r.code.startswith("LR0") else ["lrlint", "input"],
            "problem.severity": SEVERITY.get(r.severity, "warning"),
            "fixAvailability": r.fix_availability,
        },
    }


def _fix(f, root: str) -> dict | None:
    if f.fix is None or not f.fix.edits:
        return None
    by_file: dict[str, list] = {}
    for e in f.fix.edits:
        by_file.setdefault(e.span.path, []).append(e)
    changes = []
    for edits in by_file.values():
        art = _location(edits[0].span, root)["physicalLocation"]["artifactLocation"]
        changes.append(
            {
                "artifactLocation": art,
                "replacements": [
                    {"deletedRegion": _region(e.span), "insertedContent": {"text": e.content}} for e in edits
                ],
            }
        )
    desc = f.fix.message + (f" ({f.fix.applicability}: {f.fix.why})" if f.fix.why else "")
    return {
        "description": {"text": desc},
        "artifactChanges": changes,
        "properties": {"applicability": f.fix.applicability},
    }


def _with_notes(results: list[dict], findings) -> list[dict]:
    """Each result's message text followed by its finding's notes, one per line (each escaped alone: the
    line breaks between them are the message's own)."""
    for res, f in zip(results, findings, strict=True):
        res["message"]["text"] = "\n".join([res["message"]["text"], *(f"note: {printable(n)}" for n in f.notes)])
    return results


def document(ctx: ReportContext) -> dict:
    from lrlint import __version__, checks

    rules = checks.all_rules()
    ids = list(rules)
    results = []
    seen: dict[tuple[str, str], int] = {}
    for f, fp in zip(ctx.findings, fingerprints(ctx), strict=True):
        key = (f.span.path, line_hash(ctx, f.span.path, f.span.line))
        seen[key] = seen.get(key, 0) + 1
        res: dict = {
            "ruleId": f.code,
            "level": LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message},
            "locations": [_location(f.span, ctx.root)],
            "partialFingerprints": {
                "primaryLocationLineHash": f"{key[1]}:{seen[key]}",
                "lrlintFinding/v1": fp,
            },
        }
        if f.code in rules:
            res["ruleIndex"] = ids.index(f.code)
        if ctx.result is not None and ctx.result.baseline:  # compared with a git base: new or already there
            res["baselineState"] = "unchanged" if f.pre_existing else "new"
        if f.related:
            res["relatedLocations"] = [
                dict(_location(r.span, ctx.root), id=i, message={"text": r.label or "related"})
                for i, r in enumerate(f.related)
                if ":" not in r.span.path or os.path.exists(r.span.path)
            ]
            if not res["relatedLocations"]:
                del res["relatedLocations"]
        fix = _fix(f, ctx.root)
        if fix is not None:
            res["fixes"] = [fix]
        if f.data is not None:
            res["properties"] = {"data": f.data.to_json()}
        results.append(res)
    root_uri = Path(os.path.abspath(ctx.root)).as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lrlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r) for r in rules.values()],
                    }
                },
                "originalUriBaseIds": {ROOT_ID: {"uri": root_uri}},
                "columnKind": "unicodeCodePoints",
                "results": _with_notes(clean(results), ctx.findings),  # escaped; URIs percent-encoded already
            }
        ],
    }


def render(ctx: ReportContext) -> None:
    ctx.stream.write(json.dumps(document(ctx), indent=2, default=str) + "\n")
