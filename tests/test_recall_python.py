"""Python as real training code is written: end to end in temporary git repositories (the real CLI).

Each layout mirrors a real one: a LitGPT-style fine-tuning script whose recipe is a config object given as
a function default and handed down to the training function; nanoGPT's module globals with a DDP branch
that multiplies the accumulation; Detectron2 LazyConfig files that take their optimizer and loader from
other config files (relative imports and ``model_zoo.get_config``); module constants passed to a function;
``OmegaConf.create`` defaults; a ``devices`` default of the script's main function.
"""

from __future__ import annotations

import json
import os

import pytest


def _findings(proc):
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def _summary(findings, root):
    """(code, file from the repository's top, row, column, expected lr) per finding."""
    return [
        (
            f["code"],
            os.path.relpath(f["filename"], root),
            f["location"]["row"],
            f["location"]["column"],
            f["data"].get("expected_lr"),
        )
        for f in findings
    ]


LITGPT_LORA = """\
from pathlib import Path
from typing import Union

import lightning as L
import torch

from litgpt_like.args import EvalArgs, TrainArgs
from litgpt_like.utils import CLI, parse_devices


def setup(
    out_dir: Path = Path("out/finetune/lora"),
    devices: Union[int, str] = 1,
    train: TrainArgs = TrainArgs(
        save_interval=1000,
        log_interval=1,
        global_batch_size=128,
        micro_batch_size=4,
        lr_warmup_steps=100,
        epochs=5,
        learning_rate=3e-4,
    ),
    eval: EvalArgs = EvalArgs(interval=100, max_new_tokens=100, max_iters=100),
) -> None:
    devices = parse_devices(devices)
    fabric = L.Fabric(devices=devices, precision="bf16-true")
    fabric.launch(main, devices, train, eval)


def main(fabric, devices: int, train: TrainArgs, eval: EvalArgs) -> None:
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.learning_rate, weight_decay=0.02)
    fit(fabric, model, optimizer, train, eval)


if __name__ == "__main__":
    CLI(setup)
"""


def test_dataclass_default_of_the_entry_function_changed_lr_kept(repo):
    """LitGPT's "Reduce microbatch size": the signature default TrainArgs(global_batch_size=128 -> 16) with the
    AdamW lr kept. The recipe is read through CLI(setup) and fabric.launch(main, ..., train, ...)."""
    repo.write("litgpt_like/finetune/lora.py", LITGPT_LORA)
    repo.commit()
    repo.write(
        "litgpt_like/finetune/lora.py",
        LITGPT_LORA.replace("global_batch_size=128", "global_batch_size=16").replace(
            "micro_batch_size=4", "micro_batch_size=1"
        ),
    )
    proc = repo.lrlint("check", "litgpt_like/finetune/lora.py", "--output-format", "json")
    findings = _findings(proc)
    assert _summary(findings, repo.path) == [
        ("LR001", "litgpt_like/finetune/lora.py", 17, 27, pytest.approx(1.0607e-4, rel=1e-4))
    ]
    f = findings[0]
    assert f["message"] == (
        "effective batch 128 -> 16 (x0.125) but optimizer.lr stays 3e-4; expected 1.06e-4 (square-root rule)"
    )
    assert f["notes"][0].startswith("policy for AdamW (adaptive): square-root to linear rule")
    assert f["data"]["optimizer"] == "AdamW" and f["fix"]["edits"][0]["content"] == "1.06e-4"
    assert [(r["location"]["row"], r["location"]["column"]) for r in f["related"]] == [(21, 23)]
    assert proc.returncode == 1


def test_dataclass_default_scaled_with_the_batch_is_clean(repo):
    repo.write("lora.py", LITGPT_LORA)
    repo.commit()
    repo.write("lora.py", LITGPT_LORA.replace("global_batch_size=128", "global_batch_size=512").replace("3e-4", "6e-4"))
    proc = repo.lrlint("check", "lora.py")
    assert proc.returncode == 0, proc.stdout


NANOGPT = """\
import os

import torch

# default config values
out_dir = 'out'
gradient_accumulation_steps = 1 # used to simulate larger batch sizes
batch_size = 12 # micro-batch size
block_size = 1024
learning_rate = 6e-4 # max learning rate
max_iters = 600000
warmup_iters = 2000
# -----------------------------------------------------------------------------
ddp = int(os.environ.get('RANK', -1)) != -1 # is this a ddp run?
if ddp:
    ddp_rank = int(os.environ['RANK'])
    master_process = ddp_rank == 0
    seed_offset = ddp_rank
else:
    master_process = True
    seed_offset = 0

model = GPT(config)
optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.95))
"""


def test_ddp_branch_is_compared_branch_by_branch(repo):
    """nanoGPT 086ebe1822's shape: the accumulation raised to 5 and multiplied by 8 in the single-GPU branch;
    each branch is its own recipe, compared with the file before, and the message says which branch."""
    repo.write("train.py", NANOGPT)
    repo.commit()
    repo.write(
        "train.py",
        NANOGPT.replace("gradient_accumulation_steps = 1 #", "gradient_accumulation_steps = 5 #").replace(
            "    seed_offset = 0\n", "    seed_offset = 0\n    gradient_accumulation_steps *= 8 # simulate 8 gpus\n"
        ),
    )
    findings = _findings(repo.lrlint("check", "train.py", "--output-format", "json"))
    assert _summary(findings, repo.path) == [
        ("LR001", "train.py", 7, 31, pytest.approx(6e-4 * 5**0.5)),
        ("LR001", "train.py", 22, 5, pytest.approx(6e-4 * 40**0.5)),
    ]
    assert findings[0]["message"].startswith("effective batch 12 -> 60 (x5) but optimizer.lr stays 6e-4; expected")
    assert findings[0]["notes"][0].startswith("policy for AdamW (adaptive)")
    assert findings[0]["message"].endswith("(in the branch where `ddp`)")
    assert findings[1]["message"].startswith("effective batch 12 -> 480 (x40) but optimizer.lr stays 6e-4; expected")
    assert findings[1]["notes"][0].startswith("policy for AdamW (adaptive)")
    assert findings[1]["message"].endswith("(in the branch where `not ddp`)")


def test_ddp_branch_with_the_same_batch_on_both_sides_is_one_recipe(repo):
    repo.write("train.py", NANOGPT)
    repo.commit()
    repo.write("train.py", NANOGPT.replace("batch_size = 12 #", "batch_size = 24 #").replace("6e-4", "8.485e-4"))
    assert repo.lrlint("check", "train.py").returncode == 0


D2_OPTIM = """\
import torch

from detectron2.config import LazyCall as L
from detectron2.solver.build import get_default_optimizer_params

SGD = L(torch.optim.SGD)(
    params=L(get_default_optimizer_params)(weight_decay_norm=0.0),
    lr=0.02,
    momentum=0.9,
    weight_decay=1e-4,
)

AdamW = L(torch.optim.AdamW)(
    params=L(get_default_optimizer_params)(base_lr="${..lr}", weight_decay_norm=0.0),
    lr=1e-4,
    betas=(0.9, 0.999),
    weight_decay=0.1,
)
"""

D2_COCO = """\
from omegaconf import OmegaConf

from detectron2.config import LazyCall as L
from detectron2.data import build_detection_test_loader, build_detection_train_loader, get_detection_dataset_dicts

dataloader = OmegaConf.create()

dataloader.train = L(build_detection_train_loader)(
    dataset=L(get_detection_dataset_dicts)(names="coco_2017_train"),
    total_batch_size=16,
    num_workers=4,
)
dataloader.test = L(build_detection_test_loader)(
    dataset=L(get_detection_dataset_dicts)(names="coco_2017_val", filter_empty=False),
    num_workers=4,
)
"""

D2_TRAIN = """\
train = dict(
    output_dir="./output",
    init_checkpoint="",
    max_iter=90000,
    amp=dict(enabled=False),
    eval_period=5000,
    device="cuda",
)
"""

D2_CHILD = """\
from ..common.data.coco import dataloader
from ..common.optim import SGD as optimizer
from ..common.train import train

train.init_checkpoint = "detectron2://ImageNetPretrained/MSRA/R-50.pkl"
"""

D2_ZOO_CHILD = """\
from detectron2 import model_zoo

dataloader = model_zoo.get_config("common/data/coco.py").dataloader
dataloader.train.total_batch_size = 64

train = model_zoo.get_config("common/train.py").train
train.max_iter = 184375

optimizer = model_zoo.get_config("common/optim.py").AdamW
optimizer.lr = 1e-4
"""


def _d2_tree(repo):
    repo.write("configs/common/optim.py", D2_OPTIM)
    repo.write("configs/common/data/coco.py", D2_COCO)
    repo.write("configs/common/train.py", D2_TRAIN)
    repo.write("configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.py", D2_CHILD)
    repo.write("projects/ViTDet/configs/COCO/mask_rcnn_vitdet_b_100ep.py", D2_ZOO_CHILD)
    repo.commit()


def test_lazyconfig_relative_import_chain(repo):
    """A LazyConfig child with no lr of its own (SGD from common/optim.py, its loader from common/data/coco.py)
    doubles the batch: its recipe is assembled through the imports and compared with itself before."""
    _d2_tree(repo)
    child = "configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.py"
    repo.write(child, D2_CHILD + "dataloader.train.total_batch_size = 32\n")
    findings = _findings(repo.lrlint("check", child, "--output-format", "json"))
    assert _summary(findings, repo.path) == [("LR001", child, 6, 37, pytest.approx(0.04))]
    assert (
        findings[0]["message"]
        == "effective batch 16 -> 32 (x2) but optimizer.lr stays 0.02; expected 0.04 (linear rule)"
    )
    assert findings[0]["notes"][0] == "policy for SGD (SGD family): linear rule"
    assert [(os.path.relpath(r["filename"], repo.path), r["location"]["row"]) for r in findings[0]["related"]] == [
        ("configs/common/optim.py", 8)
    ]


def test_lazyconfig_objects_from_several_files_are_not_a_trained_reference(repo):
    """The ViTDet shape: AdamW's 1e-4 from common/optim.py and the loader's 16 from common/data/coco.py were
    never trained together, so the child's 64 is not compared with them; only its own history counts."""
    _d2_tree(repo)
    proc = repo.lrlint("check", "projects", "configs", "--explain")
    assert proc.returncode == 0, proc.stdout
    assert (
        "projects/ViTDet/configs/COCO/mask_rcnn_vitdet_b_100ep.py: optimizer.lr (detectron2_lazy profile): "
        "effective batch 64, lr 0.0001, optimizer AdamW (adaptive); reference: none" in proc.stdout
    )


def test_lazyconfig_model_zoo_chain_history(repo):
    _d2_tree(repo)
    child = "projects/ViTDet/configs/COCO/mask_rcnn_vitdet_b_100ep.py"
    repo.write(child, D2_ZOO_CHILD.replace("total_batch_size = 64", "total_batch_size = 16"))
    findings = _findings(repo.lrlint("check", child, "--output-format", "json"))
    assert _summary(findings, repo.path) == [
        ("LR001", child, 4, 37, pytest.approx(5e-5)),
        ("LR006", child, 7, 18, None),  # the iterations were set for 64 images a step
    ]
    assert findings[0]["notes"][0].startswith("policy for AdamW (adaptive)")


CONSTANTS = """\
import torch
from torch.utils.data import DataLoader

BATCH_SIZE = 64
LEARNING_RATE = 0.1


def train(batch_size, lr, epochs=90):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    run(loader, optimizer, epochs)


if __name__ == "__main__":
    train(BATCH_SIZE, LEARNING_RATE)
"""


def test_module_constants_passed_to_a_function(repo):
    repo.write("train.py", CONSTANTS)
    repo.commit()
    repo.write("train.py", CONSTANTS.replace("BATCH_SIZE = 64", "BATCH_SIZE = 256"))
    findings = _findings(repo.lrlint("check", "train.py", "--output-format", "json"))
    assert _summary(findings, repo.path) == [("LR001", "train.py", 4, 14, pytest.approx(0.4))]
    assert (
        findings[0]["message"]
        == "effective batch 64 -> 256 (x4) but optimizer.lr stays 0.1; expected 0.4 (linear rule)"
    )
    assert findings[0]["notes"][0] == "policy for SGD (SGD family): linear rule"
    assert findings[0]["fix"]["edits"][0]["location"]["row"] == 5


OMEGACONF = """\
import torch
from omegaconf import OmegaConf

defaults = OmegaConf.create({"train": {"batch_size": 64, "lr": 0.001, "epochs": 100}})
cfg = OmegaConf.merge(defaults, OmegaConf.from_cli())
loader = make_loader(cfg.train.batch_size)
optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr)
"""


def test_omegaconf_create_defaults(repo):
    repo.write("train.py", OMEGACONF)
    repo.commit()
    repo.write("train.py", OMEGACONF.replace('"batch_size": 64', '"batch_size": 256'))
    findings = _findings(repo.lrlint("check", "train.py", "--output-format", "json"))
    assert _summary(findings, repo.path) == [("LR001", "train.py", 4, 54, pytest.approx(0.002))]


DEVICES_DEFAULT = """\
import lightning as L
import torch
from torch.utils.data import DataLoader


def main(devices: int = 4, batch_size: int = 32):
    fabric = L.Fabric(devices=devices)
    loader = DataLoader(dataset, batch_size=batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


if __name__ == "__main__":
    main()
"""


def test_devices_default_of_the_main_function(repo):
    repo.write("train.py", DEVICES_DEFAULT)
    repo.commit()
    repo.write("train.py", DEVICES_DEFAULT.replace("devices: int = 4", "devices: int = 8"))
    findings = _findings(repo.lrlint("check", "train.py", "--output-format", "json"))
    assert _summary(findings, repo.path) == [("LR001", "train.py", 6, 25, pytest.approx(0.2))]
    assert findings[0]["message"].startswith("effective batch 128 -> 256 (x2)")


LITGPT_QUANTIZED = LITGPT_LORA.replace(
    "    optimizer = torch.optim.AdamW(model.parameters(), lr=train.learning_rate, weight_decay=0.02)\n",
    "    if quantize:\n"
    "        import bitsandbytes as bnb\n\n"
    "        optimizer_cls = bnb.optim.PagedAdamW\n"
    "    else:\n"
    "        optimizer_cls = torch.optim.AdamW\n"
    "    optimizer = optimizer_cls(model.parameters(), lr=train.learning_rate, weight_decay=0.02)\n",
)


def test_an_optimizer_class_chosen_by_branch(repo):
    """LitGPT's lora.py picks bitsandbytes' PagedAdamW or torch's AdamW into ``optimizer_cls``: both AdamW, so
    the recipe is AdamW's (square-root rule), not an unknown optimizer's."""
    repo.write("lora.py", LITGPT_QUANTIZED)
    repo.commit()
    repo.write("lora.py", LITGPT_QUANTIZED.replace("global_batch_size=128", "global_batch_size=16"))
    findings = _findings(repo.lrlint("check", "lora.py", "--output-format", "json"))
    assert [(f["code"], f["message"]) for f in findings] == [
        (
            "LR001",
            "effective batch 128 -> 16 (x0.125) but optimizer.lr stays 3e-4; expected 1.06e-4 (square-root rule)",
        )
    ]
    assert findings[0]["data"]["optimizer"] == "AdamW"


def test_a_class_chosen_by_branch_between_families_is_unknown(repo):
    text = LITGPT_QUANTIZED.replace("bnb.optim.PagedAdamW", "torch.optim.SGD")
    repo.write("lora.py", text)
    repo.commit()
    repo.write("lora.py", text.replace("global_batch_size=128", "global_batch_size=16"))
    findings = _findings(repo.lrlint("check", "lora.py", "--output-format", "json"))
    assert [f["data"]["optimizer"] for f in findings] != ["AdamW"]
