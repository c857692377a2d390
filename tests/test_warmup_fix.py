"""A fix that raises the lr past the warmup threshold leads into LR003: LR001's help says so, and
``--unsafe-fixes`` adds the warmup where the framework's profile knows how."""

from __future__ import annotations

import json

from lrlint.sources import decode, prepend_edits

# a vision transformer trained from scratch: x4 (square-root rule for x16) lands at 2e-3, above the adaptive
# family's usual range (up to 1e-3)
HF_BEFORE = "model_name_or_path: vit-base-patch16\nper_device_train_batch_size: 8\nlearning_rate: 5.0e-4\n"
HF_AFTER = HF_BEFORE.replace("batch_size: 8", "batch_size: 128")
# fine-tuning: x4 lands at 8e-5, an ordinary level for AdamW (LR003 stays silent)
BERT_BEFORE = "model_name_or_path: bert-base-uncased\nper_device_train_batch_size: 8\nlearning_rate: 2.0e-5\n"

SCHEDULE = """\
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
"""
WARMUP = "dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500)"


def _findings(proc):
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_lr001_help_names_the_warmup_it_will_need(repo):
    repo.write("train.yaml", HF_BEFORE)
    repo.commit("init")
    repo.write("train.yaml", HF_AFTER)
    [f] = _findings(repo.lrlint("check", "train.yaml", "--output-format", "json"))
    assert f["code"] == "LR001"
    assert f["fix"]["message"] == (
        "Set learning_rate to 2.0e-3; the lr then rises x4 with no warmup (LR003): "
        "add one with warmup_ratio or warmup_steps"
    )


def test_no_warmup_advice_below_the_threshold_or_with_a_warmup(repo):
    repo.write("train.yaml", HF_BEFORE + "warmup_steps: 0\n")
    repo.commit("init")
    repo.write("train.yaml", HF_BEFORE.replace("batch_size: 8", "batch_size: 32"))  # sqrt rule: lr x2
    [f] = _findings(repo.lrlint("check", "train.yaml", "--output-format", "json"))
    assert f["fix"]["message"] == "Set learning_rate to 1.0e-3"
    repo.write("train.yaml", HF_AFTER + "warmup_ratio: 0.1\n")
    [f] = _findings(repo.lrlint("check", "train.yaml", "--output-format", "json"))
    assert f["fix"]["message"] == "Set learning_rate to 2.0e-3"


def test_no_warmup_advice_when_the_raised_lr_is_an_ordinary_level(repo):
    repo.write("train.yaml", BERT_BEFORE)
    repo.commit("init")
    repo.write("train.yaml", BERT_BEFORE.replace("batch_size: 8", "batch_size: 128"))
    [f] = _findings(repo.lrlint("check", "train.yaml", "--output-format", "json"))
    assert (f["code"], f["fix"]["message"]) == ("LR001", "Set learning_rate to 8.0e-5")
    proc = repo.lrlint("check", "train.yaml", "--fix", "--unsafe-fixes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo.path / "train.yaml").read_text() == BERT_BEFORE.replace("batch_size: 8", "batch_size: 128").replace(
        "2.0e-5", "8.0e-5"
    )


def test_unsafe_fixes_add_the_warmup_in_hugging_face(repo):
    repo.write("train.yaml", HF_BEFORE)
    repo.commit("init")
    repo.write("train.yaml", HF_AFTER)
    proc = repo.lrlint("check", "train.yaml", "--fix")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (repo.path / "train.yaml").read_text() == HF_AFTER.replace("5.0e-4", "2.0e-3")
    assert "LR003" in proc.stdout
    proc = repo.lrlint("check", "train.yaml", "--fix", "--unsafe-fixes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo.path / "train.yaml").read_text() == HF_AFTER.replace("5.0e-4", "2.0e-3") + "warmup_ratio: 0.05\n"


def test_unsafe_fixes_turn_a_zero_detectron2_warmup_into_the_default(repo):
    text = "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n  WARMUP_ITERS: 0\n  MAX_ITER: 90000\n"
    repo.write("faster_rcnn.yaml", text)
    repo.commit("init")
    repo.write("faster_rcnn.yaml", text.replace("16", "512"))  # x32: 0.64 is above the SGD family's 0.5
    proc = repo.lrlint("check", "faster_rcnn.yaml", "--fix", "--unsafe-fixes", "--select", "LR001,LR003")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo.path / "faster_rcnn.yaml").read_text() == (
        "SOLVER:\n  IMS_PER_BATCH: 512\n  BASE_LR: 0.64\n  WARMUP_ITERS: 1000\n  MAX_ITER: 90000\n"
    )


def test_unsafe_fixes_put_a_linear_warmup_first_in_the_mmengine_scheduler_list(repo):
    repo.write("configs/_base_/schedule.py", SCHEDULE)
    child = "_base_ = ['./_base_/schedule.py']\ntrain_dataloader = dict(batch_size=2)\n"
    own = child + SCHEDULE.split("\n", 1)[1]
    repo.write("configs/retina_8xb2.py", child)
    repo.write("configs/own_8xb2.py", own)
    repo.commit("init")
    repo.write("configs/retina_8xb2.py", child.replace("batch_size=2", "batch_size=64"))
    repo.write("configs/own_8xb2.py", own.replace("batch_size=2", "batch_size=64"))
    proc = repo.lrlint(
        "check", "configs", "--fix", "--unsafe-fixes", "--select", "LR001,LR003", "--output-format", "json"
    )
    [left] = _findings(proc)
    assert (repo.path / "configs/own_8xb2.py").read_text() == (
        "_base_ = ['./_base_/schedule.py']\ntrain_dataloader = dict(batch_size=64)\nparam_scheduler = [\n"
        f"    {WARMUP},\n"
        "    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),\n]\n"
        "optim_wrapper = dict(optimizer=dict(lr=0.64))\n"
    )
    # the list is the base's: shown, not applied
    assert (repo.path / "configs/retina_8xb2.py").read_text() == (
        child.replace("batch_size=2", "batch_size=64") + "optim_wrapper = dict(optimizer=dict(lr=0.64))\n"
    )
    assert left["code"] == "LR003" and left["filename"].endswith("retina_8xb2.py")
    assert left["fix"] == {
        "applicability": "display-only",
        "message": f"Add {WARMUP} first in param_scheduler",
        "why": "param_scheduler is not assigned in configs/retina_8xb2.py: add it by hand",
        "edits": [],
    }


def _prepended(text: str) -> str | None:
    src = decode("c.py", "python", text.encode())
    edits = prepend_edits(src, "param_scheduler", "dict(type='LinearLR')")
    if edits is None:
        return None
    data = text
    for e in sorted(edits, key=lambda e: -e.span.start):
        data = data[: e.span.start] + e.content + data[e.span.end :]
    return data


def test_prepend_keeps_the_list_layout_and_wraps_a_single_scheduler():
    assert _prepended("param_scheduler = [dict(type='StepLR')]\n") == (
        "param_scheduler = [dict(type='LinearLR'), dict(type='StepLR')]\n"
    )
    assert _prepended("param_scheduler = []\n") == "param_scheduler = [dict(type='LinearLR')]\n"
    assert _prepended("param_scheduler = dict(type='StepLR')\n") == (
        "param_scheduler = [dict(type='LinearLR'), dict(type='StepLR')]\n"
    )
    assert _prepended("param_scheduler = [\n\tdict(type='StepLR'),\n]\n") == (
        "param_scheduler = [\n\tdict(type='LinearLR'),\n\tdict(type='StepLR'),\n]\n"
    )
    assert _prepended("_base_ = ['a.py']\n") is None
    assert _prepended("param_scheduler = make()\n") is None  # a call may return a list already
