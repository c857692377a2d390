"""The batch/lr comparison every scaling check shares: the batch factor against the primary reference,
the part of it a runtime scaling compensates, and the lr factor."""

from __future__ import annotations

from lrlint.checks.base import CheckContext
from lrlint.records import Record
from lrlint.references import Reference
from lrlint.scaling import batch_changed, same_number


class Comparison(Record):
    old_batch: float
    new_batch: float
    k: float
    old_lr: float
    new_lr: float
    lr_factor: float
    runtime_k: float = 1.0  # the part of k the active runtime scaling compensates (k is the rest)


def runtime_factor(ctx: CheckContext, ref: Reference | None = None) -> float | None:
    """The part of the batch change against ``ref`` (default: the primary reference) that the active
    runtime scaling compensates; None without runtime scaling."""
    r, ref = ctx.recipe, ref or ctx.reference
    s = r.scaling
    if s is None or ref is None or not ref.batch or r.effective_batch is None:
        return None
    if s.covers is None:
        return r.effective_batch / ref.batch
    k = 1.0
    old = ref.parts or {}
    for part in s.covers:  # parts absent on either side (devices not in the file) count as unchanged
        if old.get(part) and r.parts.get(part) is not None:
            k *= r.parts[part] / old[part]
    return k


def compensated(ctx: CheckContext, c: Comparison) -> bool:
    """Whether the runtime scaling absorbs the whole batch change (the lr literal must then stay)."""
    return ctx.recipe.scaling is not None and not batch_changed(c.k, ctx.settings.thresholds)


def compare(ctx: CheckContext) -> Comparison | None:
    """Batch and lr factors against the primary reference, or None when not comparable."""
    r, ref = ctx.recipe, ctx.reference
    if ref is None or r.effective_batch is None or r.unknown or ref.batch in (None, 0):
        return None
    new_lr = r.lr_value
    old_lr = ref.lr if ref.lr is not None else new_lr
    if new_lr is None or old_lr in (None, 0):
        return None
    k = r.effective_batch / ref.batch
    if not batch_changed(k, ctx.settings.thresholds):
        return None
    rk = runtime_factor(ctx)
    rk = 1.0 if rk is None or rk == 0 else rk
    if r.scaling is not None and r.scaling.name == "expression" and not same_number(rk, 1.0):
        new_lr = new_lr / rk**r.scaling.exponent  # the evaluated lr already holds the part the expression follows
    return Comparison(ref.batch, r.effective_batch, k / rk, old_lr, new_lr, new_lr / old_lr, rk)
