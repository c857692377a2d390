"""Work linear in the file size: line breaks of every kind, long comments, long words."""

from __future__ import annotations

import json
import time

from conftest import run_lrlint

from lrlint import directives
from lrlint.spans import LineIndex

HEAD = [
    "# lrlint: reference batch=256 lr=0.1",
    "train:",
    "  batch_size: 512",
    "  optimizer:",
    "    name: sgd",
    "    lr: 0.1",
]


def _check(tmp_path, name: str, data: bytes) -> list[tuple[int, int, str]]:
    (tmp_path / name).write_bytes(data)
    t = time.perf_counter()
    r = run_lrlint("check", "--isolated", "--output-format", "json", name, cwd=tmp_path, timeout=120)
    took = time.perf_counter() - t
    assert r.returncode == 1, r.stdout + r.stderr
    assert took < 20, f"{len(data)} bytes took {took:.1f} s"  # quadratic work takes many minutes here
    return [(f["location"]["row"], f["location"]["column"], f["code"]) for f in json.loads(r.stdout)]


def test_cr_only_yaml_with_a_long_comment_line_is_linear_and_lines_are_right(tmp_path):
    lines = [*HEAD, "  # " + "x" * 100_000, "  extra: 1"]
    assert _check(tmp_path, "cr.yaml", "\r".join(lines).encode() + b"\r") == [(3, 15, "LR001")]
    assert _check(tmp_path, "crlf.yaml", "\r\n".join(lines).encode() + b"\r\n") == [(3, 15, "LR001")]
    assert _check(
        tmp_path,
        "mixed.yaml",
        b"\r".join([b"\r\n".join(x.encode() for x in lines[:3]), *(x.encode() for x in lines[3:])]),
    ) == [(3, 15, "LR001")]


def test_a_long_word_in_a_reference_comment_is_linear(tmp_path):
    lines = [HEAD[0] + " " + "x" * 100_000, *HEAD[1:]]
    assert _check(tmp_path, "lf.yaml", "\n".join(lines).encode() + b"\n") == [(3, 15, "LR001")]


def test_line_index_knows_every_line_break():
    idx = LineIndex("a\rb\r\nc\nd")
    assert [idx.line_col(i) for i in (0, 2, 5, 7)] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert [idx.line_text(n) for n in (1, 2, 3, 4)] == ["a", "b", "c", "d"]


def test_directive_arguments_still_read():
    refs = directives.declared_references({1: " lrlint: reference batch=256 lr=0.1 SOLVER.MAX_ITER=9000, x"})
    assert (refs[0].batch, refs[0].lr) == (256.0, 0.1)


def test_directives_in_any_case_and_script_are_read_past_the_quick_skip():
    """A comment is matched only when it may name a directive: ASCII text without ``lrlint`` or ``noqa`` in
    any case is skipped; every spelling the expressions accept is still read."""
    assert directives.suppression(" LRLINT: Ignore[lr001]") is not None
    assert directives.suppression(" NoQA: LR001") is not None
    assert directives.suppressed({3: " Lrlint: ignore"}, 3, "LR004")
    assert directives.declared_references({1: " LrLint: Reference batch=8 lr=0.1"})[0].batch == 8.0
    # a dotless i is one of the letters (?i) matches i with: such a comment is matched, not skipped
    assert directives.suppression(" lrl\u0131nt: ignore") is not None
    assert directives.suppression(" batch for 8 gpus") is None
    assert directives.declared_references({1: " reference batch=8 lr=0.1"}) == []
