"""Generate a corpus of realistic Python training scripts and configs for ``bench/bench_python.py``.

Kinds (shares of the corpus): argparse training scripts (30%), MMEngine configs (30%),
Lightning modules with a Trainer (20%), Hugging Face TrainingArguments scripts (5%), and
utility modules that mention no batch/lr/optimizer name (15%: the pre-filter skips them).
Every file is deterministic for a seed. With ``--git``, the corpus is committed and then
10% of the training files get a batch change without an lr change (so ``--base HEAD``
has work to do).

    python bench/gen_python_corpus.py OUT_DIR [--files 2000] [--seed 0] [--git]
"""

from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

OPTIMIZERS = ["SGD", "AdamW", "Adam", "RMSprop"]


def _argparse_script(r: random.Random, i: int) -> str:
    opt = r.choice(OPTIMIZERS)
    bs = r.choice([32, 64, 128, 256])
    lr = r.choice(["0.1", "0.01", "3e-4", "1e-3"])
    scaled = r.random() < 0.3
    layers = "\n".join(
        f"        self.block{j} = nn.Sequential(nn.Conv2d({16 * j + 3}, {16 * j + 16}, 3, padding=1), "
        f"nn.BatchNorm2d({16 * j + 16}), nn.ReLU())"
        for j in range(r.randint(3, 8))
    )
    forward = "\n".join(f"        x = self.block{j}(x)" for j in range(r.randint(3, 8)))
    lr_line = "    lr = args.lr * args.batch_size * args.accum_steps / 256\n" if scaled else "    lr = args.lr\n"
    return f'''"""Training script {i}: a small CNN on an image folder."""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def get_args():
    parser = argparse.ArgumentParser(description="train {i}")
    parser.add_argument("--data", default="./data", help="dataset root")
    parser.add_argument("--epochs", type=int, default={r.choice([10, 30, 90])})
    parser.add_argument("-b", "--batch-size", type=int, default={bs})
    parser.add_argument("--lr", type=float, default={lr})
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--weight-decay", type=float, default={r.choice(["1e-4", "5e-4", "0.05"])})
    parser.add_argument("--accum-steps", type=int, default={r.choice([1, 1, 2, 4])})
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default={i})
    parser.add_argument("--amp", action="store_true")
    return parser.parse_args()


class Net(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
{layers}
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.LazyLinear(num_classes)

    def forward(self, x):
{forward}
        x = self.pool(x).flatten(1)
        return self.fc(x)


def train_one_epoch(model, loader, optimizer, scaler, epoch, args):
    model.train()
    start = time.time()
    for step, (images, target) in enumerate(loader):
        with torch.autocast("cuda", enabled=args.amp):
            loss = F.cross_entropy(model(images), target) / args.accum_steps
        scaler.scale(loss).backward()
        if (step + 1) % args.accum_steps == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
        if step % 100 == 0:
            print(f"epoch {{epoch}} step {{step}} loss {{loss.item():.4f}} {{time.time() - start:.1f}}s")


def main():
    args = get_args()
    torch.manual_seed(args.seed)
    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])
    train_set = datasets.ImageFolder(os.path.join(args.data, "train"), tf)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    model = Net()
{lr_line}    optimizer = torch.optim.{opt}(model.parameters(), lr=lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    scaler = torch.cuda.amp.GradScaler(enabled=args.amp)
    for epoch in range(args.epochs):
        train_one_epoch(model, loader, optimizer, scaler, epoch, args)
        scheduler.step()
        torch.save(model.state_dict(), f"checkpoint_{{epoch}}.pth")


if __name__ == "__main__":
    main()
'''


def _mmengine_config(r: random.Random, i: int) -> str:
    bs = r.choice([2, 4, 8, 16])
    gpus = r.choice([4, 8])
    lr = r.choice(["0.02", "0.01", "0.0001"])
    opt = "AdamW" if lr == "0.0001" else "SGD"
    return f"""_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/default_runtime.py',
]
# config {i}: {gpus} GPUs x {bs} images per GPU
model = dict(
    backbone=dict(depth={r.choice([50, 101])}, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    roi_head=dict(bbox_head=dict(num_classes={r.choice([80, 20, 1])})),
)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=(1333, 800), ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    batch_size={bs},
    num_workers={r.choice([2, 4])},
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CocoDataset',
        data_root='data/coco/',
        ann_file='annotations/instances_train2017.json',
        pipeline=train_pipeline,
    ),
)
max_epochs = {r.choice([12, 24, 36])}
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='{opt}', lr={lr}, weight_decay=0.0001{", momentum=0.9" if opt == "SGD" else ""}),
    clip_grad=dict(max_norm=35, norm_type=2),
)
auto_scale_lr = dict(enable=False, base_batch_size={gpus * bs})
"""


def _lightning_module(r: random.Random, i: int) -> str:
    opt = r.choice(OPTIMIZERS)
    return f"""import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, random_split
from torchvision.datasets import MNIST
from torchvision import transforms


class LitClassifier{i}(L.LightningModule):
    def __init__(
        self,
        hidden_dim: int = {r.choice([64, 128, 256])},
        lr: float = {r.choice(["1e-3", "3e-4", "0.01"])},
        batch_size: int = {r.choice([32, 64, 128])},
    ):
        super().__init__()
        self.save_hyperparameters()
        self.l1 = nn.Linear(28 * 28, self.hparams.hidden_dim)
        self.l2 = nn.Linear(self.hparams.hidden_dim, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.l2(torch.relu(self.l1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self):
        return torch.optim.{opt}(self.parameters(), lr=self.hparams.lr)

    def train_dataloader(self):
        ds = MNIST("data", train=True, download=True, transform=transforms.ToTensor())
        return DataLoader(ds, batch_size=self.hparams.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        ds = MNIST("data", train=False, download=True, transform=transforms.ToTensor())
        return DataLoader(ds, batch_size=256)


if __name__ == "__main__":
    trainer = L.Trainer(
        devices={r.choice([1, 2, 4, 8])},
        num_nodes=1,
        accumulate_grad_batches={r.choice([1, 2])},
        max_epochs={r.choice([5, 10, 20])},
    )
    trainer.fit(LitClassifier{i}())
"""


def _hf_script(r: random.Random, i: int) -> str:
    return f"""from datasets import load_dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

MODEL = "bert-base-uncased"


def main():
    tok = AutoTokenizer.from_pretrained(MODEL)
    ds = load_dataset("glue", "sst2").map(lambda b: tok(b["sentence"], truncation=True), batched=True)
    model = AutoModelForSequenceClassification.from_pretrained(MODEL, num_labels=2)
    args = TrainingArguments(
        output_dir="out/{i}",
        per_device_train_batch_size={r.choice([8, 16, 32])},
        gradient_accumulation_steps={r.choice([1, 2, 4])},
        learning_rate={r.choice(["2e-5", "3e-5", "5e-5"])},
        num_train_epochs=3,
        warmup_ratio=0.1,
        weight_decay=0.01,
        optim="adamw_torch",
        logging_steps=50,
    )
    Trainer(model=model, args=args, train_dataset=ds["train"], eval_dataset=ds["validation"], tokenizer=tok).train()


if __name__ == "__main__":
    main()
"""


def _utility(r: random.Random, i: int) -> str:
    funcs = "\n\n".join(
        f'''def transform_{j}(record: dict) -> dict:
    """Normalise field {j} of a record."""
    out = dict(record)
    value = out.get("field_{j}")
    if isinstance(value, str):
        out["field_{j}"] = value.strip().lower()
    elif value is None:
        out["field_{j}"] = ""
    return out'''
        for j in range(r.randint(5, 15))
    )
    return f'''"""Data-cleaning helpers {i}."""
from __future__ import annotations

import csv
import json
from pathlib import Path


{funcs}


def read_rows(path: Path):
    with path.open(newline="") as f:
        yield from csv.DictReader(f)


def write_json(rows, path: Path) -> None:
    path.write_text(json.dumps(list(rows), indent=2))
'''


KINDS = [
    (_argparse_script, 30, "scripts/train_{i}.py"),
    (_mmengine_config, 30, "configs/det/faster-rcnn_{i}.py"),
    (_lightning_module, 20, "lightning/lit_{i}.py"),
    (_hf_script, 5, "hf/finetune_{i}.py"),
    (_utility, 15, "utils/clean_{i}.py"),
]


BASES = {
    "configs/_base_/models/faster-rcnn_r50_fpn.py": (
        "model = dict(type='FasterRCNN', backbone=dict(type='ResNet', depth=50))\n"
    ),
    "configs/_base_/datasets/coco_detection.py": "dataset_type = 'CocoDataset'\ndata_root = 'data/coco/'\n",
    "configs/_base_/default_runtime.py": "default_scope = 'mmdet'\nlog_level = 'INFO'\n",
}


def generate(root: Path, files: int = 2000, seed: int = 0) -> list[Path]:
    """``files`` corpus files (plus the three MMEngine base configs they inherit from)."""
    r = random.Random(seed)
    for rel, text in BASES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    weights = [w for _, w, _ in KINDS]
    out = []
    for i in range(files):
        fn, _, pattern = r.choices(KINDS, weights)[0]
        p = root / pattern.format(i=i)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(fn(r, i), encoding="utf-8")
        out.append(p)
    return out


def make_git_corpus(root: Path, files: int = 2000, seed: int = 0) -> list[Path]:
    """Generate, commit, then change the batch (not the lr) in 10% of the training files."""
    paths = generate(root, files, seed)
    run = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("config", "user.email", "bench@example.com")
    run("config", "user.name", "bench")
    run("config", "commit.gpgsign", "false")
    run("add", "-A")
    run("commit", "-q", "-m", "corpus")
    r = random.Random(seed + 1)
    for p in paths:
        if r.random() < 0.1:
            t = p.read_text(encoding="utf-8")
            for a, b in (
                ('"--batch-size", type=int, default=', '"--batch-size", type=int, default=2 * '),
                ("    batch_size=", "    batch_size=2 * "),
                ("per_device_train_batch_size=", "per_device_train_batch_size=2 * "),
                ("L.Trainer(devices=", "L.Trainer(devices=2 * "),
            ):
                if a in t:
                    p.write_text(t.replace(a, b, 1), encoding="utf-8")
                    break
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--git", action="store_true")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    paths = make_git_corpus(a.out, a.files, a.seed) if a.git else generate(a.out, a.files, a.seed)
    print(f"{len(paths)} files in {a.out}")


if __name__ == "__main__":
    main()
