"""Defects found by running lrlint over real repositories (bench/realworld): each test mirrors the layout
that showed it, with configs written for the test."""

from __future__ import annotations

import json

from conftest import GitRepo

HYDRA_1_0_PRIMARY = """\
# @package _global_
defaults:
  - trainer: default.yaml
  - model: mnist_model.yaml
  - datamodule: mnist_datamodule.yaml
  - experiment: null

seed: 12345
"""

HYDRA_1_0_EXPERIMENT = """\
# @package _global_

defaults:
  - override /trainer: default.yaml
  - override /model: mnist_model.yaml
  - override /datamodule: mnist_datamodule.yaml

datamodule:
  batch_size: 256
"""


def test_hydra_1_0_defaults_name_their_files_with_the_extension(repo: GitRepo):
    # lightning-hydra-template wrote `- trainer: default.yaml` until mid 2023; Hydra resolves both spellings
    repo.write("configs/train.yaml", HYDRA_1_0_PRIMARY)
    repo.write("configs/trainer/default.yaml", "_target_: pytorch_lightning.Trainer\ndevices: 1\n")
    repo.write(
        "configs/model/mnist_model.yaml",
        "_target_: src.models.mnist_model.MNISTLitModel\noptimizer:\n  _target_: torch.optim.Adam\n  lr: 0.001\n",
    )
    repo.write(
        "configs/datamodule/mnist_datamodule.yaml", "_target_: src.datamodules.MNISTDataModule\nbatch_size: 64\n"
    )
    repo.write("configs/experiment/big.yaml", HYDRA_1_0_EXPERIMENT)
    repo.commit()
    r = repo.lrlint("check", "--output-format", "concise", "configs")
    assert "LR906" not in r.stdout, r.stdout
    assert r.stdout.splitlines()[0] == (
        "configs/experiment/big.yaml:9:15: LR001 [*] error: effective batch 64 -> 256 (x4) but model.optimizer.lr "
        "stays 0.001; expected 0.002 (square-root rule)"
    )
    [f] = [
        f for f in json.loads(repo.lrlint("check", "--output-format", "json", "configs").stdout) if f["code"] == "LR001"
    ]
    assert f["notes"] == [
        "policy for Adam (adaptive): square-root to linear rule; the linear rule gives 0.004",
        "compared with the base config configs/train.yaml (batch 64, lr 0.001)",
    ]


def test_explain_with_json_output_keeps_stdout_valid_json(repo: GitRepo):
    repo.write(
        "cfg.yaml", "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 32\nlearning_rate: 2e-5\n"
    )
    for fmt in ("json", "json-lines", "sarif", "gitlab"):
        r = repo.lrlint("check", "--explain", "--output-format", fmt, "cfg.yaml")
        assert r.returncode == 1, r.stderr
        if fmt == "json-lines":
            [f] = [json.loads(line) for line in r.stdout.splitlines()]
            assert f["code"] == "LR001"
        else:
            json.loads(r.stdout)  # nothing after the document
        assert r.stderr.startswith(
            "Recipes checked (1):\ncfg.yaml: learning_rate (huggingface profile): effective batch 32, lr 2e-5, "
        ), r.stderr
    r = repo.lrlint("check", "--explain", "--output-format", "concise", "cfg.yaml")
    assert "cfg.yaml: learning_rate (huggingface profile): effective batch 32" in r.stdout


LITGPT_FULL = """\
checkpoint_dir: checkpoints/google/gemma-2b
out_dir: out/finetune/full-gemma-2b
precision: bf16-true
devices: {devices}
train:
  save_interval: 800
  log_interval: 1
  global_batch_size: {batch}
  micro_batch_size: 1
  lr_warmup_steps: 100
  max_steps:
eval:
  interval: 25
  max_iters: 100
optimizer:
  class_path: torch.optim.AdamW
  init_args:
    lr: 0.0002
"""


def test_litgpt_eval_max_iters_is_not_a_schedule_and_global_batch_is_global(repo: GitRepo):
    repo.write("config_hub/finetune/gemma-2b/full.yaml", LITGPT_FULL.format(devices=1, batch=6))
    repo.commit()
    repo.write("config_hub/finetune/gemma-2b/full.yaml", LITGPT_FULL.format(devices=4, batch=16))
    r = repo.lrlint("check", "--output-format", "concise", "config_hub")
    lines = [line for line in r.stdout.splitlines() if ": LR0" in line]
    assert lines == [
        "config_hub/finetune/gemma-2b/full.yaml:8:22: LR001 [*] error: effective batch 6 -> 16 (x2.667) but "
        "optimizer.init_args.lr stays 0.0002; expected 0.00033 (square-root rule)",  # 0.0003266 at the file's digits
        "config_hub/finetune/gemma-2b/full.yaml:10:20: LR006 warning: effective batch 6 -> 16 (x2.667) but the "
        "step-based train.lr_warmup_steps stays 100; expected 38 (divided by 2.667)",
    ]
    # devices alone do not change LitGPT's global batch: no finding
    repo.write("config_hub/finetune/gemma-2b/full.yaml", LITGPT_FULL.format(devices=4, batch=6))
    r = repo.lrlint("check", "--output-format", "concise", "config_hub")
    assert r.returncode == 0, r.stdout
