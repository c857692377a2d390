"""The ``--fix`` re-check parses each fixed file once: the parse that proves it still parses is the one it is
re-checked with, and the file as it was at the git base (the same bytes the check parsed) is not parsed
again but takes the check's documents under the base's name."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import pytest

from lrlint import bigstack, fix, parallel, sources
from lrlint.fix import recheck
from lrlint.settings import load
from lrlint.sources import Limits
from tests.conftest import GitRepo

FIXTURES = Path(__file__).parent / "fixtures"


def _same(a, b) -> bool:
    """Two documents alike in every field (their line indexes by text, their problems by what they say)."""

    def fields(d):
        out = {f.name: getattr(d, f.name) for f in dataclasses.fields(d) if f.name not in ("lines", "problems")}
        out["lines"] = None if d.lines is None else d.lines.text
        out["problems"] = [(e.code, e.reason, e.line, e.col) for e in d.problems]
        return out

    return fields(a) == fields(b)


@pytest.mark.parametrize(
    "path", sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".py", ".yaml", ".yml", ".json"))[:80]
)
def test_relabelled_documents_are_those_a_parse_under_the_other_name_gives(path):
    fmt = sources.format_of(path)
    assert fmt is not None
    data = path.read_bytes()
    name = str(path.relative_to(FIXTURES))

    def parse(shown: str):
        try:
            return sources.parse(sources.decode(shown, fmt, data), Limits())
        except sources.SourceError:
            return None

    docs, at_base = bigstack.run(lambda: (parse(name), parse("HEAD:" + name)))
    if docs is None:
        assert at_base is None
        return
    moved = recheck.relabel(docs, name, "HEAD:" + name)
    assert moved is not None and len(moved) == len(at_base)
    assert all(_same(x, y) for x, y in zip(moved, at_base, strict=True))
    assert all(v.span is None or v.span.path == name for d in docs for v in d.values.values())  # left as it was


def test_a_name_in_a_text_is_parsed_again():
    src = sources.decode("a.yaml", "yaml", b"lr: 0.1  # a.yaml\nnote: see a.yaml\n")
    docs = sources.parse(src, Limits())
    assert recheck.relabel(docs, "a.yaml", "HEAD:a.yaml") is None


CHILD = "_base_ = ['../base/sched_8xb2.py']\ntrain_dataloader = dict(batch_size=8)\n"
BASE = "train_dataloader = dict(batch_size=2)\noptim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02))\n"


def _repo(tmp_path: Path, monkeypatch, files: dict[str, str]):
    """A committed repository of ``files`` (path -> text), the working directory, and its settings."""
    repo = GitRepo(tmp_path / "repo")
    for rel, text in files.items():
        repo.write(rel, text)
    repo.commit()
    monkeypatch.chdir(repo.path)
    return load(repo.path, isolated=True)


def _counting(monkeypatch, calls: collections.Counter[str], *where: tuple[object, str]) -> None:
    """Count the calls of each ``(owner, name)`` in ``calls`` under that name."""
    for owner, name in where:
        real = getattr(owner, name)

        def counting(*a, _real=real, _name=name, **kw):
            calls[_name] += 1
            return _real(*a, **kw)

        monkeypatch.setattr(owner, name, counting)


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_fixed_file_is_parsed_once_by_the_fix(tmp_path, monkeypatch, jobs):
    """Committed configs (their git base is the bytes the check read) fixed with --jobs 1 and 2: the fix
    parses each fixed file once (its new bytes), never its bytes at the base nor its base file."""
    files = {"configs/base/sched_8xb2.py": BASE} | {f"configs/exp{i:02d}/net_8xb8.py": CHILD for i in range(45)}
    settings = _repo(tmp_path, monkeypatch, files)
    parsed: collections.Counter[str] = collections.Counter()
    real_parse = sources.parse

    def counting(src, limits):
        parsed[src.path] += 1
        return real_parse(src, limits)

    monkeypatch.setattr(sources, "parse", counting)  # before the workers fork: they count too, in their copy
    workers = parallel.Workers(settings, unsafe=False)
    try:
        result = parallel.check_paths(["."], settings, jobs=jobs, keep_parsed=True, workers=workers)
        assert (result.workers > 0) == (jobs > 1)
        parsed.clear()
        outcome = fix.apply(result, settings, write=False, workers=workers if workers.alive else None)
    finally:
        workers.close()
    assert len(outcome.changed) == 45 and not outcome.problems
    if jobs == 1:  # in-process: the fix's parses are seen here
        assert parsed == {f"configs/exp{i:02d}/net_8xb8.py": 1 for i in range(45)}
    else:  # the workers parsed the fixed files while they checked (the parent parses none of them)
        assert parsed == {}


def test_the_re_check_merges_no_base_and_builds_no_base_recipe_the_check_made(tmp_path, monkeypatch):
    """The fixed children's bases are not fixed: their re-check (the new bytes, and the bytes at the git base)
    takes the check's merges of the bases and the recipes it built from them."""
    from lrlint import base_recipes
    from lrlint.inherit.bases import PathBases

    files = {"configs/base/sched_8xb2.py": BASE} | {f"configs/exp{i}/net_8xb8.py": CHILD for i in range(3)}
    settings = _repo(tmp_path, monkeypatch, files)
    result = parallel.check_paths(["."], settings, jobs=1, keep_parsed=True)
    calls: collections.Counter[str] = collections.Counter()
    _counting(monkeypatch, calls, (PathBases, "_bases"), (base_recipes, "build"))
    outcome = fix.apply(result, settings, write=False)
    assert sorted(outcome.changed) == [f"configs/exp{i}/net_8xb8.py" for i in range(3)] and not outcome.problems
    assert outcome.result.findings == []
    assert calls == {}


def test_the_re_check_takes_the_check_s_look_at_the_repository(tmp_path, monkeypatch):
    """The repository's launch commands and scripts are read once per run: the re-check of the fixed file
    takes what the check read (the files are not written before it ends)."""
    from lrlint import repo_scan, script_scaling

    files = {
        "configs/base/sched_8xb2.py": BASE,
        "configs/exp/net.py": CHILD,
        "tools/train.sh": "torchrun --nproc_per_node 8 tools/train.py configs/exp/net.py\n",
        "tools/train.py": "lr = cfg.lr * world_size * batch / 256\n",
    }
    settings = _repo(tmp_path, monkeypatch, files)
    calls: collections.Counter[str] = collections.Counter()
    _counting(monkeypatch, calls, (repo_scan, "scan"), (repo_scan, "scanned"), (script_scaling, "detect"))
    result = parallel.check_paths(["configs"], settings, jobs=1, keep_parsed=True)
    assert [f.code for f in result.findings] == ["LR001"]
    assert calls["scanned"] == 1 and calls["detect"] == 1  # the check read the repository (one git grep)
    calls.clear()
    outcome = fix.apply(result, settings, write=False)
    assert sorted(outcome.changed) == ["configs/exp/net.py"] and not outcome.problems
    assert calls == {}


OWN_KEYS = (
    "_base_ = ['../base/sched_8xb2.py']\ntrain_dataloader = dict(batch_size=8)\n"
    "optim_wrapper = dict(optimizer=dict(lr=0.02))\nauto_scale_lr = dict(base_batch_size=16)\n"
)


@pytest.mark.parametrize(("child", "fixed", "merged"), [(OWN_KEYS, b"base_batch_size=64)", 0), (CHILD, b"lr=0.08", 3)])
def test_the_re_check_takes_the_base_keys_the_check_kept_for_each_fixed_child(
    tmp_path, monkeypatch, child, fixed, merged
):
    """A fix that rewrites a child's own value keeps the base keys the child keeps, in its new version and at
    the git base: both take them from the check. A fix that adds the lr the child inherited gives it a new
    mapping: its new version is merged again (one merge per child), its version at the git base is not."""
    from lrlint.inherit import bases

    files = {"configs/base/sched_8xb2.py": BASE} | {f"configs/exp{i}/net_8xb8.py": child for i in range(3)}
    settings = _repo(tmp_path, monkeypatch, files)
    result = parallel.check_paths(["."], settings, jobs=1, keep_parsed=True)
    calls: collections.Counter[str] = collections.Counter()
    _counting(monkeypatch, calls, (bases, "kept_base"))
    outcome = fix.apply(result, settings, write=False)
    assert sorted(outcome.changed) == [f"configs/exp{i}/net_8xb8.py" for i in range(3)] and not outcome.problems
    assert [fixed in data for data in outcome.changed.values()] == [True, True, True]
    assert outcome.result.findings == []
    assert calls["kept_base"] == merged
