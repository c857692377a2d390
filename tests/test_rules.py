"""Every rule's embedded examples (Fixit's pattern): valid ones are silent, invalid ones flag and fix exactly."""

from __future__ import annotations

import os

import pytest

from lrlint import api, checks
from lrlint.settings import Settings

CASES = []
for _rule in checks.all_rules().values():
    for _i, _ex in enumerate(_rule.valid):
        CASES.append(pytest.param(_rule, _ex, id=f"{_rule.code}-valid-{_i}"))
    for _i, _ex in enumerate(_rule.invalid):
        CASES.append(pytest.param(_rule, _ex, id=f"{_rule.code}-invalid-{_i}"))


def _run(tmp_path, ex):
    path = tmp_path / ex.filename
    path.write_text(ex.text, encoding="utf-8")
    settings = Settings.from_table({"select": ["ALL"], "root": str(tmp_path)})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return path, api.check_paths([ex.filename], settings)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("rule, ex", CASES)
def test_rule_example(tmp_path, rule, ex):
    path, result = _run(tmp_path, ex)
    codes = [f.code for f in result.findings if f.code == rule.code]
    if not ex.expect:
        assert codes == [], [f.message for f in result.findings]
        return
    assert sorted(set(codes)) == sorted(set(ex.expect)), [f"{f.code} {f.message}" for f in result.findings]
    if ex.expected_fix is not None:
        data = path.read_bytes()
        [f] = [f for f in result.findings if f.code == rule.code]
        assert f.fix is not None
        for e in sorted(f.fix.edits, key=lambda e: -e.span.start):
            data = data[: e.span.start] + e.content.encode() + data[e.span.end :]
        assert data.decode() == ex.expected_fix


@pytest.mark.parametrize("rule", list(checks.all_rules().values()), ids=lambda r: r.code)
def test_rule_docs_have_ruff_sections(rule):
    for section in ("## What it does", "## Why is this bad?", "## Example"):
        assert section in rule.doc, f"{rule.code} lacks {section}"
    if rule.fix_availability != "none":
        assert "## Fix safety" in rule.doc
    assert rule.name == rule.name.lower() and " " not in rule.name


def test_codes_and_names_are_unique():
    rules = list(checks.all_rules().values())
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def test_docs_rules_page_is_in_sync_and_every_rule_url_lands_on_its_heading():
    from pathlib import Path

    from lrlint import checks

    page = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == checks.rules_markdown(), "regenerate: lrlint rule --all --output-format markdown > docs/rules.md"
    for r in checks.all_rules().values():
        fragment = r.url.split("#", 1)[1]
        heading = f"## {r.code} {r.name}"
        assert heading in page.splitlines() and fragment == heading[3:].lower().replace(" ", "-")
