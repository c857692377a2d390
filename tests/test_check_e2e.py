"""End-to-end: real git repositories, the real CLI, exact findings and exit codes."""

from __future__ import annotations

import json

from conftest import run_lrlint

HF = """\
model_name_or_path: meta-llama/Llama-3.2-1B
per_device_train_batch_size: {bs}
gradient_accumulation_steps: {acc}
learning_rate: {lr}
num_train_epochs: 3
"""

SGD = """\
train:
  batch_size: {bs}
  optimizer:
    name: sgd
    lr: {lr}
    momentum: 0.9
"""


def concise(repo, *args):
    r = repo.lrlint("check", "--output-format", "concise", *args)
    return (
        r.returncode,
        [ln for ln in r.stdout.splitlines() if ln and not ln.startswith(("Found", "[*]", "All checks", "note:"))],
        r,
    )


def notes(repo, *args) -> list[list[str]]:
    """Each finding's notes (where the compared numbers come from), in report order."""
    return [f["notes"] for f in json.loads(repo.lrlint("check", "--output-format", "json", *args).stdout)]


def test_hf_adamw_batch_x4_lr_unchanged_is_lr001_sqrt(repo):
    repo.write("configs/sft.yaml", HF.format(bs=8, acc=8, lr="2e-5"))
    repo.commit()
    repo.write("configs/sft.yaml", HF.format(bs=32, acc=8, lr="2e-5"))
    code, lines, r = concise(repo)
    assert code == 1, r.stderr
    assert lines == [
        "configs/sft.yaml:2:30: LR001 [*] error: effective batch 64 -> 256 (x4) but learning_rate stays 2e-5; "
        "expected 4e-5 (square-root rule)"
    ]
    assert notes(repo) == [
        [
            "policy for AdamW (adaptive, Hugging Face TrainingArguments default): square-root to linear rule; "
            "the linear rule gives 8e-5",
            "compared with git HEAD (batch 64, lr 2e-5)",
            "devices not in the file: assumed unchanged",
        ]
    ]


def test_scaled_correctly_is_silent_and_exit_0(repo):
    repo.write("sft.yaml", HF.format(bs=8, acc=8, lr="2e-5"))
    repo.commit()
    repo.write("sft.yaml", HF.format(bs=32, acc=8, lr="4e-5"))
    code, lines, r = concise(repo)
    assert (code, lines) == (0, [])
    assert "All checks passed!" in r.stdout


def test_sgd_linear_rule_and_json_data(repo):
    repo.write("train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit()
    repo.write("train.yaml", SGD.format(bs=1024, lr=0.1))
    r = repo.lrlint("check", "--output-format", "json")
    assert r.returncode == 1
    [f] = json.loads(r.stdout)
    assert f["code"] == "LR001" and f["name"] == "unscaled-lr" and f["severity"] == "error"
    assert f["location"] == {"row": 2, "column": 15} and f["end_location"] == {"row": 2, "column": 19}
    assert (
        f["message"] == "effective batch 256 -> 1024 (x4) but train.optimizer.lr stays 0.1; expected 0.4 (linear rule)"
    )
    assert f["notes"] == [
        "policy for SGD (SGD family): linear rule",
        "compared with git HEAD (batch 256, lr 0.1)",
        "devices not in the file: assumed unchanged",
    ]
    assert f["fix"]["applicability"] == "safe"
    assert f["fix"]["edits"] == [
        {"content": "0.4", "location": {"row": 5, "column": 9}, "end_location": {"row": 5, "column": 12}}
    ]
    d = f["data"]
    assert (d["batch_old"], d["batch_new"], d["k"], d["lr_old"], d["expected_lr"], d["policy"], d["family"]) == (
        256,
        1024,
        4,
        0.1,
        0.4,
        "linear",
        "sgd",
    )
    assert d["reference"] == {"kind": "history", "label": "git HEAD"}


def test_accumulation_change_alone(repo):
    repo.write("sft.yaml", HF.format(bs=8, acc=4, lr="1.0e-5"))
    repo.commit()
    repo.write("sft.yaml", HF.format(bs=8, acc=16, lr="1.0e-5"))
    code, lines, _ = concise(repo)
    assert code == 1
    assert lines[0] == (
        "sft.yaml:3:30: LR001 [*] error: effective batch 32 -> 128 (x4) but learning_rate stays 1.0e-5; "
        "expected 2.0e-5 (square-root rule)"
    )
    assert "square-root to linear rule; the linear rule gives 4.0e-5" in notes(repo)[0][0]


LIGHTNING = """\
trainer:
  devices: {dev}
  num_nodes: 1
  accumulate_grad_batches: 1
model:
  class_path: models.Net
optimizer:
  class_path: torch.optim.SGD
  init_args:
    lr: 0.1
    momentum: 0.9
data:
  init_args:
    batch_size: 128
"""


def test_devices_change_in_lightning_cli(repo):
    repo.write("fit.yaml", LIGHTNING.format(dev=1))
    repo.commit()
    repo.write("fit.yaml", LIGHTNING.format(dev="[0, 1, 2, 3]"))
    code, lines, _ = concise(repo)
    assert code == 1
    assert lines == [
        "fit.yaml:2:13: LR001 [*] error: effective batch 128 -> 512 (x4) but optimizer.init_args.lr stays 0.1; "
        "expected 0.4 (linear rule)"
    ]
    assert notes(repo) == [["policy for SGD (SGD family): linear rule", "compared with git HEAD (batch 128, lr 0.1)"]]


def test_global_batch_key_detectron2(repo):
    cfg = (
        "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: {b}\n  BASE_LR: 0.02\n"
        "  MAX_ITER: 90000\n"
    )
    repo.write("d2.yaml", cfg.format(b=16))
    repo.commit()
    repo.write("d2.yaml", cfg.format(b=64))
    code, lines, _ = concise(repo, "--ignore", "LR006")  # MAX_ITER kept: LR006 (tests/test_checks_lr003_006.py)
    assert code == 1
    assert lines == [
        "d2.yaml:4:18: LR001 [*] error: effective batch 16 -> 64 (x4) but SOLVER.BASE_LR stays 0.02; "
        "expected 0.08 (linear rule)"
    ]
    assert notes(repo, "--ignore", "LR006") == [
        [
            "policy for SGD (SGD family, Detectron2 (yacs) default): linear rule",
            "compared with git HEAD (batch 16, lr 0.02)",
        ]
    ]


def test_deepspeed_auto_is_unknown_not_zero(repo):
    ds = (
        '{{"train_batch_size": {tb}, "train_micro_batch_size_per_gpu": "auto", "gradient_accumulation_steps": '
        '"auto",\n "optimizer": {{"type": "AdamW", "params": {{"lr": "auto"}}}}, "zero_optimization": {{"stage": '
        "2}}}}\n"
    )
    repo.write("ds_config.json", ds.format(tb='"auto"'))
    repo.commit()
    repo.write("ds_config.json", ds.format(tb=1024))
    code, lines, r = concise(repo)
    assert (code, lines) == (0, [])
    ex = repo.lrlint("check", "--explain", "--output-format", "concise")
    assert 'optimizer.params.lr is "auto", filled in at run time' in ex.stdout


def test_deepspeed_global_batch(repo):
    ds = (
        '{{\n  "train_batch_size": {tb},\n  "train_micro_batch_size_per_gpu": 8,\n'
        '  "optimizer": {{"type": "AdamW", "params": {{"lr": 3e-4}}}}\n}}\n'
    )
    repo.write("ds_config.json", ds.format(tb=256))
    repo.commit()
    repo.write("ds_config.json", ds.format(tb=1024))
    code, lines, _ = concise(repo)
    assert code == 1
    assert lines[0] == (
        "ds_config.json:2:23: LR001 [*] error: effective batch 256 -> 1024 (x4) but optimizer.params.lr stays 3e-4; "
        "expected 6e-4 (square-root rule)"
    )
    assert notes(repo)[0][0] == "policy for AdamW (adaptive): square-root to linear rule; the linear rule gives 1.2e-3"


def test_wrong_direction_is_lr002_error(repo):
    repo.write("train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit()
    repo.write("train.yaml", SGD.format(bs=1024, lr=0.05))
    r = repo.lrlint("check", "--output-format", "json")
    [f] = json.loads(r.stdout)
    assert (f["code"], f["severity"], f["location"]["row"]) == ("LR002", "error", 5)
    assert f["message"] == (
        "effective batch 256 -> 1024 (x4) and train.optimizer.lr 0.1 -> 0.05 (x0.5); the lr moved the wrong way; "
        "expected 0.4 (linear rule)"
    )
    assert f["notes"][0] == "policy for SGD (SGD family): linear rule, lr x4 accepted"


def test_sqrt_scaled_sgd_is_lr002_warning(repo):
    repo.write("train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit()
    repo.write("train.yaml", SGD.format(bs=1024, lr=0.2))
    [f] = json.loads(repo.lrlint("check", "--output-format", "json").stdout)
    assert (f["code"], f["severity"]) == ("LR002", "warning")


def test_new_file_has_no_history_reference(repo):
    repo.write("README.md", "x\n")
    repo.commit()
    repo.write("train.yaml", SGD.format(bs=1024, lr=0.1))
    assert concise(repo)[:2] == (0, [])


def test_rename_is_followed(repo):
    repo.write("old/train.yaml", SGD.format(bs=256, lr=0.1) + "# a long enough file for rename detection\n" * 3)
    repo.commit()
    repo.git("mv", "old/train.yaml", "new_train.yaml")
    p = repo.path / "new_train.yaml"
    p.write_text(p.read_text().replace("batch_size: 256", "batch_size: 512"))
    code, lines, _ = concise(repo)
    assert code == 1
    assert lines[0].startswith("new_train.yaml:2:15: LR001 [*] error: effective batch 256 -> 512 (x2)")
    assert notes(repo)[0][1:] == [
        "compared with git HEAD (batch 256, lr 0.1)",
        "devices not in the file: assumed unchanged",
    ]
    # checking only the new path (pre-commit): the limited diff sees an added file and looks further
    assert concise(repo, "new_train.yaml")[1] == lines


def test_file_name_with_glob_characters_is_not_a_pattern(repo):
    # a few files limit the git diff to them: their names are literal, not pathspec globs
    repo.write("exp[1].yaml", SGD.format(bs=256, lr=0.1))
    repo.write("exp1.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit()
    repo.write("exp1.yaml", SGD.format(bs=512, lr=0.1))
    assert concise(repo, "exp[1].yaml")[:2] == (0, [])
    code, lines, _ = concise(repo, "exp1.yaml")
    assert code == 1 and lines[0].startswith("exp1.yaml:2:15: LR001 [*] error: effective batch 256 -> 512 (x2)")


def test_base_uses_merge_base(repo):
    repo.write("train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("train.yaml", SGD.format(bs=512, lr=0.1))
    repo.commit("feature: double batch")
    repo.git("checkout", "-q", "main")
    repo.write("other.yaml", "x: 1\n")
    repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")
    code, lines, _ = concise(repo, "--base", "main")
    assert code == 1 and "effective batch 256 -> 512 (x2)" in lines[0]
    assert notes(repo, "--base", "main")[0][1].startswith("compared with git main (merge base ")


def test_bad_base_is_usage_error(repo):
    repo.write("train.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit()
    r = repo.lrlint("check", "--base", "no-such-branch")
    assert r.returncode == 2 and "--base no-such-branch: not a revision (it must name one commit" in r.stderr


def test_not_a_git_repo_gives_one_note(tmp_path):
    (tmp_path / "a.yaml").write_text(SGD.format(bs=256, lr=0.1))
    (tmp_path / "b.yaml").write_text(SGD.format(bs=256, lr=0.1))
    r = run_lrlint("check", ".", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stdout == "All checks passed!\n"  # notes go to stderr: stdout is the report alone
    assert r.stderr == "lrlint: note: not inside a git work tree: no history reference\n"
    # only when relevant: every recipe has a reference of its own, so the missing git history changes nothing
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("# lrlint: reference batch=256 lr=0.1\n" + SGD.format(bs=256, lr=0.1))
    r = run_lrlint("check", ".", cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "All checks passed!\n", "")


def test_inline_reference_without_git(tmp_path):
    (tmp_path / "a.yaml").write_text("# lrlint: reference batch=256 lr=0.1\n" + SGD.format(bs=512, lr=0.1))
    r = run_lrlint("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == (
        "a.yaml:3:15: LR001 [*] error: effective batch 256 -> 512 (x2) but train.optimizer.lr stays 0.1; "
        "expected 0.2 (linear rule)"
    )
    [f] = json.loads(run_lrlint("check", "--output-format", "json", ".", cwd=tmp_path).stdout)
    assert f["notes"] == [
        "policy for SGD (SGD family): linear rule",
        "compared with inline reference at a.yaml:1 (batch 256, lr 0.1)",
        "devices not in the file: assumed unchanged",
    ]


def test_declared_reference_wins_over_history(repo):
    # the lr was tuned for 512; a commit had drifted to 256; restoring 512 with the same lr is right
    repo.write("a.yaml", "# lrlint: reference batch=512 lr=0.2\n" + SGD.format(bs=256, lr=0.2))
    repo.commit()
    repo.write("a.yaml", "# lrlint: reference batch=512 lr=0.2\n" + SGD.format(bs=512, lr=0.2))
    assert concise(repo)[:2] == (0, [])
    repo.write("a.yaml", "# lrlint: reference batch=512 lr=0.2\n" + SGD.format(bs=1024, lr=0.2))
    code, lines, _ = concise(repo)
    assert code == 1
    assert notes(repo)[0][1:] == [
        "compared with inline reference at a.yaml:1 (batch 512, lr 0.2)",
        "git HEAD had batch 256; the declared reference wins",
        "devices not in the file: assumed unchanged",
    ]


def test_reference_file(tmp_path):
    (tmp_path / "paper.yaml").write_text(SGD.format(bs=256, lr=0.1))
    (tmp_path / "mine.yaml").write_text(SGD.format(bs=64, lr=0.1))
    r = run_lrlint("check", "--output-format", "concise", "--reference", "paper.yaml", "mine.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == (
        "mine.yaml:2:15: LR001 [*] error: effective batch 256 -> 64 (x0.25) but train.optimizer.lr stays 0.1; "
        "expected 0.025 (linear rule)"
    )
    args = ("check", "--output-format", "json", "--reference", "paper.yaml", "mine.yaml")
    [f] = json.loads(run_lrlint(*args, cwd=tmp_path).stdout)
    assert f["notes"][1:] == [
        "compared with --reference paper.yaml (batch 256, lr 0.1)",
        "devices not in the file: assumed unchanged",
    ]


def test_suppression_comments(tmp_path):
    base = (
        "# lrlint: reference batch=256 lr=0.1\ntrain:\n  batch_size: 512{c}\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
    )
    for comment in ["  # lrlint: ignore[LR001]", "  # noqa: LR001", "  # lrlint: ignore"]:
        (tmp_path / "a.yaml").write_text(base.format(c=comment))
        r = run_lrlint("check", "a.yaml", cwd=tmp_path)
        assert r.returncode == 0, (comment, r.stdout)
    (tmp_path / "a.yaml").write_text(base.format(c="  # lrlint: ignore[LR002]"))
    assert run_lrlint("check", "a.yaml", cwd=tmp_path).returncode == 1


def test_select_ignore_exit_zero_statistics(tmp_path):
    (tmp_path / "a.yaml").write_text("# lrlint: reference batch=256 lr=0.1\n" + SGD.format(bs=512, lr=0.1))
    assert run_lrlint("check", "--ignore", "LR001", "a.yaml", cwd=tmp_path).returncode == 0
    assert run_lrlint("check", "--select", "LR002", "a.yaml", cwd=tmp_path).returncode == 0
    assert run_lrlint("check", "--exit-zero", "a.yaml", cwd=tmp_path).returncode == 0
    r = run_lrlint("check", "--statistics", "a.yaml", cwd=tmp_path)
    assert r.stdout == "1\tLR001\t[*] unscaled-lr\nFound 1 error.\n[*] 1 fixable with the `--fix` option.\n"


def test_full_output_has_code_frame(tmp_path):
    (tmp_path / "a.yaml").write_text("# lrlint: reference batch=256 lr=0.1\n" + SGD.format(bs=512, lr=0.1))
    r = run_lrlint("check", "a.yaml", cwd=tmp_path)
    assert r.stdout == (
        "LR001 [*] error: effective batch 256 -> 512 (x2) but train.optimizer.lr stays 0.1; "
        "expected 0.2 (linear rule)\n"
        " --> a.yaml:3:15\n"
        "  |\n"
        "1 | # lrlint: reference batch=256 lr=0.1\n"
        "  | ------------------------------------ declared reference\n"
        "2 | train:\n"
        "3 |   batch_size: 512\n"
        "  |               ^^^\n"
        " ...\n"
        "5 |     name: sgd\n"
        "6 |     lr: 0.1\n"
        "  |         --- tuned for batch 256\n"
        "  |\n"
        "  = note: policy for SGD (SGD family): linear rule\n"
        "  = note: compared with inline reference at a.yaml:1 (batch 256, lr 0.1)\n"
        "  = note: devices not in the file: assumed unchanged\n"
        "  = why: Goyal et al. 2017: multiply the lr by k when the batch grows by k\n"
        "  = help: Set train.optimizer.lr to 0.2\n"
        "\n"
        "Found 1 error.\n"
        "[*] 1 fixable with the `--fix` option.\n"
    )


def test_missing_path_is_usage_error(tmp_path):
    r = run_lrlint("check", "nope.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "nope.yaml: no such file or directory" in r.stderr


def test_rule_docs(tmp_path):
    r = run_lrlint("rule", "LR001", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stdout.startswith("# unscaled-lr (LR001)\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert section in r.stdout
    assert run_lrlint("rule", "LR999", cwd=tmp_path).returncode == 2
    allr = run_lrlint("rule", "--all", "--output-format", "json", cwd=tmp_path)
    codes = [x["code"] for x in json.loads(allr.stdout)]
    assert {"LR001", "LR002", "LR007", "LR901", "LR904"} <= set(codes)


def test_version(tmp_path):
    from lrlint import __version__

    r = run_lrlint("--version", cwd=tmp_path)
    assert r.stdout.strip() == f"lrlint {__version__}"


def test_two_lr_keys_one_schedule_value_reported_once(repo):
    # DeepSpeed has two lr keys (optimizer.params.lr, scheduler.params.warmup_max_lr), so two recipes reach
    # the same warmup_num_steps; the LR006 finding is printed once.
    ds = (
        '{{\n  "train_batch_size": {tb},\n  "train_micro_batch_size_per_gpu": 64,\n'
        '  "optimizer": {{"type": "Lamb", "params": {{"lr": {lr}}}}},\n'
        '  "scheduler": {{"type": "WarmupDecayLR", "params": {{"warmup_max_lr": {lr},\n'
        '    "warmup_num_steps": 100}}}}\n}}\n'
    )
    repo.write("ds_config.json", ds.format(tb=1024, lr="6e-05"))
    repo.commit()
    repo.write("ds_config.json", ds.format(tb=512, lr="3e-05"))
    code, lines, _ = concise(repo, "--select", "LR006")
    assert code == 1
    assert lines == [
        "ds_config.json:6:25: LR006 warning: effective batch 1024 -> 512 (x0.5) but the step-based "
        "scheduler.params.warmup_num_steps stays 100; expected 200 (multiplied by 2)",
        "1 hidden fix can be enabled with the `--unsafe-fixes` option.",
    ]
    assert notes(repo, "--select", "LR006") == [["compared with git HEAD (batch 1024, lr 6e-05)"]]


def test_readme_demo_on_the_bundled_examples():
    """The README's first command, ``lrlint check examples/``: the demo shows real findings (inline references,
    inheritance, a Lightning CLI config set from the project's own pyproject.toml) and exits 1."""
    from conftest import ROOT

    r = run_lrlint("check", "--output-format", "concise", "examples/", cwd=ROOT)
    assert r.returncode == 1, r.stderr
    found = sorted(
        {(ln.split(":", 1)[0], ln.split(": ", 1)[1].split()[0]) for ln in r.stdout.splitlines() if ": LR" in ln}
    )
    assert found == [
        ("examples/detectron2/COCO-Detection/faster_rcnn_R_50_FPN_1x_bs64.yaml", "LR001"),
        ("examples/detectron2/COCO-Detection/faster_rcnn_R_50_FPN_1x_bs64.yaml", "LR006"),
        ("examples/huggingface/sft_llama.yaml", "LR001"),
        ("examples/lightning/resnet_cifar.yaml", "LR001"),
        ("examples/lightning_cli/data.yaml", "LR001"),
        ("examples/mmdetection/retinanet_r50_fpn_4xb8-1x_coco.py", "LR001"),
        ("examples/scripts/train_imagenet.py", "LR001"),
    ]
    assert (
        "examples/lightning_cli/data.yaml:6:17: LR001 error: effective batch 256 -> 512 (x2) but "
        "optimizer.init_args.lr "
        "stays 0.1; expected 0.2 (linear rule)\n" in r.stdout
    )
    assert r.stdout.endswith(
        "Found 6 errors and 2 warnings.\n"
        "[*] 5 fixable with the `--fix` option.\n"
        "3 hidden fixes can be enabled with the `--unsafe-fixes` option.\n"
    )


def test_history_of_an_inheriting_child_uses_its_base_at_the_base_revision(repo):
    # one commit scales correctly across two files: the child's batch x2 and the base's lr x2
    repo.write(
        "base.yaml", "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  BASE_LR: 0.02\n  MAX_ITER: 90000\n"
    )
    repo.write("child.yaml", '_BASE_: "base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 16\n')
    repo.commit()
    repo.write(
        "base.yaml", "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  BASE_LR: 0.04\n  MAX_ITER: 90000\n"
    )
    repo.write("child.yaml", '_BASE_: "base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 32\n')
    for args in (["child.yaml"], ["child.yaml", "base.yaml"], []):  # the base read as it was at HEAD either way
        assert concise(repo, "--select", "LR001,LR002", *args)[:2] == (0, []), args
    repo.write(
        "base.yaml", "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  BASE_LR: 0.02\n  MAX_ITER: 90000\n"
    )
    code, lines, _ = concise(repo, "--select", "LR001,LR002", "child.yaml")
    assert (code, lines) == (
        1,
        [
            "child.yaml:3:18: LR001 [*] error: effective batch 16 -> 32 (x2) but SOLVER.BASE_LR stays 0.02; "
            "expected 0.04 (linear rule)"
        ],
    )
