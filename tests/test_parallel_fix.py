"""``--fix`` on several processes writes and reports exactly what a serial ``--fix`` does; the workers that
checked the files parse and re-check the fixed ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lrlint import fix, parallel
from lrlint.fix import recheck
from lrlint.settings import load
from tests.conftest import GitRepo
from tests.test_parallel import _check, _tree

BASE = """\
train_dataloader = dict(batch_size=2)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9))
auto_scale_lr = dict(enable=False, base_batch_size=32)
"""
CHILD = "_base_ = ['../shared/_base_/sched_8xb2.py']\ntrain_dataloader = dict(batch_size=8)\n"


def _fix_tree(tmp_path: Path) -> Path:
    """The parallel test tree in a git repository, plus a base in ``shared/`` that its own fix edits (a stale
    ``base_batch_size``) and children of it at both ends of the file list that are fixed in the same round."""
    ws = _tree(tmp_path)
    (ws / "shared" / "_base_").mkdir()
    (ws / "shared" / "_base_" / "sched_8xb2.py").write_text(BASE, encoding="utf-8")
    for folder in ("a_first", "z_last"):
        (ws / folder / "net_8xb8_coco.py").write_text(CHILD, encoding="utf-8")
    GitRepo(ws).commit()
    return ws


def _files(ws: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(ws)): p.read_bytes() for p in sorted(ws.rglob("*")) if p.is_file() and ".git" not in p.parts
    }


def _fixed(tmp_path: Path, jobs: str, *args: str) -> tuple[tuple[int, str, str], dict[str, bytes]]:
    """A --fix run on a fresh tree (always at the same path: the reports name files by absolute path)."""
    shutil.rmtree(tmp_path / "ws", ignore_errors=True)
    ws = _fix_tree(tmp_path)
    out = _check(ws, "--fix", "--jobs", jobs, *args)
    return out, _files(ws)


@pytest.mark.parametrize("args", [("--output-format", "json"), ("--unsafe-fixes", "--show-fixes")])
def test_parallel_fix_writes_and_reports_what_a_serial_fix_does(tmp_path, args):
    serial, written = _fixed(tmp_path, "1", *args)
    before = _files(_fix_tree(tmp_path / "orig"))
    changed = {p for p in written if written[p] != before[p]}
    # fixes in every folder, the shared base among them, its children at both ends of the list too
    assert {"shared/_base_/sched_8xb2.py", "a_first/net_8xb8_coco.py", "z_last/net_8xb8_coco.py"} <= changed
    assert {Path(p).parts[0] for p in changed} >= {"a_copy", "m_copy", "a_first", "z_last", "shared"}
    assert b"base_batch_size=16)" in written["shared/_base_/sched_8xb2.py"]
    assert written["z_last/net_8xb8_coco.py"] == CHILD.encode() + b"optim_wrapper = dict(optimizer=dict(lr=0.08))\n"
    assert _fixed(tmp_path, "2", *args) == (serial, written)
    if "json" in args:
        left = json.loads(serial[1])
        assert not [f for f in left if f["filename"].endswith("sched_8xb2.py")]  # the base's finding is fixed


def test_the_workers_parse_and_recheck_the_fixed_files(tmp_path, monkeypatch):
    ws = _fix_tree(tmp_path)
    monkeypatch.chdir(ws)
    settings = load(ws, isolated=True)
    merged: list[int] = []
    real_merge = recheck.merge
    monkeypatch.setattr(recheck, "merge", lambda order, *a: merged.append(len(order)) or real_merge(order, *a))
    guessed: list[set[str]] = []
    real_take = recheck.take_guesses

    def take(guesses, data, cwd):
        failed, ready = real_take(guesses, data, cwd)
        guessed.append(set(ready))
        return failed, ready

    monkeypatch.setattr(recheck, "take_guesses", take)
    workers = parallel.Workers(settings, unsafe=False)
    try:
        result = parallel.check_paths(["."], settings, jobs=2, workers=workers)
        assert result.workers == 2 and len(workers.alive) == 2
        outcome = fix.apply(result, settings, write=False, workers=workers)
    finally:
        workers.close()
    assert merged and merged[0] == len(outcome.changed) >= 10  # the first round's files, all on the workers
    # most were re-checked while the other worker still checked its files (each worker guesses the round for
    # its own files); not the first folder's child of the shared base: its guess did not have the base's fix,
    # which a later part makes (the parts are contiguous, other folders lie between)
    assert len(guessed[0]) >= len(outcome.changed) // 2
    assert "a_first/net_8xb8_coco.py" in outcome.changed and "a_first/net_8xb8_coco.py" not in guessed[0]
    assert not outcome.problems
    serial = parallel.check_paths(["."], settings, jobs=1, keep_parsed=True)
    alone = fix.apply(serial, settings, write=False)
    assert outcome.diff == alone.diff and outcome.changed == alone.changed and outcome.fixed == alone.fixed
    key = [(f.code, f.span.path, f.span.line, f.message) for f in alone.result.findings]
    assert [(f.code, f.span.path, f.span.line, f.message) for f in outcome.result.findings] == key


def test_a_fixed_file_that_would_not_parse_is_said_in_order(tmp_path, monkeypatch):
    """Files whose fixed bytes do not parse (a parser that fails on them) are left as they are, and said in the
    order a serial run says it, when the workers find it too."""
    ws = _fix_tree(tmp_path)
    monkeypatch.chdir(ws)
    settings = load(ws, isolated=True)
    real_parse = recheck.parse

    def failing(path, fmt, data, settings):
        return "1:1: made to fail" if path.startswith(("a_first", "z_last")) else real_parse(path, fmt, data, settings)

    monkeypatch.setattr(recheck, "parse", failing)  # set before the workers fork: they fail the same files
    outs = []
    for jobs in (1, 2):
        workers = parallel.Workers(settings, unsafe=False)
        try:
            result = parallel.check_paths(["."], settings, jobs=jobs, keep_parsed=True, workers=workers)
            outs.append(fix.apply(result, settings, write=False, workers=workers if workers.alive else None))
        finally:
            workers.close()
    serial, two = outs
    said = [p for p in serial.problems if "would not parse" in p]
    assert len(said) == 4 and all(p.startswith(("a_first", "z_last")) for p in said)
    assert two.problems == serial.problems and two.changed == serial.changed and two.diff == serial.diff
    assert not any(p.startswith(("a_first", "z_last")) for p in two.changed)
