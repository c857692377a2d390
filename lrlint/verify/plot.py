"""``--plot PATH``: the learning curves, one panel per finding (matplotlib, Agg backend)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from lrlint.numbers import plain
from lrlint.verify.judging import CandidateResult, Result

COLORS = {
    "reference": "black",
    "suggested": "tab:blue",
    "unchanged": "tab:red",
    "linear": "tab:green",
    "sqrt": "tab:orange",
    "current": "tab:purple",
}
VERDICT_COLORS = {"PASS": "tab:green", "FAIL": "tab:red"}
SUPTITLE = "lrlint verify: val loss vs samples seen (thin: seeds, thick: mean over seeds)"


def label(r: Result, c: CandidateResult) -> str:
    """A candidate's legend entry: on the proxy both the lr the proxy ran and the user's lr it stands for."""
    lr = plain(c.lr, 3)
    if r.task != "proxy":
        return f"{c.label}: lr {lr} at batch {c.batch}"
    q = r.question
    user_batch = plain(q.batch_old if c.role == "reference" else q.batch_new)
    user_lr = plain(c.user_lr, 3) if c.user_lr is not None else f"x{plain(c.factor, 3)}"
    return f"{c.label}: proxy lr {lr} at batch {c.batch}; your lr {user_lr} at batch {user_batch}"


def _panel(ax: Any, r: Result) -> None:
    xs = [0.0] + list(r.curve_samples)
    for c in r.candidates:
        color = COLORS.get(c.role, "tab:gray")
        width = 2.4 if c.role in ("reference", "suggested") else 1.5
        curves = [[r.initial_loss[i]] + list(cv) for i, cv in enumerate(c.curves)]
        for seed_curve in curves:
            ax.plot(xs, seed_curve, color=color, alpha=0.25, linewidth=0.8)
        mean = [sum(v) / len(v) for v in zip(*curves, strict=True)]
        style = "--" if c.role == "reference" else "-"
        ax.plot(xs, mean, style, color=color, linewidth=width, label=label(r, c))
    q = r.question
    title = (
        f"{q.code + ' ' if q.code else ''}batch {plain(q.batch_old)}\u2192{plain(q.batch_new)} "
        f"(\u00d7{plain(q.k)}), {q.optimizer.display}"
    )
    ax.set_title(title, fontsize=9.5, loc="left")
    ax.set_title(
        r.verdict, fontsize=10, loc="right", fontweight="bold", color=VERDICT_COLORS.get(r.verdict, "tab:olive")
    )
    ax.set_xlim(0, r.budget)  # the runs' whole length, as the text reports it
    ax.set_xlabel("samples seen")
    ax.set_ylabel("val loss" + (" (proxy)" if r.task == "proxy" else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(0.0, -0.14), ncol=1, frameon=False, borderaxespad=0)


def figure(results: Sequence[Result]) -> Any:
    """The figure: one panel per result, each with its legend below it."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    n = len(results)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.8 * cols, 4.6 * rows), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, r in zip(axes.flat, results, strict=False):
        _panel(ax, r)
    fig.suptitle(SUPTITLE, fontsize=9)
    return fig


def write(results: Sequence[Result], path: str) -> None:
    fig = figure(results)
    from matplotlib import pyplot as plt

    try:
        fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.15)
    finally:
        plt.close(fig)
