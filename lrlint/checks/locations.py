"""Where the scaling checks report: the batch value that changed, and the related locations beside it."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks.base import CheckContext
from lrlint.checks.compare import Comparison
from lrlint.findings import Related
from lrlint.references import HISTORY
from lrlint.scaling import same_number
from lrlint.spans import Span
from lrlint.values import INHERITED, Value
from lrlint.vocabulary import BATCH_SIZE_ROLES, MULTIPLIER_PARTS, PART_LABELS, ROLE_OF_PART


def changed_batch_span(ctx: CheckContext) -> Span:
    """The batch value that changed against the reference (else the main batch value)."""
    r, ref = ctx.recipe, ctx.reference
    old_parts = (ref.parts or {}) if ref is not None else {}
    covered = (r.scaling.covers or frozenset()) if r.scaling is not None else frozenset()
    order = sorted(ROLE_OF_PART.items(), key=lambda pr: pr[0] in covered)  # a change no runtime rule compensates first
    for part, role in order:
        v = r.roles.get(role)
        if v is None or v.span is None:
            continue
        if part in old_parts and part in r.parts and not same_number(old_parts[part], r.parts[part]):
            return v.span
    for role in BATCH_SIZE_ROLES:
        v = r.roles.get(role)
        if v is not None and v.span is not None:
            return v.span
    return r.lr.span if r.lr.span is not None else Span.file_start(r.doc.path)


def _factors(ctx: CheckContext, primary: Span) -> list[Related]:
    """The other batch multipliers (devices, accumulation, nodes) that are not 1."""
    out = []
    r = ctx.recipe
    for part in MULTIPLIER_PARTS:
        v = r.roles.get(ROLE_OF_PART[part])
        n = r.parts.get(part)
        if v is None or v.span is None or n in (None, 1) or v.span == primary:
            continue
        out.append(Related(v.span, f"x{numbers.plain(n)} {PART_LABELS[part]}"))
    return out


def related(ctx: CheckContext, label_lr: str) -> list[Related]:
    out = _factors(ctx, changed_batch_span(ctx))
    if ctx.recipe.lr.span is not None:
        out.append(Related(ctx.recipe.lr.span, label_lr))
    ref = ctx.reference
    if ref is not None and ref.span is not None and ref.kind != HISTORY:
        out.append(Related(ref.span, f"{ref.kind} reference"))
    return out


def batch_related(ctx: CheckContext, c: Comparison) -> list[Related]:
    """The changed batch line (and a declared reference) beside a finding on the lr line."""
    out = [
        Related(
            changed_batch_span(ctx), f"effective batch {numbers.plain(c.old_batch)} -> {numbers.plain(c.new_batch)}"
        )
    ]
    out += _factors(ctx, out[0].span)
    ref = ctx.reference
    if ref is not None and ref.span is not None and ref.kind != HISTORY:
        out.append(Related(ref.span, f"{ref.kind} reference"))
    return out


def inherited(ctx: CheckContext, value: Value) -> bool:
    """Whether ``value`` comes from a base file (a fix then overrides it in the child, never the base). A
    value of another member of a config set is not inherited: it is edited where it is written."""
    return value.span is not None and value.provenance == INHERITED
