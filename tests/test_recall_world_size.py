"""The world size where the authors wrote it: comments next to the batch or lr, and launch scripts that name the
config (the real CLI in temporary git repositories laid out like mmcv-era detection configs, mmselfsup
benchmarks and fine-tuning repositories with shell, SLURM and README launch commands)."""

from __future__ import annotations

import json

import pytest

from lrlint.stated_devices import from_comment, read_launch_line


def _json(proc) -> list[dict]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    ("text", "per_device", "expected"),
    [
        (" lr for 8 gpus", None, (8, None)),
        (" this lr is used for 8 gpus", None, (8, None)),
        (" base_batch_size = (8 GPUs) x (2 samples per GPU)", 2, (8, None)),
        (" total 64x4=256", 64, (4, None)),
        (" 4 nodes x 8 GPUs", None, (8, 4)),
        (" learning rate for 128 batch size, 8 gpu.", 128, (8, None)),
        (" total 64x4=256", 32, None),  # the product is not about this batch
        (" 8 gpus or 16 gpus", None, None),  # two counts: no statement
        (" step lr at epochs 8 and 11", None, None),
        # a comment about another per-device batch: a schedule file shared by configs with other batches
        (" In this implementation(bs2048), lr = 0.003 / 4096 * (32bs * 64gpus) = 0.0015", 16, None),
        (" lr for 8 gpus x 2 img/gpu", 4, None),
        (" lr for 8 gpus x 2 img/gpu", 2, (8, None)),
    ],
)
def test_comments_that_state_the_devices(text, per_device, expected):
    assert from_comment(text, per_device) == expected


@pytest.mark.parametrize(
    ("line", "configs", "counts"),
    [
        (
            "torchrun --nproc_per_node=8 train.py --config configs/sft.yaml",
            ["train.py", "configs/sft.yaml"],
            {"devices": 8},
        ),
        (
            "python -m torch.distributed.launch --nproc_per_node 4 --nnodes 2 tools/train.py configs/a.py",
            ["tools/train.py", "configs/a.py"],
            {"devices": 4, "nodes": 2},
        ),
        ("bash tools/dist_train.sh configs/retina.py 8 --work-dir out", ["configs/retina.py"], {"devices": 8}),
        (
            "accelerate launch --num_processes 16 --num_machines 2 train.py configs/sft.yaml",
            ["train.py", "configs/sft.yaml"],
            {"processes": 16, "nodes": 2, "devices": 8},
        ),
        ("deepspeed --num_gpus 8 main.py --deepspeed ds_config.json", ["main.py", "ds_config.json"], {"devices": 8}),
        ("torchrun --nproc_per_node=$GPUS train.py --config configs/sft.yaml", ["train.py", "configs/sft.yaml"], {}),
    ],
)
def test_launch_commands(line, configs, counts):
    assert read_launch_line(line.split()) == (configs, counts)


SCHEDULE = """\
optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001)  # this lr is used for 8 gpus
auto_scale_lr = dict(enable=False, base_batch_size=16)
"""
CHILD = "_base_ = ['./_base_/schedule.py']\ndata = dict(samples_per_gpu=2, workers_per_gpu=2)\n"


def test_a_comment_states_the_devices_the_config_was_written_for(repo):
    repo.write("configs/_base_/schedule.py", SCHEDULE)
    repo.write("configs/retinanet.py", CHILD)
    repo.commit()
    assert repo.lrlint("check", "configs/retinanet.py").returncode == 0
    findings = _json(repo.lrlint("check", "configs/retinanet.py", "--devices", "4", "--output-format", "json"))
    assert [(f["code"], f["data"]["expected_lr"]) for f in findings] == [("LR001", 0.01)]
    assert findings[0]["notes"][1] == (
        "compared with the config as written for 8 devices (from the comment at configs/_base_/schedule.py:1 "
        "(`# this lr is used for 8 gpus`)), run here with --devices 4 (batch 16, lr 0.02)"
    )


def test_a_devices_change_in_the_comment(repo):
    """The schedule file's `# this lr is used for 8 gpus` becomes 4 gpus, the lr kept: every config that
    inherits it trains half the batch. Reported at the comment (pre-commit passes only the changed file)."""
    schedule = "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9))  # this lr is used for 8 gpus\n"
    repo.write("configs/_base_/schedule.py", schedule)
    repo.write("configs/retinanet.py", "_base_ = ['./_base_/schedule.py']\ntrain_dataloader = dict(batch_size=2)\n")
    repo.commit()
    repo.write("configs/_base_/schedule.py", schedule.replace("8 gpus", "4 gpus"))
    findings = _json(repo.lrlint("check", "configs/_base_/schedule.py", "--output-format", "json"))
    assert [(f["code"], f["location"]["row"], f["location"]["column"], f["message"]) for f in findings] == [
        ("LR001", 1, 74, "x0.5 effective batch for 1 config that inherits this file, lr unchanged: retinanet.py")
    ]
    assert findings[0]["notes"][3] == (
        "4 devices from the comment at configs/_base_/schedule.py:1 (`# this lr is used for 4 gpus`)"
    )


def test_base_batch_size_comment_and_declared_batch_agree(repo):
    """mmdet's `base_batch_size = (8 GPUs) x (2 samples per GPU)` above auto_scale_lr: a config without a tag
    trains 16, as declared."""
    repo.write(
        "configs/yolox.py",
        "train_dataloader = dict(batch_size=2, num_workers=2)\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9))\n"
        "# base_batch_size = (8 GPUs) x (2 samples per GPU)\n"
        "auto_scale_lr = dict(base_batch_size=16)\n",
    )
    repo.commit()
    proc = repo.lrlint("check", "configs/yolox.py", "--explain")
    assert proc.returncode == 0, proc.stdout
    assert "effective batch 16, lr 0.02" in proc.stdout


def test_total_product_comment(repo):
    """mmselfsup benchmarks: `batch_size=64  # total 64x4=256` with a declared 256."""
    repo.write(
        "configs/linear.py",
        "train_dataloader = dict(batch_size=64)  # total 64x4=256\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9))\n"
        "auto_scale_lr = dict(base_batch_size=256)\n",
    )
    repo.commit()
    proc = repo.lrlint("check", "configs/linear.py", "--explain")
    assert proc.returncode == 0, proc.stdout
    assert "effective batch 256, lr 0.1" in proc.stdout


MM_CONFIG = """\
train_dataloader = dict(batch_size=2, num_workers=2)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9))
auto_scale_lr = dict(base_batch_size=16)
"""


def test_dist_train_sh_names_the_config(repo):
    """README: `bash tools/dist_train.sh configs/retinanet/retinanet.py 4`: 4 x 2 = 8, half the declared 16."""
    repo.write("configs/retinanet/retinanet.py", MM_CONFIG)
    repo.write(
        "README.md",
        "# Train\n\n```shell\nbash tools/dist_train.sh configs/retinanet/retinanet.py 4 --work-dir out\n```\n",
    )
    repo.commit()
    findings = _json(repo.lrlint("check", "configs/retinanet/retinanet.py", "--output-format", "json"))
    assert [(f["code"], f["message"]) for f in findings] == [
        (
            "LR001",
            "effective batch 16 -> 8 (x0.5) but optim_wrapper.optimizer.lr stays 0.02; expected 0.01 (linear rule)",
        )
    ]
    assert (
        "4 devices from README.md:4 (`bash tools/dist_train.sh configs/retinanet/retinanet.py 4 --work-dir out`)"
        in findings[0]["notes"]
    )


def test_launchers_that_disagree_state_nothing(repo):
    repo.write("configs/retinanet/retinanet.py", MM_CONFIG)
    repo.write(
        "tools/train.sh",
        "bash tools/dist_train.sh configs/retinanet/retinanet.py 4\n"
        "bash tools/dist_train.sh configs/retinanet/retinanet.py 8\n",
    )
    repo.commit()
    assert repo.lrlint("check", "configs/retinanet/retinanet.py").returncode == 0


SFT = "per_device_train_batch_size: 4\ngradient_accumulation_steps: 8\nlearning_rate: 2.0e-5\nbf16: true\n"


def test_a_slurm_script_with_torchrun_states_devices_and_nodes(repo):
    repo.write("configs/sft.yaml", SFT)
    repo.write(
        "scripts/train.slurm",
        "#!/bin/bash\n#SBATCH --nodes=2\n#SBATCH --gres=gpu:8\n"
        "srun torchrun --nnodes 2 --nproc_per_node 8 train.py --config configs/sft.yaml\n",
    )
    repo.commit()
    proc = repo.lrlint("check", "configs/sft.yaml", "--devices", "8", "--output-format", "json")
    findings = _json(proc)
    assert [(f["code"], f["message"]) for f in findings] == [
        (
            "LR001",
            "effective batch 512 -> 256 (x0.5) but learning_rate stays 2.0e-5; expected 1.4e-5 (square-root rule)",
        )
    ]
    assert findings[0]["notes"][1].startswith(
        "compared with the config as written for 8 devices x 2 nodes (from scripts/train.slurm:4 "
    )


def test_an_accelerate_config_file_named_by_the_launch_command(repo):
    repo.write("configs/sft.yaml", SFT)
    repo.write("configs/accelerate/multi_gpu.yaml", "distributed_type: MULTI_GPU\nnum_machines: 1\nnum_processes: 8\n")
    repo.write(
        "scripts/train.sh",
        "accelerate launch --config_file configs/accelerate/multi_gpu.yaml train.py configs/sft.yaml\n",
    )
    repo.commit()
    proc = repo.lrlint("check", "configs/sft.yaml", "--devices", "4", "--output-format", "json")
    findings = _json(proc)
    assert [(f["code"], f["message"]) for f in findings] == [
        (
            "LR001",
            "effective batch 256 -> 128 (x0.5) but learning_rate stays 2.0e-5; expected 1.4e-5 (square-root rule)",
        )
    ]
    assert findings[0]["notes"][1].startswith(
        "compared with the config as written for 8 devices (from scripts/train.sh:1 "
    )


def test_an_accelerate_config_file_outside_the_repository_is_not_read(repo, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("num_processes: 8\n")
    repo.write("configs/sft.yaml", SFT)
    repo.write("scripts/train.sh", f"accelerate launch --config_file {outside} train.py configs/sft.yaml\n")
    repo.commit()
    assert repo.lrlint("check", "configs/sft.yaml", "--devices", "4").returncode == 0
