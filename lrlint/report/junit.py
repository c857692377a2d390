"""JUnit XML: a test suite per file, a failing test case per finding (ruff's shape)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lrlint.report import ReportContext, pre_existing_mark
from lrlint.report._common import printable, rel_uri


def document(ctx: ReportContext) -> ET.Element:
    by_file: dict[str, list] = {}
    for f in ctx.findings:
        by_file.setdefault(printable(rel_uri(f.span.path, ctx.root)), []).append(
            f
        )  # XML 1.0 holds no control characters
    n = len(ctx.findings)
    suites = ET.Element("testsuites", name="lrlint", tests=str(max(n, 1)), failures=str(n), errors="0")
    if not n:
        suite = ET.SubElement(
            suites, "testsuite", name="lrlint", tests="1", disabled="0", errors="0", failures="0", package="org.lrlint"
        )
        ET.SubElement(suite, "testcase", name="No errors found", classname="lrlint")
        return suites
    for path, fs in sorted(by_file.items()):
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=path,
            tests=str(len(fs)),
            disabled="0",
            errors="0",
            failures=str(len(fs)),
            package="org.lrlint",
        )
        for f in fs:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"org.lrlint.{f.code}",
                classname=path,
                line=str(f.span.line),
                column=str(f.span.col),
            )
            message = printable(f.message) + pre_existing_mark(f)
            fail = ET.SubElement(case, "failure", message=message, type=f.severity)
            fail.text = "\n".join(
                [
                    f"line {f.span.line}, col {f.span.col}, {f.code} {f.name}: {message}",
                    *(f"note: {printable(n)}" for n in f.notes),
                ]
            )
    return suites


def render(ctx: ReportContext) -> None:
    root = document(ctx)
    ET.indent(root, space="  ")
    ctx.stream.write('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
