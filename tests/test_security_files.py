"""Files that are not regular files, symbolic-link loops and coding cookies that name no text codec:
an LR902 finding for that path, never a blocking read, and the other files are still checked."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import GitRepo, run_lrlint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and POSIX symbolic links")

GOOD = "# lrlint: reference batch=256 lr=0.1\ntrain:\n  batch_size: 512\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
CHILD = '_BASE_: "{base}"\nMODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: 16\n'


def check(cwd: Path, *args: str) -> tuple[int, list[tuple[str, str, int, str]]]:
    r = run_lrlint("check", "--output-format", "json", *args, cwd=cwd, timeout=60)
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.returncode in (0, 1), r.stdout + r.stderr
    found = [
        (os.path.relpath(f["filename"], cwd), f["code"], f["location"]["row"], f["message"])
        for f in json.loads(r.stdout)
    ]
    return r.returncode, found


def good_found(found) -> bool:
    return any(f[0].endswith("good.yaml") and f[1] == "LR001" and f[2] == 3 for f in found)


def _fifo_tree(tmp_path: Path) -> Path:
    (tmp_path / "s").mkdir()
    os.mkfifo(tmp_path / "s" / "config.yaml")
    (tmp_path / "s" / "good.yaml").write_text(GOOD)
    return tmp_path


@pytest.mark.parametrize("args", [["s/config.yaml", "s/good.yaml"], ["s"], ["."]], ids=["explicit", "walk", "top"])
def test_a_fifo_is_lr902_never_a_blocking_read(tmp_path, args):
    code, found = check(_fifo_tree(tmp_path), *args)
    assert code == 1 and good_found(found)
    assert ("s/config.yaml", "LR902", 1, "not a regular file (a FIFO): not read") in found


def test_a_fifo_in_a_git_work_tree_walk(tmp_path):
    repo = GitRepo(tmp_path / "r")
    repo.write("s/good.yaml", GOOD)
    repo.commit()
    os.mkfifo(repo.path / "s" / "config.yaml")
    code, found = check(repo.path, "--select", "LR001,LR902", ".")
    assert code == 1 and good_found(found)
    # git lists no FIFO; when it does, it is an LR902, never a read
    assert [f for f in found if f[0] == "s/config.yaml"] in (
        [],
        [("s/config.yaml", "LR902", 1, "not a regular file (a FIFO): not read")],
    )


def test_a_link_to_a_device_is_never_read(tmp_path):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "good.yaml").write_text(GOOD)
    code, found = check(tmp_path, ".")
    assert code == 1 and good_found(found)
    assert ("zero.yaml", "LR902", 1, "not a regular file (a character device): not read") in found


def test_a_fifo_as_a_base_config(tmp_path):
    os.mkfifo(tmp_path / "base.yaml")
    (tmp_path / "child.yaml").write_text(CHILD.format(base="base.yaml"))
    (tmp_path / "good.yaml").write_text(GOOD)
    code, found = check(tmp_path, "child.yaml", "good.yaml")
    assert code == 1 and good_found(found)
    assert (
        "child.yaml",
        "LR906",
        1,
        "base config 'base.yaml' cannot be read: base.yaml: not a regular file (a FIFO): not read",
    ) in found


def _loops(d: Path) -> None:
    d.mkdir(exist_ok=True)
    (d / "self.yaml").symlink_to("self.yaml")
    (d / "a.yaml").symlink_to("b.yaml")
    (d / "b.yaml").symlink_to("a.yaml")
    (d / "good.yaml").write_text(GOOD)


LOOP = "a symbolic link loop: not read"


@pytest.mark.parametrize(
    "args,loops",
    [
        (["s"], ["s/a.yaml", "s/b.yaml", "s/self.yaml"]),
        (["s/self.yaml", "s/a.yaml", "s/good.yaml"], ["s/a.yaml", "s/self.yaml"]),
    ],
    ids=["walk", "explicit"],
)
def test_a_symlink_loop_is_lr902(tmp_path, args, loops):
    _loops(tmp_path / "s")
    code, found = check(tmp_path, *args)
    assert code == 1 and good_found(found)
    assert sorted(f[0] for f in found if f[1:] == ("LR902", 1, LOOP)) == loops


def test_a_committed_symlink_loop(tmp_path):
    repo = GitRepo(tmp_path / "r")
    _loops(repo.path / "s")
    repo.commit()
    repo.write("s/good.yaml", GOOD.replace("512", "1024"))
    code, found = check(repo.path, "--select", "LR001,LR902", ".")
    assert code == 1
    assert sorted(f[0] for f in found if f[1] == "LR902" and f[3] == LOOP) == ["s/a.yaml", "s/b.yaml", "s/self.yaml"]
    assert any(f[0] == "s/good.yaml" and f[1] == "LR001" for f in found)


def test_a_symlink_loop_as_a_base_config(tmp_path):
    _loops(tmp_path)
    (tmp_path / "child.yaml").write_text(CHILD.format(base="self.yaml"))
    code, found = check(tmp_path, "child.yaml", "good.yaml")
    assert code == 1 and good_found(found)
    assert ("child.yaml", "LR906", 1, f"base config 'self.yaml' cannot be read: self.yaml: {LOOP}") in found


@pytest.mark.parametrize("codec", ["rot13", "uu", "hex", "base64", "zlib", "bz2", "quopri"])
def test_a_coding_cookie_naming_a_non_text_codec_is_lr902(tmp_path, codec):
    (tmp_path / "train.py").write_text(f"# -*- coding: {codec} -*-\nlr = 0.1\nbatch_size = 8\n")
    (tmp_path / "good.yaml").write_text(GOOD)
    code, found = check(tmp_path, ".")
    assert code == 1 and good_found(found)
    assert (
        "train.py",
        "LR902",
        1,
        f"the coding declaration names {codec!r}, which is not a text encoding",
    ) in found


@pytest.mark.parametrize("codec", ["punycode", "undefined", "unicode_escape", "utf-16", "idna"])
def test_a_coding_cookie_whose_codec_fails_is_lr902_or_read(tmp_path, codec):
    (tmp_path / "train.py").write_bytes(f"# -*- coding: {codec} -*-\nlr = 0.1\nbatch_size = 8\n\\xff\n".encode())
    (tmp_path / "good.yaml").write_text(GOOD)
    r = run_lrlint("check", "--output-format", "json", ".", cwd=tmp_path, timeout=60)
    assert "internal error" not in r.stderr and "Warning" not in r.stderr, r.stderr
    found = json.loads(r.stdout)
    assert any(f["filename"].endswith("/good.yaml") and f["code"] == "LR001" for f in found)
    assert all(f["code"] in ("LR001", "LR901", "LR902") for f in found), found


def _json_big(n: int) -> str:
    head = '{\n  "train_batch_size": 512,\n  "optimizer": {"type": "SGD", "params": {"lr": 0.1}},\n  "big": {\n'
    return head + ",\n".join(f'    "k{i}": {i}' for i in range(n)) + "\n  }\n}\n"


def test_a_file_past_the_value_limit_is_checked_up_to_it_and_says_so(tmp_path):
    n = 100_010
    (tmp_path / "big.yaml").write_text(GOOD + "big:\n" + "".join(f"  k{i}: {i}\n" for i in range(n)))
    (tmp_path / "ds_config.json").write_text(_json_big(n))
    (tmp_path / "ref.yaml").write_text("# lrlint: reference batch=256 lr=0.1\n")
    code, found = check(tmp_path, "--reference", "ref.yaml", "big.yaml", "ds_config.json")
    assert code == 1
    by_file = {(f[0], f[1]): f for f in found}
    assert by_file[("big.yaml", "LR001")][2] == 3  # the finding at the top of the file is kept
    limit = by_file[("big.yaml", "LR905")]
    # 3 values before "big:" (line 7): value 100,001 is big.k99997, on line 8 + 99,997
    assert limit[2:] == (
        100_005,
        "YAML document 0 has more than 100000 values: the values from this line on were not read, "
        "the checks saw only those before it",
    )
    assert ("ds_config.json", "LR905") in by_file
    assert by_file[("ds_config.json", "LR905")][3].startswith("JSON document has more than 100000 values: the values")


def test_a_python_file_past_the_value_limit_says_it_was_not_checked(tmp_path):
    body = "".join(f"batch{i} = {i}\n" for i in range(100_010))  # every piece names a batch: all are read
    (tmp_path / "train.py").write_text("import torch\nbatch_size = 512\nlr = 0.1\n" + body)
    code, found = check(tmp_path, "train.py")
    assert [f[1:] for f in found] == [
        ("LR905", 1, "more than 100000 values: the file was not checked (no batch or lr change was looked for)")
    ]


LONG = "a" * 5000


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "long.yaml",
            f'_BASE_: "{LONG}.yaml"\nSOLVER:\n  IMS_PER_BATCH: 16\n',
            ("long.yaml", "LR906", 1, f"base config '{LONG}.yaml' cannot be read: {LONG}.yaml: cannot read: "),
        ),
        (
            "nul.yaml",
            '_BASE_: "a\\0b.yaml"\nSOLVER:\n  IMS_PER_BATCH: 16\n',
            (
                "nul.yaml",
                "LR906",
                1,
                "base config 'a\\x00b.yaml' cannot be read: a\\x00b.yaml: cannot read: the name holds a NUL byte",
            ),
        ),
        (
            "hydra.yaml",
            f'defaults:\n  - optim: "{LONG}"\ntrainer:\n  max_epochs: 3\n',
            (
                "hydra.yaml",
                "LR906",
                2,
                f"Hydra config group 'optim' has no option '{LONG}' (optim/{LONG}.yaml not found)",
            ),
        ),
        (
            "hydra_nul.yaml",
            'defaults:\n  - optim: "a\\0b"\ntrainer:\n  max_epochs: 3\n',
            (
                "hydra_nul.yaml",
                "LR906",
                2,
                "Hydra config group 'optim' has no option 'a\\x00b' (optim/a\\x00b.yaml not found)",
            ),
        ),
    ],
)
def test_a_base_name_the_os_refuses_is_lr906(tmp_path, name, text, expected):
    """Found by the fuzz harness: a base named with 5,000 characters or a NUL made Path.is_file raise."""
    (tmp_path / name).write_text(text)
    (tmp_path / "good.yaml").write_text(GOOD)
    _rc, found = check(tmp_path, "--isolated", ".")
    mine = [f for f in found if f[0] == name]
    assert len(mine) == 1 and mine[0][:3] == expected[:3] and mine[0][3].startswith(expected[3]), mine
    assert ("good.yaml", "LR001", 3) in [f[:3] for f in found]
