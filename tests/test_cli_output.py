"""What a person reads: the full format fitted to the terminal (no line wraps in the middle of a word),
the README's sample output, severities in headlines and summaries."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, run_lrlint

from lrlint.report.layout import wrap


@pytest.mark.parametrize("columns", [80, 120])
def test_examples_fit_the_terminal_width(columns):
    r = run_lrlint("check", "examples/", cwd=ROOT, env={"COLUMNS": str(columns)})
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    too_long = [line for line in lines if len(line) > columns]
    assert too_long == []  # a terminal of this width wraps none of them, so none breaks inside a word
    # headlines, notes and help were wrapped between words, not cut: their words are all there, in order
    unwrapped = run_lrlint("check", "examples/", cwd=ROOT).stdout
    flowing = " ".join(r.stdout.split())
    texts = re.findall(r"^(?:LR\d+ .*|  = \w+: .*)$", unwrapped, re.M)
    assert len(texts) > 30
    for text in texts:
        assert " ".join(text.split()) in flowing
    if columns == 120:  # nothing is cut at 120 columns: only the line breaks differ
        assert " ".join(unwrapped.split()) == flowing


def test_a_long_source_line_is_cut_around_its_mark():
    r = run_lrlint("check", "examples/scripts/train_imagenet.py", cwd=ROOT, env={"COLUMNS": "80"})
    lines = r.stdout.splitlines()
    i = lines.index(next(line for line in lines if line.startswith("12 | ")))
    # the batch default (col 65) and its carets stay in view; the line's tail is cut with an ellipsis
    assert lines[i] == '12 |     parser.add_argument("-b", "--batch-size", type=int, default=1024, help\u2026'
    assert lines[i + 1] == "   |" + " " * 65 + "^^^^"


def test_readme_sample_is_what_lrlint_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("    $ lrlint check examples/huggingface/sft_llama.yaml\n", 1)[1].splitlines()
    block = []
    for line in after:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    shown = "\n".join(block).strip("\n") + "\n"
    r = run_lrlint("check", "examples/huggingface/sft_llama.yaml", cwd=ROOT)
    assert r.stdout == shown


def test_headlines_and_summary_say_the_severity():
    r = run_lrlint("check", "--output-format", "concise", "examples/", cwd=ROOT)
    heads = [line.split(": ", 2)[1] for line in r.stdout.splitlines() if ": LR" in line]
    assert heads == [
        "LR001 [*] error",  # detectron2: x4
        "LR006 warning",
        "LR006 warning",
        "LR001 [*] error",  # huggingface
        "LR001 [*] error",  # lightning
        "LR001 error",  # lightning_cli: an unsafe fix, not marked without --unsafe-fixes
        "LR001 [*] error",  # mmdetection
        "LR001 [*] error",  # scripts
    ]
    assert r.stdout.splitlines()[-3:] == [
        "Found 6 errors and 2 warnings.",
        "[*] 5 fixable with the `--fix` option.",
        "3 hidden fixes can be enabled with the `--unsafe-fixes` option.",
    ]
    full = run_lrlint("check", "examples/detectron2", cwd=ROOT).stdout
    assert full.splitlines()[0].startswith("LR001 [*] error: effective batch 16 -> 64 (x4)")
    assert "\nLR006 warning: effective batch 16 -> 64 (x4) but the step-based SOLVER.MAX_ITER stays 90000" in full
    gh = run_lrlint("check", "--output-format", "github", "examples/", cwd=ROOT).stdout
    assert gh.splitlines()[-1].startswith("lrlint: 6 errors and 2 warnings in 6 files (")


def test_json_paths_are_absolute_everywhere():
    r = run_lrlint("check", "--output-format", "json", "examples/lightning_cli", cwd=ROOT)
    [f] = json.loads(r.stdout)
    assert f["filename"] == str(ROOT / "examples/lightning_cli/data.yaml")
    assert [x["filename"] for x in f["related"]] == [
        str(ROOT / "examples/lightning_cli/trainer.yaml"),
        str(ROOT / "examples/lightning_cli/model.yaml"),
        str(ROOT / "examples/lightning_cli/model.yaml"),
    ]
    # the note names the file that states the reference, not the file the finding is in
    assert "compared with inline reference at examples/lightning_cli/model.yaml:1 (batch 256, lr 0.1)" in f["notes"]


@pytest.mark.parametrize(
    "text, width, expected",
    [
        ("a bb ccc", 80, ["> a bb ccc"]),
        ("a bb ccc dddd", 8, ["> a bb", "  ccc", "  dddd"]),
        ("averyveryverylongword x", 8, ["> averyveryverylongword", "  x"]),  # a word longer than a line stays whole
        ("a bb", None, ["> a bb"]),  # piped: never wrapped
    ],
)
def test_wrap_breaks_between_words(text, width, expected):
    assert wrap(text, width, "> ") == expected


def test_quiet_keeps_the_format_and_drops_the_summary_silent_prints_nothing(tmp_path):
    (tmp_path / "a.yaml").write_text("# lrlint: reference batch=256 lr=0.1\nbatch_size: 512\nlr: 0.1\noptimizer: sgd\n")
    full = run_lrlint("check", "a.yaml", cwd=tmp_path)
    quiet = run_lrlint("check", "-q", "a.yaml", cwd=tmp_path)
    assert quiet.returncode == 1
    assert quiet.stdout.startswith("LR001 [*] error: effective batch 256 -> 512 (x2) but lr stays 0.1; expected 0.2")
    assert full.stdout == quiet.stdout + "Found 1 error.\n[*] 1 fixable with the `--fix` option.\n"
    assert quiet.stderr == ""  # no notes either (this one would be "not inside a git work tree")
    concise = run_lrlint("check", "-q", "--output-format", "concise", "a.yaml", cwd=tmp_path)
    assert (
        concise.stdout == "a.yaml:2:13: LR001 [*] error: effective batch 256 -> 512 (x2) but lr stays 0.1; "
        "expected 0.2 (linear rule)\n"
    )
    silent = run_lrlint("check", "-s", "a.yaml", cwd=tmp_path)
    assert (silent.returncode, silent.stdout, silent.stderr) == (1, "", "")
    assert run_lrlint("check", "--silent", "--exit-zero", "a.yaml", cwd=tmp_path).returncode == 0
