"""The ``ast`` reader of plain Python configs (lrlint/sources/py_plain.py) gives the Documents the libcst walk
gives: the same keys, values, spans, raw text, provenance, reasons and comments, file by file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrlint import bigstack
from lrlint.python_rules import python_table
from lrlint.sources import Limits, decode, py_plain
from lrlint.sources import python_source as P

ROOT = Path(__file__).resolve().parent.parent


def documents(text: str, plain: bool, path: str = "configs/faster-rcnn_r50_fpn_8xb2-1x_coco.py") -> list:
    source = decode(path, "python", text.encode("utf-8"))
    return bigstack.run(lambda: P._parse(source, Limits(), python_table(), plain=plain))


def reads(text: str) -> bool:
    source = decode("configs/x.py", "python", text.encode("utf-8"))
    return py_plain.read(source, None, python_table(), Limits()) is not None


def same(text: str) -> list:
    """The plain reader reads ``text`` and gives the walk's Documents; those Documents."""
    assert reads(text), text
    got = documents(text, True)
    assert facts(got) == facts(documents(text, False))
    return got


def facts(docs: list) -> list:
    return [(d.values, d.comments, d.variant, d.index, d.path, d.format) for d in docs]


# layouts of MMEngine configs: nested dicts, tuples with and without their parentheses, names, operators
PLAIN = [
    "_base_ = ['../_base_/models/retinanet_r50_fpn.py', '../_base_/datasets/coco_detection.py']\n"
    "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))\n",
    '"""A config."""\nlr = 0.02  # for 8 GPUs x 2 images\n'
    "optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=lr * 2))\n"
    "train_dataloader = dict(batch_size=2, num_workers=2)\nauto_scale_lr = dict(enable=False, base_batch_size=16)\n",
    "img_scale = (1333, 800)\nx = ( 1, 2 )\ny = (1, 2, )\nz = 1, 2,\nw = ((1), 2)\nv = (1), (2)\nu = (1,)\n"
    "t = ((1, 2))\ns = dict(scale=(1333,  800,),)\n",
    "reg_branch = (\n    (256, ),  # offset\n    (256, ),  # depth\n    (256, )  # bbox2d\n)\n"
    "base_dims = (\n    (4.73, 1.77, 2.08),  # Car\n    (0.91, 1.74, 0.84),  # Pedestrian\n)\n"
    "tail = (\n    1,\n    2\n    )\nspaced = (1 , )\n",
    "a = (\n    1,\n    2,  # c\n)\nb = (1, 2,  # c\n     )\nc = (1,  # one\n     2)\nd = ( (1) , )\ne = (\n1\n,\n2)\n",
    "batch_size = 4\nnum_gpus = 8\nlr = 0.1 * batch_size * num_gpus / 256\nwarmup = -1\nneg = - 2.5e-3\n"
    "flags = dict(a=True, b=False, c=None, d=..., e=not 0, f=~1, g=2 ** 10, h=7 // 2, i=7 % 3, j=1 << 3)\n",
    "train_cfg = dict(max_epochs=12)\ntrain_dataloader = dict(batch_size={{_base_.train_batch_size}})\n"
    "odd = {1, 2}\nkeys = {'lr': 0.01, 3: 'x', True: 1, **{'a': 1}}\nmerged = dict(dict(a=1), b=2, **dict(c=3))\n",
    "name = 'r' 'b'\nraw = r'\\d+#not a comment'\nhash = '#x'  # a comment 'quoted'\n"
    "doc = '''multi\nline # still a string\n'''\nu = u'x'\n",
    "# -*- coding: latin-1 -*-\nname = 'é'  # decoded with the cookie before either reader sees it\nlr = 0.01\n",
    "# ünïcode in a comment\nname = 'résumé'  # é\nlr = 0.01\noptimizer = dict(lr=lr, type='AdamW')\n",
    "data = dict(\n    train=dict(\n        samples_per_gpu=2,\n        workers_per_gpu=2,\n    ),\n)\n"
    "optimizer = dict(type='SGD', lr=0.02)\n",
    "deep = " + "[" * 90 + "lr" + "]" * 90 + "\nlr = 0.01\n",
    # past the walk's depth limit (150): the value is unknown, the span the whole expression's
    pytest.param(
        "lr = "
        + "-" * 98
        + "0.1\nbatch_size = ("
        + " + ".join(["1"] * 140)
        + ")\ny = "
        + " + ".join(["1"] * 999)
        + "\n",
        marks=pytest.mark.skipif(
            sys.version_info[:2] == (3, 12),
            reason="on CPython 3.12 the libcst walk cannot locate values this deep (its C recursion limit)",
        ),
    ),
    "x = " + " + ".join(["'a' 'b'"] * 60) + "\nlr = 0.01\n",
    "a = dict(x=1)\nb = a\nc = b\nd = [a, b]\nundefined = missing + 1\nscaled = batch_size * 2\n",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_configs_read_as_the_walk_reads_them(text):
    same(text)


def test_a_parenthesized_tuple_spans_its_items_as_libcst_does():
    (doc,) = same("img_scale = (1333,  800,)\nreg = (\n    (256, ),  # offset\n    (256, )  # bbox\n)\n")
    assert (doc.values["img_scale"].raw, doc.values["reg"].raw) == ("1333,  800,", "(256, ),  # offset\n    (256, )")


def test_comments_outside_strings_only():
    (doc,) = same("lr = 0.01  # lr for 8 gpus\nname = '# no'  # yes 'x'\ndoc = '''\n# no\n'''\n")
    assert doc.comments == {1: " lr for 8 gpus", 2: " yes 'x'"}


NOT_PLAIN = [
    "import torch\nlr = 0.01\n",
    "from mmengine.config import read_base\nwith read_base():\n    from .._base_.default_runtime import *\n",
    "lr = 0.01\nif True:\n    lr = 0.02\n",
    "lr = 0.01\nlr *= 2\n",
    "model = dict(a=1)\nmodel.b = 2\n",
    "a = b = 0.01\n",
    "dict = None\noptimizer = dict(lr=0.01)\n",
    "x = [*range(3)]\nlr = 0.01\n",
    "x = ()\nlr = 0.01\n",
    "x = b'bytes'\nlr = 0.01\n",
    "x = 1j\nlr = 0.01\n",
    "x = f'{lr}'\nlr = 0.01\n",
    "x = {f'{y}'}\nlr = 0.01\n",
    "x = (  # a comment next to the parenthesis\n    1, 2)\nlr = 0.01\n",
    "x = (1, (a\n))\nlr = 0.01\n",
    "lr = 0.01\r\nx = 1\r\n",
    "x = " + " ".join(["'a'"] * 60) + "\nlr = 0.01\n",
    "x = lambda: 1\nlr = 0.01\n",
    "lr = max(0.01, 0.02)\n",
]


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_anything_else_is_left_to_the_walk(text):
    assert not reads(text)
    assert facts(documents(text, True)) == facts(documents(text, False))


def test_a_syntax_error_is_the_walks_lr901():
    text = "lr = 0.01\noptimizer = dict(lr=lr\n"
    with pytest.raises(Exception) as plain:
        documents(text, True)
    with pytest.raises(Exception) as walk:
        documents(text, False)
    assert (plain.value.code, str(plain.value)) == (walk.value.code, str(walk.value))  # type: ignore[attr-defined]
    assert plain.value.code == "LR901"  # type: ignore[attr-defined]


def test_every_python_fixture_the_plain_reader_reads_reads_as_the_walk():
    files = sorted((ROOT / "tests" / "fixtures").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    read = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        if reads(text) and python_table().mentions_training_names(text):
            same(text)
            read += 1
    assert read >= 10, read  # the MMEngine fixtures are plain


# random plain configs: names, numbers, strings, operators, nested dicts, lists and tuples, comments, spacing
_names = st.sampled_from(["lr", "batch_size", "base_lr", "num_gpus", "model", "data", "optimizer", "x", "samples"])
_leaf = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(1e-6, 1e3, allow_nan=False).map(repr),
    st.sampled_from(["'SGD'", '"AdamW"', "True", "None", "0.01", "1e-4", "2 ** 3", "-0.5", "r'#'", "'a' 'b'"]),
    _names,
)
_space = st.sampled_from(["", " ", "  ", "\n    "])
_comment = st.sampled_from(["", "  # note", "  # lr for 8 gpus, (x2)"])


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def items(f):
        return st.lists(children, min_size=1, max_size=4).map(f)

    kw = st.lists(st.tuples(_names, children), min_size=1, max_size=4)
    return st.one_of(
        items(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(st.lists(children, min_size=1, max_size=4), _space, st.booleans()).map(
            lambda t: "(" + t[1] + ", ".join(t[0]) + ("," if t[2] or len(t[0]) == 1 else "") + t[1] + ")"
        ),
        kw.map(lambda xs: "dict(" + ", ".join(f"{k}={v}" for k, v in xs) + ")"),
        kw.map(lambda xs: "{" + ", ".join(f"'{k}': {v}" for k, v in xs) + "}"),
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        children.map(lambda c: f"-({c})"),
    )


_value = st.recursive(_leaf, _expr, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_names, _value, _comment), min_size=1, max_size=6))
def test_random_plain_configs_read_as_the_walk_reads_them(stmts):
    text = "".join(f"{name} = {value}{comment}\n" for name, value, comment in stmts) + "lr = 0.01\n"
    same(text)
