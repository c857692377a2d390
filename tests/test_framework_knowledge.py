"""What the framework profiles know that real repositories need (rules/frameworks/): repeated augmentation,
warmup in scheduler hooks, a loss that sums over the batch, configs that are not training recipes, and
inputs that are information rather than errors. Fixtures mirror the layouts of mmaction2, mmyolo,
Detectron2 and DeepSpeedExamples."""

from __future__ import annotations

from conftest import GitRepo

SUMMARY = ("Found ", "All checks passed", "[*] ", "No fixes", "Would fix", "Fixed ")


def concise(repo: GitRepo, *args: str) -> tuple[int, list[str]]:
    r = repo.lrlint("check", "--output-format", "concise", *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, [ln for ln in r.stdout.splitlines() if ln and not ln.startswith(SUMMARY)]


def _mvit(batch: int) -> str:
    return (
        "repeat_sample = 2\n"
        "train_dataloader = dict(\n"
        f"    batch_size={batch},\n"
        "    dataset=dict(type='RepeatAugDataset', num_repeats=repeat_sample, sample_once=True))\n"
        "optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1.6e-3, weight_decay=0.05))\n"
        "auto_scale_lr = dict(enable=False, base_batch_size=512)\n"
    )


def test_repeated_augmentation_multiplies_the_per_device_batch(repo: GitRepo):
    name = "configs/recognition/mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py"
    repo.write(name, _mvit(8))  # 8 videos x 2 augmentations = 16 per GPU, as the name says
    repo.commit()
    assert concise(repo, "configs") == (0, [])
    repo.write(name, _mvit(4))
    code, lines = concise(repo, name)
    assert (code, lines) == (
        1,
        [
            f"{name}:3:16: LR001 [*] error: effective batch 512 -> 256 (x0.5) but optim_wrapper.optimizer.lr stays "
            "1.6e-3; expected 1.13e-3 (square-root rule)",
            f"{name}:3:16: LR004 warning: file name mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py says "
            "32xb16: 32 devices x 16 per device = 512, but train_dataloader.batch_size x "
            "train_dataloader.dataset.num_repeats is 4 x 2 = 8: rename the file or set the batch it names",
        ],
    )


YOLO_BASE = (
    "train_batch_size_per_gpu = 16\n"
    "model = dict(type='YOLODetector', bbox_head=dict(type='YOLOv5Head', num_classes=80))\n"
    "train_dataloader = dict(batch_size=train_batch_size_per_gpu)\n"
    "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.937, nesterov=True))\n"
    "default_hooks = dict(param_scheduler=dict(type='YOLOv5ParamSchedulerHook', lr_factor=0.01, max_epochs=300))\n"
)


def test_a_loss_summed_over_the_total_batch_already_scales_the_step(repo: GitRepo):
    repo.write("configs/yolov5/yolov5_s-v61_syncbn_fast_8xb16-300e_coco.py", YOLO_BASE)
    cat = "configs/yolov5/yolov5_s-v61_fast_1xb12-40e_cat.py"
    repo.write(
        cat,
        "_base_ = 'yolov5_s-v61_syncbn_fast_8xb16-300e_coco.py'\ntrain_batch_size_per_gpu = 12\n"
        "train_dataloader = dict(batch_size=train_batch_size_per_gpu)\n",
    )
    repo.commit()
    assert concise(repo, "configs") == (0, [])
    r = repo.lrlint("check", "--explain", "--output-format", "concise", cat)
    assert "runtime scaling: the YOLOv5/v7/v8 head multiplies the loss by batch_size x world_size" in r.stdout


def _yolo_raised(hook: str) -> str:
    return (
        "# lrlint: reference batch=8 lr=0.08\n"
        "train_dataloader = dict(batch_size=64)\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.64, momentum=0.9))\n"
        f"default_hooks = dict(param_scheduler=dict(type='{hook}'))\n"
    )


def test_scheduler_hooks_that_warm_up_count_as_warmup(repo: GitRepo):
    name = "configs/ppyoloe/ppyoloe_plus_s_fast_1xb64-80e_coco.py"
    repo.write(name, _yolo_raised("PPYOLOEParamSchedulerHook"))
    repo.commit()
    assert concise(repo, "configs") == (0, [])
    repo.write(name, _yolo_raised("ParamSchedulerHook"))  # MMEngine's own hook has no warmup of its own
    assert [ln.split(": ")[1] for ln in concise(repo, "configs")[1]] == ["LR003 warning"]


def test_detectron2_ci_test_configs_are_not_recipes(repo: GitRepo):
    repo.write(
        "configs/Base-RCNN-C4.yaml",
        "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n",
    )
    test = "configs/quick_schedules/mask_rcnn_R_50_C4_instant_test.yaml"
    repo.write(test, '_BASE_: "../Base-RCNN-C4.yaml"\nSOLVER:\n  BASE_LR: 0.001\n  IMS_PER_BATCH: 4\n  MAX_ITER: 40\n')
    repo.commit()
    assert concise(repo, "configs") == (0, [])
    r = repo.lrlint("check", "--explain", "--output-format", "concise", test)
    assert f"{test} is not a training recipe (Detectron2's CI tests" in r.stdout


def test_detectron2_eval_idiom_is_information(repo: GitRepo):
    repo.write(
        "configs/Base-RetinaNet.yaml",
        "MODEL:\n  META_ARCHITECTURE: RetinaNet\n  ANCHOR_GENERATOR:\n"
        '    SIZES: !!python/object/apply:eval ["[[x, x * 2**(1.0/3)] for x in [32, 64]]"]\n'
        "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.01\n",
    )
    repo.write("configs/evil.yaml", 'SOLVER:\n  BASE_LR: !!python/object/apply:os.system ["echo hi"]\n')
    repo.commit()
    code, lines = concise(repo, "configs")
    assert (code, lines) == (
        1,
        [
            "configs/Base-RetinaNet.yaml:4:12: LR904 info: !!python/object/apply:eval (Detectron2's computed-value "
            "idiom): yacs evaluates the expression when it loads the file; lrlint does not, and skips the value",
            "configs/evil.yaml:2:12: LR904 error: unsafe YAML tag !!python/object/apply:os.system is not loaded",
        ],
    )


def test_templates_that_do_not_parse_are_information(repo: GitRepo):
    repo.write("compression/bert/config/ds_config_TEMPLATE.json", '{\n  "train_batch_size": {{BATCH}},\n}\n')
    repo.write("compression/bert/config/ds_config_broken.json", '{\n  "train_batch_size": 8,,\n}\n')
    repo.commit()
    code, lines = concise(repo, "compression")
    assert code == 1
    assert [ln.split(": ", 2)[1] for ln in lines] == ["LR901 info", "LR901 error"]
    assert lines[0].endswith("(a template: its placeholders are filled in before use, so this is information only)")
