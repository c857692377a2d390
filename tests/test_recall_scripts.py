"""The config and the script that consumes it: the real CLI in temporary git repositories laid out like MAE (a
main.py that reads a YAML of options and computes ``args.lr = args.blr * eff_batch_size / 256``) and DINOv2
(``cfg.optim.lr *= math.sqrt(batch_size_per_gpu * world / 1024)`` in the package's config module), and with
the scaling declared in ``[tool.lrlint] runtime-scaling``."""

from __future__ import annotations

import json

MAE_MAIN = """\
import argparse

import torch
import yaml

import util.misc as misc


def get_args_parser():
    parser = argparse.ArgumentParser('MAE pre-training', add_help=False)
    parser.add_argument('--config', type=str, help='a YAML file of options')
    parser.add_argument('--batch_size', default=64, type=int)
    parser.add_argument('--accum_iter', default=1, type=int)
    parser.add_argument('--lr', type=float, default=None)
    parser.add_argument('--blr', type=float, default=1e-3)
    return parser


def main(args):
    if args.config:
        with open(args.config) as f:
            for k, v in yaml.safe_load(f).items():
                setattr(args, k, v)
    eff_batch_size = args.batch_size * args.accum_iter * misc.get_world_size()
    if args.lr is None:  # only base_lr is specified
        args.lr = args.blr * eff_batch_size / 256
    model = build_model(args)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95))


if __name__ == '__main__':
    main(get_args_parser().parse_args())
"""

MAE_CONFIG = (
    "model: mae_vit_large_patch16\nbatch_size: 64\naccum_iter: 1\nblr: 1.5e-4\nweight_decay: 0.05\nepochs: 800\n"
)
CONFIG = "configs/pretrain_vit_large.yaml"


def _mae(repo, main: str | None = MAE_MAIN) -> None:
    if main is not None:
        repo.write("main.py", main)
    repo.write(CONFIG, MAE_CONFIG)
    repo.commit()


def _json(proc) -> list[dict]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_a_batch_change_of_a_config_the_script_scales_is_compensated(repo):
    _mae(repo)
    repo.write(CONFIG, MAE_CONFIG.replace("accum_iter: 1", "accum_iter: 2"))  # eff_batch_size reads accum_iter
    proc = repo.lrlint("check", CONFIG, "--explain")
    assert proc.returncode == 0, proc.stdout
    assert (
        "runtime scaling: main.py:26 scales blr with the batch at run time (linear / 256): "
        "args.lr = args.blr * eff_batch_size / 256"
    ) in proc.stdout


def test_the_same_change_without_the_script_is_lr001(repo):
    _mae(repo, main=None)
    repo.write(CONFIG, MAE_CONFIG.replace("batch_size: 64", "batch_size: 128"))
    proc = repo.lrlint("check", CONFIG, "--output-format", "concise")
    assert proc.stdout.splitlines()[0] == (
        f"{CONFIG}:2:13: LR001 error: effective batch 64 -> 128 (x2) but blr stays 1.5e-4; expected 3.0e-4 "
        "(linear rule)"
    )


def test_an_lr_scaled_by_hand_on_top_of_the_script_is_lr007(repo):
    _mae(repo)
    repo.write(CONFIG, MAE_CONFIG.replace("batch_size: 64", "batch_size: 128").replace("1.5e-4", "3.0e-4"))
    findings = _json(repo.lrlint("check", CONFIG, "--output-format", "json"))
    assert [(f["code"], f["location"]["row"]) for f in findings] == [("LR007", 4)]
    assert findings[0]["message"] == (
        "effective batch 64 -> 128 (x2) and blr 1.5e-4 -> 3.0e-4 by hand, but the runtime scales it too; "
        "expected 1.5e-4"
    )


def test_a_script_that_reads_no_config_file_consumes_none(repo):
    """DeiT's main.py scales args.lr but reads its options from the command line only."""
    _mae(repo, main=MAE_MAIN.replace("import yaml\n", "").replace("yaml.safe_load(f)", "dict(f)"))
    repo.write(CONFIG, MAE_CONFIG.replace("batch_size: 64", "batch_size: 128"))
    assert repo.lrlint("check", CONFIG).returncode == 1


DINO_CONFIG_PY = """\
import math
import logging

from omegaconf import OmegaConf

import dinov2.distributed as distributed

logger = logging.getLogger("dinov2")


def apply_scaling_rules_to_cfg(cfg):
    if cfg.optim.scaling_rule == "sqrt_wrt_1024":
        base_lr = cfg.optim.base_lr
        cfg.optim.lr = base_lr
        cfg.optim.lr *= math.sqrt(cfg.train.batch_size_per_gpu * distributed.get_global_size() / 1024.0)
        logger.info(f"sqrt scaling learning rate; base: {base_lr}, new: {cfg.optim.lr}")
    else:
        raise NotImplementedError
    return cfg


def get_cfg_from_args(args):
    cfg = OmegaConf.load(args.config_file)
    return cfg
"""

DINO_TRAIN = """\
dino:
  head_n_prototypes: 131072
train:
  batch_size_per_gpu: 32
  dataset_path: ImageNet22k
optim:
  epochs: 500
  base_lr: 2.0e-04
  scaling_rule: sqrt_wrt_1024
"""


def test_a_package_config_module_that_scales_the_lr_covers_the_package_configs(repo):
    repo.write("dinov2/utils/config.py", DINO_CONFIG_PY)
    repo.write("dinov2/configs/train/vitl16_short.yaml", DINO_TRAIN)
    repo.write("tools/other/vitl.yaml", DINO_TRAIN)
    repo.commit()
    for path in ("dinov2/configs/train/vitl16_short.yaml", "tools/other/vitl.yaml"):
        repo.write(path, DINO_TRAIN.replace("batch_size_per_gpu: 32", "batch_size_per_gpu: 64"))
    proc = repo.lrlint(
        "check", "dinov2/configs/train/vitl16_short.yaml", "tools/other/vitl.yaml", "--output-format", "json"
    )
    # the package's configs are the script's; a config outside its folder is not
    assert [(f["code"], f["filename"].rsplit("/", 1)[-1]) for f in _json(proc)] == [("LR001", "vitl.yaml")]


def test_runtime_scaling_declared_in_the_settings(repo):
    repo.write(
        "pyproject.toml",
        '[tool.lrlint]\nruntime-scaling = [{script = "train.py", reads = "optim.base_lr", rule = "sqrt", '
        "per = 1024}]\n",
    )
    repo.write("configs/vitl.yaml", DINO_TRAIN)
    repo.commit()
    repo.write("configs/vitl.yaml", DINO_TRAIN.replace("batch_size_per_gpu: 32", "batch_size_per_gpu: 64"))
    proc = repo.lrlint("check", "configs/vitl.yaml", "--explain")
    assert proc.returncode == 0, proc.stdout
    assert (
        "runtime scaling: train.py ([tool.lrlint] runtime-scaling) scales optim.base_lr with the batch at run time "
        "(square-root / 1024)"
    ) in proc.stdout


def test_a_bad_runtime_scaling_setting_names_the_key(repo):
    repo.write(
        "pyproject.toml", '[tool.lrlint]\nruntime-scaling = [{script = "train.py", reads = "lr", rule = "cubic"}]\n'
    )
    repo.write("configs/vitl.yaml", DINO_TRAIN)
    proc = repo.lrlint("check", "configs/vitl.yaml")
    assert proc.returncode == 2
    assert "tool.lrlint.runtime-scaling.0.rule" in proc.stderr
