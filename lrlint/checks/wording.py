"""How the scaling checks word their findings: the batch change, the lr, the optimizer, the references."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks.base import CheckContext
from lrlint.checks.compare import Comparison
from lrlint.references import DECLARED, INHERITANCE, Reference
from lrlint.scaling import RULE_EXPONENT, RULE_TITLE, same_number


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


def fmt_suggested(ctx: CheckContext, x: float) -> str:
    """A computed lr (what a rule expects) at the precision of the file's own literal: ``5.7e-5`` where the
    file writes ``2e-5``, not ``5.657e-5``."""
    return numbers.suggest(x, ctx.recipe.lr.raw or None).strip("'\"")


def optimizer_label(ctx: CheckContext) -> str:
    r = ctx.recipe
    name = r.optimizer_display or "optimizer not found"
    default = f", {r.profile.title} default" if r.optimizer_is_default else ""
    return f"{name} ({ctx.policy.family_title}{default})"


def reference_note(ref: Reference, lr_raw: str | None = None) -> str:
    """``compared with ...``: the reference, naming the file (and line) it is stated in, with its numbers."""
    if ref.kind == INHERITANCE:
        what = f"the base config {ref.label.removeprefix('base ')}"
    elif ref.kind == DECLARED and ref.span is not None and ref.span.path not in ref.label:
        what = f"{ref.label} at {ref.span.path}:{ref.span.line}"
    else:
        what = ref.label
    numbers_ = []
    if ref.batch is not None:
        numbers_.append(f"batch {numbers.plain(ref.batch)}")
    if ref.lr is not None and (ref.kind != DECLARED or ref.lr_recorded):
        numbers_.append(f"lr {numbers.format_like(ref.lr, lr_raw).strip(chr(39) + chr(34))}")
    return f"compared with {what}" + (f" ({', '.join(numbers_)})" if numbers_ else "")


def reference_notes(ctx: CheckContext, ref: Reference | None = None) -> list[str]:
    """The reference used (default: the primary one), the others when they disagree with it, and what was
    assumed about the batch (devices not in the file, devices from the file name)."""
    ref = ref or ctx.reference
    notes = []
    if ref is not None:
        notes.append(reference_note(ref, ctx.recipe.lr.raw or None))
        for other in ctx.references:
            if other is ref or other.batch is None or ref.batch is None:
                continue
            if not same_number(other.batch, ref.batch):
                notes.append(f"{other.label} had batch {numbers.plain(other.batch)}; the {ref.kind} reference wins")
    notes.extend(ctx.recipe.assumptions)
    return notes


def rule_note(ctx: CheckContext, c: Comparison) -> str:
    """The optimizer and the rule its family's policy applies, and the other rule's value when the policy
    accepts both (``AdamW (adaptive, ...): square-root to linear rule; the linear rule gives 8e-5``)."""
    policy = ctx.policy
    note = f"policy for {optimizer_label(ctx)}: {policy.describe()}"
    if policy.band[0] != policy.band[1]:
        other = "linear" if policy.fix == "sqrt" else "sqrt"
        note += f"; the {RULE_TITLE[other]} rule gives {fmt_suggested(ctx, c.old_lr * c.k ** RULE_EXPONENT[other])}"
    return note
