"""What a change of a shared file reaches (its dependents): the real CLI in temporary git repositories laid out
like an MMDetection config tree (``_base_`` dataset and schedule files), a Hydra template (config groups
composed by a primary config) and a Detectron2 tree (``_BASE_``). Pre-commit passes only the changed file."""

from __future__ import annotations

import json
import os

SCHEDULE = """\
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
"""

DATASET = """\
dataset_type = 'CocoDataset'
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(type=dataset_type, ann_file='annotations/instances_train2017.json'))
"""


def _child(model: str) -> str:
    return (
        "_base_ = [\n    '../_base_/datasets/coco_detection.py',\n    '../_base_/schedules/schedule_1x.py',\n]\n"
        f"model = dict(type='{model}')\n"
    )


def _mmdet(repo) -> None:
    repo.write("configs/_base_/schedules/schedule_1x.py", SCHEDULE)
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET)
    repo.write("configs/faster_rcnn/faster-rcnn_r50_fpn_8xb2-1x_coco.py", _child("FasterRCNN"))
    repo.write("configs/retinanet/retinanet_r50_fpn_8xb2-1x_coco.py", _child("RetinaNet"))
    repo.write(
        "configs/retinanet/retinanet_r101_fpn_8xb2-1x_coco.py",
        "_base_ = './retinanet_r50_fpn_8xb2-1x_coco.py'\nmodel = dict(depth=101)\n",
    )
    repo.write("configs/retinanet/retinanet_tta.py", "tta_model = dict(type='DetTTAModel')\n")
    repo.commit()


def _json(proc) -> list[dict]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def _rows(findings, root) -> list[tuple]:
    return [
        (f["code"], os.path.relpath(f["filename"], root), f["location"]["row"], f["location"]["column"])
        for f in findings
    ]


def test_a_shared_dataset_base_halved_with_the_lr_in_a_schedule_file(repo):
    _mmdet(repo)
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET.replace("batch_size=2", "batch_size=1"))
    proc = repo.lrlint("check", "configs/_base_/datasets/coco_detection.py", "--output-format", "json")
    findings = _json(proc)
    assert _rows(findings, repo.path) == [("LR001", "configs/_base_/datasets/coco_detection.py", 3, 16)]
    f = findings[0]
    assert f["message"] == (
        "x0.5 effective batch for 3 configs that inherit this file, lr unchanged: "
        "faster-rcnn_r50_fpn_8xb2-1x_coco.py, retinanet_r101_fpn_8xb2-1x_coco.py, retinanet_r50_fpn_8xb2-1x_coco.py"
    )
    assert f["notes"][0] == (
        "configs/faster_rcnn/faster-rcnn_r50_fpn_8xb2-1x_coco.py: effective batch 16 -> 8 (x0.5) but "
        "optim_wrapper.optimizer.lr stays 0.02; expected 0.01 (linear rule)"
    )
    assert [(os.path.relpath(r["filename"], repo.path), r["location"]["row"]) for r in f["related"]] == [
        ("configs/_base_/schedules/schedule_1x.py", 4)
    ]
    assert f["fix"] is None
    assert proc.returncode == 1


def test_show_dependents_lists_them_all(repo):
    _mmdet(repo)
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET.replace("batch_size=2", "batch_size=4"))
    proc = repo.lrlint(
        "check", "configs/_base_/datasets/coco_detection.py", "--show-dependents", "--output-format", "json"
    )
    (f,) = _json(proc)
    assert f["message"].startswith("x2 effective batch for 3 configs that inherit this file, lr unchanged: ")
    assert f["notes"][1] == (
        "dependents: configs/faster_rcnn/faster-rcnn_r50_fpn_8xb2-1x_coco.py, "
        "configs/retinanet/retinanet_r101_fpn_8xb2-1x_coco.py, configs/retinanet/retinanet_r50_fpn_8xb2-1x_coco.py"
    )


def test_the_lr_scaled_in_the_same_change_is_clean(repo):
    _mmdet(repo)
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET.replace("batch_size=2", "batch_size=1"))
    repo.write("configs/_base_/schedules/schedule_1x.py", SCHEDULE.replace("lr=0.02", "lr=0.01"))
    proc = repo.lrlint("check", "configs/_base_/datasets/coco_detection.py", "configs/_base_/schedules/schedule_1x.py")
    assert proc.returncode == 0, proc.stdout


def test_a_base_brought_to_the_batch_its_users_name_is_a_repair(repo):
    """mmpretrain's 'Fix swin transformer config': the dataset base goes 128 -> 64 per device, the batch the
    tags of every config that inherits it name (16xb64)."""
    repo.write("configs/_base_/schedules/schedule_1x.py", SCHEDULE)
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET.replace("batch_size=2", "batch_size=128"))
    repo.write("configs/swin/swin-tiny_16xb64_in1k.py", _child("Swin").replace("faster", "swin"))
    repo.commit()
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET.replace("batch_size=2", "batch_size=64"))
    proc = repo.lrlint("check", "configs/_base_/datasets/coco_detection.py")
    assert proc.returncode == 0, proc.stdout


def test_a_checked_dependent_is_not_counted_twice(repo):
    """A whole-tree run checks the dependents too: each one that reports the change itself is left out."""
    _mmdet(repo)
    repo.write(
        "configs/_base_/schedules/schedule_1x.py", SCHEDULE + "auto_scale_lr = dict(enable=False, base_batch_size=16)\n"
    )
    repo.commit()
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET.replace("batch_size=2", "batch_size=1"))
    proc = repo.lrlint("check", "configs", "--select", "LR001", "--output-format", "json")
    assert [r[1] for r in _rows(_json(proc), repo.path)] == [
        "configs/faster_rcnn/faster-rcnn_r50_fpn_8xb2-1x_coco.py",
        "configs/retinanet/retinanet_r101_fpn_8xb2-1x_coco.py",
        "configs/retinanet/retinanet_r50_fpn_8xb2-1x_coco.py",
    ]


HYDRA_TRAIN = """\
# @package _global_
defaults:
  - _self_
  - data: mnist
  - model: mnist
  - trainer: default

task_name: "train"
"""


def _hydra(repo) -> None:
    repo.write("configs/train.yaml", HYDRA_TRAIN)
    repo.write("configs/eval.yaml", "# @package _global_\ndefaults:\n  - _self_\n  - data: mnist\n  - model: mnist\n")
    repo.write(
        "configs/data/mnist.yaml",
        "_target_: src.data.mnist_datamodule.MNISTDataModule\ndata_dir: ${paths.data_dir}\nbatch_size: 128\n"
        "num_workers: 0\n",
    )
    repo.write(
        "configs/model/mnist.yaml",
        "_target_: src.models.mnist_module.MNISTLitModule\noptimizer:\n  _target_: torch.optim.Adam\n"
        "  _partial_: true\n  lr: 0.001\n  weight_decay: 0.0\n",
    )
    repo.write("configs/trainer/default.yaml", "_target_: lightning.pytorch.trainer.Trainer\nmax_epochs: 10\n")
    repo.commit()


def test_a_hydra_data_group_changed_with_the_lr_in_the_model_group(repo):
    _hydra(repo)
    repo.write("configs/data/mnist.yaml", (repo.path / "configs/data/mnist.yaml").read_text().replace("128", "512"))
    proc = repo.lrlint("check", "configs/data/mnist.yaml", "--output-format", "json")
    findings = _json(proc)
    assert _rows(findings, repo.path) == [("LR001", "configs/data/mnist.yaml", 3, 13)]
    f = findings[0]
    assert f["message"] == (
        "x4 effective batch for 2 configs that compose this file, lr unchanged: eval.yaml, train.yaml"
    )
    assert f["notes"][0] == (
        "configs/eval.yaml: effective batch 128 -> 512 (x4) but model.optimizer.lr stays 0.001; "
        "expected 0.002 (square-root rule)"
    )


def test_an_unused_group_option_has_no_dependents(repo):
    _hydra(repo)
    repo.write("configs/data/cifar.yaml", "_target_: src.data.Cifar\nbatch_size: 64\n")
    repo.commit()
    repo.write("configs/data/cifar.yaml", "_target_: src.data.Cifar\nbatch_size: 256\n")
    assert repo.lrlint("check", "configs/data/cifar.yaml").returncode == 0


DETECTRON2_BASE = """\
MODEL:
  META_ARCHITECTURE: "GeneralizedRCNN"
SOLVER:
  IMS_PER_BATCH: 16
  BASE_LR: 0.02
  STEPS: (60000, 80000)
  MAX_ITER: 90000
"""


def test_a_detectron2_base_with_its_own_finding_names_its_dependents_in_a_note(repo):
    repo.write("configs/Base-RCNN-FPN.yaml", DETECTRON2_BASE)
    for name in ("faster_rcnn_R_50_FPN_1x", "faster_rcnn_R_101_FPN_3x"):
        repo.write(f"configs/COCO-Detection/{name}.yaml", '_BASE_: "../Base-RCNN-FPN.yaml"\nMODEL:\n  MASK_ON: False\n')
    repo.commit()
    repo.write("configs/Base-RCNN-FPN.yaml", DETECTRON2_BASE.replace("IMS_PER_BATCH: 16", "IMS_PER_BATCH: 32"))
    proc = repo.lrlint("check", "configs/Base-RCNN-FPN.yaml", "--select", "LR001", "--output-format", "json")
    findings = _json(proc)
    assert [r[:3] for r in _rows(findings, repo.path)] == [("LR001", "configs/Base-RCNN-FPN.yaml", 4)]
    assert findings[0]["message"] == (
        "effective batch 16 -> 32 (x2) but SOLVER.BASE_LR stays 0.02; expected 0.04 (linear rule)"
    )
    assert findings[0]["notes"][2] == (
        "the change reaches 2 configs that inherit this file: faster_rcnn_R_101_FPN_3x.yaml, "
        "faster_rcnn_R_50_FPN_1x.yaml"
    )
