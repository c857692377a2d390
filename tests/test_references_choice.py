"""Which references a recipe is compared with (lrlint/references/choose.py): pairs that were trained together.

The fixtures mirror the layouts of open-mmlab and Detectron2 config trees: model-zoo configs named with
their NxbM tag, `_base_/datasets` and `_base_/schedules` fragments, children that change one thing.
"""

from __future__ import annotations

import pytest
from conftest import GitRepo

from lrlint.profiles import builtin_profiles
from lrlint.recipes import name_tag

SUMMARY = ("Found ", "All checks passed", "[*] ", "No fixes", "Would fix", "Fixed ")


def concise(repo: GitRepo, *args: str) -> tuple[int, list[str]]:
    r = repo.lrlint("check", "--output-format", "concise", *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, [ln for ln in r.stdout.splitlines() if ln and not ln.startswith(SUMMARY)]


def explained(repo: GitRepo, path: str) -> str:
    r = repo.lrlint("check", "--explain", "--output-format", "concise", path)
    assert "Traceback" not in r.stderr, r.stderr
    return r.stdout.split("Recipes checked", 1)[1]


RUNTIME = "default_scope = 'mmpose'\ntrain_cfg = dict(by_epoch=True, max_epochs=210)\n"
POSE = "configs/body_2d_keypoint/td-hm_hrnet-w32_8xb32-210e_coco-256x192.py"


def _pose(batch: int, declared: int) -> str:
    return (
        "_base_ = ['../_base_/default_runtime.py']\n"
        f"train_dataloader = dict(batch_size={batch}, num_workers=2)\n"
        "optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))\n"
        f"auto_scale_lr = dict(base_batch_size={declared})\n"
    )


# -- a stale declaration is one LR004 on the declaration, not an LR001 ----------------------------------


def test_stale_declaration_is_one_lr004_on_the_declaration_with_a_fix(repo: GitRepo):
    repo.write("configs/_base_/default_runtime.py", RUNTIME)
    repo.write(POSE, _pose(32, 512))
    repo.commit()
    code, lines = concise(repo, "configs")
    assert (code, lines) == (
        1,
        [
            f"{POSE}:4:38: LR004 [*] warning: `auto_scale_lr.base_batch_size` 512 disagrees with 8xb32 = 256 in "
            "the name and the content"
        ],
    )
    assert "auto_scale_lr.base_batch_size = 512 set aside: it disagrees with 8xb32: 8 devices x 32 per device = " in (
        explained(repo, POSE)
    )
    fixed = repo.lrlint("check", "--fix", "configs")
    assert fixed.returncode == 0, fixed.stdout
    assert (repo.path / POSE).read_text() == _pose(32, 256)  # the declaration, never the lr


def test_a_declaration_that_agrees_with_the_tag_stays_the_reference(repo: GitRepo):
    # tag 8xb32 and base_batch_size agree on 256, the content trains 8 x 16 = 128: the lr was tuned for 256
    repo.write("configs/_base_/default_runtime.py", RUNTIME)
    repo.write(POSE, _pose(16, 256))
    repo.commit()
    code, lines = concise(repo, "configs")
    assert code == 1
    assert lines == [
        f"{POSE}:2:36: LR001 [*] error: effective batch 256 -> 128 (x0.5) but optim_wrapper.optimizer.lr stays "
        "5e-4; expected 3.5e-4 (square-root rule)",
        f"{POSE}:2:36: LR004 warning: file name td-hm_hrnet-w32_8xb32-210e_coco-256x192.py says 8xb32: 8 devices x "
        "32 per device = 256, but train_dataloader.batch_size is 16: rename the file or set the batch it names",
    ]


def test_a_child_restating_its_batch_does_not_retune_the_inherited_lr(repo: GitRepo):
    base = "configs/resnet/resnet50_8xb32_in1k.py"
    repo.write(
        base,
        "train_dataloader = dict(batch_size=32)\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9))\n"
        "auto_scale_lr = dict(base_batch_size=256)\n",
    )
    child = "configs/resnet/resnet50_8xb64_in1k.py"
    repo.write(
        child,
        "_base_ = './resnet50_8xb32_in1k.py'\ntrain_dataloader = dict(batch_size=64)\n"
        "auto_scale_lr = dict(base_batch_size=512)\n",
    )
    repo.commit()
    code, lines = concise(repo, child)
    assert (code, lines) == (
        1,
        [
            f"{child}:2:36: LR001 [*] error: effective batch 256 -> 512 (x2) but optim_wrapper.optimizer.lr stays 0.1; "
            "expected 0.2 (linear rule)"
        ],
    )
    assert (
        "auto_scale_lr.base_batch_size = 512 set aside: resnet50_8xb64_in1k.py restates its own batch there, but "
        f"optim_wrapper.optimizer.lr is inherited from {base}: it was tuned with the base's batch"
    ) in explained(repo, child)


# -- devices per recipe ---------------------------------------------------------------------------------

RTM = (
    "train_dataloader = dict(batch_size=32)\n"
    "optim_wrapper = dict(optimizer=dict(type='AdamW', lr=0.004, weight_decay=0.05))\n"
)


def test_a_child_without_a_tag_trains_on_the_devices_of_its_base(repo: GitRepo):
    repo.write("configs/rtmdet/rtmdet_s_syncbn_fast_8xb32-300e_coco.py", RTM)
    kd = "configs/rtmdet/distillation/kd_s_rtmdet_m_neck_300e_coco.py"
    repo.write(kd, "_base_ = '../rtmdet_s_syncbn_fast_8xb32-300e_coco.py'\nmodel = dict(type='KD')\n")
    half = "configs/rtmdet/distillation/kd_s_half_batch_coco.py"
    repo.write(half, "_base_ = '../rtmdet_s_syncbn_fast_8xb32-300e_coco.py'\ntrain_dataloader = dict(batch_size=16)\n")
    repo.commit()
    code, lines = concise(repo, "configs")
    # the kd child keeps 8 x 32 (no finding); the half child trains 8 x 16, not 1 x 16
    assert (code, lines) == (
        1,
        [
            f"{half}:2:36: LR001 [*] error: effective batch 256 -> 128 (x0.5) but optim_wrapper.optimizer.lr stays "
            "0.004; expected 0.0028 (square-root rule)"
        ],
    )
    r = repo.lrlint("check", half)
    assert "= note: 8 devices from the base's file name (8xb32, rtmdet_s_syncbn_fast_8xb32-300e_coco.py)\n" in r.stdout


def test_a_rename_that_only_changes_the_tag_is_not_a_batch_change(repo: GitRepo):
    old = "configs/retinanet/retinanet_r50_fpn_8xb2-1x_coco.py"
    text = "train_dataloader = dict(batch_size=2)\noptim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))\n"
    repo.write(old, text)
    repo.commit()
    repo.git("mv", old, "configs/retinanet/retinanet_r50_fpn_16xb2-1x_coco.py")
    code, lines = concise(repo, "--base", "HEAD", "configs")
    assert (code, lines) == (0, [])
    assert "only the file name's tag changed (8xb2 -> 16xb2)" in explained(
        repo, "configs/retinanet/retinanet_r50_fpn_16xb2-1x_coco.py"
    )


@pytest.mark.parametrize(
    "name, devices, per_device",
    [
        ("retinanet_r50_fpn_8xb2-1x_coco.py", 8, 2),
        ("faster_rcnn_r50_fpn_2x8_1x_coco.py", None, None),  # mmdet 1.x: 2 images x 8 GPUs, not read
        ("htc_x101_64x4d_fpn_16x1_20e_coco.py", None, None),  # mmdet: 16 GPUs x 1 image, never 1 x 16
        ("tsn_r50_8x16b_kinetics.py", None, None),
    ],
)
def test_old_tag_spellings_are_unknown_never_read_backwards(name, devices, per_device):
    mm = next(p for p in builtin_profiles() if p.name == "mmengine")
    tag = name_tag(mm, name)
    assert (tag.devices, tag.per_device) == (devices, per_device) if tag else devices is None


# -- recipes of their own -------------------------------------------------------------------------------

DATASET = "train_dataloader = dict(batch_size=32, dataset=dict(type='ImageNet'))\n"
SCHEDULE = "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))\n"


def test_fragments_never_trained_together_are_not_a_reference(repo: GitRepo):
    repo.write("configs/_base_/datasets/imagenet_bs32.py", DATASET)
    repo.write("configs/_base_/schedules/sgd_steplr-100e.py", SCHEDULE)
    child = "configs/benchmarks/resnet50_linear-8xb64-steplr-100e_in1k.py"
    repo.write(
        child,
        "_base_ = ['../_base_/datasets/imagenet_bs32.py', '../_base_/schedules/sgd_steplr-100e.py']\n"
        "train_dataloader = dict(batch_size=64)\n",
    )
    repo.commit()
    assert concise(repo, "configs") == (0, [])
    assert (
        "base configs/_base_/schedules/sgd_steplr-100e.py set aside: the base's batch (train_dataloader.batch_size "
        "in configs/_base_/datasets/imagenet_bs32.py) and lr (optim_wrapper.optimizer.lr in "
        "configs/_base_/schedules/sgd_steplr-100e.py) come from fragments never trained together"
    ) in explained(repo, child)


def test_a_schedule_that_names_its_batch_ties_its_lr(repo: GitRepo):
    repo.write("configs/_base_/datasets/imagenet_bs32.py", DATASET)
    repo.write("configs/_base_/schedules/imagenet_bs256.py", SCHEDULE)
    child = "configs/resnet/resnet50_8xb64_in1k.py"
    repo.write(
        child,
        "_base_ = ['../_base_/datasets/imagenet_bs32.py', '../_base_/schedules/imagenet_bs256.py']\n"
        "train_dataloader = dict(batch_size=64)\n",
    )
    repo.commit()
    code, lines = concise(repo, "configs", "--select", "LR001")
    assert (code, lines) == (
        1,
        [
            f"{child}:2:36: LR001 [*] error: effective batch 256 -> 512 (x2) but optim_wrapper.optimizer.lr stays "
            "0.1; expected 0.2 (linear rule)"
        ],
    )


def test_a_child_writing_its_own_lr_next_to_its_own_tag_is_its_own_recipe(repo: GitRepo):
    repo.write("configs/resnet/resnet50_8xb32-steplr-100e_in1k.py", DATASET + SCHEDULE)
    linear = "configs/resnet/resnet50_linear-8xb32-steplr-100e_in1k.py"
    repo.write(
        linear,
        "_base_ = './resnet50_8xb32-steplr-100e_in1k.py'\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=30.0, momentum=0.9, weight_decay=0.0))\n",
    )
    # the same shape with the base's lr rescaled for its batch: compared as a rescale, so nothing to say
    scaled = "configs/resnet/resnet50_8xb64-steplr-100e_in1k.py"
    repo.write(
        scaled,
        "_base_ = './resnet50_8xb32-steplr-100e_in1k.py'\ntrain_dataloader = dict(batch_size=64)\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2))\n",
    )
    repo.commit()
    assert concise(repo, "configs") == (0, [])
    assert "reference: base configs/resnet/resnet50_8xb32-steplr-100e_in1k.py (batch 256)" in explained(repo, scaled)
    assert (
        "resnet50_linear-8xb32-steplr-100e_in1k.py writes its own optim_wrapper.optimizer.lr 30 next to its own tag "
        "(8xb32: 8 devices x 32 per device = 256): a recipe of its own, not a rescale of the base's"
    ) in explained(repo, linear)


def test_a_child_that_replaces_the_optimizer_is_not_compared_with_the_base_lr(repo: GitRepo):
    repo.write("configs/_base_/schedules/schedule_1x.py", SCHEDULE)
    repo.write(
        "configs/det/det_8xb2-1x_coco.py",
        "_base_ = '../_base_/schedules/schedule_1x.py'\ntrain_dataloader = dict(batch_size=2)\n",
    )
    adamw = "configs/det/det_adamw_coco.py"
    repo.write(
        adamw,
        "_base_ = './det_8xb2-1x_coco.py'\ntrain_dataloader = dict(batch_size=4)\n"
        "optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01))\n",
    )
    deleted = "configs/det/det_delete_coco.py"
    repo.write(
        deleted,
        "_base_ = './det_8xb2-1x_coco.py'\ntrain_dataloader = dict(batch_size=4)\n"
        "optim_wrapper = dict(_delete_=True, optimizer=dict(type='SGD', lr=0.001))\n",
    )
    repo.commit()
    assert concise(repo, "configs") == (0, [])
    assert "det_adamw_coco.py replaces the optimizer (SGD -> AdamW)" in explained(repo, adamw)
    assert "det_delete_coco.py replaces optim_wrapper of the base (_delete_=True)" in explained(repo, deleted)


def test_detectron2_fix_keeps_the_child_compared_so_the_schedule_fix_follows(repo: GitRepo):
    repo.write(
        "configs/Base-RCNN-FPN.yaml",
        "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n"
        "  STEPS: (60000, 80000)\n  MAX_ITER: 90000\n",
    )
    child = "configs/COCO-Detection/faster_rcnn_R_50_FPN_1x_bs64.yaml"
    repo.write(child, '_BASE_: "../Base-RCNN-FPN.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n')
    repo.commit()
    r = repo.lrlint("check", "--fix", "--unsafe-fixes", "configs")
    assert "Traceback" not in r.stderr, r.stderr
    assert (repo.path / child).read_text() == (
        '_BASE_: "../Base-RCNN-FPN.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n  MAX_ITER: 22500\n'
        "  STEPS: (15000, 20000)\n"
    )


def test_the_batch_a_schedule_declares_is_the_one_its_lr_was_written_for(repo: GitRepo):
    # mmdetection3d's layout: the dataset fragment has 8 per GPU, the schedule declares (4 GPUs) x (8 samples)
    repo.write("configs/_base_/datasets/scannet-3d.py", "train_dataloader = dict(batch_size=8)\n")
    repo.write(
        "configs/_base_/schedules/schedule-3x.py",
        "lr = 0.008\noptim_wrapper = dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=0.01))\n"
        "auto_scale_lr = dict(enable=False, base_batch_size=32)\n",
    )
    child = "configs/h3dnet/h3dnet_8xb2_scannet-seg.py"
    repo.write(
        child,
        "_base_ = ['../_base_/datasets/scannet-3d.py', '../_base_/schedules/schedule-3x.py']\n"
        "train_dataloader = dict(batch_size=2)\nauto_scale_lr = dict(enable=False, base_batch_size=16)\n",
    )
    repo.commit()
    code, lines = concise(repo, child)
    assert (code, lines) == (
        1,
        [
            f"{child}:2:36: LR001 [*] error: effective batch 32 -> 16 (x0.5) but optim_wrapper.optimizer.lr stays "
            "0.008; expected 0.0057 (square-root rule)"
        ],
    )


HF_OUTPUT = (
    "### output\noutput_dir: saves/llama3-8b/lora/sft\nlogging_steps: 10\nsave_steps: 500\nplot_loss: true\n"
    "overwrite_output_dir: true\n"
)


def _hf(batch: int, model: str, extra: str = HF_OUTPUT) -> str:
    return (
        f"model_name_or_path: {model}\ndataset: alpaca_en\ntemplate: llama3\nfinetuning_type: lora\nlora_rank: 8\n"
        f"per_device_train_batch_size: {batch}\ngradient_accumulation_steps: 8\nlearning_rate: 1.0e-4\n"
        f"num_train_epochs: 3.0\nlr_scheduler_type: cosine\nwarmup_ratio: 0.1\nbf16: true\n{extra}"
    )


def test_git_rename_pairing_of_two_different_configs_is_not_a_history(repo: GitRepo):
    repo.write("examples/train_lora/llama3_lora_sft.yaml", _hf(1, "meta-llama/Meta-Llama-3-8B-Instruct"))
    repo.write("examples/train_lora/qwen_lora_sft.yaml", _hf(1, "Qwen/Qwen2-7B"))
    repo.commit()
    # a rename with one batch change: the same recipe, compared with its old self
    repo.git("mv", "examples/train_lora/llama3_lora_sft.yaml", "examples/train_lora/llama3_lora_sft_bs4.yaml")
    repo.write("examples/train_lora/llama3_lora_sft_bs4.yaml", _hf(4, "meta-llama/Meta-Llama-3-8B-Instruct"))
    code, lines = concise(repo, "--base", "HEAD", "--select", "LR001", "examples")
    assert [ln.split(": ", 2)[1] for ln in lines] == ["LR001 [*] error"]
    # another config written over the old path's rename: git pairs them, lrlint does not trust it
    repo.git("reset", "-q", "--hard")
    repo.git("mv", "examples/train_lora/qwen_lora_sft.yaml", "examples/train_lora/mistral_full_sft.yaml")
    other = _hf(4, "mistralai/Mistral-7B-v0.1").replace("alpaca_en", "identity,glaive_toolcall_en_demo")
    other = other.replace("llama3", "mistral").replace("lora_rank: 8", "lora_rank: 16\nlora_target: all")
    repo.write("examples/train_lora/mistral_full_sft.yaml", other)
    status = repo.git("diff", "--name-status", "-M", "HEAD")
    assert status.startswith("R") and int(status[1:4]) < 70, status  # git pairs them (50% similar or more)
    assert concise(repo, "--base", "HEAD", "--select", "LR001", "examples") == (0, [])
