"""One bad number never aborts a run: a value that is not a positive finite number (NaN, infinities, zero,
negatives, subnormals, integers past a float or past Python's digit limit, JSON NaN/Infinity, a bad !!bool)
is unknown to the checks and --explain says why, or it is an LR9xx finding; and every per-file step runs
under one guard, so an unexpected exception is an LR907 finding for that file, never the end of the run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import run_lrlint

from lrlint import api, guard, numbers
from lrlint.fix import loop as fix_loop
from lrlint.settings import Settings
from lrlint.values import Value

REF = "# lrlint: reference batch=256 lr=0.1\n"
YAML = "{ref}train:\n  batch_size: {batch}\n  optimizer:\n    name: sgd\n    lr: {lr}\n"
GOOD = YAML.format(ref=REF, batch=512, lr=0.1)
BIG = "7" * 5000
BAD_NUMBERS = [".inf", ".nan", "1e999", "-1e999", "5e-324", "1e-400", "-0", "0", "-1", "4" * 400, BIG]


def bad_files() -> dict[str, str]:
    files = {}
    for i, v in enumerate(BAD_NUMBERS):
        files[f"bad_batch_{i}.yaml"] = YAML.format(ref=REF, batch=v, lr=0.1)
        files[f"bad_lr_{i}.yaml"] = YAML.format(ref=REF, batch=512, lr=v)
    js = '{{"train": {{"batch_size": {b}, "optimizer": {{"name": "sgd", "lr": {lr}}}}}}}'
    files["nan.json"] = js.format(b=512, lr="NaN")
    files["inf.json"] = js.format(b="Infinity", lr=0.1)
    files["minus_inf.json"] = js.format(b="-Infinity", lr=0.1)
    files["big.json"] = js.format(b=BIG, lr=0.1)
    files["maybe.yaml"] = "train:\n  batch_size: 512\n  optimizer:\n    name: sgd\n    learning_rate: !!bool maybe\n"
    py = REF + "batch_size = {b}\nlr = {lr}\nopt = torch.optim.SGD(model.parameters(), lr=lr)\n"
    py += "loader = DataLoader(ds, batch_size=batch_size)\n"
    files["inf_lr.py"] = py.format(b=512, lr="1e999")
    files["huge_batch.py"] = py.format(b="10**400", lr=0.1)
    files["zero_lr.py"] = py.format(b=512, lr=0)
    for i, ref in enumerate(["batch=0 lr=0.1", "batch=256 lr=inf", "batch=1e999 lr=0.1"]):
        files[f"bad_ref_{i}.yaml"] = YAML.format(ref=f"# lrlint: reference {ref}\n", batch=512, lr=0.1)
    return files


def test_every_bad_number_in_one_fifty_file_run(tmp_path):
    files = bad_files()
    good = [f"good_{i:02}.yaml" for i in range(50 - len(files))]
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name in good:
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    r = run_lrlint("check", "--isolated", "--output-format", "json", ".", cwd=tmp_path, timeout=120)
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1, r.stdout + r.stderr
    found = sorted((f["filename"].rsplit("/", 1)[-1], f["code"], f["location"]["row"]) for f in json.loads(r.stdout))
    assert len(files) + len(good) == 50
    assert found == sorted(
        [(name, "LR001", 3) for name in good]
        + [
            ("bad_batch_10.yaml", "LR905", 3),  # 5,000 digits: past Python's integer conversion
            ("bad_lr_10.yaml", "LR905", 6),
            ("big.json", "LR905", 1),
            ("maybe.yaml", "LR901", 5),  # !!bool maybe: not a valid !!bool, value skipped
        ]
    )
    messages = {f["filename"].rsplit("/", 1)[-1]: f["message"] for f in json.loads(r.stdout)}
    assert messages["bad_batch_10.yaml"] == "an integer of 5000 characters is past what lrlint reads; value skipped"
    assert messages["maybe.yaml"] == "'maybe' is not a valid !!bool; value skipped"


@pytest.mark.parametrize(
    ("batch", "lr", "why"),
    [
        (".inf", "0.1", "train.batch_size = .inf is infinite: the checks cannot compute with it"),
        (".nan", "0.1", "train.batch_size = .nan is not a number (NaN): the checks cannot compute with it"),
        ("0", "0.1", "train.batch_size = 0 is zero: the checks cannot compute with it"),
        ("-1", "0.1", "train.batch_size = -1 is negative: the checks cannot compute with it"),
        ("5e-324", "0.1", "train.batch_size = 5e-324 is below 1e-30: the checks cannot compute with it"),
        (
            "4" * 400,
            "0.1",
            "train.batch_size = 44444444444444444444...<400 characters> is past 1e30: the checks "
            "cannot compute with it",
        ),
        ("512", "1e999", "train.optimizer.lr = 1e999 is infinite: the checks cannot compute with it"),
        ("512", "-0", "train.optimizer.lr = -0 is zero: the checks cannot compute with it"),
    ],
)
def test_explain_says_why_a_number_is_not_used(tmp_path, batch, lr, why):
    (tmp_path / "c.yaml").write_text(YAML.format(ref=REF, batch=batch, lr=lr), encoding="utf-8")
    r = run_lrlint("check", "--isolated", "--explain", "--output-format", "concise", "c.yaml", cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("All checks passed!")
    assert f"not compared: {why}" in r.stdout


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("batch=0 lr=0.1", "batch=0 is zero"),
        ("batch=256 lr=inf", "lr=inf is infinite"),
        ("batch=-5", "batch=-5 is negative"),
    ],
)
def test_a_declared_reference_with_a_bad_number_is_not_used_and_explained(tmp_path, ref, why):
    (tmp_path / "c.yaml").write_text(YAML.format(ref=f"# lrlint: reference {ref}\n", batch=512, lr=0.1))
    r = run_lrlint("check", "--isolated", "--explain", "--output-format", "concise", "c.yaml", cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"not compared: inline reference at c.yaml:1 not used: {why}; no reference" in r.stdout


def test_unusable_and_value_number():
    assert [numbers.unusable(x) for x in (0.1, 1e-30, 1e30, 512.0)] == ["", "", "", ""]
    assert numbers.unusable(math.nan) == "not a number (NaN)"
    assert numbers.unusable(-math.inf) == "infinite"
    assert numbers.unusable(-0.0) == "zero"
    assert numbers.unusable(-3.0) == "negative"
    assert numbers.unusable(5e-324) == "below 1e-30"
    assert numbers.unusable(1e31) == "past 1e30"
    assert Value("k", 10**400, None).number is None
    assert Value("k", 10**400, None).float_value == math.inf
    assert Value("k", -(10**400), None).float_value == -math.inf
    assert Value("k", "1e999", None).number is None
    assert Value("k", "1e-5", None).number == 1e-5
    assert numbers.plain(10**400) == "inf" and numbers.plain(math.nan) == "nan"


# --- the guard: an unexpected exception in one file is an LR907 finding for that file ------------------


def _tree(tmp_path: Path) -> None:
    for name in ("a.yaml", "boom.yaml", "c.yaml"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")


def _crash_on_boom(monkeypatch):
    real = api.Engine.check_parsed

    def check_parsed(self, path, parsed, old, result):
        if path.endswith("boom.yaml"):
            raise ZeroDivisionError("float division by zero")
        return real(self, path, parsed, old, result)

    monkeypatch.setattr(api.Engine, "check_parsed", check_parsed)


def test_an_unexpected_exception_is_lr907_for_that_file_and_the_run_goes_on(tmp_path, monkeypatch):
    _tree(tmp_path)
    _crash_on_boom(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRLINT_DEBUG", raising=False)
    result = api.check_paths(["."], Settings(), base=None)
    found = sorted((f.span.path, f.code, f.span.line, f.message) for f in result.findings)
    assert [(p, c, line) for p, c, line, _m in found] == [
        ("a.yaml", "LR001", 3),
        ("boom.yaml", "LR907", 1),
        ("c.yaml", "LR001", 3),
    ]
    assert found[1][3] == (
        "internal error while checking this file: ZeroDivisionError: float division by zero; "
        "please report it (LRLINT_DEBUG=1 shows where)"
    )
    monkeypatch.setenv("LRLINT_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        api.check_paths(["."], Settings(), base=None)


def test_a_usage_error_still_stops_the_run(tmp_path, monkeypatch):
    _tree(tmp_path)

    def check_file(self, target, result):
        raise api.UsageError("--base nope: not a revision")

    monkeypatch.setattr(api.Engine, "check_file", check_file)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(api.UsageError):
        api.check_paths(["."], Settings(), base=None)


def test_fix_leaves_the_file_it_fails_on_and_fixes_the_others(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRLINT_DEBUG", raising=False)
    result = api.check_paths(["."], Settings(), base=None, keep_parsed=True)
    real = fix_loop.apply_edits

    def apply_edits(data, edits, encoding="utf-8"):
        if edits[0].span.path.endswith("boom.yaml"):
            raise KeyError("x")
        return real(data, edits, encoding)

    monkeypatch.setattr(fix_loop, "apply_edits", apply_edits)
    out = fix_loop.apply(result, Settings())
    assert (tmp_path / "boom.yaml").read_text() == GOOD
    assert (tmp_path / "a.yaml").read_text() == GOOD.replace("lr: 0.1", "lr: 0.2")
    assert (tmp_path / "c.yaml").read_text() == GOOD.replace("lr: 0.1", "lr: 0.2")
    assert out.problems == ["boom.yaml: not fixed: internal error while fixing this file: KeyError: 'x'"]
    assert sorted(out.fixed) == ["a.yaml", "c.yaml"]


def test_fix_does_not_write_a_file_whose_recheck_crashed(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRLINT_DEBUG", raising=False)
    result = api.check_paths(["."], Settings(), base=None, keep_parsed=True)
    _crash_on_boom(monkeypatch)  # the re-check of the fixed boom.yaml fails
    out = fix_loop.apply(result, Settings())
    assert (tmp_path / "boom.yaml").read_text() == GOOD
    assert (tmp_path / "a.yaml").read_text() == GOOD.replace("lr: 0.1", "lr: 0.2")
    assert out.problems == [
        "boom.yaml: fixes not applied: the fixed file could not be re-checked (internal error while checking this "
        "file: ZeroDivisionError: float division by zero; please report it (LRLINT_DEBUG=1 shows where))"
    ]


def test_describe_cuts_long_messages():
    assert guard.describe(ValueError("x" * 1000)) == "ValueError: " + "x" * guard.MAX_MESSAGE + "..."
    assert guard.describe(KeyError()) == "KeyError"


@pytest.mark.parametrize("steps", ["0", "-5", ".inf", "(1000, " + "7" * 5000 + ")"])
def test_a_schedule_length_that_is_no_step_count_is_not_rescaled(tmp_path, steps):
    """Zero warmup iterations is no warmup: never 'stays 0; expected 1'."""
    (tmp_path / "Base.yaml").write_text(
        "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: 16\n  BASE_LR: 0.02\n"
        f"  WARMUP_ITERS: {steps}\n"
    )
    (tmp_path / "child.yaml").write_text('_BASE_: "Base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n')
    r = run_lrlint("check", "--isolated", "--output-format", "concise", "child.yaml", cwd=tmp_path, timeout=60)
    assert "internal error" not in r.stderr, r.stderr
    assert [line.split(": ")[1].split()[0] for line in r.stdout.splitlines() if ": LR" in line] == ["LR001"]
