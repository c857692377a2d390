"""--explain never mixes into a machine-readable report: with every format a tool parses, the report on
stdout stays parseable and the explanations go to stderr (after a text report they follow it on stdout)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from conftest import GitRepo

CFG = "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 32\nlearning_rate: 2e-5\n"
EXPLAINED = "Recipes checked (1):\ncfg.yaml: learning_rate (huggingface profile): effective batch 32, lr 2e-5, "


def test_explain_goes_to_stderr_with_every_machine_format(repo: GitRepo):
    repo.write("cfg.yaml", CFG)
    for fmt in ("json", "json-lines", "sarif", "gitlab", "junit", "github"):
        r = repo.lrlint("check", "--explain", "--output-format", fmt, "cfg.yaml")
        assert r.returncode == 1, (fmt, r.stderr)
        assert r.stderr.startswith(EXPLAINED), (fmt, r.stderr)
        assert "Recipes checked" not in r.stdout, fmt
        if fmt == "json-lines":
            assert [json.loads(line)["code"] for line in r.stdout.splitlines()] == ["LR001"]
        elif fmt == "junit":
            assert ET.fromstring(r.stdout).tag == "testsuites"
        elif fmt == "github":
            lines = r.stdout.splitlines()
            assert lines[0].startswith("::error file=cfg.yaml,") and lines[1].startswith("lrlint: 1 error in 1 file")
            assert len(lines) == 2
        else:
            json.loads(r.stdout)  # one document, nothing after it
    # --statistics as JSON, and a report written to a file
    r = repo.lrlint("check", "--explain", "--statistics", "--output-format", "json", "cfg.yaml")
    assert json.loads(r.stdout)[0]["code"] == "LR001" and r.stderr.startswith(EXPLAINED)
    r = repo.lrlint("check", "--explain", "--output-format", "json", "-o", "out.json", "cfg.yaml")
    assert r.stdout == "" and r.stderr.startswith(EXPLAINED)
    assert json.loads((repo.path / "out.json").read_text())[0]["code"] == "LR001"
