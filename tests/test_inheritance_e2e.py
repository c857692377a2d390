"""End-to-end inheritance: real-looking trees under tests/fixtures/inherit/, the real CLI,
exact findings, locations and expected values; the base file's lines appear in the code frame."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_lrlint

from lrlint import profiles

FIXTURES = Path(__file__).parent / "fixtures" / "inherit"
SUMMARY = ("Found", "[*]", "All checks", "note:")


def tree(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copytree(FIXTURES / name, dst)
    return dst


def concise(cwd: Path, *args: str) -> tuple[int, list[str]]:
    r = run_lrlint("check", "--output-format", "concise", *args, cwd=cwd)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, [
        ln for ln in r.stdout.splitlines() if ln and not ln.startswith(SUMMARY) and "hidden fix" not in ln
    ]


def noted(cwd: Path, *args: str) -> list[tuple[str, list[str]]]:
    """Each finding's concise headline line (without the severity's fix marker) and its notes."""
    r = run_lrlint("check", "--output-format", "json", *args, cwd=cwd)
    out = []
    for f in json.loads(r.stdout):
        path = Path(f["filename"]).relative_to(cwd.resolve()).as_posix()
        loc = f["location"]
        out.append((f"{path}:{loc['row']}:{loc['column']}: {f['code']} {f['message']}", f["notes"]))
    return out


def _mmengine_inherits() -> bool:
    return any(p.name == "mmengine" and p.inherit is not None for p in profiles.builtin_profiles())


D2 = "configs/COCO-Detection/faster_rcnn_R_50_FPN_1x_64.yaml"
M3 = "configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml"
AUTO = "configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x_lr_auto.yaml"


def test_detectron2_tree_exact_findings(tmp_path):
    root = tree(tmp_path, "detectron2")
    code, lines = concise(root, "configs")
    assert code == 1
    assert lines == [
        f"{D2}:3:18: LR001 [*] error: effective batch 16 -> 64 (x4) but SOLVER.BASE_LR stays 0.02; "
        "expected 0.08 (linear rule)",
        f"{D2}:3:18: LR006 warning: effective batch 16 -> 64 (x4) but the step-based SOLVER.MAX_ITER stays 90000; "
        "expected 22500 (divided by 4)",
        f"{D2}:3:18: LR006 warning: effective batch 16 -> 64 (x4) but the step-based SOLVER.STEPS stays 60000, 80000; "
        "expected 15000, 20000 (divided by 4)",
        # REFERENCE_WORLD_SIZE rescales from the file's own IMS_PER_BATCH/BASE_LR for other worker counts:
        # the child's edit of IMS_PER_BATCH (16 -> 32) with the inherited lr is not compensated by anyone
        f"{AUTO}:3:18: LR001 [*] error: effective batch 16 -> 32 (x2) but SOLVER.BASE_LR stays 0.02; "
        "expected 0.04 (linear rule)",
        f"{AUTO}:3:18: LR006 warning: effective batch 16 -> 32 (x2) but the step-based SOLVER.MAX_ITER stays 270000; "
        "expected 135000 (divided by 2)",
        f"{AUTO}:3:18: LR006 warning: effective batch 16 -> 32 (x2) but the step-based SOLVER.STEPS stays "
        "210000, 250000; "
        "expected 105000, 125000 (divided by 2)",
    ]
    vs = "compared with the base config configs/COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml (batch 16, lr 0.02)"
    vs3 = f"compared with the base config {M3} (batch 16, lr 0.02)"
    d2_policy = "policy for SGD (SGD family, Detectron2 (yacs) default): linear rule"
    assert [n for _, n in noted(root, "configs")] == [
        [d2_policy, vs],
        ["SOLVER.MAX_ITER is inherited from configs/Base-RCNN-FPN.yaml", vs],
        ["SOLVER.STEPS is inherited from configs/Base-RCNN-FPN.yaml", vs],
        [d2_policy, vs3],
        [f"SOLVER.MAX_ITER is inherited from {M3}", vs3],
        [f"SOLVER.STEPS is inherited from {M3}", vs3],
    ]
    # silent: the scaled sibling (lr x4, schedule /4), the 3x child (own schedule, same batch), and the child that only
    # sets REFERENCE_WORLD_SIZE (same pair, rescaled at run time for other worker counts)


def test_detectron2_code_frame_shows_the_base_lines_and_json_data(tmp_path):
    root = tree(tmp_path, "detectron2")
    r = run_lrlint("check", D2, cwd=root)
    assert " ::: configs/Base-RCNN-FPN.yaml:12:12" in r.stdout
    assert "12 |   BASE_LR: 0.02\n   |            ---- tuned for batch 16\n" in r.stdout
    assert "11 |   IMS_PER_BATCH: 16" in r.stdout and "inheritance reference" in r.stdout
    r = run_lrlint("check", "--output-format", "json", D2, cwd=root)
    lr001 = next(f for f in json.loads(r.stdout) if f["code"] == "LR001")
    assert lr001["data"]["reference"] == {
        "kind": "inheritance",
        "label": "base configs/COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml",
    }
    assert (
        lr001["data"]["batch_old"],
        lr001["data"]["batch_new"],
        lr001["data"]["lr_old"],
        lr001["data"]["expected_lr"],
    ) == (16, 64, 0.02, 0.08)
    lr006 = sorted((f["data"]["key"], f["data"]["expected"]) for f in json.loads(r.stdout) if f["code"] == "LR006")
    assert lr006 == [("SOLVER.MAX_ITER", 22500), ("SOLVER.STEPS", [15000, 20000])]


def test_detectron2_fix_overrides_the_inherited_lr_in_the_child_never_the_base(tmp_path):
    root = tree(tmp_path, "detectron2")
    base_before = (root / "configs/Base-RCNN-FPN.yaml").read_bytes()
    r = run_lrlint("check", "--fix", D2, cwd=root)
    assert "Traceback" not in r.stderr, r.stderr
    assert (
        root / D2
    ).read_text() == '_BASE_: "faster_rcnn_R_50_FPN_1x.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n'
    assert (root / "configs/Base-RCNN-FPN.yaml").read_bytes() == base_before
    code, lines = concise(root, D2, "--select", "LR001,LR002")
    assert (code, lines) == (0, [])


def test_hydra_experiments_exact_findings(tmp_path):
    root = tree(tmp_path, "hydra")
    code, lines = concise(root, "configs")
    assert code == 1
    assert lines == [
        "configs/experiment/example.yaml:13:9: LR002 [*] error: effective batch 128 -> 64 (x0.5) and "
        "model.optimizer.lr "
        "0.001 -> 0.002 (x2); the lr moved the wrong way; expected 0.00071 (square-root rule)",
        # data.batch_size changed through the defaults list (override /data: mnist_large): reported on that line
        "configs/experiment/large_batch.yaml:4:21: LR001 [*] error: effective batch 128 -> 512 (x4) but "
        "model.optimizer.lr stays 0.001; expected 0.002 (square-root rule)",
    ]
    vs = "compared with the base config configs/train.yaml (batch 128, lr 0.001)"
    assert [n for _, n in noted(root, "configs")] == [
        ["policy for Adam (adaptive): square-root to linear rule, lr x0.5 to x0.7071 accepted", vs],
        ["policy for Adam (adaptive): square-root to linear rule; the linear rule gives 0.004", vs],
    ]
    # env_lr.yaml: the lr is ${oc.env:MNIST_LR,0.001}: unknown statically, no finding, explained in json data
    r = run_lrlint("check", "--output-format", "json", "configs/experiment/large_batch.yaml", cwd=root)
    [f] = json.loads(r.stdout)
    assert f["data"]["reference"]["kind"] == "inheritance" and f["data"]["expected_lr"] == pytest.approx(0.002)


def test_hydra_fix_writes_the_override_into_the_experiment(tmp_path):
    root = tree(tmp_path, "hydra")
    r = run_lrlint("check", "--fix", "configs/experiment/large_batch.yaml", cwd=root)
    assert "Traceback" not in r.stderr, r.stderr
    assert (
        (root / "configs/experiment/large_batch.yaml")
        .read_text()
        .endswith('tags: ["mnist", "large_batch"]\nmodel:\n  optimizer:\n    lr: 0.002\n')
    )
    assert (root / "configs/model/mnist.yaml").read_text().count("lr: 0.001") == 1


@pytest.mark.skipif(
    not _mmengine_inherits(), reason="the MMEngine profile (rules/frameworks/mmengine.yaml) has no inherit section yet"
)
def test_mmdetection_tree_exact_findings(tmp_path):
    root = tree(tmp_path, "mmdet")
    code, lines = concise(root, "configs")
    sched = "configs/_base_/schedules/schedule_1x.py"
    warm = "but the step-based param_scheduler.0.end stays 500; expected {e} ({how})"
    retina = "configs/retinanet/retinanet_r50_fpn_8xb2-1x_coco.py"
    fr = "configs/faster_rcnn/faster-rcnn_r50_fpn_8xb4-1x_coco.py"
    r2, r4, r8 = (f"configs/retinanet/retinanet_r50_fpn_{n}-1x_coco.py" for n in ("2xb8", "4xb8", "8xb4"))
    assert code == 1
    found = noted(root, "configs")
    assert [line for line, _ in found] == [
        f"{fr}:2:36: LR006 effective batch 16 -> 32 (x2) " + warm.format(e=250, how="divided by 2"),
        f"{fr}:3:40: LR007 effective batch 16 -> 32 (x2) and optim_wrapper.optimizer.lr 0.02 -> 0.04 by hand, but the "
        "runtime scales it too; expected 0.02",
        f"{fr}:4:29: LR007 auto_scale_lr.base_batch_size = 16, but optim_wrapper.optimizer.lr 0.04 was written for "
        "batch 32; expected auto_scale_lr.base_batch_size = 32",
        # 2xb8 writes its own lr next to its own tag: a recipe of its own; its name and content disagree (LR004)
        f"{r2}:2:40: LR004 file name retinanet_r50_fpn_2xb8-1x_coco.py says 2xb8: 2 devices x 8 per device = 16, "
        "but train_dataloader.batch_size is 2: rename the file or set the batch it names",
        f"{r4}:2:36: LR001 effective batch 16 -> 32 (x2) but optim_wrapper.optimizer.lr stays 0.01; expected 0.02 "
        "(linear rule)",
        f"{r4}:2:36: LR006 effective batch 16 -> 32 (x2) " + warm.format(e=250, how="divided by 2"),
        # 8xb4 scaled its lr (0.01 -> 0.02): only the warmup length is left
        f"{r8}:2:36: LR006 effective batch 16 -> 32 (x2) " + warm.format(e=250, how="divided by 2"),
    ]
    inherited = f"param_scheduler.0.end is inherited from {sched}"
    auto = f"compared with auto_scale_lr.base_batch_size = 16 in {sched}"
    sgd = "policy for SGD (SGD family): linear rule"
    assert [n for _, n in found] == [
        [
            inherited,
            "compared with the base config configs/faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py (batch 16, lr 0.02)",
            "8 devices from the file name (8xb4)",
        ],
        [
            "MMEngine scales the lr by world_size x batch_size / auto_scale_lr.base_batch_size at run time "
            "(auto_scale_lr.enable=True): the lr is scaled twice",
            f"{auto} (batch 16, lr 0.02)",
            "8 devices from the file name (8xb4)",
        ],
        [
            "file name 8xb4: 8 devices x 4 per device = 32",
            "MMEngine scales the lr by world_size x batch_size / auto_scale_lr.base_batch_size at run time: it scales "
            "from the wrong base, x2 off",
            f"auto_scale_lr.base_batch_size is set in {sched}",
        ],
        ["train_dataloader.batch_size is inherited from configs/_base_/datasets/coco_detection.py"],
        # the retinanet base sets its own lr (0.01) below the schedule that declares batch 16 for lr 0.02: the
        # child compares with the base config, where 0.01 was tuned, not with the schedule's declaration
        [sgd, f"compared with the base config {retina} (batch 16, lr 0.01)", "4 devices from the file name (4xb8)"],
        [
            inherited,
            f"compared with the base config {retina} (batch 16, lr 0.01)",
            "4 devices from the file name (4xb8)",
        ],
        [
            inherited,
            f"compared with the base config {retina} (batch 16, lr 0.01)",
            "8 devices from the file name (8xb4)",
        ],
    ]
    assert [line.split(": ", 2)[1] for line in lines] == [
        "LR006 warning",
        "LR007 error",
        "LR007 error",
        "LR004 warning",
        "LR001 [*] error",
        "LR006 warning",
        "LR006 warning",
    ]


@pytest.mark.skipif(
    not _mmengine_inherits(), reason="the MMEngine profile (rules/frameworks/mmengine.yaml) has no inherit section yet"
)
def test_mmdetection_child_lr001_shows_the_base_lr_line_and_fixes_the_child(tmp_path):
    root = tree(tmp_path, "mmdet")
    child = "configs/retinanet/retinanet_r50_fpn_4xb8-1x_coco.py"
    r = run_lrlint("check", "--select", "LR001", child, cwd=root)
    assert " ::: configs/retinanet/retinanet_r50_fpn_8xb2-1x_coco.py:8:35" in r.stdout
    assert (
        "lr=0.01, momentum=0.9, weight_decay=0.0001))\n  |                                   ---- tuned for batch 16\n"
        in r.stdout
    )
    run_lrlint("check", "--select", "LR001", "--fix", child, cwd=root)
    assert (root / child).read_text() == (
        "_base_ = './retinanet_r50_fpn_8xb2-1x_coco.py'\ntrain_dataloader = dict(batch_size=8)\n"
        "optim_wrapper = dict(optimizer=dict(lr=0.02))\n"
    )


# -- MMEngine pure-Python configs: ``with read_base():`` imports are the bases ---------------------------

R4 = "configs/retinanet/retinanet_r50_fpn_4xb8_1x_coco.py"
R84 = "configs/retinanet/retinanet_r50_fpn_8xb4_1x_coco.py"


def test_read_base_tree_exact_findings(tmp_path):
    root = tree(tmp_path, "mmdet_pure")
    code, lines = concise(root, "configs")
    sched = "configs/_base_/schedules/schedule_1x.py"
    warm = (
        "LR006 warning: effective batch 16 -> 32 (x2) but the step-based param_scheduler.0.end stays 500; "
        "expected 250 (divided by 2)"
    )
    lr001 = (
        "LR001 [*] error: effective batch 16 -> 32 (x2) but optim_wrapper.optimizer.lr stays 0.02; expected 0.04 "
        "(linear rule)"
    )
    assert code == 1
    # ``train_dataloader = dict(...)`` rebinds the name: batch 4 from the child, the base's other keys gone
    assert lines == [f"{R4}:7:36: {lr001}", f"{R4}:7:36: {warm}", f"{R84}:7:36: {lr001}", f"{R84}:7:36: {warm}"]
    auto = f"compared with auto_scale_lr.base_batch_size = 16 in {sched} (batch 16, lr 0.02)"
    base = "compared with the base config configs/retinanet/retinanet_r50_fpn_8xb2_1x_coco.py (batch 16, lr 0.02)"
    inherited = f"param_scheduler.0.end is inherited from {sched}"
    assert [n for _, n in noted(root, "configs")] == [
        ["policy for SGD (SGD family): linear rule", auto, "4 devices from the file name (4xb8)"],
        [inherited, base, "4 devices from the file name (4xb8)"],
        ["policy for SGD (SGD family): linear rule", auto, "8 devices from the file name (8xb4)"],
        [inherited, base, "8 devices from the file name (8xb4)"],
    ]
    # silent: the 8xb2 config itself (16 = its bases' batch), the _lr sibling (lr and base_batch_size scaled);
    # the absolute import (an installed package's file) is left out, not reported


def test_read_base_assignment_replaces_the_inherited_dict(tmp_path):
    import os

    from lrlint import api
    from lrlint.settings import Settings

    root = tree(tmp_path, "mmdet_pure")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = api.check_paths([R84, R4], Settings())
    finally:
        os.chdir(cwd)
    rebound = result.recipes[R84][0].doc.values
    assert rebound["train_dataloader.batch_size"].value == 4 and rebound["train_dataloader.num_workers"].value == 4
    assert "train_dataloader.persistent_workers" not in rebound and "train_dataloader.sampler.shuffle" not in rebound
    updated = result.recipes[R4][0].doc.values  # .update() keeps the rest
    assert (
        updated["train_dataloader.batch_size"].value == 8
        and updated["train_dataloader.persistent_workers"].value is True
    )
    assert updated["optim_wrapper.optimizer.lr"].span.path == "configs/_base_/schedules/schedule_1x.py"


def test_read_base_fix_assigns_the_attribute_not_a_new_dict(tmp_path):
    # ``optim_wrapper = dict(optimizer=dict(lr=0.04))`` would drop the inherited optimizer type and momentum
    root = tree(tmp_path, "mmdet_pure")
    before = (root / R4).read_text()
    r = run_lrlint("check", "--select", "LR001", "--fix", R4, cwd=root)
    assert "Traceback" not in r.stderr, r.stderr
    assert (root / R4).read_text() == before + "optim_wrapper.optimizer.lr = 0.04\n"
    assert concise(root, "--select", "LR001", R4) == (0, [])


def test_read_base_named_import_takes_only_those_names(tmp_path):
    # ``from ..x import optim_wrapper``: the schedule file's lr, but not its auto_scale_lr declaration
    root = tree(tmp_path, "mmdet_pure")
    child = root / "configs/retinanet/retinanet_r50_fpn_named.py"
    child.write_text(
        "from mmengine.config import read_base\n\nwith read_base():\n"
        "    from .._base_.datasets.coco_detection import train_dataloader\n"
        "    from .._base_.schedules.schedule_1x import optim_wrapper\n\n"
        "train_dataloader.update(batch_size=8)\n"
    )
    import os

    from lrlint import api
    from lrlint.settings import Settings

    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = api.check_paths(["configs/retinanet/retinanet_r50_fpn_named.py"], Settings())
    finally:
        os.chdir(cwd)
    values = result.recipes["configs/retinanet/retinanet_r50_fpn_named.py"][0].doc.values
    assert values["optim_wrapper.optimizer.lr"].value == 0.02 and values["train_dataloader.batch_size"].value == 8
    assert not any(
        k.startswith(("auto_scale_lr", "train_cfg", "param_scheduler", "dataset_type", "data_root")) for k in values
    )


def test_a_finding_from_a_base_is_reported_at_the_profiles_inherit_key(tmp_path):
    """A user profile names its bases under ``extends``: a finding about a value of the base is reported at
    the child's ``extends`` line (the inherit.key of the profile, not a fixed list of names), the base's
    line kept as a related location."""
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\nprofiles = ["mycfg.yaml"]\n')
    (tmp_path / "mycfg.yaml").write_text(
        "name: mycfg\ntitle: My configs\npriority: 90\n"
        "detect: {keys: [extends, train.batch, train.lr], min_score: 2}\n"
        "roles: {batch_per_device: [train.batch], lr: [train.lr]}\n"
        "defaults: {optimizer: SGD}\n"
        "inherit: {key: extends, kind: path}\n"
    )
    (tmp_path / "base.yaml").write_text("train:\n  batch: 128\n  lr: 0.1\n")
    (tmp_path / "child.yaml").write_text("# lrlint: reference batch=32 lr=0.1\nextends: base.yaml\nname: child\n")
    r = run_lrlint("check", "--output-format", "json", "child.yaml", cwd=tmp_path)
    [f] = json.loads(r.stdout)
    assert (f["code"], f["filename"].rsplit("/", 1)[-1], f["location"]) == (
        "LR001",
        "child.yaml",
        {"row": 2, "column": 10},
    )
    assert f["message"].startswith("effective batch 32 -> 128 (x4) but train.lr stays 0.1")
    related = [(x["filename"].rsplit("/", 1)[-1], x["location"]["row"], x["message"]) for x in f["related"]]
    assert related[0] == ("base.yaml", 2, "inherited from here")
