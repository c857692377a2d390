"""``--fix``, ``--unsafe-fixes`` and ``--diff``: exact bytes after fixing, and the safety rules of the write.

Each end-to-end test runs the real CLI on real files and compares the whole file byte for byte:
only the lr literal may change; comments, quotes, number style, newlines, BOM and mode stay.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from conftest import run_lrlint

from lrlint import fix, numbers, sources
from lrlint.findings import DISPLAY_ONLY, ERROR, SAFE, UNSAFE, Edit, Finding, Fix
from lrlint.spans import Span

SGD_YAML = (
    b"# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.1  # tuned\noptimizer: sgd\nwarmup_epochs: 5\n"
)
HF_JSON = b'{\n  "per_device_train_batch_size": 32,\n  "gradient_accumulation_steps": 8,\n  "learning_rate": 2e-5\n}\n'


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def check(tmp: Path, *args: str):
    return run_lrlint("check", "--output-format", "concise", *args, cwd=tmp)


# -- the issue's examples, one per format and number style ----------------------------------------


def test_yaml_sgd_lr_x4_rewrites_only_the_literal_and_keeps_the_comment(tmp_path):
    p = write(tmp_path / "train.yaml", SGD_YAML)
    r = check(tmp_path, "--fix", "train.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_bytes() == SGD_YAML.replace(b"lr: 0.1  # tuned", b"lr: 0.4  # tuned")
    assert "Fixed 1 error" in r.stdout and "LR001 (unscaled-lr)" in r.stdout


def test_json_hf_adamw_sqrt_rewrites_2e5_to_4e5(tmp_path):
    """JSON has no comments: the reference comes from --reference (batch 64, lr 2e-5)."""
    write(tmp_path / "ref.json", HF_JSON.replace(b"32", b"8"))
    p = write(tmp_path / "train.json", HF_JSON)
    r = check(tmp_path, "--fix", "--reference", "ref.json", "train.json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_bytes() == HF_JSON.replace(b"2e-5", b"4e-5")
    assert json.loads(p.read_bytes())["learning_rate"] == 4e-5


def test_json_fix_from_git_history(repo):
    """The history reference: batch per device 8 -> 32 at HEAD, AdamW sqrt: 2e-5 -> 4e-5."""
    repo.write("cfg/train.json", HF_JSON.decode().replace("32", "8"))
    repo.commit()
    p = repo.write("cfg/train.json", HF_JSON.decode())
    r = repo.lrlint("check", "--fix")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_bytes() == HF_JSON.replace(b"2e-5", b"4e-5")


HF_YAML = "# lrlint: reference batch=64 lr={ref}\nper_device_train_batch_size: 256\nlearning_rate: {lr}\n"


@pytest.mark.parametrize(
    "old, new, loads_as",
    [
        ("1.0e-5", "2.0e-5", float),  # PyYAML float form stays a float
        ("1e-5", "2e-5", str),  # PyYAML string form stays a string (HF parses it)
        ('"1e-5"', '"2e-5"', str),  # quotes kept
        ("0.00001", "0.00002", float),  # decimal stays decimal
        ("1E-05", "2E-05", str),  # letter case and exponent padding kept
    ],
)
def test_yaml_number_style_and_loaded_type_are_kept(tmp_path, old, new, loads_as):
    ref = old.strip('"')
    text = HF_YAML.format(ref=ref, lr=old)
    p = write(tmp_path / "sft.yaml", text.encode())
    r = check(tmp_path, "--fix", "sft.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_text() == HF_YAML.format(ref=ref, lr=new)
    assert type(yaml.safe_load(p.read_text())["learning_rate"]) is loads_as


ISSUE_EXAMPLES = [
    (0.1 * 4, "0.1", "0.4"),
    (2e-5 * 4**0.5, "2e-5", "4e-5"),
    (0.02 * 1.5, "0.02", "0.03"),
    (3e-4 * 2**0.5, "3e-4", "4.243e-4"),
    (1e-5 * 2, "1.0e-5", "2.0e-5"),
    (0.1 * 2, "'0.1'", "'0.2'"),
]


@pytest.mark.parametrize(
    "fmt, x, template, out",
    [
        (fmt, *case)
        for fmt in ("json", "python")
        for case in ISSUE_EXAMPLES
        if not (fmt == "json" and case[1].startswith("'"))
    ],
)
def test_formatter_examples_from_the_issue_keep_style_and_type(fmt, x, template, out):
    got = numbers.format_like(x, template)
    assert got == out
    assert fix.type_kept(fmt, template, got)
    assert float(got.strip("'\"")) == pytest.approx(x, rel=5e-4)


@pytest.mark.parametrize(
    "x, template, out",
    [
        (0.1 * 4, "0.1", "0.4"),
        (2e-5 * 4**0.5, "2e-5", "4e-5"),
        (3e-4 * 2**0.5, "3e-4", "4243e-7"),  # PyYAML reads 4.243e-4 as a float: stay a string
        (3e-4 * 2**0.5, "3.0e-4", "4.243e-4"),  # the float form stays a float
        (1e-5 * 2, "1.0e-5", "2.0e-5"),
    ],
)
def test_formatter_keeps_the_pyyaml_type_of_plain_yaml_scalars(x, template, out):
    got = numbers.format_like(x, template, yaml_plain=True)
    assert got == out
    assert fix.type_kept("yaml", template, got)
    assert type(yaml.safe_load(f"a: {got}")["a"]) is type(yaml.safe_load(f"a: {template}")["a"])


def test_yaml_3e4_times_sqrt2_stays_a_string(tmp_path):
    # 3e-4 x sqrt(2) = 4.243e-4, written at the literal's precision (two digits) and PyYAML's type (a string)
    text = "# lrlint: reference batch=64 lr=3e-4\nper_device_train_batch_size: 128\nlearning_rate: 3e-4  # tuned\n"
    p = write(tmp_path / "sft.yaml", text.encode())
    r = check(tmp_path, "--fix", "sft.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_text() == text.replace("3e-4  #", "42e-5  #")
    assert yaml.safe_load(p.read_text())["learning_rate"] == "42e-5"


def test_suggested_lr_is_rounded_to_the_files_precision_and_exact_in_json(tmp_path):
    # 2e-5 x sqrt(8) = 5.657e-5: the message and the fix say 5.7e-5 (one digit more than the file writes);
    # the JSON data keeps the exact value
    text = "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 512\nlearning_rate: 2e-5\n"
    write(tmp_path / "sft.yaml", text.encode())
    r = check(tmp_path, "--output-format", "json", "sft.yaml")
    [f] = json.loads(r.stdout)
    assert f["message"].endswith("but learning_rate stays 2e-5; expected 5.7e-5 (square-root rule)")
    assert f["fix"]["message"] == "Set learning_rate to 57e-6"  # a dotless YAML literal stays a string
    assert f["data"]["expected_lr"] == 2e-5 * 8**0.5


def test_crlf_and_bom_are_kept(tmp_path):
    data = b"\xef\xbb\xbf" + SGD_YAML.replace(b"\n", b"\r\n")
    p = write(tmp_path / "train.yaml", data)
    r = check(tmp_path, "--fix", "train.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_bytes() == data.replace(b"lr: 0.1  #", b"lr: 0.4  #")


def test_file_mode_is_kept(tmp_path):
    p = write(tmp_path / "train.yaml", SGD_YAML)
    os.chmod(p, 0o640)
    r = check(tmp_path, "--fix", "train.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert b"lr: 0.4" in p.read_bytes()
    assert [x.name for x in tmp_path.iterdir()] == ["train.yaml"]  # no temporary file left behind


def test_diff_prints_a_unified_diff_writes_nothing_and_exits_1(tmp_path):
    p = write(tmp_path / "train.yaml", SGD_YAML)
    r = run_lrlint("check", "--diff", "train.yaml", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert r.stdout == (
        "--- a/train.yaml\n+++ b/train.yaml\n@@ -1,5 +1,5 @@\n # lrlint: reference batch=256 lr=0.1\n"
        " batch_size: 1024\n-lr: 0.1  # tuned\n+lr: 0.4  # tuned\n optimizer: sgd\n warmup_epochs: 5\n"
        "\nWould fix 1 error.\n"
    )
    assert p.read_bytes() == SGD_YAML


def test_diff_with_nothing_to_fix_exits_0(tmp_path):
    write(tmp_path / "train.yaml", SGD_YAML.replace(b"lr: 0.1 ", b"lr: 0.4 "))
    r = run_lrlint("check", "--diff", "train.yaml", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "")


def test_fix_twice_the_second_run_changes_nothing(tmp_path):
    p = write(tmp_path / "train.yaml", SGD_YAML)
    assert check(tmp_path, "--fix", "train.yaml").returncode == 0
    once = p.read_bytes()
    r = check(tmp_path, "--fix", "train.yaml")
    assert r.returncode == 0 and "Fixed" not in r.stdout
    assert p.read_bytes() == once


def test_unsafe_fix_needs_unsafe_fixes(tmp_path):
    """Lion has no established scaling rule: its fix is unsafe."""
    data = SGD_YAML.replace(b"optimizer: sgd", b"optimizer: lion")
    p = write(tmp_path / "train.yaml", data)
    r = check(tmp_path, "--fix", "train.yaml")
    assert r.returncode == 1
    assert p.read_bytes() == data
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option." in r.stdout
    r = check(tmp_path, "--fix", "--unsafe-fixes", "train.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_bytes() == data.replace(b"lr: 0.1 ", b"lr: 0.2 ")  # sqrt(4)


def test_fix_reports_what_remains_and_exits_1(tmp_path):
    fixable = write(tmp_path / "a.yaml", SGD_YAML)
    lion = SGD_YAML.replace(b"optimizer: sgd", b"optimizer: lion")
    write(tmp_path / "b.yaml", lion)
    r = check(tmp_path, "--fix", ".")
    assert r.returncode == 1
    assert b"lr: 0.4" in fixable.read_bytes()
    assert (tmp_path / "b.yaml").read_bytes() == lion
    assert "b.yaml:2:13: LR001 " in r.stdout and "(1 fixed, 1 remaining)" in r.stdout


MM_DECLARED = (
    "train_dataloader = dict(batch_size={b}, num_workers=2)\n"
    "optim_wrapper = dict(optimizer=dict(type='SGD', lr={lr}, momentum=0.9))\n"
    "auto_scale_lr = dict(enable=False, base_batch_size={base})\n"
)


def test_declared_batch_key_is_set_to_the_new_batch_not_given_an_lr_the_python_cannot_hold(repo):
    # auto_scale_lr.base_batch_size states the batch the lr was tuned for (8 devices from the file name x 4);
    # its lr comes from git. The fix once appended " lr=0.02" after the dict call (unparsable Python, so the
    # re-parse guard refused the write); it now sets the declared batch to the one the new lr is tuned for
    name = "faster-rcnn_r50_8xb4-1x_coco.py"
    repo.write(name, MM_DECLARED.format(b=4, lr=0.02, base=32))
    repo.commit()
    p = repo.write(name, MM_DECLARED.format(b=8, lr=0.02, base=32))
    r = repo.lrlint("check", name)
    assert "= help: Set optim_wrapper.optimizer.lr to 0.04 and set auto_scale_lr.base_batch_size to 64" in r.stdout, (
        r.stdout
    )
    r = repo.lrlint("check", "--output-format", "concise", "--fix", "--unsafe-fixes", name)
    fixed = MM_DECLARED.format(b=8, lr=0.04, base=64)
    assert p.read_text() == fixed, r.stdout + r.stderr
    repo.commit()
    r = repo.lrlint("check", "--output-format", "concise", "--select", "LR001,LR002", name)
    assert (r.returncode, p.read_text()) == (0, fixed), r.stdout + r.stderr


def test_base_and_child_fixed_in_one_run_leave_no_finding_behind(tmp_path):
    # the layout of mmdetection3d's minkunet configs: the schedule declares the batch its lr was tuned for
    # (32), a config trains 16 with it, and a variant inherits that config. Both are fixed in one run; the
    # variant then compares with the fixed config, not with the schedule's declared batch paired with the
    # config's new lr (which asked for the lr to be scaled again: 0.0057 -> 0.004)
    write(
        tmp_path / "configs/_base_/schedule-3x.py",
        b"lr = 0.008\n"
        b"optim_wrapper = dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=0.01))\n"
        b"auto_scale_lr = dict(enable=False, base_batch_size=32)\n",
    )
    write(tmp_path / "configs/_base_/data.py", b"train_dataloader = dict(batch_size=2, num_workers=4)\n")
    main_text = b"_base_ = ['./_base_/data.py', './_base_/schedule-3x.py']\nmodel = dict(depth=34)\n"
    variant_text = b"_base_ = ['./net_8xb2-3x_kitti.py']\nmodel = dict(backend='spconv')\n"
    main = write(tmp_path / "configs/net_8xb2-3x_kitti.py", main_text)
    variant = write(tmp_path / "configs/net-spconv_8xb2-3x_kitti.py", variant_text)
    r = check(tmp_path, "--isolated", "configs")
    expected = "LR001 [*] error: effective batch 32 -> 16 (x0.5) but optim_wrapper.optimizer.lr stays 0.008; "
    assert r.stdout.count(expected) == 2, r.stdout
    r = check(tmp_path, "--isolated", "--fix", "configs")
    assert r.returncode == 0, r.stdout + r.stderr
    override = b"optim_wrapper = dict(optimizer=dict(lr=0.0057))\n"
    assert (main.read_bytes(), variant.read_bytes()) == (main_text + override, variant_text + override)
    r = check(tmp_path, "--isolated", "configs")
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n")
    r = run_lrlint("check", "--isolated", "--explain", "configs/net-spconv_8xb2-3x_kitti.py", cwd=tmp_path)
    assert (
        "auto_scale_lr.base_batch_size = 32 in configs/_base_/schedule-3x.py set aside: optim_wrapper.optimizer.lr "
        "is set again in net_8xb2-3x_kitti.py, below schedule-3x.py that declares the batch: the declared batch "
        "is not the one that lr was tuned for"
    ) in " ".join(r.stdout.split())


def test_reference_without_lr_is_fixed_once_not_in_a_loop(tmp_path):
    """``reference batch=64`` without ``lr=``: the current lr is the tuned one, so after a rewrite it would
    look unscaled again. The fix records the lr in the directive: one rewrite, no loop."""
    p = write(tmp_path / "sft.yaml", HF_YAML.replace("lr={ref}", "").format(lr="1e-5").encode())
    r = check(tmp_path, "--fix", "sft.yaml")
    assert (
        p.read_text().endswith("learning_rate: 2e-5\n")
        and p.read_text().splitlines()[0] == "# lrlint: reference batch=64 lr=1e-5 "
    )  # the trailing blank was the file's
    assert "not rewritten again" not in r.stderr and r.returncode == 0


# -- the fix core on synthetic findings -----------------------------------------------------------


def _settings(tmp: Path):
    from lrlint import settings

    return settings.load(tmp, isolated=True)


def _result_with(path: Path, fmt: str, edits_fixes: list[tuple[int, int, str, str]]):
    """A Result holding ``path``'s Source and one finding per (start, end, content, applicability)."""
    from lrlint.api import Result

    data = path.read_bytes()
    src = sources.decode(str(path), fmt, data)
    res = Result(files=[str(path)], sources={str(path): src})
    for i, (start, end, content, app) in enumerate(edits_fixes):
        sp = _span(src, str(path), start, end)
        res.findings.append(
            Finding(
                "LR001",
                "unscaled-lr",
                f"synthetic {i}",
                ERROR,
                sp,
                fix=Fix(app, f"Set to {content}", [Edit(sp, content)]),
            )
        )
    return res


def _span(src, path: str, start: int, end: int) -> Span:
    li = src.lines
    return li.span(path, li.char(start), li.char(end))


def test_display_only_and_unsafe_fixes_are_not_applied_by_default(tmp_path):
    p = write(tmp_path / "c.yaml", b"a: 1\nb: 2\nc: 3\n")
    res = _result_with(p, "yaml", [(3, 4, "10", DISPLAY_ONLY), (8, 9, "20", UNSAFE), (13, 14, "30", SAFE)])
    out = fix.apply(res, _settings(tmp_path), write=False)
    assert out.changed[str(p)] == b"a: 1\nb: 2\nc: 30\n"
    out = fix.apply(
        _result_with(p, "yaml", [(3, 4, "10", DISPLAY_ONLY), (8, 9, "20", UNSAFE)]),
        _settings(tmp_path),
        unsafe=True,
        write=False,
    )
    assert out.changed[str(p)] == b"a: 1\nb: 20\nc: 3\n"
    assert p.read_bytes() == b"a: 1\nb: 2\nc: 3\n"  # write=False writes nothing


def test_overlapping_fixes_keep_the_first_and_leave_the_other():
    sp = lambda s, e: Span("f", s, e, 1, s + 1, 1, e + 1)  # noqa: E731
    f1 = Finding("LR001", "x", "m", ERROR, sp(0, 3), fix=Fix(SAFE, "a", [Edit(sp(0, 3), "A")]))
    f2 = Finding("LR002", "y", "m", ERROR, sp(2, 5), fix=Fix(SAFE, "b", [Edit(sp(2, 5), "B")]))
    f3 = Finding("LR002", "y", "m", ERROR, sp(5, 6), fix=Fix(SAFE, "c", [Edit(sp(5, 6), "C")]))
    assert fix.select([f1, f2, f3], unsafe=False) == {"f": [f1, f3]}
    with pytest.raises(ValueError):
        fix.apply_edits(b"0123456", [Edit(sp(0, 3), "A"), Edit(sp(2, 5), "B")])


def test_inserted_lines_follow_the_files_line_endings():
    sp = Span("f", 6, 6, 2, 1, 2, 1)
    assert fix.apply_edits(b"a: 1\r\nb: 2\r\n", [Edit(sp, "x: 3\n")]) == b"a: 1\r\nx: 3\r\nb: 2\r\n"
    assert fix.apply_edits(b"a: 1\nb: 2\n", [Edit(Span("f", 5, 5, 2, 1, 2, 1), "x: 3\n")]) == b"a: 1\nx: 3\nb: 2\n"


@pytest.mark.parametrize(
    "fmt, old, new, kept",
    [
        ("yaml", "1.0e-5", "2.0e-5", True),
        ("yaml", "1.0e-5", "2e-5", False),  # would load as a string
        ("yaml", "1e-5", "2e-5", True),
        ("yaml", "1e-5", "2.0e-5", False),  # would load as a float where the file had a string
        ("yaml", "1", "0.5", True),  # int -> float is a widening the trainers accept
        ("json", "2e-5", "4e-5", True),
        ("python", "3e-4", "4.243e-4", True),
        ("python", "'3e-4'", "4.243e-4", False),
    ],
)
def test_type_kept(fmt, old, new, kept):
    assert fix.type_kept(fmt, old, new) is kept


def test_a_fix_that_changes_the_loaded_type_is_refused(tmp_path):
    p = write(tmp_path / "c.yaml", b"lr: 1.0e-5\n")
    res = _result_with(p, "yaml", [(4, 10, "2e-5", SAFE)])
    out = fix.apply(res, _settings(tmp_path))
    assert p.read_bytes() == b"lr: 1.0e-5\n"
    assert out.fixed == {} and "would not load as the same type" in out.problems[0]


def test_a_fix_that_breaks_parsing_is_not_written(tmp_path):
    p = write(tmp_path / "c.yaml", b"a: 1\nb: [2]\n")
    res = _result_with(p, "yaml", [(8, 11, "[2", SAFE)])
    out = fix.apply(res, _settings(tmp_path))
    assert p.read_bytes() == b"a: 1\nb: [2]\n"
    assert out.fixed == {} and "would not parse" in out.problems[0]


def test_a_file_changed_on_disk_since_it_was_read_is_not_written(tmp_path, monkeypatch):
    p = write(tmp_path / "c.yaml", b"a: 1\n")
    res = _result_with(p, "yaml", [(3, 4, "2", SAFE)])
    real = fix.read_current
    monkeypatch.setattr(fix.files, "read_current", lambda path: b"a: 7\n" if Path(path) == p else real(path))
    out = fix.apply(res, _settings(tmp_path))
    assert p.read_bytes() == b"a: 1\n"
    assert out.fixed == {}
    assert any("changed on disk" in m for m in out.problems)
    assert [f.message for f in out.result.findings] == ["synthetic 0"]  # still reported as it is on disk


def test_write_atomic_keeps_mode_and_leaves_no_temporary_file(tmp_path):
    p = write(tmp_path / "c.json", b"{}\n")
    os.chmod(p, 0o600)
    assert fix.write_atomic(str(p), b'{"a": 1}\n', expected=b"{}\n") is None
    assert p.read_bytes() == b'{"a": 1}\n' and stat.S_IMODE(p.stat().st_mode) == 0o600
    assert fix.write_atomic(str(p), b"x", expected=b"{}\n") == "the file changed on disk since lrlint read it"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["c.json"]


def _two_files(tmp_path: Path):
    """Two YAML files with one fix each, checked together."""
    from lrlint.api import Result

    res = Result()
    for name in ("a.yaml", "b.yaml"):
        one = _result_with(write(tmp_path / name, b"a: 1\n"), "yaml", [(3, 4, "2", SAFE)])
        res.files += one.files
        res.sources.update(one.sources)
        res.findings += one.findings
    return res


def test_a_file_changed_while_the_fixed_files_are_synced_is_not_written(tmp_path, monkeypatch):
    """The fixed files are written in steps (temporary files, their disk syncs, the renames): a file that
    changes on disk before its rename keeps its new bytes; the other file is written; no temporary file
    is left."""
    res = _two_files(tmp_path)
    real_sync = fix.files.sync

    def editor_saves_a(pending):
        real_sync(pending)
        if pending.path.name == "a.yaml":
            pending.path.write_bytes(b"a: 7\n")

    monkeypatch.setattr(fix.loop, "sync", editor_saves_a)
    out = fix.apply(res, _settings(tmp_path))
    assert (tmp_path / "a.yaml").read_bytes() == b"a: 7\n" and (tmp_path / "b.yaml").read_bytes() == b"a: 2\n"
    assert [m.replace(str(tmp_path), "T") for m in out.problems] == [
        "T/a.yaml: not written: the file changed on disk since lrlint read it"
    ]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_failed_disk_sync_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    res = _two_files(tmp_path)
    real_fsync = os.fsync
    synced: list[int] = []

    def failing(fd):
        synced.append(fd)
        if len(synced) == 1:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing)
    out = fix.apply(res, _settings(tmp_path))
    written = sorted(p.name for p in tmp_path.iterdir() if p.read_bytes() == b"a: 2\n")
    assert len(written) == 1 and len(out.problems) == 1
    kept = "b.yaml" if written == ["a.yaml"] else "a.yaml"
    assert (tmp_path / kept).read_bytes() == b"a: 1\n"
    assert out.problems[0].endswith(f"{kept}: not written: Input/output error")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


# -- override edits for an lr inherited from a base file (used by the inheritance checks) --------


def _override(fmt: str, text: str, key: str, value: str) -> str | None:
    src = sources.decode("child", fmt, text.encode())
    e = sources.override_edit(src, key, value)
    return None if e is None else fix.apply_edits(src.data, [e]).decode()


@pytest.mark.parametrize(
    "text, key, out",
    [
        # the mapping exists: the key goes after its last entry, at its indentation
        (
            "_base_: base.yaml\ntrain:\n  batch_size: 1024\n  optimizer:\n    name: sgd  # kept\n",
            "train.optimizer.lr",
            "_base_: base.yaml\ntrain:\n  batch_size: 1024\n  optimizer:\n    name: sgd  # kept\n    lr: 0.4\n",
        ),
        # the mapping is missing: created with the file's indentation unit (4 here)
        (
            "_base_: base.yaml\ntrain:\n    batch_size: 1024\n    epochs: 3  # c\ndata:\n    root: x\n",
            "train.optimizer.lr",
            "_base_: base.yaml\ntrain:\n    batch_size: 1024\n    epochs: 3  # c\n    optimizer:\n        lr: 0.4\n"
            "data:\n    root: x\n",
        ),
        # top level, no newline at the end of the file
        (
            "defaults: [base]\nbatch_size: 1024",
            "optimizer.lr",
            "defaults: [base]\nbatch_size: 1024\noptimizer:\n  lr: 0.4\n",
        ),
        # an existing value is replaced in place
        ("optimizer:\n  lr: 0.1  # tuned\n", "optimizer.lr", "optimizer:\n  lr: 0.4  # tuned\n"),
        # a flow mapping is not rewritten
        ("optimizer: {name: sgd}\n", "optimizer.lr", None),
    ],
)
def test_yaml_override_exact_bytes(text, key, out):
    assert _override("yaml", text, key, "0.4") == out
    if out is not None:
        assert yaml.safe_load(out)  # still YAML


def test_yaml_override_keeps_crlf():
    src = sources.decode("child", "yaml", b"train:\r\n  batch_size: 1024\r\n")
    e = sources.override_edit(src, "train.lr", "0.4")
    assert fix.apply_edits(src.data, [e]) == b"train:\r\n  batch_size: 1024\r\n  lr: 0.4\r\n"


@pytest.mark.parametrize(
    "text, out",
    [
        (
            "_base_ = ['./base.py']\ntrain_dataloader = dict(batch_size=64)\n",
            "_base_ = ['./base.py']\ntrain_dataloader = dict(batch_size=64)\n"
            "optim_wrapper = dict(optimizer=dict(lr=0.04))\n",
        ),
        (
            "_base_ = ['./base.py']\noptim_wrapper = dict(clip_grad=None)\n",
            "_base_ = ['./base.py']\noptim_wrapper = dict(clip_grad=None, optimizer=dict(lr=0.04))\n",
        ),
        (
            "optim_wrapper = dict(\n    optimizer=dict(type='SGD', momentum=0.9,),\n)\n",
            "optim_wrapper = dict(\n    optimizer=dict(type='SGD', momentum=0.9, lr=0.04),\n)\n",
        ),
        (
            "optim_wrapper = dict(optimizer=dict(lr=0.02))  # base lr\n",
            "optim_wrapper = dict(optimizer=dict(lr=0.04))  # base lr\n",
        ),
        ("optim_wrapper = build_wrapper()\n", None),
    ],
)
def test_mmengine_python_override_exact_bytes(text, out):
    assert _override("python", text, "optim_wrapper.optimizer.lr", "0.04") == out
    if out is not None:
        compile(out, "child.py", "exec")  # still Python (never executed)


def test_lr_fix_for_an_expression_is_display_only_and_says_why():
    """An lr that is an expression is never rewritten; the fix is shown with the reason."""
    from types import SimpleNamespace

    from lrlint.checks import fixes
    from lrlint.values import EXPRESSION, Value

    lr = Value("lr", 0.1, Span("train.py", 10, 19, 3, 6, 3, 15), provenance=EXPRESSION, raw="0.05 * 2")
    ctx = SimpleNamespace(recipe=SimpleNamespace(lr=lr, doc=SimpleNamespace(path="train.py")), source=None)
    f = fixes.lr_fix(ctx, None, 0.4)
    assert (f.applicability, f.message, f.edits) == (DISPLAY_ONLY, "Set lr to 0.4", [])
    assert f.why == "the lr is an expression: change the expression by hand (`0.05 * 2`)"
    assert not fix.applicable(f and Finding("LR001", "unscaled-lr", "m", ERROR, lr.span, fix=f), unsafe=True)


@pytest.mark.parametrize(
    "ref_batch, batch, new_lr, why",
    [
        (256, 8192, b"3.2", "batch factor x32 is past x16"),
        (1024, 16384, b"1.6", "effective batch 16384 is past 8192"),
    ],
)
def test_past_the_no_silent_fix_guards_the_fix_is_unsafe_and_says_why(tmp_path, ref_batch, batch, new_lr, why):
    data = (
        f"# lrlint: reference batch={ref_batch} lr=0.1\nbatch_size: {batch}\nlr: 0.1\noptimizer: sgd\n"
        "warmup_epochs: 5\n"
    ).encode()
    p = write(tmp_path / "big.yaml", data)
    r = run_lrlint("check", "--output-format", "json", "big.yaml", cwd=tmp_path)
    (f,) = [f for f in json.loads(r.stdout) if f["code"] == "LR001"]
    assert f["fix"]["applicability"] == "unsafe" and why in f["fix"]["why"] and "lrlint verify" in f["fix"]["why"]
    assert check(tmp_path, "--fix", "big.yaml").returncode == 1
    assert p.read_bytes() == data
    r = check(tmp_path, "--fix", "--unsafe-fixes", "big.yaml")
    assert "LR001" not in r.stdout.replace("1 × LR001", "")  # fixed; LR005 (beyond the linear regime) may remain
    assert p.read_bytes() == data.replace(b"lr: 0.1\n", b"lr: " + new_lr + b"\n")


# -- Python: literals in MMEngine configs and argparse defaults --------------------------------------

MM = (
    "_base_ = ['./base.py']\ntrain_dataloader = dict(batch_size={bs})\n"
    "optim_wrapper = dict(optimizer=dict(type='SGD', lr={lr}, momentum=0.9))  # tuned\n"
)
ARGP = (
    "import argparse\nimport torch\n\np = argparse.ArgumentParser()\n"
    'p.add_argument("--batch-size", type=int, default={bs})\n'
    'p.add_argument("--lr", type=float, default={lr})  # tuned\nargs = p.parse_args()\nmodel = torch.nn.Linear(2, 2)\n'
    "opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)\n"
)


def test_python_mmengine_literal_is_rewritten_in_place(tmp_path):
    write(tmp_path / "base.py", b"default_scope = 'mmdet'\n")  # the re-check after the fix resolves bases too
    write(tmp_path / "ref.py", MM.format(bs=8, lr="0.02").encode())
    p = write(tmp_path / "train.py", MM.format(bs=16, lr="0.02").encode())  # x2: below the warmup threshold (LR003)
    r = check(tmp_path, "--fix", "--reference", "ref.py", "train.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_text() == MM.format(bs=16, lr="0.04")


def test_python_argparse_default_is_fixed_at_the_default(tmp_path):
    write(tmp_path / "ref.py", ARGP.format(bs=256, lr="0.1").encode())
    p = write(tmp_path / "train.py", ARGP.format(bs=512, lr="0.1").encode())
    r = check(tmp_path, "--fix", "--unsafe-fixes", "--reference", "ref.py", "train.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_text() == ARGP.format(bs=512, lr="0.2")


def test_a_fix_with_several_edits_is_applied_whole(tmp_path):
    """LR006-style: one unsafe fix rescales several schedule values together."""
    p = write(tmp_path / "s.yaml", b"max_iter: 90000\nsteps: [60000, 80000]\n")
    src = sources.decode(str(p), "yaml", p.read_bytes())
    from lrlint.api import Result

    spans = [_span(src, str(p), a, b) for a, b in ((10, 15), (24, 29), (31, 36))]
    f = Finding(
        "LR006",
        "schedule-not-rescaled",
        "m",
        ERROR,
        spans[0],
        fix=Fix(
            UNSAFE,
            "Divide the schedule by 4",
            [Edit(spans[0], "22500"), Edit(spans[1], "15000"), Edit(spans[2], "20000")],
        ),
    )
    res = Result(files=[str(p)], sources={str(p): src}, findings=[f])
    assert fix.apply(res, _settings(tmp_path), unsafe=False).changed == {}
    out = fix.apply(res, _settings(tmp_path), unsafe=True)
    assert p.read_bytes() == b"max_iter: 22500\nsteps: [15000, 20000]\n"
    assert out.fixed == {str(p): [fix.Fixed("LR006", "schedule-not-rescaled", ERROR)]}


def test_batch_only_reference_gets_the_lr_recorded_so_a_second_fix_changes_nothing(tmp_path):
    # "# lrlint: reference batch=64" states no lr: it is taken from the file, which the fix changes; without
    # recording it every --fix run would double the lr again
    text = "# lrlint: reference batch=64\ntrain:\n  batch_size: 128\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
    p = write(tmp_path / "c.yaml", text.encode())
    r = check(tmp_path, "--fix", "c.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    fixed = text.replace("batch=64\n", "batch=64 lr=0.1\n").replace("lr: 0.1", "lr: 0.2")
    assert p.read_text() == fixed
    r = check(tmp_path, "--fix", "c.yaml")
    assert (r.returncode, p.read_text()) == (0, fixed)
    p.write_text(text)
    r = run_lrlint("check", "c.yaml", cwd=tmp_path)
    assert "= help: Set train.optimizer.lr to 0.2 and record lr=0.1 in the reference" in r.stdout
