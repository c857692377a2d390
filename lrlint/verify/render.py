"""Output of ``lrlint verify``: rich tables (text), JSON, and the progress display."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from lrlint.numbers import fixed, plain
from lrlint.verify.judging import Result
from lrlint.verify.verdict import FAIL, INCONCLUSIVE, OUT_OF_RANGE, PASS

JSON_DIGITS = 6
STYLE = {PASS: "bold green", FAIL: "bold red", INCONCLUSIVE: "bold yellow", OUT_OF_RANGE: "bold yellow"}


@dataclass
class Skipped:
    """A finding not run (out of the proxy's range, missing numbers)."""

    origin: str
    code: str
    title: str
    reason: str
    verdict: str = OUT_OF_RANGE


def overall(results: Sequence[Result], skipped: Sequence[Skipped]) -> str:
    verdicts = [r.verdict for r in results] + [s.verdict for s in skipped]
    if not verdicts:
        return PASS
    if all(v == PASS for v in verdicts):
        return PASS
    if any(v == FAIL for v in verdicts):
        return FAIL
    return INCONCLUSIVE


def exit_code(results: Sequence[Result], skipped: Sequence[Skipped]) -> int:
    return 0 if overall(results, skipped) == PASS else 1


# --------------------------------------------------------------------------- JSON


def _r(x: Any) -> Any:
    """Round floats for JSON (6 significant digits); NaN/inf become null."""
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        return float(f"{x:.{JSON_DIGITS}g}")
    if isinstance(x, int):
        return x
    if isinstance(x, (list, tuple)):
        return [_r(v) for v in x]
    if isinstance(x, dict):
        return {k: _r(v) for k, v in x.items()}
    return x


def result_dict(r: Result) -> dict[str, Any]:
    q = r.question
    ref = r.candidate("reference")
    sug = r.candidate("suggested")
    d: dict[str, Any] = {
        "origin": q.origin,
        "code": q.code or None,
        "message": q.message or None,
        "question": {
            "batch_old": q.batch_old,
            "batch_new": q.batch_new,
            "k": q.k,
            "lr_old": q.lr_old,
            "lr_suggested": (q.lr_old * q.suggested_factor) if q.lr_old is not None else None,
            "lr_factor_suggested": q.suggested_factor,
            "lr_current": q.lr_current,
            "policy": q.policy,
            "family": q.optimizer.family,
            "optimizer": q.optimizer.display,
        },
        "setup": {
            "task": r.task,
            "description": r.task_description,
            "optimizer": r.optimizer,
            "reference_lr": r.reference_lr,
            "batch_reference": ref.batch,
            "batch_candidate": sug.batch,
            "k": r.k_run,
            "seeds": r.seeds,
            "epochs": r.epochs if r.task == "proxy" else None,
            "samples": r.budget,
            "grid": r.grid,
        },
        "verdict": r.verdict,
        "reason": r.reason,
        "alternative": r.alternative,
        "best_fit": r.best_fit,
        "floor": r.floor,
        "candidates": [
            {
                "role": c.role,
                "label": c.label,
                "batch": c.batch,
                "lr": c.lr,
                "user_lr": c.user_lr,
                "lr_factor": c.factor,
                "world_size": c.world,
                "accumulation": c.accum,
                "mismatch": c.mismatch,
                "median_mismatch": c.median,
                "vs_floor": c.vs_floor,
                "final_val_loss": c.final_loss,
                "final_val_acc": c.final_acc,
                "diverged_seeds": c.diverged,
            }
            for c in r.candidates
        ],
        "curves": {
            "samples": r.curve_samples,
            "initial_val_loss": r.initial_loss,
            "val_loss": {c.role: c.curves for c in r.candidates},
        },
        "noise_scale": _noise_json(r.noise_scale),
        "notes": r.notes,
    }
    return _r(d)


def _noise_json(ns: dict[str, Any] | None) -> dict[str, Any] | None:
    if ns is None:
        return None
    out = dict(ns)
    out["points"] = [{k: v for k, v in p.items() if k != "seconds"} for p in ns["points"]]
    return out


def to_json(results: Sequence[Result], skipped: Sequence[Skipped]) -> str:
    from lrlint import __version__

    doc = {
        "lrlint": __version__,
        "verdict": overall(results, skipped),
        "exit_code": exit_code(results, skipped),
        "results": [result_dict(r) for r in results],
        "skipped": [
            {"origin": s.origin, "code": s.code or None, "verdict": s.verdict, "reason": s.reason} for s in skipped
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=False)


# --------------------------------------------------------------------------- text


#: Significant digits of the measured figures in the text table (trailing zeros kept, so that a
#: column reads at one precision: 0.60 0.74 0.71, val loss 2.00 next to 1.22).
MISMATCH_DIGITS = 2
MEDIAN_DIGITS = 3
FLOOR_DIGITS = 2
LOSS_DIGITS = 3
ACC_DIGITS = 3
#: Console width when the output is not a terminal: a pipe or a file has no width, so nothing wraps.
UNWRAPPED = 1_000_000


def _fig(x: float | None, sig: int) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return "inf"
    return fixed(x, sig)


def _headline(r: Result) -> Any:
    from rich.text import Text

    q = r.question
    head = Text()
    head.append(q.title(), style="bold")
    what = "your" if q.explicit_lr else "suggested"
    if q.lr_old is not None:
        head.append(f": lr {plain(q.lr_old)} -> {what} {plain(q.lr_old * q.suggested_factor)}")
    else:
        head.append(f": {what} lr factor x{plain(q.suggested_factor)}")
    if not q.explicit_lr:
        head.append(f" ({q.policy})")
    return head


def _setup_lines(r: Result) -> Any:
    from rich.text import Text

    what = "proxy" if r.task == "proxy" else "model"
    span = (f"{plain(r.epochs)} epochs, " if r.task == "proxy" else "") + f"{r.budget} samples seen"
    return Text(
        f"{what}: {r.task_description}\nruns: {r.optimizer}, reference batch "
        f"{r.candidate('reference').batch} at lr {plain(r.reference_lr)}, candidates at batch "
        f"{r.candidate('suggested').batch}; {span} per run, {r.seeds} seed(s), shared initial weights per seed; "
        f"training {r.train_seconds:.1f} s",
        style="dim",
    )


def table(r: Result) -> Any:
    """The candidates of one result: lrs, mismatch per seed and its median, final val loss and accuracy."""
    from rich.table import Table

    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("candidate", no_wrap=True)
    t.add_column("batch", justify="right")
    t.add_column("lr", justify="right")
    if r.task == "proxy":
        t.add_column("your lr", justify="right")
    for name in ("mismatch per seed", "median", "x floor", "val loss", "val acc"):
        t.add_column(name, justify="right", no_wrap=True)
    for c in r.candidates:
        style = "bold" if c.role == "suggested" else ("dim" if c.role == "reference" else "")
        row = [c.label + (" *" if c.role == r.best_fit else ""), str(c.batch), plain(c.lr, 3)]
        if r.task == "proxy":
            row.append(plain(c.user_lr, 3) if c.user_lr is not None else "-")
        if c.role == "reference":
            row += ["-", "-", "-"]
        else:
            row += [
                " ".join(_fig(m, MISMATCH_DIGITS) for m in c.mismatch),
                _fig(c.median, MEDIAN_DIGITS),
                _fig(c.vs_floor, FLOOR_DIGITS),
            ]
        loss = _fig(c.final_loss, LOSS_DIGITS) + (f" ({c.diverged} div.)" if c.diverged else "")
        row += [loss, _fig(c.final_acc, ACC_DIGITS)]
        t.add_row(*row, style=style)
    return t


def _print_result(console: Any, r: Result) -> None:
    from rich.text import Text

    console.print(_headline(r))
    console.print(_setup_lines(r))
    console.print(table(r))
    v = Text()
    v.append(r.verdict, style=STYLE.get(r.verdict, "bold"))
    v.append("  " + r.reason)
    console.print(v)
    if r.noise_scale:
        console.print(Text(r.noise_scale["summary"]))
        if r.noise_scale.get("warning"):
            console.print(Text("warning: " + r.noise_scale["warning"], style="yellow"))
    for n in r.notes:
        console.print(Text("note: " + n, style="dim"))
    console.print(
        Text(
            "* closest to the reference curve; mismatch = mean |val loss - reference| / mean reference "
            "val loss at matched samples seen",
            style="dim",
        )
    )
    console.print()


def print_text(
    results: Sequence[Result], skipped: Sequence[Skipped], *, out: TextIO | None = None, wall: float | None = None
) -> None:
    """The text report; wrapped at the terminal's width on a terminal, never wrapped otherwise."""
    from rich.console import Console
    from rich.text import Text

    stream = out or sys.stdout
    tty = stream.isatty()
    console = Console(file=stream, highlight=False, soft_wrap=not tty, width=None if tty else UNWRAPPED)
    for r in results:
        _print_result(console, r)
    for s in skipped:
        v = Text()
        v.append(s.verdict, style=STYLE.get(s.verdict, "bold"))
        v.append(f"  {s.title}: {s.reason}")
        console.print(v)
    if len(results) + len(skipped) > 1:
        verdicts = [r.verdict for r in results] + [s.verdict for s in skipped]
        counts = ", ".join(
            f"{verdicts.count(x)} {x}" for x in (PASS, FAIL, INCONCLUSIVE, OUT_OF_RANGE) if verdicts.count(x)
        )
        console.print(Text(f"verified {len(verdicts)} finding(s): {counts}", style="bold"))
    if wall is not None:
        console.print(Text(f"wall time {wall:.1f} s", style="dim"))


# --------------------------------------------------------------------------- progress


class ProgressDisplay:
    """A rich progress bar on stderr; a no-op when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]training[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("loading torch and the data", total=None)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        if self._progress is None:
            return
        if event == "start":
            self._progress.update(self._task, total=info["total"], completed=0, description="")
        elif event == "begin":
            desc = f"seed {info['seed']}: {info['label']} (batch {info['batch']}, lr {plain(info['lr'], 3)})"
            self._progress.update(self._task, description=desc)
        elif event == "run":
            self._progress.update(self._task, advance=1)
        elif event == "noise":
            self._progress.update(self._task, description="noise scale")
