"""False findings the real-repository harness found at HEAD, and the general rules that remove them.

The fixtures mirror the layouts seen in public config trees (written for these tests, no copied text):
an mmdetection3d nuImages child whose file-name tag was renamed backwards from mmdet's old
``16x1`` (16 GPUs x 1 image) to ``1xb16``, and a Detectron2 project whose Cityscapes recipe writes its
own batch and lr over a base tuned on COCO.
"""

from __future__ import annotations

from conftest import GitRepo

SUMMARY = ("Found ", "All checks passed", "[*] ", "No fixes", "Would fix", "Fixed ")


def concise(repo: GitRepo, *args: str) -> tuple[int, list[str]]:
    r = repo.lrlint("check", "--output-format", "concise", *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, [ln for ln in r.stdout.splitlines() if ln and not ln.startswith(SUMMARY)]


def recipes(repo: GitRepo, path: str) -> str:
    r = repo.lrlint("check", "--explain", "--output-format", "concise", path)
    assert "Traceback" not in r.stderr, r.stderr
    return r.stdout.split("Recipes checked", 1)[1]


# -- a tag renamed backwards: its device count is unknown, never read backwards ---------------------------

SCHEDULE = (
    "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12)\n"
    "optim_wrapper = dict(\n"
    "    type='OptimWrapper',\n"
    "    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))\n"
    "# the lr above is for 8 GPUs x 2 samples per GPU\n"
    "auto_scale_lr = dict(enable=False, base_batch_size=16)\n"
)
NUIM_BASE = "_base_ = ['../_base_/schedules/mmdet-schedule-1x.py']\nmodel = dict(type='HybridTaskCascade')\n"
BACKWARDS = "configs/nuimages/htc_x101_64x4d_fpn_dconv_c3-c5_coco-20e-1xb16_nuim.py"


def _nuim(repo: GitRepo, child_name: str, per_gpu: int) -> str:
    repo.write("configs/_base_/schedules/mmdet-schedule-1x.py", SCHEDULE)
    repo.write("configs/nuimages/htc_r50_fpn_1x_nuim.py", NUIM_BASE)
    repo.write(
        child_name,
        "_base_ = './htc_r50_fpn_1x_nuim.py'\n"
        "model = dict(backbone=dict(type='ResNeXt', depth=101, groups=64))\n\n"
        f"data = dict(samples_per_gpu={per_gpu}, workers_per_gpu=1)\n"
        "runner = dict(max_epochs=20)\n",
    )
    repo.commit()
    return child_name


def test_a_tag_that_matches_the_content_only_backwards_has_unknown_devices(repo: GitRepo):
    child = _nuim(repo, BACKWARDS, 1)
    code, lines = concise(repo, "configs")
    # one LR004 on the name, which says how the name would match; no LR001 against the schedule's 16
    assert (code, lines) == (
        1,
        [
            f"{child}:4:29: LR004 warning: file name htc_x101_64x4d_fpn_dconv_c3-c5_coco-20e-1xb16_nuim.py says "
            "1xb16: 1 devices x 16 per device = 16, but data.samples_per_gpu is 1 (read the other way round, 16 "
            "devices x 1, it matches: an older devices x per-device spelling renamed backwards?): rename the file "
            "or set the batch it names"
        ],
    )
    assert (
        "effective batch unknown, lr 0.02, optimizer SGD (sgd); reference: none; not compared: the file name's "
        "1xb16 matches data.samples_per_gpu = 1 only read the other way round (16 devices x 1): the device count "
        "is unknown"
    ) in recipes(repo, child)


def test_a_tag_read_the_right_way_still_counts_its_devices(repo: GitRepo):
    # 2 devices x 8 per device = 16, as the schedule declares: nothing to report
    child = _nuim(repo, "configs/nuimages/htc_x101_64x4d_fpn_dconv_c3-c5_coco-20e-2xb8_nuim.py", 8)
    assert concise(repo, "configs") == (0, [])
    assert "effective batch 16, lr 0.02" in recipes(repo, child)


def test_a_per_device_batch_that_matches_neither_reading_is_still_an_unscaled_change(repo: GitRepo):
    # 1xb16 with 4 per device: 1 x 4 = 4 against the declared 16 (no reading of the name matches the content)
    child = _nuim(repo, BACKWARDS, 4)
    code, lines = concise(repo, "configs")
    assert code == 1
    assert lines[0] == (
        f"{child}:4:29: LR001 [*] error: effective batch 16 -> 4 (x0.25) but optim_wrapper.optimizer.lr stays 0.02; "
        "expected 0.005 (linear rule)"
    )
    assert lines[1].startswith(f"{child}:4:29: LR004 warning: file name ") and "other way round" not in lines[1]


def test_a_per_device_batch_edited_to_the_device_count_is_a_batch_change(repo: GitRepo):
    # 8xb16 edited to 8 per device: the same numbers as a backwards 8xb16, but a real halving of the batch
    repo.write("configs/_base_/schedules/mmdet-schedule-1x.py", SCHEDULE.replace("=16)", "=128)"))
    child = "configs/retinanet/retinanet_r50_fpn_8xb16-1x_coco.py"
    repo.write(
        child,
        "_base_ = ['../_base_/schedules/mmdet-schedule-1x.py']\ntrain_dataloader = dict(batch_size=16)\n",
    )
    repo.commit()
    repo.write(
        child,
        "_base_ = ['../_base_/schedules/mmdet-schedule-1x.py']\ntrain_dataloader = dict(batch_size=8)\n",
    )
    code, lines = concise(repo, "--base", "HEAD", "configs")
    assert code == 1
    assert lines == [
        f"{child}:2:36: LR001 [*] error: effective batch 128 -> 64 (x0.5) but optim_wrapper.optimizer.lr stays "
        "0.02; expected 0.01 (linear rule)",
        f"{child}:2:36: LR004 warning: file name retinanet_r50_fpn_8xb16-1x_coco.py says 8xb16: 8 devices x 16 per "
        "device = 128, but train_dataloader.batch_size is 8: rename the file or set the batch it names",
    ]


# -- another dataset's recipe over a generic base is a recipe of its own ------------------------------------

D2_BASE = (
    "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\n"
    'DATASETS:\n  TRAIN: ("coco_2017_train",)\n  TEST: ("coco_2017_val",)\n'
    "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n  STEPS: (60000, 80000)\n  MAX_ITER: 90000\n"
)
SEM_BASE = (
    '_BASE_: "../../../../configs/Base-RCNN-FPN.yaml"\n'
    "MODEL:\n  META_ARCHITECTURE: SemanticSegmentor\n"
    'DATASETS:\n  TRAIN: ("coco_2017_train_panoptic_stuffonly",)\n  TEST: ("coco_2017_val_panoptic_stuffonly",)\n'
)
CITYSCAPES = "projects/PointRend/configs/SemanticSegmentation/pointrend_semantic_R_101_FPN_1x_cityscapes.yaml"


def _pointrend(repo: GitRepo, datasets: str) -> None:
    repo.write("configs/Base-RCNN-FPN.yaml", D2_BASE)
    repo.write("projects/PointRend/configs/SemanticSegmentation/Base-PointRend-Semantic-FPN.yaml", SEM_BASE)
    repo.write(
        CITYSCAPES,
        "_BASE_: Base-PointRend-Semantic-FPN.yaml\n"
        "MODEL:\n  RESNETS:\n    DEPTH: 101\n"
        f"{datasets}"
        "SOLVER:\n  BASE_LR: 0.01\n  STEPS: (40000, 55000)\n  MAX_ITER: 65000\n  IMS_PER_BATCH: 32\n",
    )
    repo.commit()


def test_a_child_with_its_own_data_lr_and_batch_is_not_compared_with_the_base(repo: GitRepo):
    _pointrend(repo, 'DATASETS:\n  TRAIN: ("cityscapes_fine_sem_seg_train",)\n  TEST: ("cityscapes_val",)\n')
    assert concise(repo, "projects", "configs") == (0, [])
    assert (
        "base projects/PointRend/configs/SemanticSegmentation/Base-PointRend-Semantic-FPN.yaml set aside: "
        "pointrend_semantic_R_101_FPN_1x_cityscapes.yaml writes its own SOLVER.BASE_LR 0.01 and SOLVER.IMS_PER_BATCH "
        'for other training data (DATASETS.TRAIN ("cityscapes_fine_sem_seg_train",); the base trains '
        '("coco_2017_train_panoptic_stuffonly",)): a recipe of its own, not a rescale of the base\'s'
    ) in recipes(repo, CITYSCAPES)


def test_the_same_data_with_a_doubled_batch_and_a_halved_lr_is_still_misscaled(repo: GitRepo):
    _pointrend(repo, "")
    code, lines = concise(repo, "projects")
    assert (code, lines) == (
        1,
        [
            f"{CITYSCAPES}:6:12: LR002 [*] error: effective batch 16 -> 32 (x2) and SOLVER.BASE_LR 0.02 -> 0.01 "
            "(x0.5); the lr moved the wrong way; expected 0.04 (linear rule)"
        ],
    )
