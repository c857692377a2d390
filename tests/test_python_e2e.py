"""End to end on Python files: `lrlint check` in temporary git repositories (the real CLI, a subprocess).

Each test commits a training script or Python config, edits it the way a real
commit would, and asserts the exact findings: code, location, expected lr and
the lr line shown in the code frame.
"""

from __future__ import annotations

import json

import pytest

ARGPARSE_SCRIPT = """\
import argparse
import torch
from torch.utils.data import DataLoader

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()

model = torch.nn.Linear(2, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
loader = DataLoader(ds, batch_size=args.batch_size)
"""


def _json(proc):
    assert proc.stderr == "" or "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def _summary(findings):
    """(code, row, column, end row, end column, expected lr) per finding."""
    return [
        (
            f["code"],
            f["location"]["row"],
            f["location"]["column"],
            f["end_location"]["row"],
            f["end_location"]["column"],
            (f.get("data") or {}).get("expected_lr"),
        )
        for f in findings
    ]


def _commit_then_edit(repo, name, text, old, new):
    repo.write(name, text)
    repo.commit("init")
    assert old in text
    repo.write(name, text.replace(old, new))


def test_argparse_batch_default_changed_lr_kept(repo):
    _commit_then_edit(repo, "train.py", ARGPARSE_SCRIPT, "default=256", "default=1024")
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    assert proc.returncode == 1, proc.stderr
    findings = _json(proc)
    assert _summary(findings) == [("LR001", 6, 55, 6, 59, pytest.approx(0.4))]
    f = findings[0]
    assert f["data"]["optimizer"] == "SGD" and f["data"]["batch_old"] == 256 and f["data"]["batch_new"] == 1024
    # the lr default is the fix target, shown in the code frame
    assert [(r["location"]["row"], r["location"]["column"]) for r in f["related"]] == [(7, 49)]
    assert [(e["location"]["row"], e["location"]["column"], e["content"]) for e in f["fix"]["edits"]] == [
        (7, 49, "0.4")
    ]
    text = repo.lrlint("check", "train.py").stdout
    assert 'parser.add_argument("--lr", type=float, default=0.1)' in text
    assert text.startswith("LR001 [*] error: effective batch 256 -> 1024 (x4) but optimizer.lr stays 0.1; ")
    assert "\n --> train.py:6:55\n" in text


def test_argparse_fix_rewrites_the_default_literal(repo):
    _commit_then_edit(repo, "train.py", ARGPARSE_SCRIPT, "default=256", "default=512")
    proc = repo.lrlint("check", "train.py", "--fix")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'parser.add_argument("--lr", type=float, default=0.2)' in (repo.path / "train.py").read_text()
    assert repo.lrlint("check", "train.py").returncode == 0


def test_argparse_batch_and_lr_scaled_together_is_clean(repo):
    _commit_then_edit(
        repo,
        "train.py",
        ARGPARSE_SCRIPT,
        'default=256)\nparser.add_argument("--lr", type=float, default=0.1)',
        'default=512)\nparser.add_argument("--lr", type=float, default=0.2)',
    )
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    assert (proc.returncode, _json(proc)) == (0, [])


MMENGINE_CONFIG = """\
_base_ = ['../_base_/default_runtime.py']
train_dataloader = dict(batch_size=8, num_workers=2, dataset=dict(type='CocoDataset'))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)
"""


def test_mmengine_config_batch_changed(repo):
    repo.write("configs/_base_/default_runtime.py", "default_scope = 'mmdet'\n")
    _commit_then_edit(
        repo, "configs/retinanet/retinanet_r50_coco.py", MMENGINE_CONFIG, "batch_size=8,", "batch_size=32,"
    )
    proc = repo.lrlint("check", "configs/retinanet/retinanet_r50_coco.py", "--output-format", "json")
    findings = _json(proc)
    assert proc.returncode == 1
    assert [f["code"] for f in findings if f["code"] != "LR001"] == [] or all(
        f["code"] in ("LR001", "LR003", "LR007") for f in findings
    )
    lr001 = [f for f in findings if f["code"] == "LR001"]
    assert _summary(lr001) == [("LR001", 2, 36, 2, 38, pytest.approx(0.08))]
    assert lr001[0]["data"]["lr_key"] == "optim_wrapper.optimizer.lr"
    assert lr001[0]["data"]["profile"] == "mmengine"


def test_mmengine_auto_scale_lr_enabled_is_silent(repo):
    text = MMENGINE_CONFIG.replace("enable=False", "enable=True")
    _commit_then_edit(repo, "configs/retinanet_r50_coco.py", text, "batch_size=8,", "batch_size=32,")
    proc = repo.lrlint("check", "configs/retinanet_r50_coco.py", "--output-format", "json")
    assert [f["code"] for f in _json(proc) if f["code"] == "LR001"] == []


HF_SCRIPT = """\
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

def main():
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    args = TrainingArguments(
        output_dir="out",
        per_device_train_batch_size=16,
        gradient_accumulation_steps=1,
        learning_rate=2e-5,
        warmup_ratio=0.1,
        optim="adamw_torch",
    )
    Trainer(model=model, args=args, train_dataset=ds).train()

if __name__ == "__main__":
    main()
"""


def test_hf_training_arguments_in_a_script(repo):
    _commit_then_edit(repo, "finetune.py", HF_SCRIPT, "gradient_accumulation_steps=1", "gradient_accumulation_steps=4")
    proc = repo.lrlint("check", "finetune.py", "--output-format", "json")
    findings = _json(proc)
    assert proc.returncode == 1
    # AdamW: square-root rule, x4 -> x2
    assert _summary(findings) == [("LR001", 8, 37, 8, 38, pytest.approx(4e-5))]
    assert findings[0]["data"]["family"] == "adaptive" and findings[0]["data"]["lr_key"] == "learning_rate"
    assert [(r["location"]["row"], r["location"]["column"]) for r in findings[0]["related"]][-1] == (9, 23)


def test_hf_training_arguments_without_optim_train_with_adamw(repo):
    """TrainingArguments' own default optimizer (AdamW) decides the rule: sqrt, x4 -> x2, a safe fix."""
    script = HF_SCRIPT.replace('        optim="adamw_torch",\n', "")
    _commit_then_edit(repo, "finetune.py", script, "gradient_accumulation_steps=1", "gradient_accumulation_steps=4")
    proc = repo.lrlint("check", "finetune.py", "--output-format", "json")
    findings = _json(proc)
    assert _summary(findings) == [("LR001", 8, 37, 8, 38, pytest.approx(4e-5))]
    assert (findings[0]["data"]["optimizer"], findings[0]["data"]["family"]) == ("AdamW", "adaptive")
    assert findings[0]["fix"]["applicability"] == "safe"


LIGHTNING_SCRIPT = """\
import lightning as L
import torch
from torch.utils.data import DataLoader


class LitModel(L.LightningModule):
    def __init__(self, lr: float = 1e-3, batch_size: int = 64):
        super().__init__()
        self.save_hyperparameters()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)


trainer = L.Trainer(devices=2, num_nodes=1, max_epochs=10)
trainer.fit(LitModel())
"""


def test_lightning_trainer_devices_change(repo):
    _commit_then_edit(repo, "train_lit.py", LIGHTNING_SCRIPT, "devices=2", "devices=8")
    proc = repo.lrlint("check", "train_lit.py", "--output-format", "json")
    findings = _json(proc)
    assert proc.returncode == 1
    assert _summary(findings) == [("LR001", 18, 29, 18, 30, pytest.approx(2e-3))]
    d = findings[0]["data"]
    assert (d["batch_old"], d["batch_new"], d["optimizer"]) == (128, 512, "Adam")
    assert findings[0]["fix"]["edits"][0]["location"] == {"row": 7, "column": 36}


TIMM_SCRIPT = """\
import argparse
from timm.optim import create_optimizer_v2, optimizer_kwargs

parser = argparse.ArgumentParser()
group = parser.add_argument_group("Optimizer parameters")
group.add_argument("--opt", default="sgd", type=str)
group.add_argument("--lr", type=float, default=None)
group.add_argument("--lr-base", type=float, default=0.1)
group.add_argument("--lr-base-size", type=int, default=256)
group.add_argument("--lr-base-scale", type=str, default="")
parser.add_argument("-b", "--batch-size", type=int, default=128)
parser.add_argument("--grad-accum-steps", type=int, default=1)
parser.add_argument("--sched", default="cosine")
parser.add_argument("--warmup-epochs", type=int, default=5)


def main():
    args = parser.parse_args()
    args.world_size = 1
    if args.lr is None:
        global_batch_size = args.batch_size * args.world_size * args.grad_accum_steps
        batch_ratio = global_batch_size / args.lr_base_size
        if not args.lr_base_scale:
            on = args.opt.lower()
            args.lr_base_scale = "sqrt" if any([o in on for o in ("ada", "lamb")]) else "linear"
        if args.lr_base_scale == "sqrt":
            batch_ratio = batch_ratio ** 0.5
        args.lr = args.lr_base * batch_ratio
    optimizer = create_optimizer_v2(model, **optimizer_kwargs(cfg=args))
"""


def test_timm_lr_base_scales_at_run_time(repo):
    _commit_then_edit(repo, "train.py", TIMM_SCRIPT, "default=128", "default=512")
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    assert [f["code"] for f in _json(proc) if f["code"] in ("LR001", "LR002")] == []


def test_timm_explicit_lr_is_checked(repo):
    text = TIMM_SCRIPT.replace('"--lr", type=float, default=None', '"--lr", type=float, default=0.1')
    _commit_then_edit(repo, "train.py", text, "default=128", "default=512")
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    findings = _json(proc)
    assert _summary(findings) == [("LR001", 11, 61, 11, 64, pytest.approx(0.4))]
    assert findings[0]["data"]["profile"] == "timm_script"


def _expression_script(optimizer: str, expr: str) -> str:
    return (
        "import math\n"
        "import torch\n"
        "base_lr = 1e-3\n"
        "batch_size = 64\n"
        f"lr = {expr}\n"
        f"optimizer = torch.optim.{optimizer}(model.parameters(), lr=lr)\n"
        "loader = torch.utils.data.DataLoader(ds, batch_size=batch_size)\n"
    )


@pytest.mark.parametrize(
    "optimizer, expr",
    [
        ("SGD", "base_lr * batch_size / 256"),
        ("AdamW", "base_lr * math.sqrt(batch_size / 256)"),
        ("AdamW", "base_lr * (batch_size / 256) ** 0.5"),
    ],
)
def test_lr_expression_matching_the_policy_is_silent(repo, optimizer, expr):
    _commit_then_edit(repo, "train.py", _expression_script(optimizer, expr), "batch_size = 64", "batch_size = 128")
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    assert (proc.returncode, [f["code"] for f in _json(proc)]) == (0, [])


def test_linear_expression_for_adamw_is_lr002_under_the_sqrt_policy(repo):
    repo.write("pyproject.toml", '[tool.lrlint.policy]\nadaptive = "sqrt"\n')
    _commit_then_edit(
        repo,
        "train.py",
        _expression_script("AdamW", "base_lr * batch_size / 256"),
        "batch_size = 64",
        "batch_size = 128",
    )
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    findings = _json(proc)
    assert _summary(findings) == [("LR002", 5, 6, 5, 32, None)]
    msg = findings[0]["message"]
    assert msg == (
        "optimizer.lr follows the batch by the linear rule (base_lr * batch_size / 256); expected the square-root rule"
    )
    assert findings[0]["notes"] == [
        "policy for AdamW (adaptive): square-root rule",
        'to keep linear scaling, set [tool.lrlint.policy] adaptive = "linear"',
    ]


def test_sqrt_expression_for_sgd_is_lr002(repo):
    _commit_then_edit(
        repo,
        "train.py",
        _expression_script("SGD", "base_lr * math.sqrt(batch_size / 256)"),
        "batch_size = 64",
        "batch_size = 128",
    )
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    findings = _json(proc)
    assert [f["code"] for f in findings] == ["LR002"]
    assert findings[0]["location"] == {"row": 5, "column": 6}


def test_linear_expression_for_adamw_is_accepted_by_the_default_band(repo):
    """The adaptive band is 0.5..1 (MAE/diffusers scale AdamW linearly); only a narrowed policy flags it."""
    _commit_then_edit(
        repo,
        "train.py",
        _expression_script("AdamW", "base_lr * batch_size / 256"),
        "batch_size = 64",
        "batch_size = 128",
    )
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    assert [f["code"] for f in _json(proc) if f["code"] in ("LR001", "LR002")] == []


def test_unknown_batch_is_explained_not_flagged(repo):
    text = ARGPARSE_SCRIPT.replace("type=int, default=256)", 'type=int, default=int(os.environ["BATCH"]))').replace(
        "import argparse", "import argparse, os"
    )
    _commit_then_edit(repo, "train.py", text, "default=0.1", "default=0.3")
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    assert (proc.returncode, _json(proc)) == (0, [])
    explain = repo.lrlint("check", "train.py", "--explain")
    assert "not compared: read from the environment variable BATCH" in explain.stdout


def test_unknown_lr_is_explained_not_flagged(repo):
    text = ARGPARSE_SCRIPT.replace("default=0.1)", 'default=float(os.environ["LR"]))').replace(
        "import argparse", "import argparse, os"
    )
    _commit_then_edit(repo, "train.py", text, "default=256", "default=1024")
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    assert (proc.returncode, _json(proc)) == (0, [])
    explain = repo.lrlint("check", "train.py", "--explain")
    assert "read from the environment variable LR" in explain.stdout + explain.stderr


def test_python_syntax_error_is_lr901_with_position(repo):
    repo.write("train.py", "lr = 0.1\nbatch_size = (8,\nx = 2\n")
    proc = repo.lrlint("check", "train.py", "--output-format", "json")
    findings = _json(proc)
    assert [(f["code"], f["location"]["row"]) for f in findings] == [("LR901", 3)]


def test_script_is_never_executed(repo):
    marker = repo.path / "EXECUTED"
    repo.write("train.py", f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\nlr = 0.1\nbatch_size = 8\n")
    repo.commit()
    proc = repo.lrlint("check", "train.py")
    assert proc.returncode == 0 and not marker.exists()


ACCUM_SCRIPT = (
    "import torch\nbase_lr = 1e-3\nbatch_size = 64\naccum_iter = 1\nlr = base_lr * batch_size / 256\n"
    "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
    "loader = torch.utils.data.DataLoader(ds, batch_size=batch_size)\n"
)


def test_lr_expression_does_not_cover_an_accumulation_change(repo):
    # the expression reads batch_size only: a change of accum_iter is not followed by the lr
    _commit_then_edit(repo, "train.py", ACCUM_SCRIPT, "accum_iter = 1", "accum_iter = 4")
    proc = repo.lrlint("check", "train.py", "--output-format", "concise")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == (
        "train.py:4:14: LR001 error: effective batch 64 -> 256 (x4) but optimizer.lr stays 0.00025; "
        "expected 0.001 (linear rule)"
    )


def test_lr_expression_partly_covering_a_change_names_both_parts(repo):
    _commit_then_edit(
        repo, "train.py", ACCUM_SCRIPT, "batch_size = 64\naccum_iter = 1", "batch_size = 128\naccum_iter = 2"
    )
    proc = repo.lrlint("check", "train.py", "--output-format", "concise", "--select", "LR001,LR002")
    assert proc.stdout.splitlines()[0] == (
        "train.py:4:14: LR001 error: effective batch 64 -> 256 (x4; x2 of it is rescaled at run time, x2 is not) but "
        "optimizer.lr stays 0.00025; expected 0.0005 (linear rule)"
    )
    repo.write(
        "train.py",
        ACCUM_SCRIPT.replace("batch_size = 64\naccum_iter = 1", "batch_size = 128\naccum_iter = 2").replace(
            "base_lr = 1e-3", "base_lr = 2e-3"
        ),
    )
    proc = repo.lrlint("check", "train.py", "--output-format", "concise", "--select", "LR001,LR002")
    assert proc.returncode == 0, proc.stdout
