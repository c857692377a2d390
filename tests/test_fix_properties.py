"""Property tests: random configs in each format, random batch changes, then ``--fix``.

After fixing (safe and unsafe fixes), a re-check reports no LR001/LR002, and every byte outside
the edited lr literal is identical to the input. A second ``--fix`` changes nothing.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrlint import api, fix
from lrlint import settings as settings_mod

SCALING = {"LR001", "LR002"}

batches = st.sampled_from([1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256])
accums = st.sampled_from([1, 2, 4, 8])
lrs = st.sampled_from([0.1, 0.05, 0.02, 0.001, 3e-4, 2e-5, 1e-5, 5e-5, 6.25e-5, 0.4, 1.5e-3])
optimizers = st.sampled_from(["sgd", "adamw", "adam", "lion", "rmsprop", "lamb"])
filler_keys = st.lists(
    st.sampled_from(
        [
            "seed: 42",
            "num_train_epochs: 3",
            "output_dir: out/run-1",
            "warmup_ratio: 0.03",
            "weight_decay: 0.0",
            "tags: [a, b]",
            'name: "x: y"',
        ]
    ),
    max_size=3,
    unique=True,
)
comments = st.sampled_from(["", "  # tuned", "  # lr: 0.1 batch 64", "  # é ü"])


def lr_literal(x: float, style: str, fmt: str) -> str:
    """``x`` written in one of the number styles configs use."""
    if style == "decimal":
        s = f"{x:.10f}".rstrip("0").rstrip(".")
        return s if "." in s else s + ".0"
    if style == "sci":
        m, e = f"{x:e}".split("e")
        m = m.rstrip("0").rstrip(".")
        return f"{m}e{int(e)}"
    if style == "sci-dot":
        m, e = f"{x:e}".split("e")
        m = m.rstrip("0")
        m = m + "0" if m.endswith(".") else m
        return f"{m}e{int(e)}"
    if style == "quoted":
        return f'"{lr_literal(x, "sci", fmt)}"'
    raise AssertionError(style)


@st.composite
def yaml_case(draw):
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    layout = draw(st.sampled_from(["hf", "nested"]))
    style = draw(st.sampled_from(["decimal", "sci", "sci-dot", "quoted"]))
    b0, b1, acc, lr, opt = draw(batches), draw(batches), draw(accums), draw(lrs), draw(optimizers)
    lit = lr_literal(lr, style, "yaml")
    extra = draw(filler_keys)
    cmt = draw(comments)

    def text(batch: int, lr_text: str, comment: str) -> str:
        if layout == "hf":
            lines = [
                f"per_device_train_batch_size: {batch}",
                f"gradient_accumulation_steps: {acc}",
                f"learning_rate: {lr_text}{comment}",
                f"optim: {opt}_torch" if opt in ("adamw", "adam") else f"optim: {opt}",
            ]
        else:
            lines = [
                "train:",
                f"  batch_size: {batch}",
                "  optimizer:",
                f"    name: {opt}",
                f"    lr: {lr_text}{comment}",
                "    momentum: 0.9",
            ]
        return nl.join(["# generated config", *extra, *lines]) + nl

    ref = text(b0, lit, "").encode()
    new = bom + text(b1, lit, cmt).encode()
    return "yaml", ref, new


@st.composite
def json_case(draw):
    indent = draw(st.sampled_from([None, 2, 4]))
    b0, b1, acc, lr = draw(batches), draw(batches), draw(accums), draw(lrs)
    style = draw(st.sampled_from(["decimal", "sci"]))
    lit = lr_literal(lr, style, "json")

    def text(batch: int) -> bytes:
        d = {
            "output_dir": "out",
            "per_device_train_batch_size": batch,
            "gradient_accumulation_steps": acc,
            "learning_rate": "@LR@",
            "num_train_epochs": 3,
            "optim": "adamw_torch",
        }
        return json.dumps(d, indent=indent).replace('"@LR@"', lit).encode() + b"\n"

    return "json", text(b0), text(b1)


def run_case(fmt: str, ref: bytes, new: bytes) -> bool:
    """Fix ``new`` against ``ref``, check the properties; True when the file was changed."""
    suffix = {"yaml": ".yaml", "json": ".json", "python": ".py"}[fmt]
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        ref_p, new_p = d / f"ref{suffix}", d / f"train{suffix}"
        ref_p.write_bytes(ref)
        new_p.write_bytes(new)
        # the properties are the scaling fixes'; the warmup LR003 adds in a later round is test_warmup_fix's
        s = settings_mod.load(d, isolated=True, overrides={"ignore": ["LR003"]})
        before = api.check_paths([str(new_p)], s, reference=str(ref_p))
        edits = [e for f in before.findings if fix.applicable(f, True) for e in f.fix.edits]
        outcome = fix.apply(before, s, unsafe=True, write=True, reference=str(ref_p))
        after_bytes = new_p.read_bytes()
        after = api.check_paths([str(new_p)], s, reference=str(ref_p))
        left = [f for f in after.findings if f.code in SCALING]
        assert not left, (new.decode("utf-8", "replace"), [f.message for f in left], outcome.problems)
        # every byte outside the edited spans is identical (several recipes may share one lr literal)
        spans = sorted({(e.span.start, e.span.end) for e in edits})
        for (_, e0), (s1, _) in itertools.pairwise(spans):
            assert e0 <= s1, spans  # the fixes' edits do not overlap
        if edits:
            first, last = spans[0], spans[-1]
            tail = len(new) - last[1]
            assert after_bytes[: first[0]] == new[: first[0]]
            assert after_bytes[len(after_bytes) - tail :] == new[last[1] :]
            pos = first[0]
            for (_, e0), (s1, _) in itertools.pairwise(spans):
                gap = new[e0:s1]
                found = after_bytes.find(gap, pos)
                assert found >= 0, gap
                pos = found + len(gap)
            if fmt == "yaml":  # the lr loads as the same type as before, with the fixed value
                import yaml

                old_v = yaml.safe_load(new.decode("utf-8-sig"))
                new_v = yaml.safe_load(after_bytes.decode("utf-8-sig"))
                key = (
                    (lambda v: v["learning_rate"])
                    if "learning_rate" in old_v
                    else (lambda v: v["train"]["optimizer"]["lr"])
                )
                assert type(key(old_v)) is type(key(new_v))
                assert math.isclose(float(key(new_v)), after.recipes[str(new_p)][0].lr_value, rel_tol=1e-9)
        else:
            assert after_bytes == new
        # a second --fix changes nothing
        again = fix.apply(after, s, unsafe=True, write=True, reference=str(ref_p))
        assert again.changed == {} and new_p.read_bytes() == after_bytes
        return after_bytes != new


def test_the_property_harness_sees_a_fix():
    """The generators' shape does produce fixes (a harness that never fixes would pass vacuously)."""
    ref = b"per_device_train_batch_size: 8\ngradient_accumulation_steps: 2\nlearning_rate: 2e-5\noptim: adamw_torch\n"
    assert run_case("yaml", ref, ref.replace(b": 8", b": 32"))
    assert run_case(
        "json",
        b'{"per_device_train_batch_size": 8, "learning_rate": 0.001}\n',
        b'{"per_device_train_batch_size": 32, "learning_rate": 0.001}\n',
    )


COMMON = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(yaml_case())
def test_yaml_fix_property(case):
    run_case(*case)


@COMMON
@given(json_case())
def test_json_fix_property(case):
    run_case(*case)


@st.composite
def python_case(draw):
    b0, b1, lr = draw(batches), draw(batches), draw(lrs)
    style = draw(st.sampled_from(["decimal", "sci"]))
    lit = lr_literal(lr, style, "python")
    cmt = draw(comments)

    def text(batch: int, comment: str) -> bytes:
        return (
            "import torch\n\n"
            f"batch_size = {batch}\n"
            f"lr = {lit}{comment}\n"
            "model = torch.nn.Linear(2, 2)\n"
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)\n"
        ).encode()

    return "python", text(b0, ""), text(b1, cmt)


@pytest.mark.skipif(
    importlib.util.find_spec("lrlint.sources.python_source") is None, reason="the Python parser has not landed"
)
@COMMON
@given(python_case())
def test_python_fix_property(case):
    run_case(*case)


def test_the_property_harness_sees_a_python_fix():
    ref = (
        b"import torch\n\nbatch_size = 8\nlr = 0.1\nmodel = torch.nn.Linear(2, 2)\n"
        b"optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)\n"
    )
    if importlib.util.find_spec("lrlint.sources.python_source") is None:
        pytest.skip("the Python parser has not landed")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "t.py").write_bytes(ref)
        res = api.check_paths([str(Path(d) / "t.py")], settings_mod.load(Path(d), isolated=True))
        if not any(res.recipes.values()):
            pytest.skip("Python recipes have not landed: the Python property test runs without fixing anything")
    assert run_case("python", ref, ref.replace(b"batch_size = 8", b"batch_size = 32"))
