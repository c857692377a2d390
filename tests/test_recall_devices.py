"""``lrlint check --devices N [--nodes M]``: "I only have 4 GPUs, the config says 8xb2: what lr?" (the real CLI in
temporary git repositories laid out like MMDetection and a Lightning config)."""

from __future__ import annotations

import json
import os

SCHEDULE = """\
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)
"""

DATASET = """\
dataset_type = 'CocoDataset'
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(type=dataset_type, ann_file='annotations/instances_train2017.json'))
"""

CHILD = """\
_base_ = [
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py',
]
model = dict(type='FasterRCNN')
"""

CHILD_PATH = "configs/faster_rcnn/faster-rcnn_r50_fpn_8xb2-1x_coco.py"


def _mmdet(repo, child: str = CHILD) -> None:
    repo.write("configs/_base_/schedules/schedule_1x.py", SCHEDULE)
    repo.write("configs/_base_/datasets/coco_detection.py", DATASET)
    repo.write(CHILD_PATH, child)
    repo.commit()


def _json(proc) -> list[dict]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_fewer_devices_than_the_tag_is_an_lr001_with_the_lr_for_the_run(repo):
    _mmdet(repo)
    proc = repo.lrlint("check", CHILD_PATH, "--devices", "4", "--output-format", "json")
    findings = _json(proc)
    assert [(f["code"], os.path.relpath(f["filename"], repo.path), f["location"]["row"]) for f in findings] == [
        ("LR001", CHILD_PATH, 1)
    ]
    f = findings[0]
    assert f["message"] == (
        "effective batch 16 -> 8 (x0.5) but optim_wrapper.optimizer.lr stays 0.02; expected 0.01 (linear rule)"
    )
    assert f["notes"][1] == (
        "compared with the config as written for 8 devices (file name 8xb2), run here with --devices 4 "
        "(batch 16, lr 0.02)"
    )
    assert f["data"]["expected_lr"] == 0.01
    assert proc.returncode == 1


def test_fix_writes_the_lr_for_the_run_and_is_stable(repo):
    _mmdet(repo)
    proc = repo.lrlint("check", CHILD_PATH, "--devices", "4", "--fix")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (repo.path / CHILD_PATH).read_text() == CHILD + "optim_wrapper = dict(optimizer=dict(lr=0.01))\n"
    # the fixed lr is compared with the committed config's: nothing to scale again
    again = repo.lrlint("check", CHILD_PATH, "--devices", "4", "--select", "LR001")
    assert again.returncode == 0, again.stdout


def test_the_devices_and_nodes_of_the_tag_are_clean(repo):
    _mmdet(repo)
    assert repo.lrlint("check", CHILD_PATH, "--devices", "4", "--nodes", "2").returncode == 0
    assert repo.lrlint("check", CHILD_PATH, "--devices", "8").returncode == 0
    assert repo.lrlint("check", CHILD_PATH).returncode == 0


def test_more_nodes_is_a_larger_batch(repo):
    _mmdet(repo)
    proc = repo.lrlint("check", CHILD_PATH, "--devices", "8", "--nodes", "2", "--output-format", "concise")
    assert proc.stdout.splitlines()[0] == (
        f"{CHILD_PATH}:1:10: LR001 [*] error: effective batch 16 -> 32 (x2) but optim_wrapper.optimizer.lr stays "
        "0.02; expected 0.04 (linear rule)"
    )


def test_unsafe_fixes_rescale_an_iteration_schedule_too(repo):
    child = CHILD + "train_cfg = dict(type='IterBasedTrainLoop', max_iters=90000, val_interval=5000)\n"
    _mmdet(repo, child)
    proc = repo.lrlint("check", CHILD_PATH, "--devices", "4", "--fix", "--unsafe-fixes")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (repo.path / CHILD_PATH).read_text() == (
        CHILD
        + "train_cfg = dict(type='IterBasedTrainLoop', max_iters=180000, val_interval=5000)\n"
        + "optim_wrapper = dict(optimizer=dict(lr=0.01))\n"
    )


LIGHTNING = """\
trainer:
  devices: 8
  accelerator: gpu
data:
  batch_size: 32
model:
  optimizer:
    class_path: torch.optim.SGD
    init_args:
      lr: 0.4
"""


def test_a_devices_key_of_the_config_is_what_it_was_written_for(repo):
    repo.write("configs/train.yaml", LIGHTNING)
    repo.commit()
    proc = repo.lrlint("check", "configs/train.yaml", "--devices", "2", "--output-format", "json")
    findings = _json(proc)
    assert [(f["code"], f["location"]["row"], f["data"]["expected_lr"]) for f in findings] == [("LR001", 5, 0.1)]
    assert findings[0]["notes"][1].startswith(
        "compared with the config as written for 8 devices (trainer.devices), run here with --devices 2"
    )


def test_a_config_that_names_no_devices_is_not_compared(repo):
    """A Hugging Face config states a per-device batch and no devices: which devices its lr was tuned on is
    unknown, so --devices has nothing to compare with."""
    repo.write(
        "sft.yaml",
        "per_device_train_batch_size: 4\ngradient_accumulation_steps: 8\nlearning_rate: 2.0e-5\nbf16: true\n",
    )
    repo.commit()
    assert repo.lrlint("check", "sft.yaml", "--devices", "4").returncode == 0


def test_devices_must_be_a_positive_count(repo):
    _mmdet(repo)
    proc = repo.lrlint("check", CHILD_PATH, "--devices", "0")
    assert proc.returncode == 2
    assert "--devices: '0' is not a positive whole number" in proc.stderr
