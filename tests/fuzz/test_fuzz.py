"""The fuzz harness's short budget: mutated examples and fixtures (YAML, JSON, Python) never crash, hang or
blow up a run, and the control file's finding is always reported. Deterministic (derandomized), so CI
replays the same inputs; ``python tests/fuzz/run.py --minutes 20`` is the long run (docs/security.md)."""

from __future__ import annotations

import random
import sys

import fuzz_harness as harness
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="address-space limits (resource.setrlimit)")

POOL = harness.seeds()
FILES_PER_RUN = 12


def test_the_seeds_cover_every_format():
    assert {p.rsplit(".", 1)[-1] for p, _ in POOL} >= {"yaml", "json", "py"}
    assert len(POOL) >= 40


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a batch of runs
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rnd=st.randoms(use_true_random=False), fix=st.booleans())
def test_mutated_configs_never_crash_hang_or_lose_the_control_finding(rnd: random.Random, fix: bool):
    files = harness.batch(POOL, rnd, FILES_PER_RUN)
    out = harness.check(files, fix=fix)
    if out.kind != "ok":
        blamed = harness.culprits(files, fix)
        raise AssertionError(f"{out.kind}: {out.detail}\nfailing alone: {[(n, o.kind) for n, o in blamed]}")


def test_the_harness_sees_a_crash_a_hang_and_a_lost_control_finding():
    """The judge is not blind: each failure kind is recognised."""
    assert harness._judge(2, "", "lrlint: internal error: ValueError: x", 1.0).kind == "crash"
    assert harness._judge(1, '[{"code": "LR907"}]', "", 1.0).kind == "crash"
    assert harness._judge(-11, "", "", 1.0).kind == "crash"
    assert harness._judge(None, "", "", 31.0).kind == "hang"
    assert harness._judge(2, "", "MemoryError", 1.0).kind == "memory"
    assert harness._judge(0, "[]", "", 1.0).kind == "control"
    ok = '[{"filename": "/t/zz_control.yaml", "code": "LR001", "location": {"row": 3, "column": 15}}]'
    assert harness._judge(1, ok, "", 1.0).kind == "ok"
