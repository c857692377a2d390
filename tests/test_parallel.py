"""A run over many files on several processes reports exactly what a serial run reports."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lrlint import parallel
from lrlint.settings import load
from tests.conftest import run_lrlint

FIXTURES = Path(__file__).parent / "fixtures"


def _tree(tmp_path: Path) -> Path:
    """A multi-folder workspace: the inheritance fixture trees twice (Detectron2, MMDetection, Hydra), the
    Python fixtures, a base with a broken base of its own shared by children at both ends of the file list
    (one LR906 in a serial run), and a file that does not parse."""
    ws = tmp_path / "ws"
    for copy in ("a_copy", "m_copy"):
        shutil.copytree(FIXTURES / "inherit", ws / copy)
    shutil.copytree(FIXTURES / "python", ws / "python")
    (ws / "shared").mkdir()
    (ws / "shared" / "Base.yaml").write_text(
        "_BASE_: missing.yaml\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n", encoding="utf-8"
    )
    for folder in ("a_first", "z_last"):
        (ws / folder).mkdir()
        (ws / folder / "child.yaml").write_text(
            "_BASE_: ../shared/Base.yaml\nSOLVER:\n  IMS_PER_BATCH: 32\n", encoding="utf-8"
        )
    (ws / "m_copy" / "broken.yaml").write_text("SOLVER:\n  BASE_LR: [0.1\n", encoding="utf-8")
    return ws


def _check(ws: Path, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    r = run_lrlint("check", "--isolated", *args, ".", cwd=ws, env=env)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, r.stdout, r.stderr


def test_parallel_output_is_the_serial_output(tmp_path):
    ws = _tree(tmp_path)
    n = sum(1 for p in ws.rglob("*") if p.suffix in (".yaml", ".py"))
    assert n >= parallel.MIN_FILES  # enough files for the pool
    serial = _check(ws, "--jobs", "1", "--output-format", "json")
    findings = json.loads(serial[1])
    codes = [f["code"] for f in findings]
    assert serial[0] == 1
    # findings from every kind of tree, the shared base's problem once, the broken file
    assert {"LR001", "LR006", "LR906"} <= set(codes)
    shared = [f for f in findings if f["filename"].endswith("shared/Base.yaml")]
    assert [(f["code"], f["location"]["row"]) for f in shared] == [("LR906", 1)]
    assert any(f["filename"].endswith("m_copy/broken.yaml") and f["code"].startswith("LR9") for f in findings)
    folders = {Path(f["filename"]).relative_to(ws.resolve()).parts[0] for f in findings}
    assert {"a_copy", "m_copy", "a_first", "z_last", "shared"} <= folders
    assert _check(ws, "--jobs", "2", "--output-format", "json") == serial
    assert _check(ws, "--output-format", "json", env={"LRLINT_JOBS": "3"}) == serial
    for fmt in ("full", "sarif", "concise"):
        assert _check(ws, "--jobs", "2", "--output-format", fmt) == _check(ws, "--jobs", "1", "--output-format", fmt)
    explained = _check(ws, "--jobs", "1", "--explain", "--output-format", "concise")
    assert "lr" in explained[1]
    assert _check(ws, "--jobs", "2", "--explain", "--output-format", "concise") == explained


def test_jobs_decide_where_the_files_are_checked(tmp_path, monkeypatch):
    ws = _tree(tmp_path)
    monkeypatch.chdir(ws)
    settings = load(ws, isolated=True)
    one = parallel.check_paths(["."], settings, jobs=1)
    two = parallel.check_paths(["."], settings, jobs=2)
    few = parallel.check_paths(["a_first", "z_last"], settings, jobs=2)  # under MIN_FILES: in-process
    assert one.workers == 0 and few.workers == 0
    assert 1 <= two.workers <= 2
    key = [(f.code, f.span.path, f.span.line, f.span.col, f.message) for f in one.findings]
    assert [(f.code, f.span.path, f.span.line, f.span.col, f.message) for f in two.findings] == key
    assert two.files == one.files


def test_jobs_setting():
    assert parallel.jobs_setting("3", "5") == 3  # the option wins
    assert parallel.jobs_setting(None, "5") == 5
    assert parallel.jobs_setting(None, " ") == parallel.usable_cpus()
    assert parallel.jobs_setting(None, None) == parallel.usable_cpus()
    if hasattr(os, "sched_getaffinity"):
        assert parallel.usable_cpus() == len(os.sched_getaffinity(0))
    for bad in ("0", "-2", "two", "1.5"):
        with pytest.raises(parallel.JobsError):
            parallel.jobs_setting(bad, None)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--jobs", "0"), None, "lrlint: error: --jobs: 0 must be 1 or more"),
        ((), {"LRLINT_JOBS": "many"}, "lrlint: error: LRLINT_JOBS: 'many' is not a whole number"),
    ],
)
def test_bad_jobs_is_a_usage_error(tmp_path, args, env, message):
    (tmp_path / "a.yaml").write_text("lr: 0.1\n", encoding="utf-8")
    r = run_lrlint("check", *args, "a.yaml", cwd=tmp_path, env=env)
    assert r.returncode == 2
    assert r.stderr.strip() == message
