"""mmcv 1.x keys and the 1.x/2.x mix in MMEngine-profile configs, read as the runtime reads them:
``data.train_dataloader.samples_per_gpu`` over ``data.samples_per_gpu`` (mmpose/mmaction2 0.x give the
train loader's own settings the last word), ``data.imgs_per_gpu`` over ``data.samples_per_gpu`` (mmdet 2.x
copies it over), ``lr_config.warmup=None`` is no warmup whatever ``warmup_iters`` says, and a config that
sets ``optim_wrapper`` trains with it: its 1.x ``optimizer``/``optimizer_config``/``lr_config``/``data``
keys are never read by MMEngine's Runner."""

from __future__ import annotations

from conftest import GitRepo

SUMMARY = ("Found", "[*]", "All checks", "No fixes", "1 hidden fix")


def concise(repo: GitRepo, *args: str) -> tuple[int, list[str]]:
    r = repo.lrlint("check", "--output-format", "concise", *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, [ln for ln in r.stdout.splitlines() if ln and not ln.startswith(SUMMARY)]


def recipes(repo: GitRepo, path: str, *args: str) -> list[str]:
    """Each recipe of ``--explain`` as ``lr key: effective batch, lr``."""
    r = repo.lrlint("check", "--explain", "--output-format", "concise", path, *args)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stdout.split("Recipes checked", 1)[1].splitlines()[1:]
    out = []
    for ln in lines:
        key = ln.split(": ", 1)[1].split(" (", 1)[0]
        batch = ln.split("effective batch ", 1)[1].split(",", 1)[0]
        lr = ln.split(", lr ", 1)[1].split(",", 1)[0]
        out.append(f"{key}: batch {batch}, lr {lr}")
    return out


# mmpose 0.x: top-down heatmap config with the loader settings in `data`
POSE = "configs/body/2d_kpt_sview_rgb_img/topdown_heatmap/coco/hrnet_w32_coco_256x192.py"


def _pose(outer: int, train: int, lr: str = "5e-4") -> str:
    return (
        "_base_ = ['../../../../_base_/datasets/coco.py']\n"
        f"optimizer = dict(type='Adam', lr={lr})\n"
        "optimizer_config = dict(grad_clip=None)\n"
        "lr_config = dict(policy='step', warmup='linear', warmup_iters=500, warmup_ratio=0.001, step=[170, 200])\n"
        "total_epochs = 210\n"
        "data = dict(\n"
        f"    samples_per_gpu={outer},\n"
        "    workers_per_gpu=2,\n"
        f"    train_dataloader=dict(samples_per_gpu={train}),\n"
        "    val_dataloader=dict(samples_per_gpu=32),\n"
        "    test_dataloader=dict(samples_per_gpu=32),\n"
        "    train=dict(type='TopDownCocoDataset'),\n"
        ")\n"
    )


def test_the_train_loaders_own_samples_per_gpu_is_the_batch(repo: GitRepo):
    repo.write("configs/_base_/datasets/coco.py", "dataset_info = dict(dataset_name='coco')\n")
    repo.write(POSE, _pose(outer=16, train=32))
    repo.commit("hrnet")
    assert recipes(repo, POSE) == ["optimizer.lr: batch 32, lr 0.0005"]
    repo.write(POSE, _pose(outer=64, train=32))  # the outer value is overridden: nothing changes
    assert concise(repo, POSE) == (0, [])
    repo.write(POSE, _pose(outer=16, train=64))
    assert concise(repo, POSE) == (
        1,
        [
            f"{POSE}:4:63: LR006 warning: effective batch 32 -> 64 (x2) but the step-based lr_config.warmup_iters "
            "stays 500; expected 250 (divided by 2)",
            f"{POSE}:9:43: LR001 [*] error: effective batch 32 -> 64 (x2) but optimizer.lr stays 5e-4; expected "
            "7.1e-4 (square-root rule)",
        ],
    )


def test_mmaction2_videos_per_gpu_of_the_train_loader(repo: GitRepo):
    path = "configs/recognition/tsn/tsn_r50_1x1x3_100e_kinetics400_rgb.py"
    repo.write(
        path,
        "model = dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=50))\n"
        "train_pipeline = [dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3)]\n"
        "data = dict(videos_per_gpu=32, workers_per_gpu=2, train_dataloader=dict(videos_per_gpu=8),\n"
        "            val_dataloader=dict(videos_per_gpu=1))\n"
        "optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)\n"
        "optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))\n"
        "lr_config = dict(policy='step', step=[40, 80])\n"
        "total_epochs = 100\n",
    )
    assert recipes(repo, path) == ["optimizer.lr: batch 8, lr 0.01"]


def test_imgs_per_gpu_wins_over_samples_per_gpu(repo: GitRepo):
    path = "configs/votenet/votenet_16x8_sunrgbd-3d-10class.py"
    repo.write(
        path,
        "model = dict(type='VoteNet')\n"
        "data = dict(samples_per_gpu=16, imgs_per_gpu=8, workers_per_gpu=4)\n"
        "optimizer = dict(type='AdamW', lr=0.008, weight_decay=0.01)\n"
        "lr_config = dict(policy='step', warmup=None, step=[24, 32])\n"
        "runner = dict(type='EpochBasedRunner', max_epochs=36)\n",
    )
    assert recipes(repo, path) == ["optimizer.lr: batch 8, lr 0.008"]


# mmdet3d 1.x-era schedule fragment and a child that turns its warmup off
SCHEDULE = (
    "optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001)\n"
    "optimizer_config = dict(grad_clip=dict(max_norm=35, norm_type=2))\n"
    "lr_config = dict(policy='step', warmup='linear', warmup_iters=500, warmup_ratio=0.001, step=[8, 11])\n"
    "runner = dict(type='EpochBasedRunner', max_epochs=12)\n"
)
CHILD = "configs/pointpillars/pointpillars_secfpn_kitti-3d-car.py"


def _child(batch: int, lr: str, warmup: str) -> str:
    return (
        "_base_ = ['../_base_/schedules/schedule_1x.py']\n"
        f"data = dict(samples_per_gpu={batch}, workers_per_gpu=4)\n"
        f"optimizer = dict(lr={lr})\n"
        f"lr_config = dict(policy='step', warmup={warmup}, step=[8, 11])\n"
    )


def test_warmup_none_is_no_warmup_whatever_warmup_iters_says(repo: GitRepo):
    repo.write("configs/_base_/schedules/schedule_1x.py", SCHEDULE)
    repo.write(CHILD, _child(2, "0.02", "None"))
    repo.commit("pointpillars")
    repo.write(CHILD, _child(64, "0.64", "None"))  # x32 to 0.64, above the SGD family's 0.5; warmup_iters=500 kept
    assert concise(repo, "--select", "LR003", CHILD) == (
        1,
        [
            f"{CHILD}:3:21: LR003 warning: optimizer.lr 0.02 -> 0.64 (x32) with no warmup configured; add a gradual "
            "warmup (e.g. a warmup scheduler first in param_scheduler)",
        ],
    )
    repo.write(CHILD, _child(64, "0.64", "'linear'"))
    assert concise(repo, "--select", "LR003", CHILD) == (0, [])


# mmselfsup 1.x (MMEngine): a schedule fragment keeps a top-level `optimizer` dict to fill optim_wrapper
FRAGMENT = (
    "optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)\n"
    "optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)\n"
    "param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)]\n"
    "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)\n"
)
LINEAR = "configs/benchmarks/classification/imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py"


def _linear(batch: int, tail: str) -> str:
    return (
        "_base_ = ['../_base_/schedules/sgd_steplr-100e.py']\n"
        f"train_dataloader = dict(batch_size={batch}, num_workers=4)\n"
        "model = dict(backbone=dict(frozen_stages=4))\n" + tail
    )


def test_an_mmengine_config_trains_with_optim_wrapper_not_a_top_level_optimizer(repo: GitRepo):
    repo.write("configs/benchmarks/classification/_base_/schedules/sgd_steplr-100e.py", FRAGMENT)
    repo.write(LINEAR, _linear(32, ""))
    repo.commit("linear eval")
    assert recipes(repo, LINEAR) == ["optim_wrapper.optimizer.lr: batch 256, lr 0.1"]
    # the child's own optim_wrapper: one recipe, not a second one for the fragment's `optimizer` dict
    own = "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.4, momentum=0.9, weight_decay=0.0))\n"
    repo.write(LINEAR, _linear(128, own))
    assert recipes(repo, LINEAR) == ["optim_wrapper.optimizer.lr: batch 1024, lr 0.4"]
    assert concise(repo, "--select", "LR001,LR002,LR003", LINEAR) == (0, [])  # LR004: the name says 8xb32
    # a top-level `optimizer` the child writes alone is not read by MMEngine: the lr that runs stays 0.1
    repo.write(LINEAR, _linear(128, "optimizer = dict(lr=0.4)\noptimizer_config = dict(cumulative_iters=4)\n"))
    assert recipes(repo, LINEAR) == ["optim_wrapper.optimizer.lr: batch 1024, lr 0.1"]
    assert concise(repo, "--select", "LR001,LR002,LR003", LINEAR) == (
        1,
        [
            f"{LINEAR}:2:36: LR001 [*] error: effective batch 256 -> 1024 (x4) but optim_wrapper.optimizer.lr stays "
            "0.1; expected 0.4 (linear rule)",
        ],
    )
