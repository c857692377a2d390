"""The real-repository harness's pure parts on synthetic lrlint JSON (no mirrors, no git, no lrlint run)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench" / "realworld"))
import harness  # noqa: E402

ROOT = "/tmp/tree/mmpose"
C = "a" * 40
P = "b" * 40


def raw(code="LR001", path="configs/x_8xb32.py", row=12, message="effective batch 512 -> 256 (x0.5)", **data):
    return {
        "code": code,
        "message": message,
        "severity": "error",
        "filename": f"{ROOT}/{path}",
        "location": {"row": row, "column": 5},
        "data": data or {"lr_key": "optim_wrapper.optimizer.lr"},
    }


def rec(commit=C, **kw):
    return harness.record(raw(**kw), repo="mmpose", commit=commit, root=ROOT)


def test_record_takes_the_key_path_of_the_flagged_value_as_anchor():
    r = rec()
    assert r == {
        "repo": "mmpose",
        "commit": C,
        "path": "configs/x_8xb32.py",
        "line": 12,
        "rule": "LR001",
        "anchor": "optim_wrapper.optimizer.lr",
        "message": "effective batch 512 -> 256 (x0.5)",
        "severity": "error",
        "lrlint_pre_existing": None,
        "ref": None,
    }
    assert rec(code="LR006", key="param_scheduler.0.end")["anchor"] == "param_scheduler.0.end"
    assert rec(code="LR004", tag="8xb2", key="train_dataloader.batch_size")["anchor"] == "train_dataloader.batch_size"
    assert harness.record({"code": "LR901", "filename": "a.py"}, repo="r", commit=C, root=ROOT)["anchor"] == ""


def test_relative_path_keeps_paths_outside_the_tree():
    assert harness.relative_path(f"{ROOT}/configs/a.py", ROOT) == "configs/a.py"
    assert harness.relative_path("./configs/a.py", ROOT) == "configs/a.py"
    assert harness.relative_path("HEAD:configs/a.py", ROOT) == "HEAD:configs/a.py"


def test_messages_match_modulo_line_numbers_and_renamed_paths():
    a = "lr tuned for batch 16 [vs inline reference (line 3)]; inherited from configs/_base_/s.py:14"
    b = "lr tuned for batch 16 [vs inline reference (line 9)]; inherited from configs/_base_/s.py:20"
    assert harness.normalize_message(a) == harness.normalize_message(b)
    old = "stays 0.02 (inherited from configs/old/base.py)"
    new = "stays 0.02 (inherited from configs/new/base.py)"
    assert harness.normalize_message(old, {"configs/old/base.py": "configs/new/base.py"}) == harness.normalize_message(
        new
    )
    assert harness.normalize_message("batch 16 -> 32") != harness.normalize_message("batch 16 -> 64")


def test_pre_existing_is_the_same_finding_at_the_parent():
    now = [rec(row=30), rec(path="configs/y.py", row=4), rec(code="LR006", row=7, key="train_cfg.max_iters")]
    before = [rec(commit=P, row=28), rec(commit=P, code="LR006", row=7, key="train_cfg.max_iters", message="other")]
    marked = harness.mark_pre_existing(now, before)
    assert [m["pre_existing"] for m in marked] == [True, False, False]
    assert {m["pre_existing_source"] for m in marked} == {"harness"}
    assert harness.mark_pre_existing(now, None)[0]["pre_existing"] is False


def test_a_finding_decided_by_the_same_declared_reference_is_pre_existing_whatever_git_adds():
    declared = {"kind": "declared", "label": "auto_scale_lr.base_batch_size = 1024"}
    nums = {"lr_key": "optim_wrapper.optimizer.lr", "batch_old": 1024.0, "batch_new": 512.0, "lr_new": 0.004}
    at_parent = rec(
        commit=P, message="batch 1024 -> 512 [vs auto_scale_lr.base_batch_size = 1024]", reference=declared, **nums
    )
    with_git = (
        "batch 1024 -> 512 [vs auto_scale_lr.base_batch_size = 1024; "
        "git 6cfa60239d (merge base 6cfa60239d) had batch 512; the declared reference wins]"
    )
    now = rec(message=with_git, reference=declared, **nums)
    assert now["ref"] == {**declared, "batch_old": 1024.0, "batch_new": 512.0, "lr_new": 0.004}
    assert harness.mark_pre_existing([now], [at_parent])[0]["pre_existing"] is True
    by_git = rec(message=with_git, reference={"kind": "git", "label": "git 6cfa60239d"}, **nums)
    assert harness.mark_pre_existing([by_git], [at_parent])[0]["pre_existing"] is False
    other_batch = rec(message=with_git, reference=declared, **{**nums, "batch_new": 256.0})
    assert harness.mark_pre_existing([other_batch], [at_parent])[0]["pre_existing"] is False
    assert harness.normalize_message(with_git) == harness.normalize_message(at_parent["message"])
    assumed = "x [vs git 1a2b3c4d5e6f (merge base 1a2b3c4d5e); devices not in the file: assumed unchanged]"
    assert harness.normalize_message(assumed) == "x [vs git 1a2b3c4d5e6f (merge base 1a2b3c4d5e)]"


def test_pre_existing_follows_a_rename_and_counts_each_parent_finding_once():
    now = [rec(path="configs/new/a.py"), rec(path="configs/new/a.py", row=40)]
    before = [rec(commit=P, path="configs/old/a.py")]
    marked = harness.mark_pre_existing(now, before, {"configs/old/a.py": "configs/new/a.py"})
    assert [m["pre_existing"] for m in marked] == [True, False]


def test_lrlint_own_pre_existing_flag_wins():
    r = harness.record({**raw(), "pre_existing": True}, repo="mmpose", commit=C, root=ROOT)
    d = harness.record(raw(lr_key="lr", pre_existing=False), repo="mmpose", commit=C, root=ROOT)
    marked = harness.mark_pre_existing([r, d], [rec(commit=P, lr_key="lr")])
    assert [(m["pre_existing"], m["pre_existing_source"]) for m in marked] == [(True, "lrlint"), (False, "lrlint")]


def label(line=12, verdict="true", commit=C[:12], **kw):
    base = {
        "repo": "mmpose",
        "commit": commit,
        "path": "configs/x_8xb32.py",
        "line": line,
        "rule": "LR001",
        "anchor": "optim_wrapper.optimizer.lr",
        "verdict": verdict,
        "reason": "8xb32 = 256, lr 5e-4 tuned at 512",
    }
    return {**base, **kw}


def test_labels_match_on_key_with_the_nearest_line_each_used_once():
    findings = [rec(row=15), rec(row=40), rec(row=41, path="configs/other.py")]
    labels = [label(line=39, verdict="false"), label(line=12), label(line=41, commit="c" * 12)]
    assert harness.match_labels(findings, labels) == [(0, 1), (1, 0), (2, None)]
    counts = harness.verdict_counts(findings, labels)
    assert counts == {"true": 1, "defensible": 0, "false": 1, "unlabelled": 1}
    assert harness.precision(counts) == 0.5
    assert harness.precision({"true": 0, "defensible": 0, "false": 0, "unlabelled": 3}) is None


def test_a_label_survives_a_line_move_but_not_another_anchor():
    moved = rec(row=99)
    assert harness.match_labels([moved], [label(line=12)]) == [(0, 0)]
    other = rec(lr_key="optim_wrapper.optimizer.other_lr")
    assert harness.match_labels([other], [label()]) == [(0, None)]
    assert harness.match_labels([rec()], [label(commit="aaaaaa")]) == [(0, None)]  # too short a prefix


def test_a_pre_existing_finding_takes_the_verdict_of_the_same_finding_labelled_where_it_was_caused():
    caused_at_p = label(commit=P[:12], line=30, verdict="false")
    again = harness.mark_pre_existing([rec(row=31)], [rec(commit=P, row=30)])
    assert again[0]["pre_existing"] is True
    assert harness.verdicts(again, [caused_at_p]) == ["false"]
    fresh = harness.mark_pre_existing([rec(row=31)], None)  # caused here: needs a label of its own commit
    assert harness.verdicts(fresh, [caused_at_p]) == ["unlabelled"]


def test_bulk_labels_cover_a_repeated_fact_after_the_individual_labels():
    moved = [
        rec(code="LR906", path=f"configs/legacy/a{n}.py", message="base config cannot be read", tag="")
        for n in range(3)
    ]
    first = label(path="configs/legacy/a0.py", rule="LR906", anchor="", verdict="defensible")
    bulk = [
        {
            "repo": "mmpose",
            "commit": C[:12],
            "rule": "LR906",
            "path": "configs/legacy/*",
            "message": "cannot be read",
            "verdict": "false",
            "reason": "duplicates of one folder move",
        }
    ]
    assert harness.verdicts(moved, [first], bulk) == ["defensible", "false", "false"]
    assert harness.verdicts(moved, [], [{**bulk[0], "commit": P[:12]}]) == ["unlabelled"] * 3
    assert harness.verdict_counts(moved, [first], bulk) == {"true": 0, "defensible": 1, "false": 2, "unlabelled": 0}


def test_a_miss_is_caught_only_by_a_caused_lr_finding_on_its_path_and_commit():
    miss = {"repo": "mmpose", "commit": C[:10], "path": "configs/x_8xb32.py", "kind": "dataset-base", "change": "-"}
    caused = harness.mark_pre_existing([rec()], None)
    assert harness.miss_caught(miss, caused)
    assert not harness.miss_caught(miss, harness.mark_pre_existing([rec()], [rec(commit=P)]))
    assert not harness.miss_caught(miss, harness.mark_pre_existing([rec(code="LR006", key="k")], None))
    assert not harness.miss_caught({**miss, "commit": P[:10]}, caused)
    assert harness.miss_caught({**miss, "path": "configs/_base_/d.py", "also_paths": ["configs/x_8xb32.py"]}, caused)


def test_label_problems_name_the_entry():
    bad = [label(verdict="maybe", line=3), label(), label()]
    del bad[0]["reason"]
    problems = harness.label_problems(bad, [{"repo": "mmpose", "commit": C}], [{"repo": "mmpose", "verdict": "no"}])
    key = ("mmpose", C[:12], "configs/x_8xb32.py", "LR001", "optim_wrapper.optimizer.lr", 12)
    assert problems == [
        "bulk[0]: no rule",
        "bulk[0]: no reason",
        "bulk[0]: verdict 'no' is not one of true, defensible, false",
        "findings[0]: no reason",
        "findings[0]: verdict 'maybe' is not one of true, defensible, false",
        f"findings[2]: duplicate of an earlier label {key}",
        "misses[0]: no path",
        "misses[0]: no kind",
        "misses[0]: no change",
        "misses[0]: no why",
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("configs/a/b.py", True),
        ("configs/a/README.md", False),
        ("projects/ViTDet/configs/COCO/m.py", True),
        ("projects/ViTDet/tools/x.py", False),
        ("train.py", True),
        ("train.pyc", False),
    ],
)
def test_config_paths_follow_the_manifest_folders(path, expected):
    folders = ["configs", "projects/*/configs", "train.py"]
    assert harness.is_config_path(path, folders, (".py", ".yaml")) is expected


def test_the_committed_labels_and_manifest_are_well_formed():
    here = HERE.parent / "bench" / "realworld"
    manifest = yaml.safe_load((here / "manifest.yaml").read_text())
    names = [r["name"] for r in manifest["repositories"]]
    assert len(names) == len(set(names)) >= 12
    for r in manifest["repositories"]:
        assert len(r["commit"]) == 40 and r["folders"]
    labels_file = here / "labels.yaml"
    if labels_file.exists():
        doc = yaml.safe_load(labels_file.read_text()) or {}
        findings, misses, bulk = doc.get("findings") or [], doc.get("misses") or [], doc.get("bulk") or []
        assert harness.label_problems(findings, misses, bulk) == []
        assert len(findings) >= 150
        assert {lab["repo"] for lab in [*findings, *misses, *bulk]} <= set(names)
