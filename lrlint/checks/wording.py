"""How the scaling checks word their findings: the batch change, the lr, the optimizer, the references."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks.base import CheckContext
from lrlint.checks.compare import Comparison
from lrlint.scaling import same_number


def batch_text(c: Comparison) -> str:
    """``effective batch 16 -> 64 (x4)``, naming the part a runtime scaling compensates."""
    total = c.k * c.runtime_k
    text = f"effective batch {numbers.plain(c.old_batch)} -> {numbers.plain(c.new_batch)} (x{numbers.plain(total)}"
    if not same_number(c.runtime_k, 1.0):
        text += f"; x{numbers.plain(c.runtime_k)} of it is rescaled at run time, x{numbers.plain(c.k)} is not"
    return text + ")"


def fmt_lr(ctx: CheckContext, x: float) -> str:
    """An lr written like the file's own literal (quotes dropped for messages)."""
    return numbers.format_like(x, ctx.recipe.lr.raw or None).strip("'\"")


def optimizer_label(ctx: CheckContext) -> str:
    r = ctx.recipe
    name = r.optimizer_display or "optimizer not found"
    default = f", {r.profile.title} default" if r.optimizer_is_default else ""
    return f"{name} ({ctx.policy.family_title}{default})"


def references_text(ctx: CheckContext) -> str:
    """Name the reference used, and the others when they disagree with it."""
    ref = ctx.reference
    if ref is None:
        return ""
    parts = [f"vs {ref.label}"]
    for other in ctx.references:
        if other is ref or other.batch is None:
            continue
        if ref.batch is None or not same_number(other.batch, ref.batch):
            parts.append(f"{other.label} had batch {numbers.plain(other.batch)}; the {ref.kind} reference wins")
    return "; ".join(parts)


def assumptions_text(ctx: CheckContext) -> str:
    return "; ".join(ctx.recipe.assumptions)
