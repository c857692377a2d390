"""CI output formats: SARIF (validated against the official 2.1.0 schema), GitHub annotations,
GitLab Code Quality and JUnit (exact snapshots under tests/snapshots/).

Snapshots are rewritten with ``LRLINT_UPDATE_SNAPSHOTS=1``; review the diff before committing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run_lrlint

from lrlint.findings import ERROR, INFO, SAFE, WARNING, Edit, Finding, Fix
from lrlint.report import github as gh
from lrlint.spans import Span

SNAPSHOTS = Path(__file__).parent / "snapshots"

FILES = {
    # LR001 with a safe fix (SGD, linear: 0.1 -> 0.4)
    "configs/sgd.yaml": (
        "# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.1  # tuned\noptimizer: sgd\nwarmup_epochs: 5\n"
    ),
    # LR001 with an unsafe fix (Lion: no established rule)
    "configs/lion.yaml": (
        "# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.1\noptimizer: lion\nwarmup_epochs: 5\n"
    ),
    # LR901: not YAML
    "configs/broken.yaml": "a: [1, 2\nb: 3\n",
    # clean
    "configs/ok.yaml": (
        "# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.4\noptimizer: sgd\nwarmup_epochs: 5\n"
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


def output(project: Path, fmt: str, *paths: str) -> tuple[int, str]:
    r = run_lrlint("check", "--isolated", "--output-format", fmt, *(paths or ("configs",)), cwd=project)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, r.stdout


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("LRLINT_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") and not path.exists():
            pytest.fail(f"snapshot {name} is missing (run the tests locally with LRLINT_UPDATE_SNAPSHOTS=1)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# -- snapshots -------------------------------------------------------------------------------------


def test_github_snapshot(project):
    code, out = output(project, "github")
    assert code == 1
    snapshot("outputs_github.txt", out)


def test_gitlab_snapshot(project):
    code, out = output(project, "gitlab")
    assert code == 1
    snapshot("outputs_gitlab.json", out)


def test_junit_snapshot(project):
    code, out = output(project, "junit")
    assert code == 1
    snapshot("outputs_junit.xml", out)


# -- github ---------------------------------------------------------------------------------------


def test_github_levels_escaping_and_columns_only_on_single_line_spans():
    one = Finding("LR001", "unscaled-lr", "50% off,\nreally: yes", ERROR, Span("a,b:c.yaml", 0, 3, 2, 5, 2, 8))
    multi = Finding("LR002", "misscaled-lr", "m", WARNING, Span("x.yaml", 0, 9, 2, 5, 4, 3))
    note = Finding("LR905", "limit-exceeded", "n", INFO, Span("x.yaml", 0, 0, 1, 1, 1, 1))
    assert gh.line(one) == (
        "::error file=a%2Cb%3Ac.yaml,line=2,col=5,endLine=2,endColumn=8,title=LR001 unscaled-lr::50%25 "
        "off,%0Areally: yes"
    )
    assert gh.line(multi) == "::warning file=x.yaml,line=2,endLine=4,title=LR002 misscaled-lr::m"
    assert gh.line(note).startswith("::notice ")


def test_github_ends_with_a_summary_line(project):
    _, out = output(project, "github")
    last = out.splitlines()[-1]
    assert last == "lrlint: 3 errors in 3 files (4 checked)"
    _, out = output(project, "github", "configs/ok.yaml")
    assert out == "lrlint: all checks passed (1 file checked)\n"


# -- gitlab ---------------------------------------------------------------------------------------


def test_gitlab_code_quality_fields(project):
    _, out = output(project, "gitlab")
    issues = json.loads(out)
    assert {i["location"]["path"] for i in issues} == {"configs/sgd.yaml", "configs/lion.yaml", "configs/broken.yaml"}
    for i in issues:
        assert set(i) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert i["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert i["location"]["positions"]["begin"]["line"] >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)


# -- junit ----------------------------------------------------------------------------------------


def test_junit_is_well_formed_with_one_failure_per_finding(project):
    _, out = output(project, "junit")
    root = ET.fromstring(out.encode())
    assert root.tag == "testsuites" and root.get("failures") == "3"
    cases = root.findall("./testsuite/testcase")
    assert sorted(c.get("name") for c in cases) == ["org.lrlint.LR001", "org.lrlint.LR001", "org.lrlint.LR901"]
    assert all(c.find("failure") is not None for c in cases)
    _, out = output(project, "junit", "configs/ok.yaml")
    assert ET.fromstring(out.encode()).find("./testsuite/testcase").get("name") == "No errors found"


# -- SARIF ----------------------------------------------------------------------------------------

SCHEMA_NAME = "sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory) -> dict:
    """The official SARIF 2.1.0 schema: ``$LRLINT_SARIF_SCHEMA``, else ``npm pack @microsoft/jest-sarif``.

    Under CI the test fails rather than skips when the schema cannot be had.
    """
    path = os.environ.get("LRLINT_SARIF_SCHEMA")
    why = ""
    if path and not Path(path).is_file():
        why = f"LRLINT_SARIF_SCHEMA={path} is not a file"
        path = None
    if not path:
        d = tmp_path_factory.mktemp("sarif-schema")
        npm = shutil.which("npm")
        if npm is None:
            why = why or "npm is not installed"
        else:
            try:
                r = subprocess.run(
                    [npm, "pack", "@microsoft/jest-sarif", "--silent"],
                    cwd=d,
                    capture_output=True,
                    text=True,
                    timeout=180,
                )
                tgz = d / r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None
                if tgz is None or not tgz.is_file():
                    why = why or f"npm pack failed: {r.stderr.strip()[-300:]}"
                else:
                    with tarfile.open(tgz) as tf:
                        member = next((m for m in tf.getmembers() if m.name.endswith("/" + SCHEMA_NAME)), None)
                        if member is None:
                            why = f"{SCHEMA_NAME} not in {tgz.name}"
                        else:
                            (d / SCHEMA_NAME).write_bytes(tf.extractfile(member).read())
                            path = str(d / SCHEMA_NAME)
            except (OSError, subprocess.SubprocessError, tarfile.TarError) as e:
                why = why or f"npm pack failed: {e}"
    if not path:
        if os.environ.get("CI"):
            pytest.fail(f"the SARIF 2.1.0 schema is needed under CI: {why}")
        pytest.skip(f"no SARIF 2.1.0 schema: {why}")
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _validate(doc: dict, schema: dict) -> None:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_sarif_validates_against_the_official_schema(project, sarif_schema):
    code, out = output(project, "sarif")
    assert code == 1
    doc = json.loads(out)
    _validate(doc, sarif_schema)
    assert sarif_schema["$schema"].startswith("http://json-schema.org/draft-04")


def test_sarif_empty_run_validates(project, sarif_schema):
    _, out = output(project, "sarif", "configs/ok.yaml")
    doc = json.loads(out)
    _validate(doc, sarif_schema)
    assert doc["runs"][0]["results"] == []


def test_sarif_content_github_needs(project):
    _, out = output(project, "sarif")
    doc = json.loads(out)
    assert doc["version"] == "2.1.0" and doc["$schema"]
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "lrlint" and driver["version"] and driver["informationUri"].startswith("https://")
    rules = {r["id"]: r for r in driver["rules"]}
    for r in rules.values():
        assert r["name"] and r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"]
        assert r["helpUri"].startswith("https://") and r["defaultConfiguration"]["level"] in {
            "error",
            "warning",
            "note",
        }
    assert rules["LR001"]["name"] == "unscaled-lr"
    results = {
        (res["ruleId"], res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): res
        for res in run["results"]
    }
    assert set(results) == {
        ("LR001", "configs/sgd.yaml"),
        ("LR001", "configs/lion.yaml"),
        ("LR901", "configs/broken.yaml"),
    }
    sgd = results[("LR001", "configs/sgd.yaml")]
    assert sgd["level"] == "error" and "0.4" in sgd["message"]["text"]
    assert driver["rules"][sgd["ruleIndex"]]["id"] == "LR001"
    assert sgd["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2,
        "startColumn": 13,
        "endLine": 2,
        "endColumn": 17,
    }
    # the fix: replace "0.1" on line 3 with "0.4"
    (change,) = sgd["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "configs/sgd.yaml"
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 8},
            "insertedContent": {"text": "0.4"},
        }
    ]
    assert sgd["fixes"][0]["properties"]["applicability"] == SAFE
    assert results[("LR001", "configs/lion.yaml")]["fixes"][0]["properties"]["applicability"] == "unsafe"
    assert "fixes" not in results[("LR901", "configs/broken.yaml")]
    root_uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root_uri.startswith("file://") and root_uri.endswith("/")
    assert all(
        res["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId") == "%SRCROOT%"
        for res in run["results"]
    )


def test_sarif_fingerprints_are_stable_across_runs_and_unrelated_edits(project):
    def prints():
        doc = json.loads(output(project, "sarif")[1])
        return {
            (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r["partialFingerprints"]
            for r in doc["runs"][0]["results"]
        }

    first = prints()
    assert prints() == first
    p = project / "configs/sgd.yaml"
    p.write_text("# a new first line\n\n" + p.read_text())
    moved = prints()
    assert moved == first  # the finding moved two lines down: same fingerprints
    assert all(fp["primaryLocationLineHash"].endswith(":1") for fp in first.values())


def test_sarif_fix_replacement_is_the_edit_of_the_finding():
    from lrlint.report.sarif import _fix

    sp = Span("c.yaml", 10, 13, 3, 5, 3, 8)
    f = Finding("LR001", "unscaled-lr", "m", ERROR, sp, fix=Fix(SAFE, "Set lr to 0.4", [Edit(sp, "0.4")]))
    fx = _fix(f, ".")
    assert fx["description"]["text"] == "Set lr to 0.4"
    assert fx["artifactChanges"][0]["replacements"][0]["deletedRegion"] == {
        "startLine": 3,
        "startColumn": 5,
        "endLine": 3,
        "endColumn": 8,
    }


# -- docs/ci.md ------------------------------------------------------------------------------------


def test_ci_docs_snippets_are_valid_yaml_and_name_real_hooks_and_formats():
    import re

    import yaml

    from lrlint.report import FORMATS

    root = Path(__file__).resolve().parent.parent
    text = (root / "docs/ci.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    assert len(blocks) == 5  # pre-commit config, its --base args, the action's workflow, a plain workflow, GitLab
    hooks = {h["id"]: h for h in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"lrlint", "lrlint-fix"}
    for h in hooks.values():
        assert h["language"] == "python" and h["require_serial"] is True and h["types_or"] == ["yaml", "json", "python"]
        assert h["entry"].startswith("lrlint check")
    assert "--fix" in hooks["lrlint-fix"]["entry"].split()
    (repo,) = blocks[0]["repos"]
    assert repo["rev"] and {h["id"] for h in repo["hooks"]} <= set(hooks)
    assert blocks[1] == [{"id": "lrlint", "args": ["--base", "origin/main"]}]
    action_steps = blocks[2]["jobs"]["lrlint"]["steps"]
    assert action_steps[0]["with"]["fetch-depth"] == 0
    assert action_steps[-1] == {"uses": "lrlint/lrlint@v0.1.0", "with": {"sarif": "true"}}
    steps = blocks[3]["jobs"]["lrlint"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert any("upload-sarif" in s.get("uses", "") for s in steps)
    runs = " ".join(s.get("run", "") for s in steps)
    assert "--base origin/${{ github.base_ref }}" in runs
    for fmt in re.findall(r"--output-format ([a-z-]+)", text):
        assert fmt in FORMATS
    assert blocks[4]["lrlint"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"


def test_github_summary_counts_what_fix_changed(project):
    r = run_lrlint(
        "check", "--isolated", "--fix", "--output-format", "github", "configs/sgd.yaml", "configs/ok.yaml", cwd=project
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "lrlint: all checks passed (2 files checked, 1 fixed)\n"


def test_code_scanning_paths_start_at_the_repository_top_not_the_settings_directory(tmp_path):
    # settings live in ml/ (a monorepo): SARIF and GitHub annotations still name files from the repo top,
    # which is where GitHub resolves them
    from conftest import GitRepo

    repo = GitRepo(tmp_path / "repo")
    repo.write("ml/pyproject.toml", "[tool.lrlint]\n")
    repo.write(
        "ml/configs/sgd.yaml", "# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.1\noptimizer: sgd\n"
    )
    repo.commit()
    r = run_lrlint("check", "--output-format", "sarif", "configs", cwd=repo.path / "ml")
    doc = json.loads(r.stdout)
    [res] = doc["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ml/configs/sgd.yaml"
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (repo.path.resolve().as_uri() + "/")
    r = run_lrlint("check", "--output-format", "github", "configs", cwd=repo.path / "ml")
    assert "file=ml/configs/sgd.yaml,line=2" in r.stdout
    r = run_lrlint("check", "--output-format", "concise", "configs", cwd=repo.path / "ml")
    assert r.stdout.startswith("configs/sgd.yaml:2:13: LR001")  # what a person reads stays relative to where they are
