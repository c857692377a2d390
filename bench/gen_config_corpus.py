"""Generate a deterministic git repository of training configs for benchmarks.

The corpus holds the kinds of config lrlint knows (Hugging Face TrainingArguments
YAML and JSON, DeepSpeed JSON, Lightning CLI YAML, Hydra YAML, Detectron2 yacs
YAML, axolotl YAML, timm args YAML, generic YAML), 20 to 150 lines each, with
comments, sometimes anchors/aliases, and lrs written in the styles real files use
(``1e-5`` -- a string to YAML 1.1 --, ``2.0e-5``, ``0.0003``).

Two commits:

1. every file;
2. the batch (per-device batch, accumulation steps or devices) changed in
   ``--changed`` (default 10%) of the files; half of those also scale the lr
   linearly (accepted for every optimizer family), the other half keep it, so
   ``lrlint check --base HEAD~1`` has real findings (one LR001 each).

Each file is rendered from its parameters and its own seeded random stream, so
commit 2 differs from commit 1 only on the lines that hold the changed values.

Usage::

    python bench/gen_config_corpus.py OUT_DIR [--files 2000] [--seed 0] [--changed 0.1]

``OUT_DIR`` must not exist or be empty. A manifest (``bench_manifest.json``, in
the work tree but not committed) lists the changed files and what was changed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

MANIFEST = "bench_manifest.json"
VERSION = 2  # bump when the output changes (bench_check.py --keep rebuilds a stale corpus)

# kind -> weight (roughly how often each kind shows up in real repositories)
KINDS: dict[str, int] = {
    "hf_yaml": 18,
    "hf_json": 10,
    "deepspeed_json": 10,
    "lightning_yaml": 12,
    "hydra_yaml": 12,
    "detectron2_yaml": 10,
    "axolotl_yaml": 10,
    "timm_yaml": 8,
    "generic_yaml": 10,
}

WORDS = [
    "alpha",
    "bravo",
    "delta",
    "falcon",
    "granite",
    "harbor",
    "ion",
    "juniper",
    "kepler",
    "lumen",
    "meadow",
    "nimbus",
    "orion",
    "prism",
    "quartz",
    "raven",
    "sierra",
    "tundra",
    "umbra",
    "vega",
    "willow",
    "zephyr",
]
DATASETS = [
    "imagenet",
    "coco_2017",
    "cifar100",
    "openwebtext",
    "wikitext103",
    "c4_en",
    "alpaca",
    "dolly_15k",
    "lvis_v1",
    "cityscapes",
    "ade20k",
    "librispeech",
    "oasst1",
    "slimorca",
    "the_stack_py",
]
MODELS_LM = [
    "meta-llama/Llama-2-7b-hf",
    "mistralai/Mistral-7B-v0.1",
    "EleutherAI/pythia-1b",
    "bert-base-uncased",
    "roberta-large",
    "t5-base",
    "google/gemma-2b",
    "Qwen/Qwen2-1.5B",
    "microsoft/phi-2",
    "gpt2-medium",
]
MODELS_VISION = [
    "resnet50",
    "vit_base_patch16_224",
    "convnext_tiny",
    "efficientnet_b3",
    "deit_small_patch16_224",
    "swin_tiny_patch4_window7_224",
    "regnety_040",
    "mobilenetv3_large_100",
]


# -- learning rates ------------------------------------------------------------------------------


@dataclass
class LR:
    """An lr kept as an exact decimal so that scaled values print cleanly in the file's style."""

    value: Decimal
    style: str  # "sci" (1e-5, 3.2e-5), "sci_dot" (1.0e-5), "plain" (0.0003)

    def scaled(self, factor: Decimal) -> LR:
        return LR(self.value * factor, self.style)

    def text(self) -> str:
        v = self.value.normalize()
        sign, digits, exp = v.as_tuple()
        if self.style == "plain":
            s = format(v, "f")
            return s if "." in s else s + ".0"
        # mantissa in [1, 10)
        e = len(digits) + exp - 1
        m = (v.scaleb(-e)).normalize()
        ms = format(m, "f")
        if self.style == "sci_dot" and "." not in ms:
            ms += ".0"
        return f"{ms}e{e}" if e < 0 else f"{ms}e+{e}"


def pick_lr(rng: random.Random, lo_exp: int, hi_exp: int, styles: list[str]) -> LR:
    mant = rng.choice(["1", "2", "3", "5", "1.5", "2.5", "4", "6", "8"])
    exp = rng.randint(lo_exp, hi_exp)
    return LR(Decimal(mant).scaleb(exp), rng.choice(styles))


# -- file model ----------------------------------------------------------------------------------


@dataclass
class Spec:
    """What one file is: its kind, path, the numbers that matter, and the seed for everything else."""

    kind: str
    path: str
    seed: int
    lr: LR
    batch: dict[str, int] = field(default_factory=dict)  # batch parts by role: per_device, accum, devices, global
    changed: str | None = None  # which part commit 2 changed
    factor: Decimal = Decimal(1)
    lr_scaled: bool = False
    extra: dict = field(default_factory=dict)


def _filler_yaml(rng: random.Random, lines: int, indent: str = "") -> list[str]:
    """Realistic-looking but lr/batch-neutral YAML (logging, data pipeline, model details)."""
    out: list[str] = []
    blocks = [_yaml_logging, _yaml_augment, _yaml_model_extra, _yaml_eval, _yaml_checkpoint, _yaml_misc]
    i = 0
    while len(out) < lines:
        block = blocks[(i + rng.randrange(len(blocks))) % len(blocks)](rng, indent, i)
        out.extend(block)
        i += 1
    return out


def _yaml_logging(rng, ind, i):
    out = [f"{ind}# logging and experiment tracking", f"{ind}logging_{i}:"]
    out.append(f"{ind}  report_to: [{rng.choice(['wandb', 'tensorboard', 'mlflow', 'none'])}]")
    out.append(f"{ind}  log_every_n_steps: {rng.choice([10, 25, 50, 100])}")
    out.append(f"{ind}  project: {rng.choice(WORDS)}-{rng.choice(WORDS)}")
    if rng.random() < 0.5:
        out.append(f"{ind}  tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]  # free-form")
    return out


def _yaml_augment(rng, ind, i):
    out = [f"{ind}augment_{i}:"]
    for _ in range(rng.randint(2, 6)):
        op = rng.choice(
            ["RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter", "RandAugment", "Normalize", "Resize"]
        )
        out.append(f"{ind}  - name: {op}")
        out.append(f"{ind}    p: {rng.choice(['0.5', '1.0', '0.8', '0.2'])}")
    return out


def _yaml_model_extra(rng, ind, i):
    out = [f"{ind}model_extra_{i}:", f"{ind}  # architecture details; not read by the trainer's optimizer"]
    out.append(f"{ind}  hidden_size: {rng.choice([256, 512, 768, 1024, 2048, 4096])}")
    out.append(f"{ind}  num_layers: {rng.choice([6, 12, 24, 32])}")
    out.append(f"{ind}  dropout: {rng.choice(['0.0', '0.1', '0.2'])}")
    out.append(f"{ind}  activation: {rng.choice(['gelu', 'silu', 'relu'])}")
    return out


def _yaml_eval(rng, ind, i):
    return [
        f"{ind}eval_{i}:",
        f"{ind}  interval: {rng.choice([500, 1000, 2000])}",
        f"{ind}  metrics: [{rng.choice(['accuracy', 'loss', 'bleu', 'map'])}, "
        f"{rng.choice(['f1', 'top5', 'perplexity'])}]",
        f"{ind}  save_predictions: {rng.choice(['true', 'false'])}",
    ]


def _yaml_checkpoint(rng, ind, i):
    return [
        f"{ind}checkpoint_{i}:",
        f"{ind}  dirpath: outputs/{rng.choice(WORDS)}/ckpt",
        f"{ind}  save_top_k: {rng.choice([1, 3, 5])}",
        f"{ind}  monitor: val/{rng.choice(['loss', 'acc'])}",
        f"{ind}  mode: {rng.choice(['min', 'max'])}",
    ]


def _yaml_misc(rng, ind, i):
    return [
        f"{ind}# {rng.choice(WORDS)} {rng.choice(WORDS)}: kept for reproducibility",
        f"{ind}seed_{i}: {rng.randint(0, 9999)}",
        f'{ind}notes_{i}: "{rng.choice(WORDS)} run, see wiki page {rng.randint(10, 999)}"',
    ]


def _anchor_block(rng: random.Random) -> tuple[list[str], list[str]]:
    """A shared block defined once (&anchor) and reused (*alias / << merge)."""
    name = rng.choice(["data_defaults", "common", "base_aug", "io"])
    head = [
        f"{name}: &{name}",
        f"  num_workers: {rng.choice([2, 4, 8, 16])}",
        "  pin_memory: true",
        f"  shuffle_buffer: {rng.choice([1000, 10000])}",
    ]
    use = ["val_loader:", f"  <<: *{name}", "  shuffle_buffer: 0"]
    return head, use


def _target_lines(rng: random.Random) -> int:
    return rng.randint(20, 150)


# -- renderers: one per kind; each takes the spec (numbers) and draws everything else from its own rng --


def render_hf_yaml(s: Spec) -> str:
    rng = random.Random(s.seed)
    target = _target_lines(rng)
    b = s.batch
    out = [
        f"# TrainingArguments for {rng.choice(MODELS_LM)} on {rng.choice(DATASETS)}",
        "# launched with: accelerate launch train.py --config this.yaml",
        f"model_name_or_path: {rng.choice(MODELS_LM)}",
        f"output_dir: outputs/{rng.choice(WORDS)}-{s.seed % 1000}",
        "do_train: true",
        "do_eval: true",
        f"per_device_train_batch_size: {b['per_device']}",
        f"per_device_eval_batch_size: {rng.choice([8, 16, 32])}",
        f"gradient_accumulation_steps: {b['accum']}  # effective batch = per device x accumulation x GPUs",
        f"learning_rate: {s.lr.text()}",
        f"num_train_epochs: {rng.choice([1, 2, 3, 5])}",
        f"lr_scheduler_type: {rng.choice(['cosine', 'linear', 'constant_with_warmup'])}",
        f"warmup_ratio: {rng.choice(['0.03', '0.05', '0.1'])}",
        f"optim: {s.extra['optim']}",
        f"weight_decay: {rng.choice(['0.0', '0.01', '0.1'])}",
        f"bf16: {rng.choice(['true', 'false'])}",
        f"logging_steps: {rng.choice([10, 50])}",
        f"save_strategy: {rng.choice(['steps', 'epoch'])}",
    ]
    if "devices" in b:
        out.insert(9, f"world_size: {b['devices']}")
    if rng.random() < 0.3:
        h, u = _anchor_block(rng)
        out += h + u
    out += _filler_yaml(rng, target - len(out))
    return "\n".join(out) + "\n"


def render_hf_json(s: Spec) -> str:
    rng = random.Random(s.seed)
    b = s.batch
    d: dict = {
        "model_name_or_path": rng.choice(MODELS_LM),
        "output_dir": f"outputs/{rng.choice(WORDS)}",
        "overwrite_output_dir": True,
        "do_train": True,
        "per_device_train_batch_size": b["per_device"],
        "per_device_eval_batch_size": rng.choice([8, 16, 32]),
        "gradient_accumulation_steps": b["accum"],
        "learning_rate": float(s.lr.value),
        "num_train_epochs": rng.choice([1, 3]),
        "lr_scheduler_type": rng.choice(["cosine", "linear"]),
        "warmup_steps": rng.choice([100, 500, 1000]),
        "optim": s.extra["optim"],
        "bf16": rng.random() < 0.5,
        "logging_steps": 10,
        "save_total_limit": rng.choice([1, 2, 3]),
        "dataloader_num_workers": rng.choice([2, 4, 8]),
        "report_to": [rng.choice(["wandb", "tensorboard"])],
    }
    target = _target_lines(rng)
    i = 0
    while len(json.dumps(d, indent=2).splitlines()) < target:
        d[f"extra_{i}"] = {"name": rng.choice(WORDS), "value": rng.randint(0, 1000), "enabled": rng.random() < 0.5}
        i += 1
    return json.dumps(d, indent=2) + "\n"


def render_deepspeed_json(s: Spec) -> str:
    rng = random.Random(s.seed)
    b = s.batch
    world = b["devices"]
    d: dict = {
        "train_batch_size": b["per_device"] * b["accum"] * world,
        "train_micro_batch_size_per_gpu": b["per_device"],
        "gradient_accumulation_steps": b["accum"],
        "steps_per_print": rng.choice([10, 100]),
        "optimizer": {
            "type": s.extra["optim"],
            "params": {
                "lr": float(s.lr.value),
                "betas": [0.9, 0.999],
                "eps": 1e-8,
                "weight_decay": rng.choice([0.0, 0.01]),
            },
        },
        "scheduler": {
            "type": "WarmupDecayLR",
            "params": {
                "warmup_min_lr": 0,
                "warmup_max_lr": float(s.lr.value),
                "warmup_num_steps": rng.choice([100, 500, 1000]),
                "total_num_steps": rng.choice([10000, 50000]),
            },
        },
        "gradient_clipping": 1.0,
        "bf16": {"enabled": rng.random() < 0.7},
        "zero_optimization": {
            "stage": rng.choice([1, 2, 3]),
            "overlap_comm": True,
            "contiguous_gradients": True,
            "reduce_bucket_size": 5e8,
            "allgather_bucket_size": 5e8,
        },
        "wall_clock_breakdown": False,
    }
    target = _target_lines(rng)
    i = 0
    while len(json.dumps(d, indent=2).splitlines()) < target:
        d[f"comms_logger_{i}" if i else "comms_logger"] = {
            "enabled": False,
            "verbose": False,
            "prof_all": rng.random() < 0.5,
            "debug": False,
        }
        i += 1
    return json.dumps(d, indent=2) + "\n"


def render_lightning_yaml(s: Spec) -> str:
    rng = random.Random(s.seed)
    target = _target_lines(rng)
    b = s.batch
    out = [
        "# LightningCLI config: python main.py fit --config this.yaml",
        f"seed_everything: {rng.randint(0, 9999)}",
        "trainer:",
        "  accelerator: gpu",
        f"  devices: {b['devices']}",
        "  num_nodes: 1",
        f"  strategy: {rng.choice(['ddp', 'fsdp', 'auto'])}",
        f"  precision: {rng.choice(['bf16-mixed', '16-mixed', '32'])}",
        f"  max_epochs: {rng.choice([10, 50, 100, 300])}",
        f"  accumulate_grad_batches: {b['accum']}",
        f"  gradient_clip_val: {rng.choice(['0.5', '1.0'])}",
        "model:",
        f"  class_path: {rng.choice(WORDS)}.models.{rng.choice(['Classifier', 'LitModel', 'Segmenter'])}",
        "  init_args:",
        f"    backbone: {rng.choice(MODELS_VISION)}",
        f"    num_classes: {rng.choice([10, 100, 1000])}",
        "data:",
        f"  class_path: {rng.choice(WORDS)}.data.{rng.choice(['ImageDataModule', 'TextDataModule'])}",
        "  init_args:",
        f"    data_dir: /datasets/{rng.choice(DATASETS)}",
        f"    batch_size: {b['per_device']}  # per device",
        f"    num_workers: {rng.choice([4, 8])}",
        "optimizer:",
        f"  class_path: torch.optim.{s.extra['optim']}",
        "  init_args:",
        f"    lr: {s.lr.text()}",
        f"    weight_decay: {rng.choice(['0.0001', '0.05'])}",
    ]
    if s.extra["optim"] == "SGD":
        out.append("    momentum: 0.9")
    out += [
        "lr_scheduler:",
        "  class_path: torch.optim.lr_scheduler.CosineAnnealingLR",
        "  init_args:",
        f"    T_max: {rng.choice([100, 300])}",
    ]
    out += _filler_yaml(rng, target - len(out))
    return "\n".join(out) + "\n"


def render_hydra_yaml(s: Spec) -> str:
    rng = random.Random(s.seed)
    target = _target_lines(rng)
    b = s.batch
    out = [
        "# @package _global_",
        "# experiment config (lightning-hydra-template)",
        "defaults:",
        f"  - override /data: {rng.choice(DATASETS)}",
        f"  - override /model: {rng.choice(MODELS_VISION)}",
        "  - override /trainer: gpu",
        "  - _self_",
        "",
        f"task_name: {rng.choice(WORDS)}_{s.seed % 97}",
        f"tags: [{rng.choice(WORDS)}, {rng.choice(DATASETS)}]",
        "trainer:",
        "  _target_: lightning.pytorch.trainer.Trainer",
        f"  max_epochs: {rng.choice([10, 20, 50])}",
        f"  accumulate_grad_batches: {b['accum']}",
        "model:",
        f"  _target_: src.models.{rng.choice(['mnist', 'cifar', 'imagenet'])}_module.LitModule",
        "  optimizer:",
        f"    _target_: torch.optim.{s.extra['optim']}",
        "    _partial_: true",
        f"    lr: {s.lr.text()}",
        f"    weight_decay: {rng.choice(['0.0', '0.0005'])}",
        "  scheduler:",
        "    _target_: torch.optim.lr_scheduler.ReduceLROnPlateau",
        "    _partial_: true",
        "    mode: min",
        "    factor: 0.1",
        "data:",
        f"  _target_: src.data.{rng.choice(['mnist', 'cifar'])}_datamodule.DataModule",
        f"  batch_size: {b['global']}  # global: divided by trainer.world_size",
        f"  num_workers: {rng.choice([0, 4, 8])}",
    ]
    if rng.random() < 0.25:
        h, u = _anchor_block(rng)
        out += h + u
    out += _filler_yaml(rng, target - len(out))
    return "\n".join(out) + "\n"


def render_detectron2_yaml(s: Spec) -> str:
    rng = random.Random(s.seed)
    target = _target_lines(rng)
    b = s.batch
    max_iter = rng.choice([90000, 180000, 270000])
    out = [
        f'_BASE_: "../Base-{rng.choice(D2_BASES)}.yaml"',
        "MODEL:",
        f'  WEIGHTS: "detectron2://ImageNetPretrained/MSRA/R-{rng.choice([50, 101])}.pkl"',
        "  MASK_ON: " + rng.choice(["True", "False"]),
        "  RESNETS:",
        f"    DEPTH: {rng.choice([50, 101])}",
        "SOLVER:",
        f"  IMS_PER_BATCH: {b['global']}  # total over all GPUs",
        f"  BASE_LR: {s.lr.text()}",
        "  MOMENTUM: 0.9",
        "  WEIGHT_DECAY: 0.0001",
        f"  STEPS: ({max_iter * 2 // 3}, {max_iter * 8 // 9})",
        f"  MAX_ITER: {max_iter}",
        f"  WARMUP_ITERS: {rng.choice([1000, 2000])}",
        "  REFERENCE_WORLD_SIZE: 0",
        "DATASETS:",
        f'  TRAIN: ("{rng.choice(["coco_2017_train", "lvis_v1_train", "cityscapes_fine_instance_seg_train"])}",)',
        '  TEST: ("coco_2017_val",)',
        "INPUT:",
        f"  MIN_SIZE_TRAIN: ({rng.choice(['640, 672, 704, 736, 768, 800', '800'])})",
        f"OUTPUT_DIR: ./output/{rng.choice(WORDS)}",
    ]
    i = 0
    while len(out) < target:
        out += [
            f"# test-time options, block {i}",
            f"TEST_{i}:",
            f"  EVAL_PERIOD: {rng.choice([5000, 10000])}",
            f"  DETECTIONS_PER_IMAGE: {rng.choice([100, 300])}",
            "  AUG:",
            "    ENABLED: False",
            f"    MIN_SIZES: ({rng.choice(['400, 500, 600', '800, 1000'])})",
        ]
        i += 1
    return "\n".join(out) + "\n"


def render_axolotl_yaml(s: Spec) -> str:
    rng = random.Random(s.seed)
    target = _target_lines(rng)
    b = s.batch
    out = [
        f"base_model: {rng.choice(MODELS_LM)}",
        "model_type: AutoModelForCausalLM",
        "tokenizer_type: AutoTokenizer",
        "",
        "load_in_8bit: false",
        f"load_in_4bit: {rng.choice(['true', 'false'])}",
        "strict: false",
        "",
        "datasets:",
        f"  - path: {rng.choice(['tatsu-lab/alpaca', 'mhenrichsen/alpaca_2k_test', 'teknium/GPT4-LLM-Cleaned'])}",
        f"    type: {rng.choice(['alpaca', 'sharegpt', 'completion'])}",
        "dataset_prepared_path: last_run_prepared",
        "val_set_size: 0.05",
        "output_dir: ./outputs/lora-out",
        "",
        f"sequence_len: {rng.choice([2048, 4096])}",
        "sample_packing: true",
        "pad_to_sequence_len: true",
        "",
        "adapter: lora",
        f"lora_r: {rng.choice([8, 16, 32])}",
        f"lora_alpha: {rng.choice([16, 32])}",
        "lora_dropout: 0.05",
        "lora_target_linear: true",
        "",
        f"gradient_accumulation_steps: {b['accum']}",
        f"micro_batch_size: {b['per_device']}",
        f"num_epochs: {rng.choice([1, 3, 4])}",
        f"optimizer: {s.extra['optim']}",
        f"lr_scheduler: {rng.choice(['cosine', 'linear'])}",
        f"learning_rate: {s.lr.text()}",
        "",
        "bf16: auto",
        "tf32: false",
        "gradient_checkpointing: true",
        f"warmup_steps: {rng.choice([10, 100])}",
        f"evals_per_epoch: {rng.choice([1, 4])}",
        "weight_decay: 0.0",
        "special_tokens:",
        '  pad_token: "<|endoftext|>"',
    ]
    out += _filler_yaml(rng, target - len(out))
    return "\n".join(out) + "\n"


def render_timm_yaml(s: Spec) -> str:
    rng = random.Random(s.seed)
    target = _target_lines(rng)
    b = s.batch
    out = [
        "# timm train.py -c args.yaml",
        "aa: rand-m9-mstd0.5-inc1",
        "amp: true",
        f"batch_size: {b['per_device']}",
        f"grad_accum_steps: {b['accum']}",
        f"data_dir: /data/{rng.choice(DATASETS)}",
        "dataset: ''",
        f"drop_path: {rng.choice(['0.1', '0.2', '0.05'])}",
        f"epochs: {rng.choice([100, 300, 600])}",
        f"lr: {s.lr.text()}",
        "lr_base: 0.1",
        "lr_base_size: 256",
        f"mixup: {rng.choice(['0.8', '0.2', '0.0'])}",
        f"model: {rng.choice(MODELS_VISION)}",
        f"opt: {s.extra['optim']}",
        "opt_eps: 1.0e-08",
        "momentum: 0.9",
        "sched: cosine",
        "smoothing: 0.1",
        f"warmup_epochs: {rng.choice([5, 20])}",
        "weight_decay: 0.05",
        f"workers: {rng.choice([8, 10])}",
    ]
    out += _filler_yaml(rng, target - len(out))
    return "\n".join(out) + "\n"


def render_generic_yaml(s: Spec) -> str:
    rng = random.Random(s.seed)
    target = _target_lines(rng)
    b = s.batch
    out = [
        f"# {rng.choice(WORDS)} training config",
        f"experiment: {rng.choice(WORDS)}-{s.seed % 1000}",
        "train:",
        f"  num_gpus: {b['devices']}",
        f"  batch_size: {b['per_device']}",
        f"  gradient_accumulation_steps: {b['accum']}",
        f"  epochs: {rng.choice([10, 90, 300])}",
        "  optimizer:",
        f"    name: {s.extra['optim']}",
        f"    lr: {s.lr.text()}",
        f"    weight_decay: {rng.choice(['0.0001', '0.01'])}",
        f"  warmup_epochs: {rng.choice([0, 5])}",
        "data:",
        f"  root: /data/{rng.choice(DATASETS)}",
        f"  num_workers: {rng.choice([4, 8])}",
    ]
    if rng.random() < 0.35:
        h, u = _anchor_block(rng)
        out += h + u
    out += _filler_yaml(rng, target - len(out))
    return "\n".join(out) + "\n"


RENDER = {
    "hf_yaml": render_hf_yaml,
    "hf_json": render_hf_json,
    "deepspeed_json": render_deepspeed_json,
    "lightning_yaml": render_lightning_yaml,
    "hydra_yaml": render_hydra_yaml,
    "detectron2_yaml": render_detectron2_yaml,
    "axolotl_yaml": render_axolotl_yaml,
    "timm_yaml": render_timm_yaml,
    "generic_yaml": render_generic_yaml,
}
DIRS = {
    "hf_yaml": ("configs/hf", "sft_{}.yaml"),
    "hf_json": ("configs/hf", "train_args_{}.json"),
    "deepspeed_json": ("configs/deepspeed", "ds_config_{}.json"),
    "lightning_yaml": ("configs/lightning", "fit_{}.yaml"),
    "hydra_yaml": ("configs/experiment", "exp_{}.yaml"),
    "detectron2_yaml": ("configs/detectron2", "mask_rcnn_{}.yaml"),
    "axolotl_yaml": ("examples/axolotl", "lora_{}.yml"),
    "timm_yaml": ("configs/timm", "args_{}.yaml"),
    "generic_yaml": ("configs/misc", "train_{}.yaml"),
}
# which batch parts each kind writes (commit 2 changes one of them)
PARTS = {
    "hf_yaml": ["per_device", "accum"],
    "hf_json": ["per_device", "accum"],
    "deepspeed_json": ["per_device", "accum"],
    "lightning_yaml": ["per_device", "accum", "devices"],
    "hydra_yaml": ["global", "accum"],
    "detectron2_yaml": ["global"],
    "axolotl_yaml": ["per_device", "accum"],
    "timm_yaml": ["per_device", "accum"],
    "generic_yaml": ["per_device", "accum", "devices"],
}


def make_spec(kind: str, index: int, rng: random.Random) -> Spec:
    sub, pattern = DIRS[kind]
    team = rng.choice(WORDS)
    path = f"{sub}/{team}/{pattern.format(f'{index:04d}')}"
    seed = rng.randrange(2**31)
    batch = {
        "per_device": rng.choice([4, 8, 16, 32, 64]),
        "accum": rng.choice([1, 1, 2, 4, 8]),
        "devices": rng.choice([1, 2, 4, 8]),
    }
    extra: dict = {}
    if kind in ("hf_yaml", "hf_json"):
        lr = pick_lr(rng, -6, -4, ["sci", "sci", "sci_dot", "plain"])
        extra["optim"] = rng.choice(["adamw_torch", "adamw_torch_fused", "adafactor", "paged_adamw_8bit"])
        if kind == "hf_yaml" and rng.random() < 0.3:
            batch["devices"] = rng.choice([2, 4, 8])
            PARTS_LOCAL = ["per_device", "accum", "devices"]
            extra["parts"] = PARTS_LOCAL
        else:
            batch.pop("devices")
    elif kind == "deepspeed_json":
        lr = pick_lr(rng, -5, -4, ["plain"])
        extra["optim"] = rng.choice(["AdamW", "Adam", "Lamb"])
    elif kind == "lightning_yaml":
        extra["optim"] = rng.choice(["AdamW", "SGD", "Adam"])
        lr = pick_lr(rng, -4, -3, ["plain", "sci_dot"]) if extra["optim"] != "SGD" else pick_lr(rng, -2, -1, ["plain"])
    elif kind == "hydra_yaml":
        extra["optim"] = rng.choice(["Adam", "AdamW", "SGD"])
        batch = {"global": rng.choice([64, 128, 256, 512]), "accum": rng.choice([1, 1, 2, 4])}
        lr = pick_lr(rng, -4, -3, ["plain", "sci"]) if extra["optim"] != "SGD" else pick_lr(rng, -2, -1, ["plain"])
    elif kind == "detectron2_yaml":
        batch = {"global": rng.choice([8, 16, 32, 64])}
        lr = LR(Decimal("0.02") * Decimal(batch["global"]) / Decimal(16), "plain")
    elif kind == "axolotl_yaml":
        batch.pop("devices")
        lr = pick_lr(rng, -5, -4, ["sci", "sci_dot", "plain"])
        extra["optim"] = rng.choice(["adamw_bnb_8bit", "paged_adamw_32bit", "adamw_torch"])
    elif kind == "timm_yaml":
        batch.pop("devices")
        extra["optim"] = rng.choice(["sgd", "adamw", "lamb"])
        lr = pick_lr(rng, -3, -1, ["plain", "sci_dot"])
    else:  # generic
        extra["optim"] = rng.choice(["adamw", "sgd", "adam"])
        lr = pick_lr(rng, -4, -2, ["plain", "sci"])
    return Spec(kind, path, seed, lr, batch, extra=extra)


# Detectron2 base configs the generated files inherit from (``_BASE_: "../Base-*.yaml"``)
D2_BASES = ["RCNN-FPN", "RetinaNet", "RCNN-C4"]


def render_d2_base(name: str) -> str:
    return "\n".join(
        [
            f"# Base-{name}: shared defaults (detectron2/configs)",
            "MODEL:",
            f'  META_ARCHITECTURE: "{"RetinaNet" if name == "RetinaNet" else "GeneralizedRCNN"}"',
            "  BACKBONE:",
            f'    NAME: "build_resnet{"_fpn" if name != "RCNN-C4" else ""}_backbone"',
            "  RESNETS:",
            '    OUT_FEATURES: ["res2", "res3", "res4", "res5"]',
            "DATASETS:",
            '  TRAIN: ("coco_2017_train",)',
            '  TEST: ("coco_2017_val",)',
            "SOLVER:",
            "  IMS_PER_BATCH: 16",
            "  BASE_LR: 0.02",
            "  STEPS: (60000, 80000)",
            "  MAX_ITER: 90000",
            "INPUT:",
            "  MIN_SIZE_TRAIN: (640, 672, 704, 736, 768, 800)",
            "VERSION: 2",
            "",
        ]
    )


def build_specs(n: int, seed: int) -> list[Spec]:
    """``n`` files in all: the Detectron2 base configs plus ``n - 3`` generated ones."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    weights = [KINDS[k] for k in kinds]
    return [make_spec(rng.choices(kinds, weights)[0], i, rng) for i in range(max(0, n - len(D2_BASES)))]


def change_batches(specs: list[Spec], fraction: float, seed: int) -> list[Spec]:
    """Commit 2: change one batch part in ``fraction`` of the files; scale the lr in half of those."""
    rng = random.Random(seed + 1)
    chosen = rng.sample(specs, max(1, round(len(specs) * fraction)))
    for j, s in enumerate(sorted(chosen, key=lambda s: s.path)):
        parts = s.extra.get("parts", PARTS[s.kind])
        part = rng.choice([p for p in parts if p in s.batch])
        old = s.batch[part]
        factor = Decimal(rng.choice([2, 2, 2, 4])) if old <= 64 or part != "per_device" else Decimal("0.5")
        if part == "accum" and old >= 8:
            factor = Decimal("0.5")
        s.batch[part] = int(Decimal(old) * factor)
        s.changed, s.factor = part, factor
        s.lr_scaled = j % 2 == 0
        if s.lr_scaled:
            s.lr = s.lr.scaled(factor)  # linear: the fix rule for SGD, inside the accepted band for adaptive ones
    return chosen


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def write_all(repo: Path, specs: list[Spec], only: list[Spec] | None = None) -> None:
    for s in only if only is not None else specs:
        p = repo / s.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(RENDER[s.kind](s), encoding="utf-8")


def generate(out: Path, files: int = 2000, seed: int = 0, changed: float = 0.1) -> dict:
    """Build the repository at ``out``; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    if any(p.name != MANIFEST for p in out.iterdir()):
        raise SystemExit(f"{out}: exists and is not empty")
    specs = build_specs(files, seed)
    _git(out, "init", "-q", "-b", "main")
    for k, v in (("user.email", "bench@example.com"), ("user.name", "bench"), ("commit.gpgsign", "false")):
        _git(out, "config", k, v)
    (out / ".git" / "info" / "exclude").write_text(MANIFEST + "\n")
    write_all(out, specs)
    # the repository's own config: lrlint's settings search stops here, so a corpus built inside
    # another project (bench/corpus/ in lrlint's checkout, whose pyproject excludes it) is checked as is
    (out / "pyproject.toml").write_text(
        '[project]\nname = "bench-configs"\nversion = "0.1.0"\n\n[tool.lrlint]\n'
        "# defaults: history reference from git, every default rule\n",
        encoding="utf-8",
    )
    for name in D2_BASES:
        (out / "configs/detectron2").mkdir(parents=True, exist_ok=True)
        (out / f"configs/detectron2/Base-{name}.yaml").write_text(render_d2_base(name), encoding="utf-8")
    _git(out, "add", "-A")
    _git(out, "commit", "-q", "-m", f"configs ({files} files, seed {seed})")
    chosen = change_batches(specs, changed, seed)
    write_all(out, specs, chosen)
    _git(out, "add", "-A")
    _git(out, "commit", "-q", "-m", f"change the batch in {len(chosen)} configs")
    manifest = {
        "files": files,
        "seed": seed,
        "changed_fraction": changed,
        "generator": VERSION,
        "kinds": {k: sum(1 for s in specs if s.kind == k) for k in KINDS},
        "changed": [
            {"path": s.path, "kind": s.kind, "part": s.changed, "factor": str(s.factor), "lr_scaled": s.lr_scaled}
            for s in sorted(chosen, key=lambda s: s.path)
        ],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--changed", type=float, default=0.1, help="fraction of files whose batch commit 2 changes")
    a = ap.parse_args(argv)
    m = generate(a.out, a.files, a.seed, a.changed)
    unscaled = sum(1 for c in m["changed"] if not c["lr_scaled"])
    print(
        f"{a.out}: {m['files']} files in 2 commits; {len(m['changed'])} batch changes, {unscaled} without the lr change"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
