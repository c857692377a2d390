"""Inheritance resolution (lrlint/inherit.py): merge semantics, provenance and spans, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_lrlint

from lrlint import sources
from lrlint.inherit import Resolver, merge
from lrlint.profiles import Detect, Inherit, Profile
from lrlint.sources import Limits
from lrlint.values import INHERITED, LITERAL, Value

MM = Profile(
    name="mm_yaml",
    title="t",
    detect=Detect(formats=["yaml"]),
    inherit=Inherit(key="_base_", kind="mmengine", delete_key="_delete_"),
)


def v(key, value, path="child.yaml"):
    from lrlint.spans import Span

    return Value(key, value, Span(path, 0, 1, 1, 1, 1, 2), LITERAL)


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def resolve(root: Path, rel: str, profile=MM):
    r = Resolver((profile,), Limits(), root)
    fs = root / rel
    src = sources.read(rel, fs, "yaml", Limits())
    [doc] = sources.parse(src, Limits())
    return r, r.resolve(doc, src, fs, profile)


def test_merge_child_wins_lists_replace_and_delete_drops_the_base_mapping():
    base = {
        k: v(k, x, "b.yaml")
        for k, x in {"opt.lr": 0.1, "opt.momentum": 0.9, "steps.0": 1, "steps.1": 2, "model.depth": 50}.items()
    }
    child = {k: v(k, x) for k, x in {"opt.lr": 0.2, "steps.0": 7, "model._delete_": True, "model.type": "X"}.items()}
    out = merge(base, child, "_delete_")
    assert {k: x.value for k, x in out.items()} == {"opt.lr": 0.2, "opt.momentum": 0.9, "steps.0": 7, "model.type": "X"}
    assert out["opt.momentum"].span.path == "b.yaml"


def test_later_bases_override_earlier_and_values_keep_their_file(tmp_path):
    write(tmp_path, "cfg/_base_/a.yaml", "train:\n  batch_size: 2\n  lr: 0.01\n")
    write(tmp_path, "cfg/_base_/b.yaml", "train:\n  lr: 0.02\n")
    write(
        tmp_path,
        "cfg/child.yaml",
        "_base_: ['{{fileDirname}}/_base_/a.yaml', './_base_/b.yaml']\ntrain:\n  batch_size: 8\n",
    )
    _, res = resolve(tmp_path, "cfg/child.yaml")
    vals = res.doc.values
    assert (
        vals["train.lr"].value == 0.02
        and vals["train.lr"].span.path == "cfg/_base_/b.yaml"
        and vals["train.lr"].provenance == INHERITED
    )
    assert vals["train.batch_size"].value == 8 and vals["train.batch_size"].provenance == LITERAL
    assert res.base.values["train.batch_size"].value == 2  # the reference: the bases without the child
    assert sorted(s.path for s in res.sources) == ["cfg/_base_/a.yaml", "cfg/_base_/b.yaml"]


def test_each_base_file_is_parsed_once_however_many_children_share_it(tmp_path):
    from lrlint import api
    from lrlint.settings import Settings

    write(tmp_path, "Base.yaml", "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n")
    for i in range(10):
        write(tmp_path, f"c{i}.yaml", f"_BASE_: Base.yaml\nSOLVER:\n  IMS_PER_BATCH: {16 * (i + 1)}\n")
    engine = api.Engine(Settings(), cwd=tmp_path)
    result = api.Result()
    from lrlint.discover import Target

    for i in range(10):
        engine.check_file(Target(f"c{i}.yaml", tmp_path / f"c{i}.yaml", "yaml"), result)
    assert engine.resolver.parses == 1
    assert len([f for f in result.findings if f.code == "LR001"]) == 9


D2_BASE = "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n"


def check_json(cwd: Path, *paths: str):
    r = run_lrlint("check", "--output-format", "json", *paths, cwd=cwd)
    assert "Traceback" not in r.stderr, r.stderr
    fs = json.loads(r.stdout or "[]")
    for f in fs:  # json filenames are absolute (as ruff's)
        f["filename"] = Path(f["filename"]).resolve().relative_to(cwd.resolve()).as_posix()
    return r.returncode, fs


def brief(fs):
    return [(f["filename"], f["code"], f["location"]["row"], f["message"]) for f in fs]


def test_cycle_is_lr906_and_does_not_hang(tmp_path):
    write(tmp_path, "a.yaml", "_BASE_: b.yaml\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n")
    write(tmp_path, "b.yaml", "_BASE_: a.yaml\nSOLVER:\n  IMS_PER_BATCH: 32\n")
    code, fs = check_json(tmp_path, "a.yaml", "b.yaml")
    assert code == 1
    cycles = sorted(x for x in brief(fs) if x[1] == "LR906")
    assert cycles == [
        ("a.yaml", "LR906", 1, "inheritance cycle: b.yaml -> a.yaml -> b.yaml"),
        ("b.yaml", "LR906", 1, "inheritance cycle: a.yaml -> b.yaml -> a.yaml"),
    ]


def test_missing_base_is_lr906_at_the_line_that_names_it(tmp_path):
    write(
        tmp_path,
        "configs/child.yaml",
        'MODEL:\n  WEIGHTS: x.pkl\n_BASE_: "../Base-Missing.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.02\n',
    )
    code, fs = check_json(tmp_path, "configs/child.yaml")
    assert code == 1
    assert brief(fs) == [
        (
            "configs/child.yaml",
            "LR906",
            3,
            "base config '../Base-Missing.yaml' cannot be read: Base-Missing.yaml does not exist",
        )
    ]


def test_base_outside_the_repository_is_followed_and_named_with_its_path(tmp_path):
    outside = write(tmp_path, "shared/Base.yaml", D2_BASE)
    repo = tmp_path / "repo"
    write(repo, "configs/child.yaml", "_BASE_: ../../shared/Base.yaml\nSOLVER:\n  IMS_PER_BATCH: 32\n")
    code, fs = check_json(repo, "configs/child.yaml")
    assert code == 1
    [f] = fs
    assert f["code"] == "LR001" and f["data"]["reference"]["label"] == f"base {outside.resolve().as_posix()}"
    assert f["data"]["expected_lr"] == 0.04


def test_fifty_deep_chain_resolves(tmp_path):
    write(tmp_path, "c/l0.yaml", D2_BASE)
    for i in range(1, 51):
        body = f"_BASE_: l{i - 1}.yaml\nMODEL:\n  DEPTH_{i}: {i}\n" + (
            "SOLVER:\n  IMS_PER_BATCH: 64\n" if i == 50 else ""
        )
        write(tmp_path, f"c/l{i}.yaml", body)
    code, fs = check_json(tmp_path, "c/l50.yaml")
    assert code == 1
    [f] = fs
    assert (f["code"], f["data"]["batch_old"], f["data"]["batch_new"], f["data"]["expected_lr"]) == (
        "LR001",
        16,
        64,
        0.08,
    )
    assert f["data"]["reference"]["label"] == "base c/l49.yaml"


def test_hydra_group_that_does_not_exist_is_lr906(tmp_path):
    write(tmp_path, "configs/train.yaml", "defaults:\n  - _self_\n  - data: mnist\n  - model: nope\n")
    write(tmp_path, "configs/data/mnist.yaml", "_target_: x.DataModule\nbatch_size: 64\n")
    code, fs = check_json(tmp_path, "configs/train.yaml")
    assert code == 1
    assert brief(fs) == [
        (
            "configs/train.yaml",
            "LR906",
            4,
            "Hydra config group 'model' has no option 'nope' (configs/model/nope.yaml not found)",
        )
    ]


def test_hydra_self_position_and_package_headers(tmp_path):
    # _self_ first: the group configs override the primary's own values
    write(tmp_path, "configs/train.yaml", "defaults:\n  - _self_\n  - data: small\n\ndata:\n  batch_size: 1\n")
    write(tmp_path, "configs/data/small.yaml", "batch_size: 32\n")
    write(tmp_path, "configs/data/glob.yaml", "# @package _global_\ntrainer:\n  devices: 2\n")
    _, res = resolve(tmp_path, "configs/train.yaml", _hydra())
    assert res.doc.values["data.batch_size"].value == 32
    write(
        tmp_path, "configs/train.yaml", "defaults:\n  - data: small\n  - data@extra: glob\n\ndata:\n  batch_size: 1\n"
    )
    _, res = resolve(tmp_path, "configs/train.yaml", _hydra())
    assert res.doc.values["data.batch_size"].value == 1  # _self_ implicitly last
    assert res.doc.values["trainer.devices"].value == 2  # @package _global_ header wins over data@extra


def _hydra():
    from lrlint.profiles import all_profiles

    return next(p for p in all_profiles() if p.name == "hydra")


def test_hydra_searchpath_adds_a_config_root(tmp_path):
    write(
        tmp_path,
        "configs/train.yaml",
        "defaults:\n  - _self_\n  - data: big\n\nhydra:\n  searchpath:\n    - file://extra_configs\n"
        "model:\n  optimizer:\n    _target_: torch.optim.SGD\n    lr: 0.1\n",
    )
    write(tmp_path, "extra_configs/data/big.yaml", "_target_: x.DataModule\nbatch_size: 512\n")
    _, res = resolve(tmp_path, "configs/train.yaml", _hydra())
    assert res.doc.values["data.batch_size"].value == 512
    assert res.doc.values["data.batch_size"].span.path == "extra_configs/data/big.yaml"
    assert res.problems == []


def test_hydra_experiment_is_composed_into_the_primary_and_the_primary_is_its_reference(tmp_path):
    write(tmp_path, "configs/train.yaml", "defaults:\n  - _self_\n  - data: small\n  - experiment: null\n")
    write(tmp_path, "configs/data/small.yaml", "batch_size: 32\n")
    write(tmp_path, "configs/data/large.yaml", "batch_size: 256\n")
    write(
        tmp_path,
        "configs/experiment/exp.yaml",
        "# @package _global_\ndefaults:\n  - override /data: large\n\ndata:\n  num_workers: 4\n",
    )
    _, res = resolve(tmp_path, "configs/experiment/exp.yaml", _hydra())
    assert res.doc.values["data.batch_size"].value == 256 and res.doc.values["data.batch_size"].provenance == INHERITED
    assert res.doc.values["data.num_workers"].provenance == LITERAL
    assert res.base.values["data.batch_size"].value == 32 and res.base_label == "configs/train.yaml"


def test_every_strategy_reads_the_profiles_inherit_key(tmp_path):
    """The key that names bases is the profile's inherit.key for every kind: a Hydra-style profile whose
    defaults list is under ``compose`` composes it (and keeps the child's own list for findings to point at);
    a path profile under ``extends`` follows it."""
    from dataclasses import replace

    hydra = _hydra()
    mine = replace(hydra, name="mine", inherit=replace(hydra.inherit, key="compose"))
    write(tmp_path, "configs/train.yaml", "compose:\n  - _self_\n  - data: small\n\ndata:\n  batch_size: 1\n")
    write(tmp_path, "configs/data/small.yaml", "batch_size: 32\n")
    _, res = resolve(tmp_path, "configs/train.yaml", mine)
    assert res.doc.values["data.batch_size"].value == 32 and res.problems == []
    assert res.doc.values["compose.1.data"].value == "small"  # the child's own list is kept
    path = Profile(name="ext", title="t", detect=Detect(formats=["yaml"]), inherit=Inherit(key="extends", kind="path"))
    write(tmp_path, "ext/base.yaml", "train:\n  lr: 0.1\n  batch: 8\n")
    write(tmp_path, "ext/child.yaml", "extends: base.yaml\ntrain:\n  batch: 16\n")
    _, res = resolve(tmp_path, "ext/child.yaml", path)
    assert {k: x.value for k, x in res.doc.values.items()} == {
        "extends": "base.yaml",
        "train.lr": 0.1,
        "train.batch": 16,
    }
    assert res.base_label == "ext/base.yaml" and res.doc.values["train.lr"].provenance == INHERITED
