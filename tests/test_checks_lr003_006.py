"""LR003 missing-warmup, LR004 inconsistent-batch, LR005 beyond-linear-regime, LR006 schedule-not-rescaled:
exact messages, thresholds from settings, and what stays silent."""

from __future__ import annotations

import os

import pytest

from lrlint import api
from lrlint.settings import Settings


def check(tmp_path, name: str, text: str, **settings):
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    s = Settings.from_table({"select": ["ALL"], **settings})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return api.check_paths([name], s).findings
    finally:
        os.chdir(cwd)


def codes(findings, code):
    return [f for f in findings if f.code == code]


SGD = "# lrlint: reference batch=256 lr=0.1\nbatch_size: {b}\nlr: {lr}\noptimizer: {opt}\n{extra}"


# -- LR003 ---------------------------------------------------------------------------------------


def test_lr003_message_and_location(tmp_path):
    [f] = codes(check(tmp_path, "c.yaml", SGD.format(b=2048, lr=0.8, opt="sgd", extra="")), "LR003")
    assert (f.span.line, f.severity) == (3, "warning")
    assert f.message == "lr 0.1 -> 0.8 (x8) with no warmup configured; add a gradual warmup (e.g. warmup_steps)"
    assert f.notes == [
        "effective batch 256 -> 2048",
        "compared with inline reference at c.yaml:1 (batch 256, lr 0.1)",
        "devices not in the file: assumed unchanged",
    ]
    assert f.data.note() == (
        "Goyal et al. 2017 trained the linearly scaled lr at batch 8192 only after a 5-epoch gradual warmup"
    )


@pytest.mark.parametrize(
    "extra, lr, expect",
    [
        ("warmup_steps: 500\n", 0.8, 0),  # a warmup anywhere: fine
        ("warmup_ratio: 0.0\n", 0.8, 1),  # zero is no warmup
        ("", 0.39, 0),  # x3.9 is under the default factor 4 (and 0.39 an ordinary SGD level)
        ("warmup_steps: auto\n", 0.8, 0),  # unknown: lrlint does not guess
    ],
)
def test_lr003_what_counts_as_warmup(tmp_path, extra, lr, expect):
    assert len(codes(check(tmp_path, "c.yaml", SGD.format(b=2048, lr=lr, opt="sgd", extra=extra)), "LR003")) == expect


def test_lr003_a_raise_under_the_factor_stays_silent_above_the_usual_range(tmp_path):
    text = "# lrlint: reference batch=256 lr=0.2\nbatch_size: 2048\nlr: {lr}\noptimizer: sgd\n"
    assert codes(check(tmp_path, "c.yaml", text.format(lr=0.78)), "LR003") == []  # x3.9 lands at 0.78 > 0.5
    assert len(codes(check(tmp_path, "c.yaml", text.format(lr=0.8)), "LR003")) == 1  # x4


def test_lr003_threshold_is_a_setting(tmp_path):
    text = "# lrlint: reference batch=256 lr=0.4\nbatch_size: 512\nlr: 0.8\noptimizer: sgd\n"
    assert codes(check(tmp_path, "c.yaml", text), "LR003") == []
    assert len(codes(check(tmp_path, "c.yaml", text, thresholds={"warmup-factor": 2}), "LR003")) == 1


def test_lr003_detectron2_default_warmup_counts(tmp_path):
    text = "# lrlint: reference batch=16 lr=0.02\nSOLVER:\n  IMS_PER_BATCH: 512\n  BASE_LR: 0.64\n"
    assert codes(check(tmp_path, "d2.yaml", text), "LR003") == []  # yacs default WARMUP_ITERS = 1000
    assert len(codes(check(tmp_path, "d2.yaml", text + "  WARMUP_ITERS: 0\n"), "LR003")) == 1


# -- LR004 ---------------------------------------------------------------------------------------


def test_lr004_deepspeed_assertion_message(tmp_path):
    text = (
        '{"train_batch_size": 100, "train_micro_batch_size_per_gpu": 8, "gradient_accumulation_steps": 4,\n'
        ' "optimizer": {"type": "AdamW", "params": {"lr": 1e-4}}}\n'
    )
    [f] = codes(check(tmp_path, "ds_config.json", text), "LR004")
    assert f.message == (
        "Check batch related parameters. train_batch_size is not equal to micro_batch_per_gpu * gradient_acc_step * "
        "world_size 100 != 8 * 4 * world_size for any whole world_size (DeepSpeed asserts this at start-up)"
    )
    assert (f.span.line, f.span.col, f.severity) == (1, 22, "error")
    assert [r.label for r in f.related] == ["train_micro_batch_size_per_gpu", "gradient_accumulation_steps"]


def test_lr004_deepspeed_consistent_or_auto_is_silent(tmp_path):
    ok = (
        '{"train_batch_size": 256, "train_micro_batch_size_per_gpu": 8, "gradient_accumulation_steps": 4, '
        '"optimizer": {"type": "AdamW", "params": {"lr": 1e-4}}}'
    )
    auto = ok.replace('"train_micro_batch_size_per_gpu": 8', '"train_micro_batch_size_per_gpu": "auto"').replace(
        "256", "100"
    )
    assert codes(check(tmp_path, "ds_config.json", ok), "LR004") == []
    assert codes(check(tmp_path, "ds_config.json", auto), "LR004") == []


def test_lr004_detectron2_reference_world_size(tmp_path):
    text = "SOLVER:\n  IMS_PER_BATCH: 30\n  BASE_LR: 0.02\n  REFERENCE_WORLD_SIZE: 8\n"
    [f] = codes(check(tmp_path, "d2.yaml", text), "LR004")
    assert f.message == (
        "Invalid REFERENCE_WORLD_SIZE in config! SOLVER.IMS_PER_BATCH 30 is not divisible by "
        "SOLVER.REFERENCE_WORLD_SIZE 8 (detectron2's auto_scale_workers asserts it)"
    )
    assert f.span.line == 2
    assert codes(check(tmp_path, "d2.yaml", text.replace("30", "32")), "LR004") == []
    assert (
        codes(check(tmp_path, "d2.yaml", text.replace("REFERENCE_WORLD_SIZE: 8", "REFERENCE_WORLD_SIZE: 0")), "LR004")
        == []
    )


def test_lr004_file_name_tag(tmp_path):
    [f] = codes(check(tmp_path, "resnet50_bs256.yaml", "global_batch_size: 512\nlr: 0.1\noptimizer: sgd\n"), "LR004")
    assert f.message == (
        "file name resnet50_bs256.yaml says bs256: batch 256, but the config's effective batch is 512: "
        "rename the file or fix the batch"
    )
    assert f.span.line == 1
    # a per-device batch with the devices unknown cannot contradict the tag
    assert codes(check(tmp_path, "resnet50_bs256.yaml", "batch_size: 32\nlr: 0.1\noptimizer: sgd\n"), "LR004") == []


# -- LR005 ---------------------------------------------------------------------------------------

LARGE = "# lrlint: reference batch=4096 lr=1.6\nbatch_size: 16384\nlr: 6.4\noptimizer: {opt}\nwarmup_epochs: 5\n"


def test_lr005_message(tmp_path):
    [f] = codes(check(tmp_path, "c.yaml", LARGE.format(opt="sgd")), "LR005")
    assert f.message == (
        "effective batch 4096 -> 16384 is past 8192, where linear lr scaling stops holding; use LARS or check the run "
        "with `lrlint verify`"
    )
    assert f.notes == [
        "optimizer: SGD (SGD family)",
        "compared with inline reference at c.yaml:1 (batch 4096, lr 1.6)",
        "devices not in the file: assumed unchanged",
    ]
    assert f.span.line == 2 and f.fix is None


@pytest.mark.parametrize("opt", ["lars", "adamw"])
def test_lr005_not_for_lars_or_adaptive(tmp_path, opt):
    assert codes(check(tmp_path, "c.yaml", LARGE.format(opt=opt)), "LR005") == []


def test_lr005_threshold_is_a_setting(tmp_path):
    assert (
        codes(check(tmp_path, "c.yaml", LARGE.format(opt="sgd"), thresholds={"linear-regime-batch": 32768}), "LR005")
        == []
    )


# -- LR006 ---------------------------------------------------------------------------------------

D2 = (
    "# lrlint: reference batch=16 lr=0.02 SOLVER.MAX_ITER=90000 SOLVER.WARMUP_ITERS=1000\nSOLVER:\n"
    "  IMS_PER_BATCH: 48\n  BASE_LR: 0.06\n  MAX_ITER: 90000\n  WARMUP_ITERS: 1000\n"
)


def test_lr006_integers_stay_integers_and_fix_is_unsafe(tmp_path):
    fs = codes(check(tmp_path, "d2.yaml", D2), "LR006")
    assert [(f.span.line, f.data.expected, f.fix.edits[0].content, f.fix.applicability) for f in fs] == [
        (5, 30000, "30000", "unsafe"),
        (6, 333, "333", "unsafe"),
    ]
    assert fs[0].message == (
        "effective batch 16 -> 48 (x3) but the step-based SOLVER.MAX_ITER stays 90000; expected 30000 (divided by 3)"
    )
    assert fs[0].notes == ["compared with inline reference at d2.yaml:1 (batch 16, lr 0.02)"]
    assert fs[0].data.note() == (
        "counted in samples, a length in steps lasts x3 as long; "
        "Detectron2's auto_scale_workers rescales it the same way"
    )


def test_lr006_changed_lengths_and_runtime_rescaling_are_silent(tmp_path):
    assert (
        codes(
            check(
                tmp_path,
                "d2.yaml",
                D2.replace("MAX_ITER: 90000", "MAX_ITER: 30000").replace("WARMUP_ITERS: 1000", "WARMUP_ITERS: 333"),
            ),
            "LR006",
        )
        == []
    )


def test_lr006_reference_world_size_does_not_cover_an_edit_of_ims_per_batch(tmp_path):
    # Detectron2's auto_scale_workers rescales from the file's own IMS_PER_BATCH and schedule when the job
    # runs on another number of workers; an edit of IMS_PER_BATCH in the file is not rescaled by anyone
    fs = codes(check(tmp_path, "d2.yaml", D2 + "  REFERENCE_WORLD_SIZE: 8\n"), "LR006")
    assert [(f.span.line, f.data.expected) for f in fs] == [(5, 30000), (6, 333)]
    fs = check(tmp_path, "d2.yaml", D2.replace("BASE_LR: 0.06", "BASE_LR: 0.02") + "  REFERENCE_WORLD_SIZE: 8\n")
    [lr001] = codes(fs, "LR001")
    assert (
        lr001.message.startswith("effective batch 16 -> 48 (x3) but SOLVER.BASE_LR stays 0.02;")
        and lr001.data.expected_lr == 0.06
    )
    assert codes(fs, "LR007") == []


def test_lr006_history_reference_hf_max_steps_and_tuple_steps(repo):
    hf = (
        "per_device_train_batch_size: {b}\nlearning_rate: 2e-5\nmax_steps: 10000\nwarmup_steps: 500\n"
        "warmup_ratio: 0.1\nnum_train_epochs: 3\n"
    )
    repo.write("sft.yaml", hf.format(b=8))
    d2 = (
        "SOLVER:\n  IMS_PER_BATCH: {b}\n  BASE_LR: {lr}\n  STEPS: (60000, 80000)\n  MAX_ITER: 90000\nMODEL:\n"
        "  META_ARCHITECTURE: GeneralizedRCNN\n"
    )
    repo.write("d2.yaml", d2.format(b=16, lr=0.02))
    repo.commit()
    repo.write("sft.yaml", hf.format(b=16))
    repo.write("d2.yaml", d2.format(b=64, lr=0.08))
    import json

    r = repo.lrlint("check", "--output-format", "json", "--select", "LR006")
    got = sorted(
        (f["filename"].rsplit("/", 1)[-1], f["data"]["key"], f["data"]["expected"], f["fix"]["edits"][0]["content"])
        for f in json.loads(r.stdout)
    )
    assert got == [
        ("d2.yaml", "SOLVER.MAX_ITER", 22500, "22500"),
        ("d2.yaml", "SOLVER.STEPS", [15000, 20000], "(15000, 20000)"),
        ("sft.yaml", "max_steps", 5000, "5000"),
        ("sft.yaml", "warmup_steps", 250, "250"),
    ]


# -- runtime scaling: LR003 counts it, LR007 flags a runtime rule outside the team's policy -------------

TIMM = (
    "# lrlint: reference batch=256 lr=0.1\nmodel: resnet50\nopt: adamw\nsched: cosine\nbatch_size: 1024\n"
    "lr_base: 0.1\nlr_base_size: 256\nlr_base_scale: {scale}\n"
)


def test_lr003_counts_runtime_scaling(tmp_path):
    [f] = codes(check(tmp_path, "args.yaml", TIMM.format(scale="linear")), "LR003")
    assert f.message.startswith(
        "timm computes lr = lr_base x global batch / lr_base_size at run time (lr is unset, lr_base_scale: linear): "
        "the lr runs x4 the reference's"
    )
    assert codes(check(tmp_path, "args.yaml", TIMM.format(scale="sqrt")), "LR003") == []  # x2 under sqrt


def test_lr007_linear_runtime_rule_for_adamw_under_a_sqrt_policy(tmp_path):
    assert (
        codes(check(tmp_path, "args.yaml", TIMM.format(scale="linear")), "LR007") == []
    )  # default band accepts linear
    [f] = codes(check(tmp_path, "args.yaml", TIMM.format(scale="linear"), policy={"adaptive": "sqrt"}), "LR007")
    assert f.message == (
        "timm computes lr = lr_base x global batch / lr_base_size at run time: the linear rule; expected the "
        "square-root rule"
    )
    assert f.notes == [
        "policy for AdamW (adaptive): square-root rule",
        "turn the runtime scaling off and scale lr_base by hand, or change [tool.lrlint.policy] adaptive",
    ]
    assert codes(check(tmp_path, "args.yaml", TIMM.format(scale="sqrt"), policy={"adaptive": "sqrt"}), "LR007") == []


TIMM_ARGS = (
    "model: vit_base_patch16_224\nsched: cosine\nopt: {opt}\nbatch_size: 1024\nlr_base: 1e-3\nlr_base_size: 256\n"
    "warmup_epochs: 5\n{extra}"
)


@pytest.mark.parametrize(
    "opt, extra, policy, lr007",
    [
        ("adamw", "", "sqrt", False),  # timm picks sqrt for 'ada*' when lr_base_scale is unset
        ("adamw", "", "linear", True),  # ... which a linear team policy rejects
        ("lamb", "", "sqrt", False),
        ("adamw", "lr_base_scale: linear\n", "sqrt", True),  # stated linear for AdamW under a sqrt policy
        ("sgd", "", "linear", False),  # everything else: linear
    ],
)
def test_timm_runtime_rule_follows_the_optimizer_name(tmp_path, opt, extra, policy, lr007):
    fs = check(
        tmp_path, "args.yaml", TIMM_ARGS.format(opt=opt, extra=extra), policy={"adaptive": policy, "sgd": "linear"}
    )
    assert bool(codes(fs, "LR007")) == lr007, [f.message for f in fs]
