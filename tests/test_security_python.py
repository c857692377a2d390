"""Expressions nested without brackets (unary chains, lambdas, call and subscript chains, conditional
expressions, operator chains across lines) are bounded before libcst sees the text: LR905, in little
time and memory, and the other files are still checked."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

from lrlint.sources import LIMIT_EXCEEDED, PARSE_ERROR, Limits, SourceError, decode
from lrlint.sources.python_source import parse

GOOD = "# lrlint: reference batch=256 lr=0.1\ntrain:\n  batch_size: 512\n  optimizer:\n    name: sgd\n    lr: 0.1\n"
N = 10_000
SHAPES = {
    "minus": "lr = " + "-" * N + "1\n",
    "minus-spaced": "lr = " + "- " * (N // 2) + "1\n",
    "plus": "lr = " + "+" * N + "1\n",
    "invert": "lr = " + "~" * N + "1\n",
    "not": "lr = " + "not " * (N // 4) + "1\n",
    "lambda": "lr = " + "lambda: " * (N // 8) + "1\n",
    "calls": "lr = f" + "()" * (N // 2) + "\n",
    "subscripts": "lr = f" + "[0]" * (N // 3) + "\n",
    "await": "async def g():\n    lr = " + "- " * (N // 2) + "await x\n",
    "conditional": "lr = " + "1 if c else " * (N // 12) + "1\n",
    "sum-across-lines": "lr = (\n" + "a +\n" * (N // 4) + "1)\n",
    "minus-continued": "lr = " + "- \\\n" * (N // 4) + "1\n",
    "mixed": "async def g():\n    lr = " + "lambda: " * (N // 32) + "not " * (N // 16) + "-~" * (N // 8) + "await x\n",
}


PEAK = (
    "def peak():\n"
    "    try:\n"  # VmHWM: this process's own peak (ru_maxrss also counts the parent's before exec on Linux)
    "        return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
    "    except OSError:\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
)


def _measured(args: list[str], cwd) -> tuple[int, str, str, float, int]:
    """Run the CLI in a fresh interpreter; its own peak RSS (MiB) and wall time come back."""
    code = (
        "import resource, sys, time\n" + PEAK + "from lrlint.cli import main\n"
        "t = time.perf_counter(); rc = main(sys.argv[1:]); sys.stdout.flush()\n"
        "print(time.perf_counter() - t, peak(), file=sys.stderr); sys.exit(rc)\n"
    )
    env = {"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    p = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )
    *rest, last = p.stderr.rstrip("\n").split("\n")
    took, rss_kib = last.split()
    return p.returncode, p.stdout, "\n".join(rest), float(took), int(rss_kib) // 1024


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_chain_without_brackets_is_lr905_in_bounded_time_and_memory(tmp_path, shape):
    (tmp_path / "train.py").write_text(SHAPES[shape])
    (tmp_path / "good.yaml").write_text(GOOD)
    rc, out, err, took, rss = _measured(["check", "--isolated", "--output-format", "json", "."], tmp_path)
    assert rc == 1 and "internal error" not in err, err
    found = [(f["filename"].rsplit("/", 1)[-1], f["code"], f["location"]["row"]) for f in json.loads(out)]
    assert ("good.yaml", "LR001", 3) in found
    lr905 = [f for f in json.loads(out) if f["filename"].endswith("train.py")]
    assert [f["code"] for f in lr905] == ["LR905"], lr905
    assert lr905[0]["message"].startswith(("an expression nested", "an operator chain")), lr905
    assert "over lrlint's limit of" in lr905[0]["message"] or "deeper than Python itself parses" in lr905[0]["message"]
    # unbounded, these took minutes and gigabytes; 30 s leaves room for a loaded machine and a cold cache
    assert took < 30 and rss < 300, f"{took:.1f} s, {rss} MiB"


def test_the_finding_names_where_the_expression_starts():
    text = "import torch\nbatch_size = 8\n\ndef f():\n    lr = " + "-" * 600 + "1\n"
    with pytest.raises(SourceError) as e:
        parse(decode("t.py", "python", text.encode()), Limits())
    assert (e.value.code, e.value.line, e.value.col) == (LIMIT_EXCEEDED, 5, 10)
    assert e.value.reason == "an expression nested 601 deep, over lrlint's limit of 100"


def test_deep_but_legal_code_still_parses():
    text = (
        "lr = "
        + "-" * 98
        + "0.1\nbatch_size = ("
        + " + ".join(["1"] * 140)
        + ")\nx = "
        + "-" * 98
        + "1\ny = "
        + " + ".join(["1"] * 999)
        + "\n"
    )
    (doc,) = parse(decode("t.py", "python", text.encode()), Limits())
    assert doc.values["lr"].value == 0.1 and doc.values["batch_size"].value == 140


def test_a_syntax_error_in_a_deep_file_is_lr901_in_cpythons_words_without_libcst(monkeypatch):
    import libcst

    monkeypatch.setattr(libcst, "parse_module", lambda *a, **k: pytest.fail("libcst was given the text"))
    text = "lr = " + "-" * 2000 + "1\nbatch_size = (\n" + "x = 1\n" * 300
    with pytest.raises(SourceError) as e:
        parse(decode("t.py", "python", text.encode()), Limits())
    assert (e.value.code, e.value.line, e.value.reason) == (PARSE_ERROR, 2, "Python syntax error: '(' was never closed")


def test_a_small_syntax_error_keeps_libcsts_message():
    with pytest.raises(SourceError) as e:
        parse(decode("t.py", "python", b"lr = 0.1\nx = (1,\ny = 2\n"), Limits())
    assert (e.value.code, e.value.line, e.value.col) == (PARSE_ERROR, 3, 4)
    assert e.value.reason.startswith("Python syntax error: expected one of")
