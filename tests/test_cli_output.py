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


# -- fingerprints ---------------------------------------------------------------------------------


def test_fingerprints_are_unique_over_the_examples():
    gitlab = json.loads(run_lrlint("check", "--output-format", "gitlab", "examples/", cwd=ROOT).stdout)
    assert len(gitlab) == 8
    assert len({i["fingerprint"] for i in gitlab}) == 8  # GitLab keeps one issue per fingerprint
    sarif = json.loads(run_lrlint("check", "--output-format", "sarif", "examples/", cwd=ROOT).stdout)
    results = sarif["runs"][0]["results"]
    assert len({r["partialFingerprints"]["lrlintFinding/v1"] for r in results}) == len(results) == 8
    # the two LR006 findings of one line (SOLVER.MAX_ITER and SOLVER.STEPS) are two issues
    lr006 = [i for i in gitlab if i["check_name"].startswith("LR006")]
    assert [i["location"]["positions"]["begin"]["line"] for i in lr006] == [7, 7]
    assert lr006[0]["fingerprint"] != lr006[1]["fingerprint"]
    # SARIF and GitLab agree: one identity per finding whatever the format
    assert [i["fingerprint"] for i in gitlab] == [r["partialFingerprints"]["lrlintFinding/v1"] for r in results]


D2_BASE = "SOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n  STEPS: (60000, 80000)\n  MAX_ITER: 90000\n"
D2_CHILD = '{pad}_BASE_: "base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n'


def test_fingerprints_are_stable_across_runs_and_line_moves(tmp_path):
    (tmp_path / "base.yaml").write_text(D2_BASE)
    child = tmp_path / "child.yaml"

    def prints():
        r = run_lrlint("check", "--output-format", "gitlab", "child.yaml", cwd=tmp_path)
        return [
            (i["check_name"], i["location"]["positions"]["begin"]["line"], i["fingerprint"])
            for i in json.loads(r.stdout)
        ]

    child.write_text(D2_CHILD.format(pad=""))
    first = prints()
    assert [(name, line) for name, line, _ in first] == [
        ("LR001 unscaled-lr", 3),
        ("LR006 schedule-not-rescaled", 3),
        ("LR006 schedule-not-rescaled", 3),
    ]
    assert len({fp for _, _, fp in first}) == 3
    assert prints() == first  # another run
    child.write_text(D2_CHILD.format(pad="# moved down by a comment\n\n"))
    moved = prints()
    assert [line for _, line, _ in moved] == [5, 5, 5]
    assert [fp for _, _, fp in moved] == [fp for _, _, fp in first]


def test_findings_identical_in_every_part_still_get_their_own_fingerprint():
    import io

    from lrlint.findings import ERROR, Finding
    from lrlint.report import ReportContext
    from lrlint.report._common import fingerprint, fingerprints
    from lrlint.results import Result
    from lrlint.settings import Settings
    from lrlint.spans import Span

    span = Span("a.yaml", 0, 1, 1, 1, 1, 2)
    same = [Finding("LR005", "beyond-linear-regime", m, ERROR, span) for m in ("one recipe", "another recipe")]
    ctx = ReportContext(same, Result(), Settings(), io.StringIO())
    first, second = fingerprints(ctx)
    assert first == fingerprint(same[0], ctx) and second != first
    assert fingerprints(ctx) == [first, second]  # deterministic: the report's order decides the rank


# -- messages that blame the right place ----------------------------------------------------------


def test_a_bad_rule_code_on_the_command_line_is_the_flags_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.lrlint]\n")
    r = run_lrlint("check", "--select", "XX1", ".", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("usage: lrlint check ")
    assert r.stderr.splitlines()[-1] == (
        "lrlint check: error: argument --select: 'XX1' selects no rule (a rule code or prefix: LR001, LR002, "
        "LR003, LR004, LR005, LR006, LR007, LR008, LR100, LR901, LR902, LR903, LR904, LR905, LR906, LR907, "
        "LR0, LR1, LR9 or ALL)"
    )
    assert "pyproject.toml" not in r.stderr
    ignored = run_lrlint("check", "--ignore", "lr9,LR00", ".", cwd=tmp_path)  # prefixes, any case
    assert ignored.returncode == 0, ignored.stderr


def test_an_unknown_settings_key_is_named_with_the_valid_ones(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\nselec = ["LR0"]\n')
    r = run_lrlint("check", ".", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == (
        f"lrlint: error: {tmp_path / 'pyproject.toml'}: tool.lrlint.selec: unknown key `selec`; did you mean "
        "`select`? (valid keys: select, extend-select, ignore, extend-ignore, per-file-ignores, include, exclude, "
        "extend-exclude, respect-gitignore, base, show-existing, max-file-size, profiles, config-sets, policy, "
        "thresholds, verify, output-format, devices, nodes, show-dependents, runtime-scaling)\n"
    )
