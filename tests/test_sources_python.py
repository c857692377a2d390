"""Python source (libcst): key paths, folded values, provenance, scaling and exact spans.

Every document a test reads goes through ``values_of``, which checks the one
invariant every Value keeps: the file's bytes at the span are the Value's raw text.
"""

from __future__ import annotations

import codecs
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, Limits, SourceError, decode
from lrlint.sources.python_source import mentions_training_names, parse
from lrlint.values import ARGPARSE, DEFAULT, EXPRESSION, LITERAL, STRING, UNKNOWN, ExprScaling

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "python"


def docs_of(data: bytes | str, path: str = "train.py", limits: Limits = Limits()):
    if isinstance(data, str):
        data = textwrap.dedent(data).encode("utf-8")
    src = decode(path, "python", data)
    docs = parse(src, limits)
    for d in docs:
        assert d.format == "python" and d.lines is src.lines
        for v in d.values.values():
            if v.span is not None:
                assert data[v.span.start : v.span.end] == v.raw.encode(src.encoding), v
                assert v.span.path == path
    return docs


def values_of(data, **kw):
    (doc,) = docs_of(data, **kw)
    return doc.values


def where(v):
    s = v.span
    return (s.line, s.col, s.end_line, s.end_col)


# --------------------------------------------------------------------------- argparse


def test_argparse_defaults_keys_values_spans():
    vals = values_of("""\
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--batch-size", type=int, default=256)
        parser.add_argument("-b2", "--batch_size2", default="64", type=int)
        parser.add_argument("-w", default=0.5)
        parser.add_argument("--learning-rate", dest="lr", type=float, default=0.1)
        parser.add_argument("--amp", action="store_true")
        parser.add_argument("--opt")
        args = parser.parse_args()
        """)
    b = vals["args.batch_size"]
    assert (b.value, b.provenance, b.raw, where(b)) == (256, ARGPARSE, "256", (3, 55, 3, 58))
    b2 = vals["args.batch_size2"]  # argparse applies type= to a string default
    assert (b2.value, b2.raw) == (64, '"64"')
    assert vals["args.w"].value == 0.5  # a short option names the dest when there is no long one
    lr = vals["args.lr"]  # dest= wins over the flag
    assert (lr.value, lr.raw, where(lr)) == (0.1, "0.1", (6, 71, 6, 74))
    amp = vals["args.amp"]
    assert (amp.value, amp.provenance) == (False, ARGPARSE)
    opt = vals["args.opt"]  # no default: None, span on the call
    assert opt.value is None and opt.raw == 'parser.add_argument("--opt")'
    assert "args.learning_rate" not in vals


def test_namespace_references_resolve_to_the_default_literal():
    vals = values_of("""\
        import torch
        from torch.utils.data import DataLoader

        def main():
            opt = get_args()
            optimizer = torch.optim.SGD(model.parameters(), lr=opt.lr, momentum=0.9)
            loader = DataLoader(ds, batch_size=opt.batch_size, shuffle=True)

        def get_args():
            p = argparse.ArgumentParser()
            p.add_argument("--lr", type=float, default=0.1)
            p.add_argument("--batch-size", type=int, default=256)
            return p.parse_args()
        """)
    # the parser is defined after main(): references still resolve (add_argument calls are found first)
    lr = vals["optimizer.lr"]
    assert (lr.value, lr.provenance, lr.raw, where(lr)) == (0.1, ARGPARSE, "0.1", (11, 48, 11, 51))
    assert lr.alias_of == "args.lr"
    assert vals["optimizer.type"].value == "SGD"
    assert vals["optimizer.type"].raw == "torch.optim.SGD"
    assert vals["optimizer.momentum"].value == 0.9
    bs = vals["dataloader.batch_size"]
    assert (bs.value, bs.provenance, where(bs)) == (256, ARGPARSE, (12, 54, 12, 57))
    assert vals["dataloader.shuffle"].value is True


def test_set_defaults_and_attribute_override():
    vals = values_of("""\
        parser.add_argument("--lr", type=float, default=0.1)
        parser.add_argument("--epochs", type=int, default=10)
        parser.set_defaults(epochs=90)
        args = parser.parse_args()
        args.lr = 0.05
        """)
    assert vals["args.epochs"].value == 90 and vals["args.epochs"].raw == "90"
    assert vals["args.lr"].value == 0.05 and where(vals["args.lr"]) == (5, 11, 5, 15)


def test_click_typer_and_dataclass_defaults():
    vals = values_of("""\
        import click, typer
        from dataclasses import dataclass, field

        @click.command()
        @click.option("--lr", default=3e-4, type=float)
        @click.option("--batch-size", "-b", default=32)
        def main(lr, batch_size):
            opt = torch.optim.AdamW(model.parameters(), lr=lr)

        app = typer.Typer()

        @app.command()
        def train(learning_rate: float = typer.Option(1e-3, help="lr"), micro_batch: int = 8):
            pass

        @dataclass
        class TrainConfig:
            lr: float = 6e-4
            batch_size: int = field(default=12)

        @dataclass
        class ScriptArguments:
            learning_rate: float = field(default=1.41e-5, metadata={"help": "lr"})
        """)
    assert (vals["args.lr"].value, vals["args.lr"].provenance, vals["args.lr"].raw) == (3e-4, ARGPARSE, "3e-4")
    assert vals["args.batch_size"].value == 32
    assert vals["optimizer.lr"].alias_of == "args.lr" and where(vals["optimizer.lr"]) == (5, 31, 5, 35)
    assert (vals["args.learning_rate"].value, vals["args.learning_rate"].raw) == (1e-3, "1e-3")
    assert vals["args.micro_batch"].value == 8
    assert (vals["TrainConfig.lr"].value, vals["TrainConfig.lr"].provenance) == (6e-4, LITERAL)
    assert (vals["TrainConfig.batch_size"].value, where(vals["TrainConfig.batch_size"])) == (12, (19, 37, 19, 39))
    # an *Arguments dataclass is a command-line dataclass (HfArgumentParser): argparse provenance
    assert vals["ScriptArguments.learning_rate"].provenance == ARGPARSE


def test_hf_dataclass_fields_resolve_through_parse_args_into_dataclasses():
    vals = values_of("""\
        @dataclass
        class TrainArgs:
            learning_rate: float = 2e-5
            per_device_train_batch_size: int = 8

        def main():
            (train_args,) = HfArgumentParser((TrainArgs,)).parse_args_into_dataclasses()
            opt = torch.optim.AdamW(params, lr=train_args.learning_rate)
        """)
    assert vals["optimizer.lr"].value == 2e-5 and vals["optimizer.lr"].alias_of == "TrainArgs.learning_rate"


# --------------------------------------------------------------------------- folding


def test_constant_folding_and_names_bound_to_constants():
    vals = values_of("""\
        import math
        base = 0.1
        lr = base
        a = 0.02 * 4
        b = 2 ** 10
        c = 7 // 2 + 1 - 3
        d = math.sqrt(16.0)
        e = int("8") * float(2)
        f = -1e-3
        g = f"{base}"
        h = 1_000
        """)
    assert (vals["lr"].value, vals["lr"].provenance, vals["lr"].raw, where(vals["lr"])) == (
        0.1,
        LITERAL,
        "0.1",
        (2, 8, 2, 11),
    )
    assert vals["lr"].alias_of == "base"
    a = vals["a"]
    assert (a.value, a.provenance, a.raw) == (0.08, EXPRESSION, "0.02 * 4") and a.why == "computed from 0.02 * 4"
    assert vals["b"].value == 1024
    assert vals["c"].value == 1
    assert vals["d"].value == 4.0
    assert vals["e"].value == 16.0
    assert (vals["f"].value, vals["f"].provenance, vals["f"].raw) == (-1e-3, LITERAL, "-1e-3")
    assert "g" not in vals  # an f-string is not evaluated (and an unknown non-training name is not kept)
    assert vals["h"].value == 1000


def test_fstring_lr_is_unknown_with_reason():
    vals = values_of('lr = f"{0.1}"\n')
    assert vals["lr"].provenance == UNKNOWN and vals["lr"].value is None
    assert "f-string" in vals["lr"].why


def test_folding_guards_against_huge_numbers():
    vals = values_of("lr = 10 ** 10 ** 10\nbatch_size = 'x' * 10 ** 9\n")
    assert vals["lr"].provenance == UNKNOWN
    assert vals["batch_size"].provenance == UNKNOWN


# --------------------------------------------------------------------------- imports and constructors


def test_optimizer_aliases_without_qualified_name_provider():
    vals = values_of("""\
        import torch.optim as optim
        from torch import optim as o
        from torch.optim import AdamW as AW
        import bitsandbytes as bnb
        a = optim.SGD(params, 0.1, momentum=0.9)
        b = o.Adam(params, lr=1e-3)
        c = AW(params, lr=3e-4)
        d = bnb.optim.PagedAdamW8bit(params, lr=2e-4)
        sched = optim.lr_scheduler.StepLR(a, step_size=30)
        """)
    assert (vals["optimizer.type"].value, vals["optimizer.type"].raw, vals["optimizer.lr"].value) == (
        "SGD",
        "optim.SGD",
        0.1,
    )
    assert where(vals["optimizer.lr"]) == (5, 23, 5, 26)  # positional lr
    assert (vals["optimizer_1.type"].value, vals["optimizer_1.lr"].value) == ("Adam", 1e-3)
    assert (vals["optimizer_2.type"].value, vals["optimizer_2.type"].raw) == ("AdamW", "AW")
    assert vals["optimizer_3.type"].value == "PagedAdamW8bit"
    assert "optimizer_4.type" not in vals and not any(k.startswith("sched") for k in vals)


def test_timm_create_optimizer_v2():
    vals = values_of("""\
        from timm.optim import create_optimizer_v2
        opt = create_optimizer_v2(model, opt="adamw", lr=5e-4, weight_decay=0.05)
        opt2 = create_optimizer_v2(model, lr=0.1)
        """)
    assert (vals["optimizer.type"].value, vals["optimizer.type"].provenance, vals["optimizer.lr"].value) == (
        "adamw",
        STRING,
        5e-4,
    )
    assert (vals["optimizer_1.type"].value, vals["optimizer_1.type"].raw) == ("sgd", "create_optimizer_v2")


def test_dataloader_trainingarguments_lightning_accelerate():
    vals = values_of("""\
        import lightning as L
        from accelerate import Accelerator
        from transformers import TrainingArguments, Trainer
        from torch.utils.data import DataLoader
        train_loader = DataLoader(train_ds, 64, shuffle=True)
        val_loader = DataLoader(val_ds, batch_size=512)
        targs = TrainingArguments(
            "out",
            per_device_train_batch_size=16,
            learning_rate=2e-5,
            gradient_accumulation_steps=4,
            optim="adamw_torch",
        )
        trainer = L.Trainer(devices=4, num_nodes=2, accumulate_grad_batches=2)
        accelerator = Accelerator(gradient_accumulation_steps=8)
        hf = Trainer(model=model, args=targs)
        """)
    assert (vals["dataloader.batch_size"].value, where(vals["dataloader.batch_size"])) == (64, (5, 37, 5, 39))
    assert vals["eval_dataloader.batch_size"].value == 512
    assert vals["per_device_train_batch_size"].value == 16
    assert vals["learning_rate"].value == 2e-5 and vals["optim"].value == "adamw_torch"
    assert vals["output_dir"].value == "out"
    assert (
        vals["trainer.devices"].value,
        vals["trainer.num_nodes"].value,
        vals["trainer.accumulate_grad_batches"].value,
    ) == (4, 2, 2)
    assert vals["accelerator.gradient_accumulation_steps"].value == 8
    assert not any(k.startswith("optimizer") for k in vals)  # the HF Trainer is not an optimizer


def test_training_arguments_keep_their_framework_default_optimizer():
    """TrainingArguments (and the TRL configs) train with AdamW unless optim says otherwise (the rules'
    constructor defaults); the default Value sits on the constructor's name."""
    vals = values_of("""\
        from trl import SFTConfig
        sft = SFTConfig(output_dir="o", optim="sgd")
        """)
    assert (vals["optim"].value, vals["optim"].provenance, vals["optim"].raw) == ("sgd", STRING, '"sgd"')
    vals = values_of("""\
        from transformers import TrainingArguments
        targs = TrainingArguments(output_dir="out", learning_rate=2e-5)
        """)
    optim = vals["optim"]
    assert (optim.value, optim.provenance, optim.raw, where(optim)) == (
        "adamw_torch",
        DEFAULT,
        "TrainingArguments",
        (2, 9, 2, 26),
    )
    assert optim.why == "TrainingArguments() default"


def test_a_constructor_taught_in_the_rules_is_read():
    """Teaching the reader a constructor is a rules edit: a python: section names the callable, its key,
    its positional arguments and defaults; the reader needs no code for it."""
    from lrlint.profiles import Profile, optimizer_table
    from lrlint.python_rules import PythonSection, build_table, shipped_sections
    from lrlint.validation import validate

    mine = validate(  # a profile's python: section, as a YAML file would hold it
        PythonSection,
        {
            "prefilter": ["MyTrainer"],
            "constructors": [
                {
                    "names": ["MyTrainer"],
                    "modules": ["mylib"],
                    "key": "trainer",
                    "positional": [None, "devices"],
                    "drop": ["model"],
                    "defaults": {"accumulate_grad_batches": 1},
                }
            ],
        },
    )
    table = build_table([*shipped_sections(), (Profile(name="mytrainer", title="My trainer"), mine)], optimizer_table())
    src = decode("t.py", "python", b"from mylib import MyTrainer\nt = MyTrainer(model, 8, strategy='ddp')\n")
    (doc,) = parse(src, Limits(), table)
    assert {k: v.value for k, v in doc.values.items()} == {
        "trainer.devices": 8,
        "trainer.strategy": "ddp",
        "trainer.accumulate_grad_batches": 1,
    }
    assert doc.values["trainer.accumulate_grad_batches"].provenance == DEFAULT
    (doc,) = parse(src, Limits())
    assert doc.values == {}  # the shipped rules do not know MyTrainer


def test_lightning_module_hparams_resolve_to_init_defaults():
    vals = values_of("""\
        import torch
        import pytorch_lightning as pl
        class Model(pl.LightningModule):
            def __init__(self, lr: float = 1e-3, batch_size: int = 64):
                super().__init__()
                self.save_hyperparameters()
                self.wd = 0.01
            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters(), lr=self.hparams.lr, weight_decay=self.wd)
            def train_dataloader(self):
                return DataLoader(self.train_set, batch_size=self.hparams.batch_size)
        trainer = pl.Trainer(devices=2)
        """)
    assert (vals["optimizer.lr"].value, vals["optimizer.lr"].raw, where(vals["optimizer.lr"])) == (
        1e-3,
        "1e-3",
        (4, 36, 4, 40),
    )
    assert vals["optimizer.weight_decay"].value == 0.01
    assert vals["dataloader.batch_size"].value == 64
    assert vals["trainer.devices"].value == 2


# --------------------------------------------------------------------------- config styles


def test_mmengine_config_nested_keys():
    vals = values_of(
        """\
        _base_ = ['../_base_/models/faster-rcnn_r50_fpn.py']
        lr = 0.02
        train_dataloader = dict(batch_size=8, num_workers=2,
                                dataset=dict(type='CocoDataset', pipeline={{_base_.train_pipeline}}))
        optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=lr * 4, momentum=0.9),
                             accumulative_counts=2)
        param_scheduler = [dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500)]
        auto_scale_lr = dict(enable=False, base_batch_size=16)
        optim_wrapper.update(clip_grad=dict(max_norm=35))
        """,
        path="faster-rcnn_r50_fpn_1x_coco.py",
    )
    assert vals["_base_.0"].value == "../_base_/models/faster-rcnn_r50_fpn.py"
    assert (vals["train_dataloader.batch_size"].value, where(vals["train_dataloader.batch_size"])) == (
        8,
        (3, 36, 3, 37),
    )
    assert (vals["optim_wrapper.optimizer.type"].value, vals["optim_wrapper.optimizer.type"].provenance) == (
        "SGD",
        STRING,
    )
    lr = vals["optim_wrapper.optimizer.lr"]
    assert (lr.value, lr.provenance, lr.raw) == (0.08, EXPRESSION, "lr * 4")
    assert vals["optim_wrapper.accumulative_counts"].value == 2
    assert vals["param_scheduler"].value == "[]"
    assert vals["param_scheduler.0.end"].value == 500 and vals["param_scheduler.0.start_factor"].value == 0.001
    assert vals["auto_scale_lr.base_batch_size"].value == 16 and vals["auto_scale_lr.enable"].value is False
    assert vals["optim_wrapper.clip_grad.max_norm"].value == 35


def test_mmengine_base_substitution_is_unknown():
    vals = values_of("_base_ = './a.py'\ntrain_dataloader = dict(batch_size={{_base_.batch}})\n")
    v = vals["train_dataloader.batch_size"]
    assert v.provenance == UNKNOWN and "_base_.batch" in v.why


def test_detectron2_lazyconfig():
    vals = values_of(
        """\
        import torch
        from detectron2.config import LazyCall as L
        from ..common.optim import SGD as optimizer
        from ..common.data.coco import dataloader
        dataloader.train.total_batch_size = 64
        optimizer.lr = 0.04
        train = get_config("common/train.py").train
        train.max_iter = 90000
        lr_multiplier = L(WarmupParamScheduler)(warmup_length=250 / train.max_iter, warmup_factor=0.001)
        """,
        path="mask_rcnn_R_50_FPN_1x.py",
    )
    assert (vals["dataloader.train.total_batch_size"].value, where(vals["dataloader.train.total_batch_size"])) == (
        64,
        (5, 37, 5, 39),
    )
    assert vals["optimizer.lr"].value == 0.04
    t = vals["optimizer._target_"]  # named by the import
    assert (t.value, t.raw) == ("SGD", "optimizer")
    assert vals["train.max_iter"].value == 90000
    assert vals["lr_multiplier.warmup_length"].value == pytest.approx(250 / 90000)
    assert vals["lr_multiplier._target_"].value == "WarmupParamScheduler"


def test_detectron2_lazycall_optimizer():
    vals = values_of("""\
        import torch
        from detectron2.config import LazyCall as L
        optimizer = L(torch.optim.SGD)(
            params=L(get_default_optimizer_params)(weight_decay_norm=0.0), lr=0.02, momentum=0.9
        )
        """)
    assert (vals["optimizer._target_"].value, vals["optimizer._target_"].raw) == ("torch.optim.SGD", "torch.optim.SGD")
    assert (vals["optimizer.lr"].value, where(vals["optimizer.lr"])) == (0.02, (4, 71, 4, 75))


# --------------------------------------------------------------------------- lr expressions


def test_linear_scaling_expression():
    vals = values_of("""\
        base_lr = 0.1
        batch_size = 512
        lr = base_lr * batch_size / 256
        optimizer = torch.optim.SGD(params, lr=lr)
        """)
    lr = vals["lr"]
    assert (lr.value, lr.provenance, lr.raw) == (0.2, EXPRESSION, "base_lr * batch_size / 256")
    assert lr.scaling == ExprScaling(
        exponent=1.0,
        batch_keys=("batch_size",),
        factors=("batch_size",),
        text="base_lr * batch_size / 256",
    )
    assert vals["optimizer.lr"].scaling.exponent == 1.0
    assert vals["batch_size"].scaling is None and vals["base_lr"].scaling is None


@pytest.mark.parametrize(
    "expr, exponent",
    [
        ("base_lr * math.sqrt(bs / 256)", 0.5),
        ("base_lr * (bs / 256) ** 0.5", 0.5),
        ("bs / 256 * base_lr", 1.0),
        ("base_lr * world_size * accum * bs / 512", 1.0),
        ("base_lr * sqrt(bs * world_size / 256)", 0.5),
        ("base_lr / bs", -1.0),
    ],
)
def test_scaling_exponents(expr, exponent):
    vals = values_of(
        f"import math\nfrom math import sqrt\nbase_lr = 0.1\nbs = 256\nworld_size = 8\naccum = 2\nlr = {expr}\n"
    )
    assert vals["lr"].scaling.exponent == exponent
    assert "bs" in vals["lr"].scaling.batch_keys


def test_scaling_through_intermediate_names_and_runtime_factors():
    vals = values_of("""\
        parser.add_argument('--batch_size', default=64, type=int)
        parser.add_argument('--accum_iter', default=1, type=int)
        parser.add_argument('--blr', type=float, default=1e-3)
        parser.add_argument('--lr', type=float, default=None)
        args = parser.parse_args()
        eff_batch_size = args.batch_size * args.accum_iter * misc.get_world_size()
        if args.lr is None:
            args.lr = args.blr * eff_batch_size / 256
        optimizer = torch.optim.AdamW(param_groups, lr=args.lr, betas=(0.9, 0.95))
        """)
    lr = vals["optimizer.lr"]
    assert lr.provenance == UNKNOWN and lr.value is None and "get_world_size" in lr.why
    assert lr.raw == "args.blr * eff_batch_size / 256" and where(lr) == (8, 15, 8, 46)
    sc = lr.scaling
    assert sc.exponent == 1.0
    assert sc.batch_keys == ("args.batch_size", "args.accum_iter")
    assert sc.factors == ("args.batch_size", "args.accum_iter", "misc.get_world_size()")


def test_scaling_rule_chosen_at_run_time_lists_alternatives():
    vals = values_of("""\
        parser.add_argument('--opt', default='sgd')
        parser.add_argument('--lr', type=float, default=None)
        parser.add_argument('--lr-base', type=float, default=0.1)
        parser.add_argument('--lr-base-size', type=int, default=256)
        parser.add_argument('--lr-base-scale', type=str, default='')
        parser.add_argument('-b', '--batch-size', type=int, default=128)
        args = parser.parse_args()
        if args.lr is None:
            batch_ratio = args.batch_size / args.lr_base_size
            if not args.lr_base_scale:
                args.lr_base_scale = 'sqrt' if any([o in args.opt for o in ('ada', 'lamb')]) else 'linear'
            if args.lr_base_scale == 'sqrt':
                batch_ratio = batch_ratio ** 0.5
            args.lr = args.lr_base * batch_ratio
        """)
    sc = vals["args.lr"].scaling
    assert sc.alternatives == (0.5, 1.0) and sc.exponent == 1.0
    assert sc.batch_keys == ("args.batch_size",)


def test_conditions_fold_on_known_defaults():
    vals = values_of("""\
        parser.add_argument('--scale_lr', action='store_true')
        args = parser.parse_args()
        lr = 1e-4
        batch_size = 16
        if args.scale_lr:
            lr = lr * batch_size
        if __name__ == "__main__":
            momentum = 0.9
        """)
    assert vals["lr"].value == 1e-4 and vals["lr"].scaling is None  # store_true: False, branch skipped
    assert vals["momentum"].value == 0.9


def test_undecidable_condition_makes_a_value_unknown():
    vals = values_of("""\
        if dataset == "imagenet":
            lr = 0.1
        else:
            lr = 0.01
        """)
    assert vals["lr"].provenance == UNKNOWN and 'depending on `dataset == "imagenet"`' in vals["lr"].why


def test_loop_keeps_the_value_set_before_it():
    vals = values_of("""\
        lr = 0.1
        for epoch in range(10):
            lr = adjust(lr, epoch)
        """)
    assert vals["lr"].value == 0.1 and vals["lr"].provenance == LITERAL


def test_function_locals_and_collisions():
    vals = values_of("""\
        lr = 0.1
        def main():
            lr = 0.2
            batch_size = 32
        """)
    assert vals["lr"].value == 0.1
    assert vals["main.lr"].value == 0.2
    assert vals["batch_size"].value == 32


# --------------------------------------------------------------------------- unknown values


def test_unknown_values_say_why():
    vals = values_of("""\
        import os, json
        lr = float(os.environ["LR"])
        batch_size = int(os.getenv("BATCH_SIZE", 32))
        cfg = json.load(open("c.json"))
        learning_rate = cfg["lr"]
        momentum = load_momentum()
        """)
    assert (vals["lr"].provenance, vals["lr"].value, vals["lr"].why) == (
        UNKNOWN,
        None,
        "read from the environment variable LR",
    )
    assert vals["lr"].raw == 'float(os.environ["LR"])'
    assert vals["batch_size"].why == "read from the environment variable BATCH_SIZE (default 32 when unset)"
    assert "json.load()" in vals["learning_rate"].why
    assert vals["momentum"].why == "returned by load_momentum()"


# --------------------------------------------------------------------------- comments, encodings, spans


def test_comments_are_collected_but_not_from_strings():
    (doc,) = docs_of("""\
        # lrlint: reference batch=256 lr=0.1
        lr = 0.1  # noqa: LR001
        s = "# not a comment"
        t = f"#{lr}"
        batch_size = 8
        """)
    assert doc.comments == {1: " lrlint: reference batch=256 lr=0.1", 2: " noqa: LR001"}


def test_latin1_coding_cookie_byte_spans():
    data = b"# -*- coding: latin-1 -*-\n# r\xe9glage\nname = '\xe9t\xe9'\nlr = 0.1  # caf\xe9\n"
    (doc,) = docs_of(data)
    lr = doc.values["lr"]
    assert (lr.value, lr.span.start, lr.span.end, where(lr)) == (0.1, 54, 57, (4, 6, 4, 9))
    assert doc.values["name"].value == "\xe9t\xe9"
    assert doc.comments[4] == " caf\xe9"


def test_utf8_bom_crlf_and_non_ascii_before_the_value():
    data = codecs.BOM_UTF8 + "# été\r\nlr = 0.1\r\nbatch_size = 8\r\n".encode()
    (doc,) = docs_of(data)
    lr = doc.values["lr"]
    assert (lr.span.start, lr.span.end, where(lr)) == (17, 20, (2, 6, 2, 9))


def test_tabs_and_multiline_calls():
    vals = values_of("def f():\n\toptimizer = torch.optim.SGD(\n\t\tparams,\n\t\tlr=0.1,\n\t)\n")
    assert where(vals["optimizer.lr"]) == (4, 6, 4, 9)


# --------------------------------------------------------------------------- bad input


def test_syntax_error_has_parser_position():
    with pytest.raises(SourceError) as e:
        docs_of("lr = 0.1\nx = (1,\ny = 2\n")
    assert (e.value.code, e.value.line, e.value.col) == (PARSE_ERROR, 3, 4)
    assert e.value.reason.startswith("Python syntax error: expected one of")


def test_python2_file_is_a_parse_error_with_a_hint():
    with pytest.raises(SourceError) as e:
        docs_of('lr = 0.1\nprint "lr", lr\n')
    assert e.value.code == PARSE_ERROR and e.value.line == 2
    assert "looks like Python 2" in e.value.reason


@pytest.mark.parametrize(
    "text",
    [
        "lr = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
        "lr = " + "[" * 1000 + "1" + "]" * 1000 + "\n",
    ],
)
def test_deep_nesting_is_lr905_not_a_crash(text):
    with pytest.raises(SourceError) as e:
        docs_of(text)
    assert e.value.code == LIMIT_EXCEEDED and "nested 1000 deep" in e.value.reason
    assert (e.value.line, e.value.col) == (1, 206)


def test_long_operator_chain_is_lr905():
    with pytest.raises(SourceError) as e:
        docs_of("lr = " + " + ".join(["1"] * 5000) + "\n")
    assert e.value.code == LIMIT_EXCEEDED and "chain of 4999 operators" in e.value.reason


def test_deep_expression_within_limits_is_unknown_not_a_crash():
    vals = values_of("lr = 0.1\nbatch_size = " + " + ".join(["1"] * 600) + "\n")
    assert vals["batch_size"].provenance == UNKNOWN and "nested more than" in vals["batch_size"].why
    vals = values_of("lr = " + "(" * 190 + "0.1" + ")" * 190 + "\n")
    assert vals["lr"].value == 0.1 and where(vals["lr"]) == (1, 196, 1, 199)


def _generated(megabytes: float) -> tuple[list[str], int]:
    lines = ["import torch", "lr = 0.1", "batch_size = 256"]
    size, i = 0, 0
    while size < megabytes * 1024 * 1024:
        lines.append(f"def layer_{i}(x, w=_W[{i}]):")
        lines.append(f"    return torch.conv2d(x, w, stride={1 + i % 2}, padding={i % 3})  # generated {i}")
        size += len(lines[-1]) + len(lines[-2]) + 2
        i += 1
    return lines, i


def test_five_megabyte_generated_file():
    """Parsed in pieces cut at top-level statements; pieces without training names are skipped."""
    lines, _ = _generated(5)
    lines.append("optimizer = torch.optim.SGD(params, lr=0.05)  # the end")
    text = "\n".join(lines) + "\n"
    assert len(text) > 5 * 1024 * 1024
    (doc,) = docs_of(text)
    vals = doc.values
    assert vals["lr"].value == 0.1 and where(vals["lr"]) == (2, 6, 2, 9)
    assert vals["batch_size"].value == 256
    assert (vals["optimizer.lr"].value, where(vals["optimizer.lr"])) == (0.05, (len(lines), 40, len(lines), 44))
    assert doc.comments[len(lines)] == " the end"


def test_chunk_cut_inside_a_string_falls_back_to_a_whole_parse():
    lines, _ = _generated(0.3)
    doc_string = 'NOTE = """\n' + "\n".join(f"lr_{i} = {i}" for i in range(20000)) + '\n"""\n'
    text = "\n".join(lines) + "\n" + doc_string + "learning_rate = 0.2\n"
    (doc,) = docs_of(text)
    assert doc.values["learning_rate"].value == 0.2 and "lr_5" not in doc.values


def test_too_many_values_is_lr905():
    text = "lr = 0.1\n" + "".join(f"x{i} = {i}\n" for i in range(50))
    with pytest.raises(SourceError) as e:
        docs_of(text, limits=Limits(max_values=20))
    assert e.value.code == LIMIT_EXCEEDED


# --------------------------------------------------------------------------- never executed, pre-filter


def test_a_script_whose_import_writes_a_file_is_only_parsed(tmp_path):
    marker = tmp_path / "EXECUTED"
    script = tmp_path / "evil_train.py"
    script.write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "lr = 0.1\n"
        "batch_size = eval('256')\n"
        'exec(\'open("x", "w")\')\n'
        "__import__('os').system('touch ' + " + repr(str(marker)) + ")\n",
        encoding="utf-8",
    )
    before = set(sys.modules)
    vals = values_of(script.read_bytes(), path="evil_train.py")
    assert not marker.exists()
    assert vals["lr"].value == 0.1 and vals["batch_size"].provenance == UNKNOWN
    assert "evil_train" not in set(sys.modules) - before


def test_prefilter_skips_files_without_training_names_and_never_imports_libcst():
    assert mentions_training_names("optimizer = SGD(params, lr=0.1)")
    assert mentions_training_names("train_dataloader = dict(batch_size=8)")
    assert mentions_training_names("trainer = Trainer(devices=4)")
    assert not mentions_training_names("def add(a, b):\n    return a + b\n")
    code = (
        "import sys\nfrom lrlint.sources import decode, Limits\nfrom lrlint.sources.python_source import parse\n"
        "print(parse(decode('u.py', 'python', b'def add(a, b):\\n    return a + b\\n'), Limits()), 'libcst' in "
        "sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[] False"


def test_fixture_files_parse():
    """The example scripts under tests/fixtures/python parse with values for their lr."""
    for path in sorted(FIXTURES.glob("*.py")):
        (doc,) = docs_of(path.read_bytes(), path=path.name)
        assert any(k.endswith(("lr", "learning_rate")) for k in doc.values), path.name


def test_read_base_imports_become_base_entries():
    vals = values_of(
        textwrap.dedent("""\
        import mmengine.config
        with mmengine.config.read_base():
            from .schedule_1x import *
            from ..._base_.models.retinanet import model, train_cfg
            from mmdet.configs._base_.default_runtime import *
        with open("x") as f:
            from .not_a_base import *
        train_dataloader = dict(batch_size=8)
        """)
    )
    assert [vals[k].value for k in ("_base_.0", "_base_.1")] == ["./schedule_1x.py", "../../_base_/models/retinanet.py"]
    assert "_base_.2" not in vals  # an installed package's module: not in this tree
    assert vals["_base_.0"].names is None and vals["_base_.1"].names == ("model", "train_cfg")
    assert (where(vals["_base_.0"]), where(vals["_base_.1"])) == ((3, 11, 3, 22), (4, 13, 4, 36))  # the module names
    assert vals["train_dataloader._delete_"].value is True  # a rebinding replaces the inherited dict
    assert mentions_training_names("from mmengine.config import read_base\n")
