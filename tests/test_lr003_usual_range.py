"""LR003 judges the raised lr against its optimizer family's usual range (``usual_lr`` in
rules/optimizers.yaml, ``[tool.lrlint.thresholds] usual-lr``): a raise that lands on an ordinary level is
silent and ``--explain`` says why; a raise above the range is flagged as before; the range is a setting."""

from __future__ import annotations

from conftest import GitRepo

SUMMARY = ("Found", "[*]", "All checks", "No fixes")

# a LLaMA-Factory-style SFT file: full fine-tuning at 1e-5, then LoRA at 1e-4 with 16x the batch
SFT = (
    "### model\nmodel_name_or_path: meta-llama/Llama-3-8B-Instruct\nstage: sft\nfinetuning_type: {ft}\n"
    "### train\nper_device_train_batch_size: {per_device}\ngradient_accumulation_steps: 8\n"
    "learning_rate: {lr}\nnum_train_epochs: 3.0\nlr_scheduler_type: cosine\nbf16: true\n"
)
SFT_PATH = "examples/train_lora/llama3_lora_sft.yaml"

# an MMEngine classification config with its schedule in the file and a step schedule without warmup
RESNET = (
    "_base_ = ['../_base_/models/resnet50.py', '../_base_/default_runtime.py']\n"
    "train_dataloader = dict(batch_size={batch}, num_workers=5, dataset=dict(type='ImageNet'))\n"
    "optim_wrapper = dict(optimizer=dict(type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0001))\n"
    "param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)\n"
    "train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)\n"
)
RESNET_PATH = "configs/resnet/resnet50_8xb32_in1k.py"


def concise(repo: GitRepo, *args: str) -> tuple[int, list[str]]:
    r = repo.lrlint("check", "--output-format", "concise", *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, [ln for ln in r.stdout.splitlines() if ln and not ln.startswith(SUMMARY)]


def explained(repo: GitRepo, *args: str) -> list[str]:
    r = repo.lrlint("check", "--explain", "--output-format", "concise", *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r.stdout.split("Recipes checked", 1)[1].splitlines()[1:]


def _mm_tree(repo: GitRepo) -> None:
    repo.write("configs/_base_/models/resnet50.py", "model = dict(type='ImageClassifier')\n")
    repo.write("configs/_base_/default_runtime.py", "default_scope = 'mmpretrain'\n")
    repo.write(RESNET_PATH, RESNET.format(batch=32, lr=0.1))
    repo.commit("resnet50 at 8xb32")


def test_a_fine_tuning_raise_to_an_ordinary_adamw_level_is_silent_and_explained(repo: GitRepo):
    repo.write(SFT_PATH, SFT.format(ft="full", per_device=1, lr="1.0e-5"))
    repo.commit("full fine-tuning")
    repo.write(SFT_PATH, SFT.format(ft="lora", per_device=16, lr="1.0e-4"))  # batch x16, lr x10 (in the band)
    assert concise(repo, SFT_PATH) == (0, [])
    assert explained(repo, SFT_PATH) == [
        f"{SFT_PATH}: learning_rate (huggingface profile): effective batch 128, lr 0.0001, optimizer AdamW "
        "(adaptive); reference: git HEAD (batch 8); LR003 silent: learning_rate 1.0e-5 -> 1.0e-4 (x10 against git "
        "HEAD) stays within the adaptive family's usual range, 1e-6 to 0.001 (usual-lr): an ordinary level needs "
        "no warmup",
    ]


def test_a_raise_above_the_sgd_range_is_flagged(repo: GitRepo):
    _mm_tree(repo)
    repo.write(RESNET_PATH, RESNET.format(batch=256, lr=0.8))  # 8xb256 = 2048, lr 0.1 -> 0.8: linear, x8
    assert concise(repo, "--select", "LR003", RESNET_PATH) == (
        1,
        [
            f"{RESNET_PATH}:3:52: LR003 warning: optim_wrapper.optimizer.lr 0.1 -> 0.8 (x8) with no warmup "
            "configured; add a gradual warmup (e.g. a warmup scheduler first in param_scheduler)",
            "1 hidden fix can be enabled with the `--unsafe-fixes` option.",
        ],
    )
    # x4 to 0.4 is an ordinary SGD level (Goyal et al.'s ResNet-50 trains 0.1 per 256 samples)
    repo.write(RESNET_PATH, RESNET.format(batch=128, lr=0.4))
    assert concise(repo, "--select", "LR003", RESNET_PATH) == (0, [])
    [line] = explained(repo, "--select", "LR003", RESNET_PATH)
    assert line.endswith(
        "; LR003 silent: optim_wrapper.optimizer.lr 0.1 -> 0.4 (x4 against git HEAD) stays within the sgd family's "
        "usual range, 0.0001 to 0.5 (usual-lr): an ordinary level needs no warmup"
    )


def test_the_usual_range_is_a_threshold(repo: GitRepo):
    repo.write(SFT_PATH, SFT.format(ft="full", per_device=1, lr="1.0e-5"))
    repo.commit("full fine-tuning")
    repo.write(SFT_PATH, SFT.format(ft="lora", per_device=16, lr="1.0e-4"))
    # a team whose fine-tuning runs warm up above 5e-5 narrows the adaptive range
    repo.write("pyproject.toml", "[tool.lrlint.thresholds]\nusual-lr = { adaptive = [1e-6, 5e-5] }\n")
    assert concise(repo, SFT_PATH) == (
        1,
        [
            f"{SFT_PATH}:8:16: LR003 warning: learning_rate 1.0e-5 -> 1.0e-4 (x10) with no warmup configured; add a "
            "gradual warmup (e.g. warmup_ratio)",
            "1 hidden fix can be enabled with the `--unsafe-fixes` option.",
        ],
    )
    # [0, 0] turns the range off for a family: the raise alone decides, as before the range
    repo.write("pyproject.toml", "[tool.lrlint.thresholds]\nusual-lr = { adaptive = [0.0, 0.0] }\n")
    code, lines = concise(repo, SFT_PATH)
    assert (code, [ln.split(": ")[1] for ln in lines[:1]], lines[1:]) == (
        1,
        ["LR003 warning"],
        ["1 hidden fix can be enabled with the `--unsafe-fixes` option."],
    )
    # the other families keep theirs, and the command line can widen one
    _mm_tree(repo)
    repo.write(RESNET_PATH, RESNET.format(batch=256, lr=0.8))
    assert concise(repo, "--select", "LR003", RESNET_PATH)[0] == 1
    assert concise(repo, "--select", "LR003", "--config", "thresholds.usual-lr.sgd = [1e-4, 1.0]", RESNET_PATH) == (
        0,
        [],
    )


def test_a_bad_usual_range_is_a_settings_error(repo: GitRepo):
    repo.write("cfg.yaml", "batch_size: 8\nlr: 0.1\n")
    r = repo.lrlint("check", "--config", "thresholds.usual-lr.adam = [1e-6, 1e-3]", "cfg.yaml")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (
        "lrlint: error: --config: thresholds.usual-lr: Value error, unknown optimizer family 'adam' (sgd, adaptive, "
        "sign, unknown)\n"
    )
    r = repo.lrlint("check", "--config", "thresholds.usual-lr.sgd = [0.5, 0.1]", "cfg.yaml")
    assert r.returncode == 2
    assert r.stderr == (
        "lrlint: error: --config: thresholds.usual-lr: Value error, sgd: two lr levels with 0 <= low <= high\n"
    )
