"""Config sets (``[tool.lrlint] config-sets``): Lightning CLI's repeated ``--config`` files merged in order
and checked as one recipe, with each finding and fix in the file that holds the value."""

from __future__ import annotations

from conftest import GitRepo, run_lrlint

TRAINER = "trainer:\n  accelerator: gpu\n  devices: {dev}\n  max_epochs: 90\n"
MODEL = (
    "model:\n  class_path: lit.ImageClassifier\n  init_args:\n    arch: resnet50\noptimizer:\n"
    "  class_path: torch.optim.SGD\n  init_args:\n    lr: {lr}\n    momentum: 0.9\n"
)
DATA = (
    "data:\n  class_path: lit.ImageNetData\n  init_args:\n    root: /data/imagenet\n    batch_size: {bs}\n"
    "    num_workers: 8\n"
)
SETTINGS = (
    "[tool.lrlint]\n"
    "# python train.py fit --config configs/trainer.yaml --config configs/model.yaml --config configs/data.yaml\n"
    'config-sets = [["configs/trainer.yaml", "configs/model.yaml", "configs/data.yaml"]]\n'
)


def _repo(tmp_path, dev=4, lr="0.1", bs=64) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write("pyproject.toml", SETTINGS)
    repo.write("configs/trainer.yaml", TRAINER.format(dev=dev))
    repo.write("configs/model.yaml", MODEL.format(lr=lr))
    repo.write("configs/data.yaml", DATA.format(bs=bs))
    repo.commit("configs")
    return repo


def concise(repo, *args):
    r = repo.lrlint("check", "--output-format", "concise", *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, [
        ln
        for ln in r.stdout.splitlines()
        if ln and not ln.startswith(("Found", "[*]", "All checks", "note:")) and "hidden fix" not in ln
    ]


def test_batch_changed_in_one_file_lr_in_another(tmp_path):
    repo = _repo(tmp_path)
    repo.write("configs/data.yaml", DATA.format(bs=256))
    expected = [
        "configs/data.yaml:5:17: LR001 error: effective batch 256 -> 1024 (x4) but optimizer.init_args.lr stays 0.1; "
        "expected 0.4 (linear rule)"
    ]
    assert concise(repo) == (1, expected)  # the whole tree: the set once, no member alone
    assert concise(repo, "configs/data.yaml") == (1, expected)  # pre-commit passes only the changed member
    assert concise(repo, "configs/model.yaml") == (1, expected)
    r = repo.lrlint("check", "configs/data.yaml")
    assert " ::: configs/model.yaml:8:9" in r.stdout and "    lr: 0.1\n  |         --- tuned for batch 256" in r.stdout
    assert "  = note: compared with git HEAD (batch 256, lr 0.1)\n" in r.stdout
    assert " ::: configs/trainer.yaml:3:12" in r.stdout


def test_devices_changed_in_the_trainer_file(tmp_path):
    repo = _repo(tmp_path)
    repo.write("configs/trainer.yaml", TRAINER.format(dev=8))
    assert concise(repo) == (
        1,
        [
            "configs/trainer.yaml:3:12: LR001 error: effective batch 256 -> 512 (x2) but optimizer.init_args.lr "
            "stays 0.1; expected 0.2 (linear rule)"
        ],
    )


def test_scaled_in_the_other_file_is_clean_and_members_alone_say_nothing(tmp_path):
    repo = _repo(tmp_path)
    repo.write("configs/data.yaml", DATA.format(bs=128))
    repo.write("configs/model.yaml", MODEL.format(lr="0.2"))
    assert concise(repo) == (0, [])
    # without the setting each file alone has no recipe: the change goes unseen (what the setting is for)
    repo.write("pyproject.toml", "[tool.lrlint]\n")
    repo.write("configs/model.yaml", MODEL.format(lr="0.1"))
    assert concise(repo) == (0, [])


def test_fix_edits_the_lr_where_it_is_written(tmp_path):
    repo = _repo(tmp_path)
    repo.write("configs/data.yaml", DATA.format(bs=128))
    r = repo.lrlint("check", "--fix", "configs/data.yaml")
    assert r.returncode == 1 and "1 hidden fix" in r.stdout  # the lr lives in another file: unsafe
    r = repo.lrlint("check", "--fix", "--unsafe-fixes", "configs/data.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (repo.path / "configs/model.yaml").read_text() == MODEL.format(lr="0.2")
    assert (repo.path / "configs/data.yaml").read_text() == DATA.format(bs=128)


def test_inline_reference_in_a_member_without_git(tmp_path):
    root = tmp_path / "plain"
    (root / "configs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(SETTINGS)
    (root / "configs/trainer.yaml").write_text(TRAINER.format(dev=4))
    (root / "configs/model.yaml").write_text("# lrlint: reference batch=256 lr=0.1\n" + MODEL.format(lr="0.1"))
    (root / "configs/data.yaml").write_text(DATA.format(bs=128))
    r = run_lrlint("check", "--output-format", "concise", cwd=root)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == (
        "configs/data.yaml:5:17: LR001 error: effective batch 256 -> 512 (x2) but optimizer.init_args.lr stays 0.1; "
        "expected 0.2 (linear rule)"
    )
    # the reference is named with the member that states it, not the file the finding is in
    r = run_lrlint("check", cwd=root)
    assert "  = note: compared with inline reference at configs/model.yaml:1 (batch 256, lr 0.1)\n" in r.stdout


def test_missing_member_is_reported_at_its_entry_and_the_rest_is_checked(tmp_path):
    repo = _repo(tmp_path)
    repo.write("pyproject.toml", SETTINGS.replace('"configs/data.yaml"', '"configs/data.yaml", "configs/extra.yaml"'))
    repo.write("configs/data.yaml", DATA.format(bs=256))
    code, lines = concise(repo)
    assert code == 1
    assert lines == [
        "configs/data.yaml:5:17: LR001 error: effective batch 256 -> 1024 (x4) but optimizer.init_args.lr stays 0.1; "
        "expected 0.4 (linear rule)",
        "pyproject.toml:3:85: LR906 error: configs/extra.yaml is listed in tool.lrlint.config-sets but does not exist",
    ]
