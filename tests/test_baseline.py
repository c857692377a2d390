"""Diff-caused findings (lrlint/baseline.py): with a git base, findings already there at the base are
pre-existing: counted in one note, listed with --show-existing, never failing the run. The layouts mirror
MMEngine config trees (``_base_`` lists, a shared ``_base_`` folder); the configs are written here."""

from __future__ import annotations

import json

from conftest import GitRepo

from lrlint import api, settings

BASE = """\
train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
"""

CHILD = """\
_base_ = ['../_base_/default.py']
train_dataloader = dict(batch_size={batch})
"""

LR001 = (
    "{path}:2:36: LR001 [*] error{mark}: effective batch 16 -> {batch} (x{k}) but optim_wrapper.optimizer.lr "
    "stays 0.01; expected {lr} (linear rule)"
)


def tree(repo: GitRepo) -> None:
    """Two children that already scale the batch without the lr (LR001 against their base), committed."""
    repo.write("configs/_base_/default.py", BASE)
    repo.write("configs/a/big.py", CHILD.format(batch=64))
    repo.write("configs/a/other.py", CHILD.format(batch=32))
    repo.commit("init")


def concise(repo: GitRepo, *args: str):
    r = repo.lrlint("check", "--output-format", "concise", *args)
    return r.returncode, r.stdout.splitlines(), r.stderr


def note(n: int, base: str = "HEAD", shown: bool = False) -> str:
    what = f"{n} pre-existing finding{'' if n == 1 else 's'} in the checked files (already there at {base})"
    tail = (
        ": listed, marked pre-existing; they do not fail the run"
        if shown
        else (f"; --show-existing lists {'it' if n == 1 else 'them'}")
    )
    return f"lrlint: note: {what}{tail}\n"


def test_pre_existing_finding_is_counted_not_reported_and_the_caused_one_fails(repo: GitRepo):
    tree(repo)
    repo.write("configs/a/big.py", CHILD.format(batch=64) + "work_dir = 'work_dirs/big'\n")  # an unrelated edit
    repo.write("configs/a/other.py", CHILD.format(batch=128))  # the batch changes, the lr does not
    code, lines, err = concise(repo, "--base", "HEAD", "configs/a/big.py", "configs/a/other.py")
    assert code == 1
    assert lines == [
        LR001.format(path="configs/a/other.py", mark="", batch=128, k=8, lr=0.08),
        "Found 1 error.",
        "[*] 1 fixable with the `--fix` option.",
    ]
    assert err == note(1)
    # --show-existing lists both; the pre-existing one is marked and does not fail the run
    code, lines, err = concise(repo, "--base", "HEAD", "--show-existing", "configs/a")
    assert code == 1
    assert lines == [
        LR001.format(path="configs/a/big.py", mark=" (pre-existing)", batch=64, k=4, lr=0.04),
        LR001.format(path="configs/a/other.py", mark="", batch=128, k=8, lr=0.08),
        "Found 2 errors (1 pre-existing).",
        "[*] 2 fixable with the `--fix` option.",
    ]
    assert err == note(1, shown=True)


def test_only_pre_existing_findings_pass(repo: GitRepo):
    tree(repo)
    repo.write("configs/a/big.py", "# a comment\n" + CHILD.format(batch=64))  # every line moves down
    repo.write("configs/a/other.py", CHILD.format(batch=32) + "\n")
    code, lines, err = concise(repo, "--base", "HEAD", "configs")
    assert (code, lines, err) == (0, ["All checks passed!"], note(2))
    code, lines, _ = concise(repo, "--base", "HEAD", "--show-existing", "configs")
    assert code == 0
    assert lines[0] == "configs/a/big.py:3:36: " + LR001.format(
        path="", mark=" (pre-existing)", batch=64, k=4, lr=0.04
    ).removeprefix(":2:36: ")
    assert lines[-2:] == ["Found 2 errors (2 pre-existing).", "[*] 2 fixable with the `--fix` option."]
    # without a base the run lists every finding as before
    code, lines, err = concise(repo, "configs")
    assert code == 1 and len(lines) == 4 and err == ""
    # the show-existing setting is the flag's
    repo.write("pyproject.toml", "[tool.lrlint]\nshow-existing = true\n")
    code, lines, _ = concise(repo, "--base", "HEAD", "configs/a")
    assert code == 0 and lines[-2] == "Found 2 errors (2 pre-existing)."


def test_a_changed_base_in_the_chain_is_a_changed_input(repo: GitRepo):
    tree(repo)
    repo.write("configs/_base_/default.py", BASE.replace("batch_size=16", "batch_size=8"))
    code, lines, err = concise(repo, "--base", "HEAD", "configs/a")
    assert code == 1
    # both children now scale 8 -> 64 and 8 -> 32: new numbers, caused by the base's change
    assert [line.split(": ", 1)[1] for line in lines[:2]] == [
        "LR001 [*] error: effective batch 8 -> 64 (x8) but optim_wrapper.optimizer.lr stays 0.01; expected 0.08 "
        "(linear rule)",
        "LR001 [*] error: effective batch 8 -> 32 (x4) but optim_wrapper.optimizer.lr stays 0.01; expected 0.04 "
        "(linear rule)",
    ]
    assert err == ""


def test_renamed_file_is_compared_at_its_old_path(repo: GitRepo):
    tree(repo)
    repo.git("mv", "configs/a", "configs/b")
    code, lines, err = concise(repo, "--base", "HEAD", "configs/b/big.py")
    assert (code, lines, err) == (0, ["All checks passed!"], note(1))


def test_json_field_and_sarif_baseline_state(repo: GitRepo):
    tree(repo)
    repo.write("configs/a/other.py", CHILD.format(batch=128))
    r = repo.lrlint("check", "--base", "HEAD", "--show-existing", "--output-format", "json", "configs/a")
    assert r.returncode == 1
    assert [(f["filename"].rsplit("/", 1)[1], f["code"], f["pre_existing"]) for f in json.loads(r.stdout)] == [
        ("big.py", "LR001", True),
        ("other.py", "LR001", False),
    ]
    r = repo.lrlint("check", "--base", "HEAD", "--output-format", "json", "configs/a")
    assert [f["pre_existing"] for f in json.loads(r.stdout)] == [False]
    r = repo.lrlint("check", "--base", "HEAD", "--show-existing", "--output-format", "sarif", "configs/a")
    results = json.loads(r.stdout)["runs"][0]["results"]
    assert [res["baselineState"] for res in results] == ["unchanged", "new"]
    r = repo.lrlint("check", "--output-format", "sarif", "configs/a")  # no base: no baseline state
    assert all("baselineState" not in res for res in json.loads(r.stdout)["runs"][0]["results"])
    r = repo.lrlint("check", "--base", "HEAD", "--show-existing", "--output-format", "github", "configs/a")
    assert [line.split(" ", 1)[0] for line in r.stdout.splitlines()[:2]] == ["::notice", "::error"]
    assert "title=LR001 unscaled-lr (pre-existing)" in r.stdout.splitlines()[0]


def test_folder_move_is_one_lr906_per_missing_base_with_the_count(repo: GitRepo):
    tree(repo)
    for i in range(5):
        repo.write(f"configs/a/c{i}.py", CHILD.format(batch=16))
    repo.write("configs/a/gone.py", "_base_ = ['../missing/x.py']\ntrain_dataloader = dict(batch_size=16)\n")
    repo.write("configs/a/deep/d.py", "_base_ = ['../../_base_/default.py']\n")  # another spelling, one file
    repo.commit("more")
    repo.git("mv", "configs/_base_", "configs/common")  # breaks every `_base_` link to it
    code, lines, err = concise(repo, "--base", "HEAD", "configs/a")
    assert code == 1
    assert lines == [
        "configs/a/big.py:1:11: LR906 error: base config '../_base_/default.py' cannot be read: "
        "configs/_base_/default.py does not exist (named by 8 configs)",
        "Found 1 error.",
    ]
    assert err == note(1)  # gone.py's link was broken at the base already
    r = repo.lrlint("check", "--base", "HEAD", "--output-format", "json", "configs/a")
    [f] = json.loads(r.stdout)
    assert f["data"] == {
        "reason": "base config '../_base_/default.py' cannot be read: configs/_base_/default.py does not exist",
        "files": 8,
    }
    assert [(rel["filename"].rsplit("/", 1)[1], rel["message"]) for rel in f["related"]] == [
        ("c0.py", "also named here"),
        ("c1.py", "also named here"),
        ("c2.py", "also named here"),
    ]


def test_pre_commit_compares_with_head_or_its_from_ref(repo: GitRepo):
    tree(repo)
    repo.write("configs/a/big.py", CHILD.format(batch=64) + "\n")
    r = repo.lrlint("check", "--output-format", "concise", "configs/a/big.py", env={"PRE_COMMIT": "1"})
    assert (r.returncode, r.stdout, r.stderr) == (0, "All checks passed!\n", note(1))
    first = repo.git("rev-parse", "HEAD").strip()
    repo.write("configs/a/big.py", CHILD.format(batch=128))
    repo.commit("bigger")
    env = {"PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": first, "PRE_COMMIT_TO_REF": "HEAD"}
    r = repo.lrlint("check", "--output-format", "concise", "configs/a/big.py", env=env)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == LR001.format(path="configs/a/big.py", mark="", batch=128, k=8, lr=0.08)
    assert r.stderr == ""  # 16 -> 128 is not 16 -> 64: the commit changed the batch
    # outside pre-commit, a plain run on a committed tree lists the finding
    r = repo.lrlint("check", "--output-format", "concise", "configs/a/big.py")
    assert r.returncode == 1 and "16 -> 128" in r.stdout


def test_a_config_set_keeps_its_pre_existing_finding_quiet(repo: GitRepo):
    repo.write("pyproject.toml", '[tool.lrlint]\nconfig-sets = [["cfg/trainer.yaml", "cfg/model.yaml"]]\n')
    repo.write("cfg/trainer.yaml", "# lrlint: reference batch=32 lr=0.1\ndata:\n  batch_size: 64\n")
    model = "model:\n  optimizer:\n    class_path: torch.optim.SGD\n    init_args:\n      lr: 0.1\n"
    repo.write("cfg/model.yaml", model)
    repo.commit()
    r = repo.lrlint("check", "--output-format", "concise", "cfg")
    assert r.returncode == 1 and ": LR001 " in r.stdout
    repo.write("cfg/model.yaml", "# tuned\n" + model)
    code, lines, err = concise(repo, "--base", "HEAD", "cfg")
    assert (code, lines, err) == (0, ["All checks passed!"], note(1))


def test_fix_rewrites_what_the_change_caused_only(repo: GitRepo):
    tree(repo)
    repo.write("configs/a/other.py", CHILD.format(batch=128))
    big = (repo.path / "configs/a/big.py").read_bytes()
    code, lines, err = concise(repo, "--base", "HEAD", "--fix", "configs/a")
    assert (repo.path / "configs/a/big.py").read_bytes() == big  # pre-existing: left as it is
    fixed = (repo.path / "configs/a/other.py").read_text()
    assert fixed.startswith(CHILD.format(batch=128)) and "lr=0.08" in fixed
    # the x8 lr the fix wrote, 0.08, is an ordinary SGD level: no warmup asked for (LR003 silent)
    assert code == 0
    assert lines == [
        "Fixed 1 error:",
        "- configs/a/other.py:",
        "    1 × LR001 (unscaled-lr)",
        "",
        "Found 1 error (1 fixed, 0 remaining).",
    ]
    assert err == note(1)


def test_the_editor_entry_point_shows_what_a_plain_check_shows(repo: GitRepo):
    """``api.check_text`` (the language server's check): every finding, unless the settings name a base, as
    ``lrlint check FILE`` with the same settings; an edited base in the editor is a changed input."""
    tree(repo)
    text = (repo.path / "configs/a/big.py").read_bytes() + b"work_dir = 'x'\n"
    plain = api.check_text(text, "configs/a/big.py", settings.load(repo.path), cwd=repo.path)
    assert [(f.code, f.pre_existing) for f in plain.findings] == [("LR001", False)]
    repo.write("pyproject.toml", '[tool.lrlint]\nbase = "HEAD"\n')
    repo.commit("settings")
    based = settings.load(repo.path)
    res = api.check_text(text, "configs/a/big.py", based, cwd=repo.path)
    assert res.findings == [] and res.notes == [note(1).removeprefix("lrlint: note: ").rstrip("\n")]
    edited = {repo.path / "configs/_base_/default.py": BASE.replace("lr=0.01", "lr=0.02").encode()}
    res = api.check_text(text, "configs/a/big.py", based, cwd=repo.path, overlay=edited)
    assert [(f.code, f.message.split(";")[0]) for f in res.findings] == [
        ("LR001", "effective batch 16 -> 64 (x4) but optim_wrapper.optimizer.lr stays 0.02")
    ]


def test_a_renamed_file_keeps_the_findings_that_name_it(repo: GitRepo):
    # a rename that only respells the file name: LR004's message names the file, old name then, new name now
    cfg = "train_dataloader = dict(batch_size=128)\noptim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
    repo.write("configs/r/net_8xb64_in1k_384px.py", cfg)
    repo.commit()
    repo.git("mv", "configs/r/net_8xb64_in1k_384px.py", "configs/r/net_8xb64_in1k-384px.py")
    code, lines, err = concise(repo, "--base", "HEAD", "--show-existing", "configs/r")
    assert code == 0 and err == note(1, shown=True)
    assert lines[0] == (
        "configs/r/net_8xb64_in1k-384px.py:1:36: LR004 warning (pre-existing): file name net_8xb64_in1k-384px.py "
        "says 8xb64: 8 devices x 64 per device = 512, but train_dataloader.batch_size is 128: rename the file or "
        "set the batch it names"
    )


HYDRA_PRIMARY = """\
# @package _global_
defaults:
  - trainer: default.yaml
  - model: mnist_model.yaml
  - datamodule: {data}
  - experiment: null
"""

HYDRA_EXPERIMENT = """\
# @package _global_
defaults:
  - override /datamodule: {data}

datamodule:
  batch_size: 256
"""


def test_hydra_groups_are_read_as_they_were_at_the_base(repo: GitRepo):
    # lightning-hydra-template renamed its group options (mnist_datamodule.yaml -> mnist.yaml): the check at
    # the base finds the options the base had, so the experiment's old LR001 stays pre-existing
    repo.write("configs/train.yaml", HYDRA_PRIMARY.format(data="mnist_datamodule.yaml"))
    repo.write("configs/trainer/default.yaml", "_target_: pytorch_lightning.Trainer\ndevices: 1\n")
    repo.write(
        "configs/model/mnist_model.yaml",
        "_target_: src.models.mnist_model.MNISTLitModel\noptimizer:\n  _target_: torch.optim.Adam\n  lr: 0.001\n",
    )
    repo.write("configs/datamodule/mnist_datamodule.yaml", "_target_: src.data.MNISTDataModule\nbatch_size: 64\n")
    repo.write("configs/experiment/big.yaml", HYDRA_EXPERIMENT.format(data="mnist_datamodule.yaml"))
    repo.commit()
    repo.git("mv", "configs/datamodule/mnist_datamodule.yaml", "configs/datamodule/mnist.yaml")
    repo.write("configs/train.yaml", HYDRA_PRIMARY.format(data="mnist.yaml"))
    repo.write("configs/experiment/big.yaml", HYDRA_EXPERIMENT.format(data="mnist.yaml"))
    code, lines, err = concise(repo, "--base", "HEAD", "configs/train.yaml", "configs/experiment/big.yaml")
    assert (code, lines, err) == (0, ["All checks passed!"], note(1))


def test_the_resolver_says_no_file_for_a_name_the_os_refuses(tmp_path):
    # a Hydra option name comes from the repository: a NUL byte or an over-long name is no file, not a crash
    from lrlint.inherit.resolver import Resolver
    from lrlint.sources import Limits

    (tmp_path / "a.yaml").write_text("lr: 0.1\n")
    r = Resolver((), Limits(), tmp_path)
    assert [r.is_file(tmp_path / n) for n in ("a\0b.yaml", "x" * 5000 + ".yaml", "a.yaml", "")] == [
        False,
        False,
        True,
        False,
    ]
