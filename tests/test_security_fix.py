"""What --fix leaves on disk: stale temporary files of a killed --fix are removed by the next --fix (only
names lrlint makes, old enough) and never checked as configs; a read-only file is left as it is, with a
message, unless --fix-read-only; edits inserting at one offset compose (one line each, in order)."""

from __future__ import annotations

import ast
import os
import stat
import sys
import tempfile
import time

import pytest
from conftest import run_lrlint

from lrlint import sources
from lrlint.fix.edits import apply_edits
from lrlint.fix.files import is_temporary
from lrlint.sources import Limits, python_edit, yaml_edit

REF = "# lrlint: reference batch=256 lr=0.1\n"
BAD = REF + "train:\n  batch_size: 512\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
FIXED = BAD.replace("lr: 0.1", "lr: 0.2")
OLD = time.time() - 3600


def _temporary(d, name: str, age: float = OLD) -> str:
    """A temporary file named as write_atomic names them (mkstemp with its prefix and suffix)."""
    fd, path = tempfile.mkstemp(dir=d, prefix=f".{name}.", suffix=".lrlint-tmp")
    os.write(fd, BAD.encode())
    os.close(fd)
    os.utime(path, (age, age))
    return os.path.basename(path)


def test_the_next_fix_removes_stale_temporary_files_and_only_those(tmp_path):
    (tmp_path / "c.yaml").write_text(BAD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.yaml").write_text(BAD)
    stale = _temporary(tmp_path, "c.yaml")
    stale_sub = _temporary(tmp_path / "sub", "d.yaml")
    fresh = _temporary(tmp_path, "c.yaml", age=time.time())  # a --fix running now
    others = [".c.yaml.lrlint-tmp", ".notes.txt.ab12cd34.lrlint-tmp", "c.yaml.ab12cd34.lrlint-tmp"]
    for name in others:
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (OLD, OLD))
    os.symlink("c.yaml", tmp_path / ".c.yaml.zz12cd34.lrlint-tmp")
    os.utime(tmp_path / ".c.yaml.zz12cd34.lrlint-tmp", (OLD, OLD), follow_symlinks=False)
    r = run_lrlint("check", "--isolated", "--fix", ".", cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".lrlint-tmp"))
    assert left == sorted([fresh, *others, ".c.yaml.zz12cd34.lrlint-tmp"])
    assert not (tmp_path / "sub" / stale_sub).exists()
    assert f"lrlint: removed 2 temporary file(s) left by an interrupted --fix: {stale}, sub/{stale_sub}\n" in r.stderr
    assert (tmp_path / "c.yaml").read_text() == FIXED


def test_temporary_files_are_never_checked(tmp_path):
    (tmp_path / "c.yaml").write_text(BAD)
    name = _temporary(tmp_path, "c.yaml")
    assert is_temporary(name)
    r = run_lrlint("check", "--isolated", "--output-format", "concise", ".", cwd=tmp_path, timeout=60)
    assert r.returncode == 1
    assert [line.split(":")[0] for line in r.stdout.splitlines() if ": LR" in line] == ["c.yaml"]
    assert (tmp_path / name).exists()  # a check without --fix writes and removes nothing


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_a_read_only_file_is_left_alone_unless_fix_read_only(tmp_path):
    ro, rw = tmp_path / "ro.yaml", tmp_path / "rw.yaml"
    ro.write_text(BAD)
    rw.write_text(BAD)
    ro.chmod(0o444)
    r = run_lrlint("check", "--isolated", "--fix", "--output-format", "concise", ".", cwd=tmp_path, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert ro.read_text() == BAD and rw.read_text() == FIXED
    assert (
        "lrlint: ro.yaml: not written: the file is read-only: left as it is (--fix-read-only rewrites it and "
        "keeps its mode)\n"
    ) in r.stderr
    assert "ro.yaml:3:15: LR001 [*] error:" in r.stdout
    r = run_lrlint("check", "--isolated", "--fix", "--fix-read-only", ".", cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ro.read_text() == FIXED
    assert stat.S_IMODE(ro.stat().st_mode) == 0o444


# --- insertions at one offset compose ------------------------------------------------------------

PY_CHILD = "_base_ = ['./base.py']\ntrain_dataloader = dict(batch_size=4)"


@pytest.mark.parametrize("end", ["\n", "", "\r\n"])
def test_two_overrides_appended_to_one_python_file_compose(end):
    text = PY_CHILD.replace("\n", end if end == "\r\n" else "\n") + end
    src = sources.from_bytes("c.py", "python", text.encode(), Limits())
    first = python_edit.override(src, "optim_wrapper.optimizer.lr", "0.04")
    second = python_edit.override(src, "param_scheduler.end", "500")
    assert first is not None and second is not None
    assert first.span.start == second.span.start == len(text)
    out = apply_edits(src.data, [first, second])
    nl = "\r\n" if end == "\r\n" else "\n"
    assert (
        out
        == (
            PY_CHILD.replace("\n", nl)
            + nl
            + "optim_wrapper = dict(optimizer=dict(lr=0.04))"
            + nl
            + "param_scheduler = dict(end=500)"
            + nl
        ).encode()
    )
    ast.parse(out.decode())
    assert apply_edits(src.data, [second, first]).index(b"param_scheduler") < out.index(b"param_scheduler")


@pytest.mark.parametrize("end", ["\n", ""])
def test_two_keys_inserted_under_one_yaml_mapping_compose(end):
    text = '_BASE_: "Base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64' + end
    src = sources.from_bytes("c.yaml", "yaml", text.encode(), Limits())
    edits = [yaml_edit.override(src, "SOLVER.BASE_LR", "0.08"), yaml_edit.override(src, "SOLVER.WARMUP_ITERS", "1000")]
    assert all(e is not None and e.span.start == len(text) for e in edits)
    out = apply_edits(src.data, edits)  # type: ignore[arg-type]
    assert out == b'_BASE_: "Base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n  WARMUP_ITERS: 1000\n'


@pytest.mark.parametrize("end", ["\n", ""])
def test_fix_appends_two_overrides_to_a_child_without_a_final_newline(tmp_path, end):
    (tmp_path / "Base.yaml").write_text(
        "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n"
        "  MAX_ITER: 4000\n"
    )
    child = tmp_path / "child.yaml"
    child.write_text('_BASE_: "Base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64' + end)
    r = run_lrlint("check", "--isolated", "--fix", "--unsafe-fixes", "child.yaml", cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert child.read_text() == (
        '_BASE_: "Base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n  MAX_ITER: 1000\n'
    )
