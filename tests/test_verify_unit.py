"""lrlint verify without training: parsing, candidates, the metric and verdict rule, usage errors,
the missing-extra message, and that lrlint check never imports torch."""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from lrlint.settings import Settings, Thresholds
from lrlint.verify import MISSING_EXTRA, TORCH_CPU_HINT
from lrlint.verify import cli as vcli
from lrlint.verify import question as Q
from lrlint.verify import verdict as V
from lrlint.verify.cli import add_arguments, main


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="lrlint verify")
    add_arguments(p)
    return p.parse_args(list(argv))


# --------------------------------------------------------------------------- parsing and the question


def test_parse_pair_accepts_old_new_and_rejects_junk():
    assert Q.parse_pair("8:56", "--batch", integer=True) == (8.0, 56.0)
    assert Q.parse_pair("0.01", "--lr", second_optional=True) == (0.01, None)
    assert Q.parse_pair("1e-3:2e-3", "--lr", second_optional=True) == (1e-3, 2e-3)
    for bad in ("8", "8:", "8:x", "8:56:2", "0:8", "-8:16", "8.5:16", "nan:8"):
        with pytest.raises(Q.UsageError):
            Q.parse_pair(bad, "--batch", integer=True)


def sgd_question(k: float, **kw) -> Q.Question:
    return Q.Question(
        8,
        8 * k,
        kw.pop("lr_old", 0.01),
        kw.pop("lr_suggested", None),
        kw.pop("policy", "linear"),
        Q.choose_optimizer("SGD", "sgd", kw.pop("momentum", None)),
        **kw,
    )


def test_candidates_are_reference_suggested_unchanged_and_the_other_rule():
    roles = [(c.role, round(c.factor, 6)) for c in sgd_question(4).candidates()]
    assert roles == [("reference", 1.0), ("suggested", 4.0), ("unchanged", 1.0), ("sqrt", 2.0)]
    adam = Q.Question(8, 32, 1e-3, None, "sqrt", Q.choose_optimizer("AdamW", "adaptive", None))
    assert [(c.role, round(c.factor, 6)) for c in adam.candidates()] == [
        ("reference", 1.0),
        ("suggested", 2.0),
        ("unchanged", 1.0),
        ("linear", 4.0),
    ]


def test_lr002_current_lr_is_a_candidate_and_policy_none_is_judged_against_a_scaled_lr():
    # LR002: user scaled 8 -> 32 with lr x8 (wrong); suggestion linear x4
    q = sgd_question(4, lr_suggested=0.04, lr_current=0.08)
    assert [c.role for c in q.candidates()] == ["reference", "suggested", "unchanged", "sqrt", "current"]
    assert q.alternative_role() == "unchanged"
    keep = Q.Question(8, 32, 1e-3, None, "none", Q.choose_optimizer("Adam", "adaptive", None), lr_current=4e-3)
    roles = [c.role for c in keep.candidates()]
    assert "unchanged" not in roles  # the suggestion *is* the unchanged lr
    assert keep.alternative_role() == "linear"  # the user's lr x4 is the linear rule
    assert [c.label for c in keep.candidates()][-2:] == ["linear rule = your lr", "sqrt rule"]


def test_exponent_transfers_to_the_proxy_batch():
    q = Q.Question(10, 25, 0.1, 0.25, "linear", Q.choose_optimizer("SGD", "sgd", None))  # k = 2.5
    sug = q.candidates()[1]
    assert sug.exponent == pytest.approx(1.0)
    assert Q.proxy_batches(q.k) == (8, 20)
    assert sug.proxy_factor(20 / 8) == pytest.approx(2.5)
    q3 = Q.Question(8, 8 / 3, 0.1, None, "sqrt", Q.choose_optimizer("Adam", "adaptive", None))
    b0, b1 = Q.proxy_batches(q3.k)
    assert (b0, b1) == (8, 3)
    assert q3.candidates()[1].proxy_factor(b1 / b0) == pytest.approx((3 / 8) ** 0.5)


TOL = Thresholds().batch_tolerance


def test_k_range_of_the_default_proxy():
    assert Q.check_k(sgd_question(32), TOL, proxy=True, explicit_proxy_lr=False) is None
    assert Q.check_k(sgd_question(0.25), TOL, proxy=True, explicit_proxy_lr=False) is None
    assert "out of range" in Q.check_k(sgd_question(64), TOL, proxy=True, explicit_proxy_lr=False)
    assert "--proxy-lr" in Q.check_k(sgd_question(64), TOL, proxy=True, explicit_proxy_lr=False)
    assert Q.check_k(sgd_question(64), TOL, proxy=True, explicit_proxy_lr=True) is None
    assert "out of range" in Q.check_k(sgd_question(128), TOL, proxy=True, explicit_proxy_lr=True)
    assert "out of range" in Q.check_k(sgd_question(0.125), TOL, proxy=True, explicit_proxy_lr=False)
    assert Q.check_k(sgd_question(128), TOL, proxy=False, explicit_proxy_lr=False) is None  # your own model
    assert "no batch change" in Q.check_k(sgd_question(1.05), TOL, proxy=True, explicit_proxy_lr=False)


@pytest.mark.parametrize(
    "display,family,torch_name,stand_in",
    [
        ("SGD", "sgd", "SGD", False),
        ("LARS", "sgd", "SGD", True),
        ("AdamW", "adaptive", "AdamW", False),
        ("Adam", "adaptive", "Adam", False),
        ("RMSprop", "adaptive", "RMSprop", False),
        ("Adagrad", "adaptive", "Adagrad", False),
        ("LAMB", "adaptive", "AdamW", True),
        ("Lion", "sign", "AdamW", True),
        ("mystery_opt", "unknown", "SGD", True),
        ("paged_adamw_8bit", "adaptive", "AdamW", False),  # a config's spelling: the table's lookup finds AdamW
        ("AdamWScheduleFree", "sign", "AdamW", True),  # schedule-free, not plain AdamW
        ("", "sgd", "SGD", False),
    ],
)
def test_optimizer_mapping(display, family, torch_name, stand_in):
    c = Q.choose_optimizer(display, family, 0.9)
    assert c.torch_name == torch_name
    assert bool(c.stand_in) == stand_in
    if torch_name == "SGD":
        assert c.kwargs["momentum"] == 0.9
        assert c.proxy_lr == 0.01
    assert Q.choose_optimizer("SGD", "sgd", None).kwargs == {"momentum": 0.0}
    assert Q.choose_optimizer("AdamW", "adaptive", None).proxy_lr == 1e-3
    # the torch class and the proxy lr come from rules/optimizers.yaml
    from lrlint.profiles import optimizer_table

    rms = optimizer_table().torch_classes()["RMSprop"]
    assert (Q.choose_optimizer("rmsprop_tf", "adaptive", None).proxy_lr, rms.proxy_lr) == (1e-3, 1e-3)


def findings_of(tmp_path, files: dict[str, str], settings: Settings | None = None) -> dict[str, object]:
    """The LR001/LR002 findings lrlint check reports for ``files``, by file name."""
    from lrlint import api

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = api.check_paths([str(tmp_path)], settings or Settings())
    return {Path(f.span.path).name: f for f in result.findings if f.code in ("LR001", "LR002")}


def test_question_from_an_lr001_and_an_lr002_finding(tmp_path):
    found = findings_of(
        tmp_path,
        {
            "sgd.yaml": "# lrlint: reference batch=8 lr=0.001\nbatch_size: 56\nlr: 0.001\noptimizer: sgd\n"
            "momentum: 0.9\n",
            "adamw_x4.yaml": "# lrlint: reference batch=256 lr=1e-4\nbatch_size: 1024\nlr: 4e-4\noptimizer: adamw\n",
            "hf.yaml": "# lrlint: reference batch=8 lr=1e-4\nper_device_train_batch_size: 8\n"
            "gradient_accumulation_steps: 4\nlearning_rate: 1e-4\noptim: adamw_torch\n",
        },
        Settings.from_table({"policy": {"adaptive": "sqrt"}}),  # lr x4 at batch x4 is then an LR002
    )
    q = Q.from_finding(found["sgd.yaml"])
    assert (q.code, q.k, q.suggested_factor, q.lr_old, q.lr_current, q.policy) == (
        "LR001",
        7.0,
        7.0,
        0.001,
        None,
        "linear",
    )
    assert q.origin == f"{tmp_path / 'sgd.yaml'}:2" and q.optimizer.kwargs == {"momentum": 0.9}
    q2 = Q.from_finding(found["adamw_x4.yaml"])
    assert (q2.code, q2.lr_current, q2.suggested_factor, q2.optimizer.torch_name) == ("LR002", 4e-4, 2.0, "AdamW")
    # the user's lr equals the linear rule: no separate "current" candidate, the linear one stands for it
    assert [c.role for c in q2.candidates()] == ["reference", "suggested", "unchanged", "linear"]
    q3 = Q.from_finding(found["hf.yaml"])
    assert (q3.batch_old, q3.batch_new, q3.accum_new, q3.optimizer.torch_name) == (8.0, 32.0, 4, "AdamW")


def test_a_finding_without_a_batch_change_is_not_a_question(tmp_path):
    found = findings_of(
        tmp_path,
        {
            "train.py": "import torch\nbatch_size = 512\nlr = 0.1 * (batch_size / 256) ** 2\n"
            "optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9)\n"
        },
    )
    f = found["train.py"]
    assert f.code == "LR002" and type(f.data).__name__ == "ExpressionRuleData"  # an lr expression's rule
    with pytest.raises(Q.UsageError, match=r"^finding LR002 names no batch change with its lrs: nothing to train$"):
        Q.from_finding(f)


def test_verify_reads_the_linters_batch_tolerance_and_policy(capsys):
    settings = Settings.from_table({"thresholds": {"batch-tolerance": [0.5, 1.6]}, "policy": {"sgd": "sqrt"}})
    assert main(parse("--batch", "8:12", "--lr", "0.01"), settings) == 2
    assert capsys.readouterr().err == (
        "lrlint verify: error: batch factor x1.5 is no batch change (within 0.5..1.6): nothing to verify\n"
    )
    assert main(parse("--batch", "100:110", "--lr", "0.01"), None) == 2  # the linter's default band, 0.9..1.11
    assert capsys.readouterr().err.endswith("x1.1 is no batch change (within 0.9..1.11): nothing to verify\n")
    q = vcli._direct_question(parse("--batch", "8:32", "--lr", "0.01"), settings)
    assert (q.policy, q.suggested_factor) == ("sqrt", 2.0)  # [tool.lrlint.policy] sgd = "sqrt"
    q = vcli._direct_question(parse("--batch", "8:32", "--optimizer", "adamw"), Settings())
    assert (q.policy, q.optimizer.family, q.optimizer.torch_name) == ("sqrt", "adaptive", "AdamW")
    mixed = Settings.from_table({"policy": {"adaptive": "sqrt-to-linear"}})
    assert vcli._direct_question(parse("--batch", "8:32", "--optimizer", "adam"), mixed).policy == "sqrt"


# --------------------------------------------------------------------------- metric and verdict


def test_interpolate_and_mismatch():
    assert V.interpolate([0, 10, 20], [2.0, 1.0, 0.0], [5, 10, 15, 25]) == [1.5, 1.0, 0.5, 0.0]
    assert V.mismatch([1.0, 1.0], [1.0, 1.0]) == 0.0
    assert V.mismatch([2.0, 1.0], [1.0, 1.0]) == pytest.approx(0.5)
    assert V.capped([1.0, math.nan, math.inf, 9.0], 2.5) == [1.0, 2.5, 2.5, 2.5]
    assert V.seed_floor([[1.0, 1.0]]) is None
    assert V.seed_floor([[1.0, 1.0], [1.2, 1.2], [1.0, 1.0]]) == pytest.approx((0.2 + 0 + 1 / 6) / 3)


def test_verdict_rule():
    assert V.decide([0.01, 0.02, 0.03], [0.2, 0.2, 0.2], floor=0.03).verdict == V.PASS
    # better on every seed but not by half: inconclusive
    v = V.decide([0.15, 0.12, 0.14], [0.2, 0.2, 0.2], floor=0.03)
    assert v.verdict == V.INCONCLUSIVE and "0.5" in v.reason
    # better on 2 of 3 seeds
    assert V.decide([0.01, 0.3, 0.01], [0.2, 0.2, 0.2], floor=0.03).verdict == V.INCONCLUSIVE
    # never better: fail, and the divergence is named
    v = V.decide([6.0, 6.1, 6.8], [5.4, 5.3, 6.4], floor=0.2, sug_diverged=2)
    assert v.verdict == V.FAIL and "diverged on 2/3" in v.reason
    # unchanged lr within (twice) the seed noise: the run cannot tell
    v = V.decide([0.001, 0.001, 0.001], [0.014, 0.015, 0.013], floor=0.01)
    assert v.verdict == V.INCONCLUSIVE and "noise" in v.reason
    assert V.decide([0.001, 0.001, 0.001], [0.021, 0.022, 0.023], floor=0.01).verdict == V.PASS
    assert V.decide([0.001], [0.014], floor=None).verdict == V.PASS  # one seed: no floor to compare with


# --------------------------------------------------------------------------- CLI without training


def test_usage_errors_exit_2(capsys):
    cases = [
        ((), "give config files"),
        (("--batch", "8-56"), "OLD:NEW"),
        (("--batch", "8:512", "--lr", "0.05"), "out of range"),  # x64 on the default proxy
        (("--batch", "8:8"), "no batch change"),
        (("--batch", "8:16", "--proxy-lr", "fast"), "--proxy-lr"),
        (("--batch", "8:16", "--seeds", "0"), "--seeds"),
        (("cfg.yaml", "--batch", "8:16"), "not both"),
        (("cfg.yaml", "--lr", "0.1"), "direct question"),
    ]
    for argv, msg in cases:
        assert main(parse(*argv), None) == 2, argv
        err = capsys.readouterr().err
        assert msg in err, (argv, err)


def test_missing_extra_gives_the_install_command(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # what an environment without it looks like to find_spec
    assert main(parse("--batch", "8:16", "--lr", "0.01"), None) == 2
    assert capsys.readouterr().err == MISSING_EXTRA + "\n"  # torch is there: no torch install hint
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(parse("--batch", "8:16", "--lr", "0.01"), None) == 2
    assert capsys.readouterr().err == f"{MISSING_EXTRA}\n{TORCH_CPU_HINT}\n"
    assert MISSING_EXTRA == 'lrlint verify needs PyTorch and scikit-learn: pip install "lrlint[verify]"'


def test_broken_torch_import_gives_the_install_command(tmp_path):
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('no torch here')\n")
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}"}
    p = subprocess.run(
        [sys.executable, "-m", "lrlint", "verify", "--batch", "8:16"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
        cwd=tmp_path,
    )
    assert p.returncode == 2, p.stderr
    assert MISSING_EXTRA in p.stderr


def test_check_and_verify_modules_do_not_import_torch(tmp_path):
    cfg = tmp_path / "sft.yaml"
    cfg.write_text("# lrlint: reference batch=8 lr=0.01\nbatch_size: 16\nlr: 0.01\noptimizer: sgd\n")
    code = (
        "import sys, contextlib, io; import lrlint.cli, lrlint.verify, lrlint.verify.cli, lrlint.verify.question, "
        "lrlint.verify.verdict; lrlint.cli.build_parser(); "
        "f = io.StringIO(); ctx = contextlib.redirect_stdout(f); ctx.__enter__(); "
        f"lrlint.cli.main(['check', {str(cfg)!r}]); "
        "ctx.__exit__(None, None, None); "
        "bad = [m for m in ('torch', 'sklearn', 'matplotlib', 'numpy') if m in sys.modules]; print(bad)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_verify_help_via_the_real_cli():
    p = subprocess.run(
        [sys.executable, "-m", "lrlint", "verify", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert p.returncode == 0, p.stderr
    for opt in ("--batch", "--lr", "--model", "--nproc", "--noise-scale", "--plot", "--proxy-lr", "--output-format"):
        assert opt in p.stdout


def test_stratified_split_is_fixed_and_stratified():
    np = pytest.importorskip("numpy")
    pytest.importorskip("sklearn")
    from lrlint.verify import proxy

    x, y = proxy._digits_arrays()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    tr, va = proxy.stratified_split(y, 360, 0)
    assert len(tr) == 1437 and len(va) == 360 and not set(tr) & set(va)
    share = np.bincount(y[va], minlength=10) / np.bincount(y, minlength=10)
    assert share.min() > 0.19 and share.max() < 0.21
    tr2, va2 = proxy.stratified_split(y, 360, 0)
    assert (va == va2).all()


def test_digits_file_is_the_data_load_digits_returns():
    np = pytest.importorskip("numpy")
    datasets = pytest.importorskip("sklearn.datasets")
    from lrlint.verify import proxy

    x, y = proxy._digits_arrays()
    d = datasets.load_digits()
    assert np.array_equal(x, d.data) and np.array_equal(y, d.target)
