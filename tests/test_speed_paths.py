"""The shortcuts a run takes for speed give what the long way gives: value copies, string literals, resolved
paths, and the merged bases siblings share."""

from __future__ import annotations

import ast
import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrlint import sources
from lrlint.discover import resolved, resolving
from lrlint.inherit import AtRevision, Resolver
from lrlint.keypaths import KeyIndex, matches
from lrlint.profiles import Detect, Inherit, Profile
from lrlint.sources import Limits
from lrlint.sources.py_eval import plain_string
from lrlint.spans import Span
from lrlint.values import EXPRESSION, INHERITED, ExprScaling, Value


def test_with_provenance_copies_every_field_as_replace_does():
    full = Value(
        "a.lr",
        0.1,
        Span("a.py", 3, 6, 2, 4, 2, 7),
        EXPRESSION,
        "0.1",
        "why",
        scaling=ExprScaling(1.0, ("b",), ("b",), "0.1 * b", (1.0,), True),
        alias_of="args.lr",
        names=("x",),
        from_tag="8xb2",
        target="t",
    )
    # every field set to something other than its default: a field added later must be copied too
    assert all(getattr(full, f.name) != f.default for f in dataclasses.fields(Value))
    assert full.with_provenance(INHERITED) == dataclasses.replace(full, provenance=INHERITED)


@pytest.mark.parametrize(
    "literal",
    ["'a'", '"b c"', "''", '""', "'''x\ny'''", '"""q"""', "''''''", "'#x'", '"it\'s"', "'''a'b'''"],
)
def test_plain_string_reads_a_literal_as_python_does(literal):
    assert plain_string(literal) == ast.literal_eval(literal)


@pytest.mark.parametrize("literal", ["'a\\nb'", "r'x'", "b'x'", "u'x'", "f'x'", "'a\rb'"])
def test_plain_string_leaves_prefixes_and_escapes_to_the_compiler(literal):
    assert plain_string(literal) is None


def test_resolved_follows_links_in_any_part_as_path_resolve_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "a.py").write_text("x = 1\n")
    os.symlink(tmp_path / "real", tmp_path / "link")  # a linked folder
    os.symlink(tmp_path / "real" / "sub" / "a.py", tmp_path / "real" / "b.py")  # a linked file
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    paths = [
        Path("link/sub/a.py"),
        Path("link/sub/../sub/a.py"),
        Path("link/b.py"),
        tmp_path / "link" / "sub" / "missing.py",
        Path("real/sub/a.py"),
        Path("loop1/x.py"),
        Path("."),
    ]
    with resolving():
        got = [resolved(p) for p in paths + paths]  # the second time from the run's cache
    want = []
    for p in paths:
        try:
            want.append(p.resolve())
        except RuntimeError:  # a link loop: as written, made absolute
            want.append(Path(os.path.abspath(p)))
    assert got == want + want


def test_key_index_finds_what_matches_finds_for_a_pattern_ending_in_stars():
    keys = ["optimizer.lr", "optimizer.paramwise.x", "optim_wrapper.optimizer.lr", "optimizer", "lr_config.step.0"]
    index = KeyIndex({k: i for i, k in enumerate(keys)})
    for pattern in ["optimizer.**", "lr_config.*.0", "**", "*.lr", "optim_wrapper.**"]:
        assert [k for k, _ in index.matching(pattern)] == [k for k in keys if matches(pattern, k)]


MM = Profile(
    name="mm_yaml",
    title="t",
    detect=Detect(formats=["yaml"]),
    inherit=Inherit(key="_base_", kind="mmengine", delete_key="_delete_"),
)


def _resolve(r: Resolver, root: Path, rel: str):
    src = sources.read(rel, root / rel, "yaml", Limits())
    [doc] = sources.parse(src, Limits())
    return r.resolve(doc, src, root / rel, MM)


def test_siblings_that_name_the_same_bases_share_them_and_keep_their_own_values(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "opt.yaml").write_text("opt:\n  lr: 0.1\n  momentum: 0.9\n")
    (tmp_path / "b" / "data.yaml").write_text("data:\n  batch_size: 32\n")
    for name, lr in (("x.yaml", 0.2), ("y.yaml", 0.4)):
        (tmp_path / name).write_text(f"_base_: [b/opt.yaml, b/data.yaml]\nopt:\n  lr: {lr}\n")
    r = Resolver((MM,), Limits(), tmp_path)
    with resolving():
        x, y = _resolve(r, tmp_path, "x.yaml"), _resolve(r, tmp_path, "y.yaml")
    assert len(r.combos) == 1
    assert x.base.values is y.base.values  # one merged, marked copy of the bases
    assert {k: v.value for k, v in x.doc.values.items() if k != "_base_"} | {"opt.lr": 0.2} == {
        k: v.value for k, v in x.doc.values.items() if k != "_base_"
    }
    assert (x.doc.values["opt.lr"].value, y.doc.values["opt.lr"].value) == (0.2, 0.4)
    assert x.doc.values["data.batch_size"].provenance == INHERITED
    assert x.base.values["opt.lr"].value == y.base.values["opt.lr"].value == 0.1
    assert x.base_names == y.base_names == ["opt.yaml", "data.yaml"]


def test_a_shared_base_list_with_a_problem_is_resolved_again_for_each_sibling(tmp_path):
    for name in ("x.yaml", "y.yaml"):
        (tmp_path / name).write_text("_base_: [missing.yaml]\nopt:\n  lr: 0.2\n")
    r = Resolver((MM,), Limits(), tmp_path)
    with resolving():
        x, y = _resolve(r, tmp_path, "x.yaml"), _resolve(r, tmp_path, "y.yaml")
    assert r.combos == {}
    assert [p.error.reason for p in x.problems] == [p.error.reason for p in y.problems]
    assert len(x.problems) == 1 and "missing.yaml" in x.problems[0].error.reason


class _AtHead:
    """The part of ``GitBase`` a resolver at the base revision asks: ``changed`` files had ``old`` text there."""

    label = "HEAD"

    def __init__(self, root: Path, old: dict[str, str]) -> None:
        self.root, self.old = root, old

    def relative(self, fs: Path) -> str | None:
        return resolved(fs).relative_to(self.root).as_posix()

    def is_changed(self, rel: str) -> bool:
        return rel in self.old

    def read_at_base(self, fs: Path, fmt: str):
        rel = self.relative(fs)
        return sources.decode(f"HEAD:{rel}", fmt, self.old[rel].encode())


def _tree(root: Path) -> None:
    (root / "b").mkdir()
    (root / "b" / "opt.yaml").write_text("opt:\n  lr: 0.1\n")
    (root / "b" / "data.yaml").write_text("data:\n  batch_size: 64\n")
    for name in ("x.yaml", "y.yaml"):
        (root / name).write_text("_base_: [b/opt.yaml, b/data.yaml]\n")


def test_the_resolver_at_the_base_takes_the_live_merges_of_files_unchanged_since_then(tmp_path):
    _tree(tmp_path)
    live = Resolver((MM,), Limits(), tmp_path)
    with resolving():
        x = _resolve(live, tmp_path, "x.yaml")
        at_base = AtRevision(live, _AtHead(tmp_path, {}))
        y = _resolve(at_base, tmp_path, "y.yaml")
    assert y.base.values is x.base.values  # nothing merged again
    assert at_base.combos == live.combos


def test_the_resolver_at_the_base_merges_again_what_read_a_file_changed_since_then(tmp_path):
    _tree(tmp_path)
    live = Resolver((MM,), Limits(), tmp_path)
    with resolving():
        x = _resolve(live, tmp_path, "x.yaml")  # the live merge read data.yaml as it is now
        at_base = AtRevision(live, _AtHead(tmp_path, {"b/data.yaml": "data:\n  batch_size: 32\n"}))
        y = _resolve(at_base, tmp_path, "y.yaml")
    assert x.doc.values["data.batch_size"].value == 64
    assert y.doc.values["data.batch_size"].value == 32
    assert y.doc.values["data.batch_size"].span.path == "HEAD:b/data.yaml"
    assert y.doc.values["opt.lr"].value == 0.1


def test_a_re_check_merges_again_what_read_a_file_in_its_overlay(tmp_path):
    """The re-check of a fixed file borrows the check's merges, except those that read a fixed file."""
    from lrlint.fix.recheck import Seeded

    _tree(tmp_path)
    check = Resolver((MM,), Limits(), tmp_path)
    with resolving():
        x = _resolve(check, tmp_path, "x.yaml")
        kept = Seeded((MM,), Limits(), tmp_path, check)
        same = _resolve(kept, tmp_path, "y.yaml")
        fixed = Seeded((MM,), Limits(), tmp_path, check)
        fixed.overlay = {resolved(tmp_path / "b" / "opt.yaml"): b"opt:\n  lr: 0.05\n"}
        y = _resolve(fixed, tmp_path, "y.yaml")
    assert same.base.values is x.base.values
    assert y.base.values is not x.base.values
    assert (x.doc.values["opt.lr"].value, y.doc.values["opt.lr"].value) == (0.1, 0.05)
    assert y.doc.values["data.batch_size"] == x.doc.values["data.batch_size"]


_GARBAGE_PROBE = r"""
import collections, contextlib, gc, io, json, sys
gc.collect()
gc.disable()
gc.set_debug(gc.DEBUG_SAVEALL)
from lrlint.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
gc.collect()
kinds = collections.Counter(
    type(o).__module__ + "." + type(o).__qualname__
    for o in gc.garbage
    if type(o).__module__.startswith("lrlint") or type(o).__name__ in ("frame", "traceback")
)
print(json.dumps(dict(kinds)))
"""


def test_a_run_leaves_no_reference_cycles_behind(tmp_path):
    """The cycle collector is paused during runs: a run whose objects formed cycles (a walk's callbacks, a
    kept error's traceback, the engine and its helpers) would grow by every file it parsed."""
    import json
    import shutil
    import subprocess
    import sys

    fixtures = Path(__file__).parent / "fixtures"
    shutil.copytree(fixtures / "inherit", tmp_path / "inherit")
    shutil.copytree(fixtures / "python", tmp_path / "python")
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")  # LR901
    (tmp_path / "orphan.py").write_text("_base_ = ['./missing.py']\noptimizer = dict(type='SGD', lr=0.1)\n")  # LR906
    (tmp_path / "orphan2.py").write_text("_base_ = ['./missing.py']\noptimizer = dict(type='SGD', lr=0.2)\n")
    (tmp_path / "deep.py").write_text("x = " + "-" * 300 + "1\nlr = 0.1\n")  # LR905
    (tmp_path / "bad_base.py").write_text("optimizer = dict(type='SGD', lr=0.1\n")  # a base that cannot be parsed
    for name in ("child1.py", "child2.py"):  # the second one gets the kept error
        (tmp_path / name).write_text("_base_ = ['./bad_base.py']\ntrain_dataloader = dict(batch_size=4)\n")
    probe = subprocess.run(
        [sys.executable, "-c", _GARBAGE_PROBE, "check", "--isolated", "--jobs", "1", "--explain", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    kinds = json.loads(probe.stdout.strip().splitlines()[-1])
    leftover = {k: n for k, n in kinds.items() if not k.startswith("lrlint.cli_parser")}  # argparse's own cycles
    assert leftover == {}


def test_a_base_that_cannot_be_read_is_reported_once_for_all_children_that_name_it(tmp_path):
    """The resolver keeps the error of a base it could not read (a copy, without the traceback that would
    hold the resolver in a cycle) and raises it again for the next child."""
    from conftest import run_lrlint

    (tmp_path / "bad_base.py").write_text("optimizer = dict(type='SGD', lr=0.1\n")
    for name in ("child1.py", "child2.py"):
        (tmp_path / name).write_text("_base_ = ['./bad_base.py']\ntrain_dataloader = dict(batch_size=4)\n")
    p = run_lrlint("check", "--isolated", "--output-format", "concise", "--jobs", "1", ".", cwd=tmp_path)
    syntax = (
        "Python syntax error: expected one of "
        + "!=, %, &, (, *, **, +, ,, -, ., /, //, <, <<, <=, ==, >, >=, >>, @, [, ..."
    )
    assert p.stdout.splitlines() == [
        f"bad_base.py:2:1: LR901 error: {syntax}",
        f"child1.py:1:11: LR906 error: base config './bad_base.py' cannot be read: bad_base.py: {syntax}"
        " (named by 2 configs)",
        "Found 2 errors.",
    ]
    assert p.returncode == 1


def test_source_errors_copy_every_field():
    import copy
    import pickle

    from lrlint.problems import SourceError

    e = SourceError("LR906", "why", 3, 4, 5, 6, info=True)
    for c in (copy.copy(e), pickle.loads(pickle.dumps(e))):
        assert (type(c), c.code, c.reason, c.line, c.col, c.end_line, c.end_col, c.info, c.args) == (
            SourceError,
            "LR906",
            "why",
            3,
            4,
            5,
            6,
            True,
            ("why",),
        )
        assert c.__traceback__ is None


def test_preload_imports_the_parsers_of_the_formats_asked_for_only():
    import subprocess
    import sys

    probe = (
        "import sys; from lrlint import sources; sources.preload({fmts}); "
        "print('libcst' in sys.modules, 'lrlint.sources.yaml_source' in sys.modules)"
    )
    root = str(Path(__file__).parent.parent)
    got = [
        subprocess.run(
            [sys.executable, "-c", probe.format(fmts=fmts)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": root},
            check=True,
        ).stdout.split()
        for fmts in ('["yaml", "yaml"]', '["python"]')
    ]
    assert got == [["False", "True"], ["True", "False"]]


def test_tick_collects_only_when_a_paused_run_grew_past_the_bound(monkeypatch):
    import gc
    import weakref

    from lrlint import gcpause

    class Node:
        pass

    monkeypatch.setattr(gcpause, "GROWTH", 5_000)
    with gcpause.paused():
        assert not gc.isenabled()
        gc.collect()  # the count starts from nothing
        a = Node()
        a.self = a  # a cycle: only the collector frees it
        alive = weakref.ref(a)
        del a
        gcpause.tick()
        assert alive() is not None  # grown by less than the bound: nothing collected
        keep = [[] for _ in range(6_000)]
        gcpause.tick()
        assert alive() is None
        del keep


# flattened keys over a few names, with list items (a part that is a number) and MMEngine's delete key
_PART = st.sampled_from(["a", "b", "c", "lr", "0", "1", "_delete_"])
_KEY = st.lists(_PART, min_size=1, max_size=3).map(".".join)
_VALUE = st.sampled_from([1, 0.1, True, False, "x", "[]"])


def _values(keys: list[str], path: str, values: list) -> dict[str, Value]:
    pairs = enumerate(zip(keys, values, strict=True))
    return {k: Value(k, v, Span(path, i, i + 1, i + 1, 1, i + 1, 2)) for i, (k, v) in pairs}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.lists(st.tuples(_KEY, _VALUE), max_size=12),
    first=st.lists(st.tuples(_KEY, _VALUE), max_size=6),
    second=st.lists(st.tuples(_KEY, _VALUE), max_size=6),
    delete_key=st.sampled_from([None, "_delete_"]),
)
def test_a_child_merged_again_from_its_kept_merge_is_what_a_merge_gives(base, first, second, delete_key):
    """``ChildMerge.again`` (--fix's re-check of a fixed file) gives, when it gives anything, the base keys
    ``merge`` keeps for the second child; and ``shape`` of it when it computed one."""
    from lrlint.inherit.model import ChildMerge, kept_base, merge, over, shape

    b = _values([k for k, _ in base], "base.py", [v for _, v in base])
    one = _values([k for k, _ in first], "c.py", [v for _, v in first])
    two = _values([k for k, _ in second], "c.py", [v for _, v in second])
    sh = shape(one, delete_key)
    m = ChildMerge.of((Path("/c.py"), b, one, delete_key, sh, kept_base(b, one, sh) if b else {}))
    for child in (two, one, {**one, **two}, {k: v for k, v in one.items() if k not in two}):
        kept, got_shape = m.again(b, child, delete_key)
        if got_shape is not None:
            assert got_shape == shape(child, delete_key)
        if kept is not None:
            assert list(over(kept, child, delete_key).items()) == list(merge(b, child, delete_key).items())
    assert m.again(dict(b), one, delete_key) == (None, None)  # other bases (equal, not the same): merged anew
