"""``--plot PATH``: the learning curves, one panel per finding (matplotlib, Agg backend)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lrlint.numbers import plain
from lrlint.verify.judging import Result

COLORS = {
    "reference": "black",
    "suggested": "tab:blue",
    "unchanged": "tab:red",
    "linear": "tab:green",
    "sqrt": "tab:orange",
    "current": "tab:purple",
}
VERDICT_COLORS = {"PASS": "tab:green", "FAIL": "tab:red"}


def write(results: Sequence[Result], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    n = len(results)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.4 * cols, 4.9 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, r in zip(axes.flat, results):
        grid = [0.0] + list(r.grid)
        for c in r.candidates:
            color = COLORS.get(c.role, "tab:gray")
            width = 2.4 if c.role in ("reference", "suggested") else 1.5
            curves = [[r.initial_loss[i]] + list(cv) for i, cv in enumerate(c.curves)]
            for seed_curve in curves:
                ax.plot(grid, seed_curve, color=color, alpha=0.25, linewidth=0.8)
            mean = [sum(v) / len(v) for v in zip(*curves)]
            style = "--" if c.role == "reference" else "-"
            lr = f"lr {plain(c.lr, 3)}"
            ax.plot(grid, mean, style, color=color, linewidth=width, label=f"{c.label}, batch {c.batch}, {lr}")
        q = r.question
        title = f"{q.code + ' ' if q.code else ''}batch {plain(q.batch_old)}\u2192{plain(q.batch_new)} (\u00d7{plain(q.k)}), {q.optimizer.display}"
        ax.set_title(title, fontsize=9.5, loc="left")
        ax.set_title(
            r.verdict, fontsize=10, loc="right", fontweight="bold", color=VERDICT_COLORS.get(r.verdict, "tab:olive")
        )
        ax.set_xlabel("samples seen")
        ax.set_ylabel("val loss" + (" (proxy)" if r.task == "proxy" else ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    fig.suptitle("lrlint verify: val loss vs samples seen (thin: seeds, thick: mean over seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
