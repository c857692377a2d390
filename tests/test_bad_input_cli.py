"""Bad input through the CLI: an LR9xx finding with file, line and reason; the other files are still checked."""

from __future__ import annotations

import json

from conftest import run_lrlint

GOOD = "# lrlint: reference batch=256 lr=0.1\ntrain:\n  batch_size: 512\n  optimizer:\n    name: sgd\n    lr: 0.1\n"


def check_json(tmp_path, *names):
    r = run_lrlint("check", "--output-format", "json", *names, cwd=tmp_path)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout or "[]"), r


def codes(findings):
    return [(f["filename"].rsplit("/", 1)[-1], f["code"], f["location"]["row"]) for f in findings]


def test_malformed_yaml_and_the_other_file_still_checked(tmp_path):
    (tmp_path / "bad.yaml").write_text("train:\n  lr: [0.1\n  batch_size: 4\n")
    (tmp_path / "good.yaml").write_text(GOOD)
    code, fs, _ = check_json(tmp_path, ".")
    assert code == 1
    assert ("bad.yaml", "LR901") in [(n, c) for n, c, _ in codes(fs)]
    assert ("good.yaml", "LR001", 3) in codes(fs)
    bad = next(f for f in fs if f["code"] == "LR901")
    assert bad["location"]["row"] >= 2 and bad["message"]


def test_malformed_json(tmp_path):
    (tmp_path / "ds_config.json").write_text('{\n  "train_batch_size": 8,\n  "lr": 0.1,\n}\n')
    code, fs, _ = check_json(tmp_path, "ds_config.json")
    assert code == 1 and [(f["code"], f["location"]["row"]) for f in fs] == [("LR901", 4)]


def test_binary_and_non_utf8(tmp_path):
    (tmp_path / "weights.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "latin.yaml").write_bytes("lr: 0.1\nname: caf\xe9\n".encode("latin-1"))
    code, fs, _ = check_json(tmp_path, ".")
    got = {f["filename"].rsplit("/", 1)[-1]: f for f in fs}
    assert got["weights.json"]["code"] == "LR902" and "binary" in got["weights.json"]["message"]
    assert got["latin.yaml"]["code"] == "LR902" and got["latin.yaml"]["location"]["row"] == 2
    assert "0xe9" in got["latin.yaml"]["message"]


def test_alias_bomb_is_bounded(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    (tmp_path / "good.yaml").write_text(GOOD)
    code, fs, _ = check_json(tmp_path, ".")
    assert ("bomb.yaml", "LR905") in [(n, c) for n, c, _ in codes(fs)]
    assert ("good.yaml", "LR001", 3) in codes(fs)


def test_unsafe_tag_is_reported_not_constructed(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yaml").write_text(
        f'# lrlint: reference batch=256 lr=0.1\nx: !!python/object/apply:os.system ["touch {marker}"]\ntrain:\n'
        "  batch_size: 512\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
    )
    code, fs, _ = check_json(tmp_path, "evil.yaml")
    assert [(f["code"], f["location"]["row"]) for f in fs] == [("LR904", 2), ("LR001", 4)]
    assert not marker.exists()


def test_file_over_the_size_limit(tmp_path):
    with open(tmp_path / "huge.json", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    code, fs, _ = check_json(tmp_path, "huge.json")
    assert [f["code"] for f in fs] == ["LR903"] and "50.0 MiB" in fs[0]["message"]


def test_empty_files(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "empty.json").write_text("")
    code, fs, _ = check_json(tmp_path, ".")
    assert [(f["filename"].rsplit("/", 1)[-1], f["code"]) for f in fs] == [("empty.json", "LR901")]


def test_file_deleted_in_the_work_tree_is_information(repo):
    repo.write("gone.yaml", GOOD)
    repo.write("kept.yaml", "x: 1\n")
    repo.commit()
    (repo.path / "gone.yaml").unlink()
    r = repo.lrlint("check", "--output-format", "json", ".")
    fs = json.loads(r.stdout)
    assert [(f["code"], f["severity"]) for f in fs] == [("LR902", "info")]
    assert "deleted" in fs[0]["message"] and r.returncode == 0


def test_deep_nesting_is_bounded(tmp_path):
    (tmp_path / "deep.yaml").write_text("x: " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "deep.json").write_text('{"x": ' + "[" * 100000 + "]" * 100000 + "}\n")
    code, fs, _ = check_json(tmp_path, ".")
    assert sorted((f["filename"].rsplit("/", 1)[-1], f["code"]) for f in fs) == [
        ("deep.json", "LR905"),
        ("deep.yaml", "LR905"),
    ]
