"""The ``lrlint verify`` subcommand: ``add_arguments(parser)`` and ``main(args, settings)``.

Nothing here imports torch, scikit-learn or matplotlib at module level; ``main`` checks that the
``verify`` extra is installed before it imports any of them.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from typing import Any

from lrlint.verify import MISSING_EXTRA, MISSING_PLOT_EXTRA, TORCH_CPU_HINT

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DEFAULT_MAX_SECONDS = 300.0

DESCRIPTION = """\
Check a suggested learning rate with a short PyTorch training run.

With config files, verify each LR001/LR002 finding (against --base, as `lrlint check` does);
or ask a direct question with --batch OLD:NEW. Per seed, the reference setup and each candidate
(suggested lr, unchanged lr, the other rule, your current lr) train from the same initial weights,
and their val-loss curves are compared at matched samples seen. Verdict: PASS (the suggested lr
reproduces the reference curve, the unchanged lr does not), FAIL (the suggested lr does no better
than the unchanged one), INCONCLUSIVE. Exit 0 on PASS, 1 on FAIL or INCONCLUSIVE, 2 on usage errors.

Default: a tiny proxy (scikit-learn's 8x8 digits, a one-conv CNN, reference batch 8) with your
optimizer type and the batch factor; your absolute lr does not transfer to it. With --model
pkg.module:factory it trains your own model at your real lrs.

verify imports the model factory named in the repository's settings ([tool.lrlint.verify]
model): never run it on an untrusted checkout. In CI (the CI environment variable set, e.g.
CI=true) such a factory is imported only with --trust-settings-model; --model on the command
line is always used."""


def _add(parser: argparse.ArgumentParser | Any, *flags: str, **kw: Any) -> None:
    """Add an option unless the caller's parser already defines it (e.g. a shared --output-format)."""
    existing = getattr(parser, "_option_string_actions", {})
    if any(f in existing for f in flags):
        return
    parser.add_argument(*flags, **kw)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``verify`` options to ``parser`` (the subcommand's parser)."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    if "paths" not in {a.dest for a in parser._actions}:
        parser.add_argument(
            "paths", nargs="*", metavar="PATH", help="config files or directories: verify their LR001/LR002 findings"
        )
    q = parser.add_argument_group("direct question (instead of PATHs)")
    _add(q, "--batch", metavar="OLD:NEW", help="effective batch before and after, e.g. 8:56")
    _add(
        q,
        "--lr",
        metavar="OLD[:NEW]",
        help="the lr tuned for the old batch; with :NEW, verify that lr instead of the policy's suggestion",
    )
    _add(q, "--optimizer", metavar="NAME", help="optimizer name as in a config (sgd, adamw, lion, ...); default sgd")
    _add(q, "--momentum", type=float, metavar="M", help="SGD momentum (default: the finding's, else 0)")
    _add(
        q,
        "--policy",
        choices=("linear", "sqrt", "none"),
        help="scaling rule to verify (default: the optimizer family's: SGD linear, adaptive sqrt)",
    )
    f = parser.add_argument_group("config files")
    _add(f, "--base", metavar="REV", help="git revision to compare with (as in `lrlint check`)")
    m = parser.add_argument_group("your own model")
    _add(
        m,
        "--model",
        metavar="PKG.MODULE:FACTORY",
        help="train your model instead of the proxy (imports your code; see docs/verify.md for the protocol)",
    )
    _add(
        m,
        "--trust-settings-model",
        action="store_true",
        help="in CI, import the model factory named in the settings file ([tool.lrlint.verify] model); "
        "without it verify refuses to run repository-named code when CI is set",
    )
    _add(m, "--samples", type=int, metavar="N", help="samples seen per run (default: --epochs of the train set)")
    _add(
        m,
        "--max-seconds",
        type=float,
        metavar="S",
        help=f"cap the training time with --model by shrinking the sample budget (default {DEFAULT_MAX_SECONDS:g})",
    )
    _add(
        m,
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="auto (default): cuda when present; [tool.lrlint.verify] device sets the default",
    )
    r = parser.add_argument_group("runs")
    _add(r, "--seeds", type=int, default=3, metavar="N", help="seeds (default 3)")
    _add(r, "--epochs", type=float, default=3.0, metavar="E", help="epochs of the train set per run (default 3)")
    _add(
        r,
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="run each candidate as N-process data-parallel training (torch.distributed; gloo on CPU, nccl on GPU)",
    )
    _add(
        r,
        "--accum",
        type=int,
        metavar="A",
        help="gradient-accumulation steps of the candidates (default: the config's with --nproc, else 1)",
    )
    _add(
        r,
        "--proxy-lr",
        metavar="LR|user",
        help="the proxy's reference lr (default: its own, SGD 0.01, Adam 1e-3); 'user' trains the proxy at your "
        "--lr; allows factors up to x64 (a stability question)",
    )
    _add(
        r,
        "--noise-scale",
        action="store_true",
        help="also estimate the gradient noise scale (critical batch, McCandlish et al. 2018)",
    )
    o = parser.add_argument_group("output")
    _add(o, "--plot", metavar="PNG", help="write the learning curves (matplotlib)")
    _add(o, "--output-format", choices=("text", "json"), default="text", help="text (default) or json")


def _err(msg: str) -> int:
    sys.stderr.write(f"lrlint verify: error: {msg}\n")
    return EXIT_USAGE


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def main(args: argparse.Namespace, settings: Any = None) -> int:
    """Run ``lrlint verify``; returns the exit code."""
    from lrlint.verify.question import RunError, UsageError

    try:
        return _main(args, settings)
    except (UsageError, RunError) as e:
        return _err(str(e))


def _main(args: argparse.Namespace, settings: Any) -> int:
    from lrlint.verify import question as Q
    from lrlint.verify.render import Skipped

    t_start = time.perf_counter()
    paths = list(getattr(args, "paths", None) or [])
    batch = getattr(args, "batch", None)
    fmt = getattr(args, "output_format", None) or "text"
    if fmt not in ("text", "json"):
        raise Q.UsageError(f"--output-format {fmt} is not supported by verify (text or json)")
    if paths and batch:
        raise Q.UsageError("give config files or --batch OLD:NEW, not both")
    if not paths and not batch:
        raise Q.UsageError(
            "give config files to verify their LR001/LR002 findings, or a direct question: "
            "--batch OLD:NEW [--lr LR] [--optimizer NAME]"
        )
    vset = getattr(settings, "verify", None)
    model = _model_spec(args, settings)
    seeds = int(_given(getattr(args, "seeds", None), 3))
    epochs = float(_given(getattr(args, "epochs", None), 3.0))
    if seeds < 1 or seeds > 20:
        raise Q.UsageError("--seeds must be between 1 and 20")
    if not (epochs > 0 and math.isfinite(epochs)):
        raise Q.UsageError("--epochs must be positive")
    proxy_lr = getattr(args, "proxy_lr", None)
    if proxy_lr is not None and proxy_lr != "user":
        try:
            v = float(proxy_lr)
        except ValueError:
            raise Q.UsageError(f"--proxy-lr wants a number or 'user', got {proxy_lr!r}") from None
        if not (v > 0 and math.isfinite(v)):
            raise Q.UsageError("--proxy-lr must be positive")
    nproc = int(_given(getattr(args, "nproc", None), 1))
    accum = getattr(args, "accum", None)
    if nproc < 1 or (accum is not None and accum < 1):
        raise Q.UsageError("--nproc and --accum must be at least 1")
    samples = getattr(args, "samples", None) or getattr(vset, "samples", None)
    if samples is not None and samples < 1:
        raise Q.UsageError("--samples must be positive")
    max_seconds = getattr(args, "max_seconds", None) or getattr(vset, "max_seconds", None)
    if max_seconds is not None and not max_seconds > 0:
        raise Q.UsageError("--max-seconds must be positive")

    # questions (pure Python: usage errors come before the slow imports)
    questions: list[Any] = []
    skipped: list[Skipped] = []
    if batch:
        questions.append(_direct_question(args, settings))
    else:
        for name in ("lr", "optimizer"):
            if getattr(args, name, None) is not None:
                raise Q.UsageError(
                    f"--{name} is for a direct question (--batch); with config files the findings give it"
                )
        questions, skipped = _file_questions(args, settings, paths)
        if not questions and not skipped:
            if fmt == "json":
                from lrlint.verify.render import to_json

                sys.stdout.write(to_json([], []) + "\n")
            else:
                sys.stdout.write("lrlint verify: no LR001/LR002 findings to verify\n")
            return EXIT_PASS
    proxy = not model
    runnable = []
    for q in questions:
        why = Q.check_k(q, proxy=proxy, explicit_proxy_lr=proxy_lr is not None)
        if why is None:
            runnable.append(q)
        elif batch:
            raise Q.UsageError(why)
        else:
            skipped.append(Skipped(q.origin, q.code, q.title(), why))
    if not runnable:
        for s in skipped:
            sys.stderr.write(f"lrlint verify: {s.title}: {s.reason}\n")
        return EXIT_USAGE

    # the extra
    if not _have("torch"):
        sys.stderr.write(f"{MISSING_EXTRA}\n{TORCH_CPU_HINT}\n")
        return EXIT_USAGE
    if not (_have("numpy") and _have("sklearn")):
        sys.stderr.write(MISSING_EXTRA + "\n")
        return EXIT_USAGE
    plot_path = getattr(args, "plot", None)
    if plot_path and not _have("matplotlib"):
        sys.stderr.write(MISSING_PLOT_EXTRA + "\n")
        return EXIT_USAGE
    try:
        import torch  # noqa: F401
    except ImportError as e:
        sys.stderr.write(f"{MISSING_EXTRA}\n{TORCH_CPU_HINT}\n(import torch failed: {e})\n")
        return EXIT_USAGE

    from lrlint.verify import experiment, render

    options = experiment.Options(
        seeds=seeds,
        epochs=epochs,
        samples=samples,
        max_seconds=(max_seconds if max_seconds is not None else (DEFAULT_MAX_SECONDS if model else None)),
        device=_device(args, vset),
        nproc=nproc,
        accum=accum,
        proxy_lr=proxy_lr,
        noise_scale=bool(getattr(args, "noise_scale", False)),
        model=model,
    )
    show = fmt == "text" and sys.stderr.isatty()
    with render.ProgressDisplay(show) as progress:
        results = experiment.run(runnable, options, progress=progress)
    if plot_path:
        from lrlint.verify import plot

        try:
            plot.write(results, plot_path)
        except OSError as e:
            raise Q.UsageError(f"--plot {plot_path}: {e}") from None
    if fmt == "json":
        sys.stdout.write(render.to_json(results, skipped) + "\n")
    else:
        render.print_text(results, skipped, wall=time.perf_counter() - t_start)
        if plot_path:
            sys.stdout.write(f"learning curves written to {plot_path}\n")
    return render.exit_code(results, skipped)


def in_ci() -> bool:
    """Whether the CI environment variable says this is a CI job (GitHub, GitLab and most set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def _shown(path: str | None) -> str:
    if not path:
        return "the settings"
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _model_spec(args: argparse.Namespace, settings: Any) -> str | None:
    """The model factory to import: ``--model``, else the settings' (refused in CI unless trusted)."""
    from lrlint.verify.question import UsageError

    flag = getattr(args, "model", None)
    if flag:
        return str(flag)
    spec = getattr(getattr(settings, "verify", None), "model", None)
    if not spec:
        return None
    where = _shown(getattr(settings, "config_file", None))
    if in_ci() and not getattr(args, "trust_settings_model", False):
        raise UsageError(
            f"{where} names the model factory {spec} ([tool.lrlint.verify] model), which verify would import "
            f"and run; CI is set (CI={os.environ.get('CI', '')}), so pass --trust-settings-model to run it, "
            "or name the factory with --model"
        )
    sys.stderr.write(
        f"lrlint verify: importing the model factory {spec} named in {where} ([tool.lrlint.verify] model)\n"
    )
    return str(spec)


def _device(args: argparse.Namespace, vset: Any) -> str:
    flag = getattr(args, "device", None)
    if flag and flag != "auto":
        return str(flag)
    return str(getattr(vset, "device", None) or flag or "auto")


def _policy_from_settings(settings: Any, family: str) -> str | None:
    pol = getattr(settings, "policy", None)
    if pol is None:
        return None
    val = pol.get(family) if isinstance(pol, dict) else getattr(pol, family, None)
    val = getattr(val, "fix", val)
    if val == "sqrt-to-linear":
        val = "sqrt"
    return val if val in ("linear", "sqrt", "none") else None


def _direct_question(args: argparse.Namespace, settings: Any) -> Any:
    from lrlint.verify import question as Q

    b_old, b_new = Q.parse_pair(args.batch, "--batch", integer=True)
    assert b_new is not None
    lr_old = lr_new = None
    if getattr(args, "lr", None):
        lr_old, lr_new = Q.parse_pair(args.lr, "--lr", second_optional=True)
    name = getattr(args, "optimizer", None) or "sgd"
    display, family = name, "unknown"
    try:
        from lrlint.profiles import optimizer_table

        table = optimizer_table()
        display, family = table.lookup(name)
        default_policy = table.families[family].fix if family in table.families else "linear"
    except Exception:  # the rules table is lrlint's own; fall back to plain names if it cannot load
        low = name.lower()
        family = "sgd" if low.startswith("sgd") else ("adaptive" if "ada" in low or "adam" in low else "unknown")
        display = {"sgd": "SGD", "adaptive": "AdamW" if "adamw" in low else "Adam"}.get(family, name)
        default_policy = {"sgd": "linear", "adaptive": "sqrt"}.get(family, "linear")
    policy = getattr(args, "policy", None) or _policy_from_settings(settings, family) or default_policy
    choice = Q.choose_optimizer(display, family, getattr(args, "momentum", None))
    return Q.Question(
        batch_old=b_old,
        batch_new=b_new,
        lr_old=lr_old,
        lr_suggested=lr_new,
        policy=policy,
        optimizer=choice,
        explicit_lr=lr_new is not None,
    )


def _path_error() -> Any:
    try:
        from lrlint.discover import PathError
    except ImportError:
        return None
    return PathError


def _file_questions(args: argparse.Namespace, settings: Any, paths: list[str]) -> tuple[list[Any], list[Any]]:
    from dataclasses import replace

    from lrlint.verify import question as Q

    try:
        from lrlint import api
    except ImportError as e:
        raise Q.UsageError(f"verifying config files needs lrlint.api ({e})") from None
    errors: tuple[type[BaseException], ...] = tuple(
        e for e in (getattr(api, "UsageError", None), _path_error()) if isinstance(e, type)
    )
    try:
        result = api.check_paths(paths, settings, base=getattr(args, "base", None))
    except errors as e:  # type: ignore[misc]
        raise Q.UsageError(str(e)) from None
    from lrlint.verify.render import Skipped
    from lrlint.verify.verdict import INCONCLUSIVE

    out, skipped = [], []
    for f in getattr(result, "findings", []) or []:
        if getattr(f, "code", None) not in ("LR001", "LR002"):
            continue
        try:
            q = Q.from_finding(f, default_momentum=getattr(args, "momentum", None))
        except Q.UsageError as e:  # a finding without the numbers: report it, verify the others
            span = getattr(f, "span", None)
            origin = f"{span.path}:{span.line}" if span is not None else "config"
            skipped.append(Skipped(origin, str(f.code), f"{f.code} {origin}", str(e), verdict=INCONCLUSIVE))
            continue
        policy = getattr(args, "policy", None)
        if policy:
            q = replace(q, policy=policy, lr_suggested=None)
        out.append(q)
    return out, skipped
