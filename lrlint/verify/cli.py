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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lrlint.verify import MISSING_EXTRA, MISSING_PLOT_EXTRA, TORCH_CPU_HINT

if TYPE_CHECKING:  # pragma: no cover - typing only
    from lrlint.settings import Settings
    from lrlint.verify.question import Question
    from lrlint.verify.render import Skipped

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


def _question_arguments(parser: argparse.ArgumentParser) -> None:
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


def _model_arguments(parser: argparse.ArgumentParser) -> None:
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


def _run_arguments(parser: argparse.ArgumentParser) -> None:
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``verify`` options to ``parser`` (the subcommand's parser)."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    _question_arguments(parser)
    _model_arguments(parser)
    _run_arguments(parser)


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


def main(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Run ``lrlint verify``; returns the exit code."""
    from lrlint.settings import Settings
    from lrlint.verify.question import RunError, UsageError

    try:
        return _main(args, settings if settings is not None else Settings())
    except (UsageError, RunError) as e:
        return _err(str(e))


@dataclass(frozen=True)
class Flags:
    """The command line and ``[tool.lrlint.verify]``, checked (usage errors before any slow import)."""

    paths: list[str]
    batch: str | None
    fmt: str
    model: str | None
    seeds: int
    epochs: float
    proxy_lr: str | None
    nproc: int
    accum: int | None
    samples: int | None
    max_seconds: float | None
    plot: str | None


def _check_proxy_lr(proxy_lr: str | None) -> None:
    from lrlint.verify.question import UsageError

    if proxy_lr is None or proxy_lr == "user":
        return
    try:
        v = float(proxy_lr)
    except ValueError:
        raise UsageError(f"--proxy-lr wants a number or 'user', got {proxy_lr!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise UsageError("--proxy-lr must be positive")


def _flags(args: argparse.Namespace, settings: Settings) -> Flags:
    from lrlint.verify.question import UsageError

    paths = list(getattr(args, "paths", None) or [])
    batch = getattr(args, "batch", None)
    fmt = getattr(args, "output_format", None) or "text"
    if fmt not in ("text", "json"):
        raise UsageError(f"--output-format {fmt} is not supported by verify (text or json)")
    if paths and batch:
        raise UsageError("give config files or --batch OLD:NEW, not both")
    if not paths and not batch:
        raise UsageError(
            "give config files to verify their LR001/LR002 findings, or a direct question: "
            "--batch OLD:NEW [--lr LR] [--optimizer NAME]"
        )
    seeds = int(_given(getattr(args, "seeds", None), 3))
    epochs = float(_given(getattr(args, "epochs", None), 3.0))
    if seeds < 1 or seeds > 20:
        raise UsageError("--seeds must be between 1 and 20")
    if not (epochs > 0 and math.isfinite(epochs)):
        raise UsageError("--epochs must be positive")
    _check_proxy_lr(getattr(args, "proxy_lr", None))
    nproc = int(_given(getattr(args, "nproc", None), 1))
    accum = getattr(args, "accum", None)
    if nproc < 1 or (accum is not None and accum < 1):
        raise UsageError("--nproc and --accum must be at least 1")
    samples = getattr(args, "samples", None) or settings.verify.samples
    if samples is not None and samples < 1:
        raise UsageError("--samples must be positive")
    max_seconds = getattr(args, "max_seconds", None) or settings.verify.max_seconds
    if max_seconds is not None and not max_seconds > 0:
        raise UsageError("--max-seconds must be positive")
    model = _model_spec(args, settings)
    if model and max_seconds is None:
        max_seconds = DEFAULT_MAX_SECONDS
    return Flags(
        paths,
        batch,
        fmt,
        model,
        seeds,
        epochs,
        getattr(args, "proxy_lr", None),
        nproc,
        accum,
        samples,
        max_seconds,
        getattr(args, "plot", None),
    )


def _questions(args: argparse.Namespace, settings: Settings, flags: Flags) -> tuple[list[Question], list[Skipped]]:
    """The questions to run and the findings that are not run, with why."""
    from lrlint.verify import question as Q
    from lrlint.verify.render import Skipped

    questions: list[Question]
    skipped: list[Skipped]
    if flags.batch:
        questions, skipped = [_direct_question(args, settings)], []
    else:
        for name in ("lr", "optimizer"):
            if getattr(args, name, None) is not None:
                raise Q.UsageError(
                    f"--{name} is for a direct question (--batch); with config files the findings give it"
                )
        questions, skipped = _file_questions(args, settings, flags.paths)
    runnable = []
    for q in questions:
        why = Q.check_k(
            q,
            settings.thresholds.batch_tolerance,
            proxy=not flags.model,
            explicit_proxy_lr=flags.proxy_lr is not None,
        )
        if why is None:
            runnable.append(q)
        elif flags.batch:
            raise Q.UsageError(why)
        else:
            skipped.append(Skipped(q.origin, q.code, q.title(), why))
    return runnable, skipped


def _missing_extra(plot: str | None) -> str | None:
    """What to print when the ``verify`` extra (or matplotlib for ``--plot``) is not installed."""
    if not _have("torch"):
        return f"{MISSING_EXTRA}\n{TORCH_CPU_HINT}"
    if not (_have("numpy") and _have("sklearn")):
        return MISSING_EXTRA
    if plot and not _have("matplotlib"):
        return MISSING_PLOT_EXTRA
    try:
        import torch  # noqa: F401
    except ImportError as e:
        return f"{MISSING_EXTRA}\n{TORCH_CPU_HINT}\n(import torch failed: {e})"
    return None


def _main(args: argparse.Namespace, settings: Settings) -> int:
    from lrlint.verify.question import UsageError

    t_start = time.perf_counter()
    flags = _flags(args, settings)
    runnable, skipped = _questions(args, settings, flags)
    if not runnable and not skipped:
        from lrlint.verify.render import to_json

        if flags.fmt == "json":
            sys.stdout.write(to_json([], []) + "\n")
        else:
            sys.stdout.write("lrlint verify: no LR001/LR002 findings to verify\n")
        return EXIT_PASS
    if not runnable:
        for s in skipped:
            sys.stderr.write(f"lrlint verify: {s.title}: {s.reason}\n")
        return EXIT_USAGE
    missing = _missing_extra(flags.plot)
    if missing:
        sys.stderr.write(missing + "\n")
        return EXIT_USAGE

    from lrlint.verify import experiment, render
    from lrlint.verify.training import Options

    options = Options(
        seeds=flags.seeds,
        epochs=flags.epochs,
        samples=flags.samples,
        max_seconds=flags.max_seconds,
        device=_device(args, settings),
        nproc=flags.nproc,
        accum=flags.accum,
        proxy_lr=flags.proxy_lr,
        noise_scale=bool(getattr(args, "noise_scale", False)),
        model=flags.model,
    )
    with render.ProgressDisplay(flags.fmt == "text" and sys.stderr.isatty()) as progress:
        results = experiment.run(runnable, options, progress=progress)
    if flags.plot:
        from lrlint.verify import plot

        try:
            plot.write(results, flags.plot)
        except OSError as e:
            raise UsageError(f"--plot {flags.plot}: {e}") from None
    if flags.fmt == "json":
        sys.stdout.write(render.to_json(results, skipped) + "\n")
    else:
        render.print_text(results, skipped, wall=time.perf_counter() - t_start)
        if flags.plot:
            sys.stdout.write(f"learning curves written to {flags.plot}\n")
    return render.exit_code(results, skipped)


def in_ci() -> bool:
    """Whether the CI environment variable says this is a CI job (GitHub, GitLab and most set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def _shown(path: str | None) -> str:
    if not path:
        return "the settings"
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _model_spec(args: argparse.Namespace, settings: Settings) -> str | None:
    """The model factory to import: ``--model``, else the settings' (refused in CI unless trusted)."""
    from lrlint.verify.question import UsageError

    flag = getattr(args, "model", None)
    if flag:
        return str(flag)
    spec = settings.verify.model
    if not spec:
        return None
    where = _shown(settings.config_file)
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


def _device(args: argparse.Namespace, settings: Settings) -> str:
    flag = getattr(args, "device", None)
    if flag and flag != "auto":
        return str(flag)
    return str(settings.verify.device or flag or "auto")


def _direct_question(args: argparse.Namespace, settings: Settings) -> Question:
    from lrlint.profiles import optimizer_table
    from lrlint.scaling import policy_for
    from lrlint.verify import question as Q

    b_old, b_new = Q.parse_pair(args.batch, "--batch", integer=True)
    assert b_new is not None
    lr_old = lr_new = None
    if getattr(args, "lr", None):
        lr_old, lr_new = Q.parse_pair(args.lr, "--lr", second_optional=True)
    table = optimizer_table()
    display, family = table.lookup(getattr(args, "optimizer", None) or "sgd")
    policy = getattr(args, "policy", None) or policy_for(family, settings, table).fix
    return Q.Question(
        batch_old=b_old,
        batch_new=b_new,
        lr_old=lr_old,
        lr_suggested=lr_new,
        policy=policy,
        optimizer=Q.choose_optimizer(display, family, getattr(args, "momentum", None)),
        explicit_lr=lr_new is not None,
    )


def _file_questions(
    args: argparse.Namespace, settings: Settings, paths: list[str]
) -> tuple[list[Question], list[Skipped]]:
    from lrlint import api
    from lrlint.discover import PathError
    from lrlint.verify import question as Q
    from lrlint.verify.render import Skipped
    from lrlint.verify.verdict import INCONCLUSIVE

    try:
        result = api.check_paths(paths, settings, base=getattr(args, "base", None))
    except (api.UsageError, PathError) as e:
        raise Q.UsageError(str(e)) from None
    out, skipped = [], []
    for f in result.findings:
        if f.code not in ("LR001", "LR002"):
            continue
        try:
            q = Q.from_finding(f, default_momentum=getattr(args, "momentum", None))
        except Q.UsageError as e:  # a finding without the numbers: report it, verify the others
            origin = f"{f.span.path}:{f.span.line}"
            skipped.append(Skipped(origin, f.code, f"{f.code} {origin}", str(e), verdict=INCONCLUSIVE))
            continue
        policy = getattr(args, "policy", None)
        if policy:
            q = replace(q, policy=policy, lr_suggested=None)
        out.append(q)
    return out, skipped
