"""The batch/lr comparison every scaling check shares: numbers, wording, spans and the lr fix."""

from __future__ import annotations

from dataclasses import dataclass

from lrlint import numbers
from lrlint.checks.base import CheckContext
from lrlint.checks.data import RefLabel, RefSummary, ScalingData
from lrlint.findings import DISPLAY_ONLY, SAFE, UNSAFE, Edit, Fix, Related
from lrlint.references import DECLARED, HISTORY
from lrlint.scaling import RULE_TITLE, batch_changed, same_number
from lrlint.spans import Span
from lrlint.values import ARGPARSE, DEFAULT, EXPRESSION, INHERITED, INTERPOLATED, LITERAL, STRING
from lrlint.vocabulary import BATCH_SIZE_ROLES, MULTIPLIER_PARTS, PART_LABELS, ROLE_OF_PART

# lr values a fix does not edit, and why (the fix is display-only)
NO_EDIT_WHY = {
    EXPRESSION: "the lr is an expression: change the expression by hand",
    INTERPOLATED: "the lr comes from an interpolation: change the value it refers to",
    DEFAULT: "the lr is the framework's default: set it explicitly in the config",
}


@dataclass
class Comparison:
    old_batch: float
    new_batch: float
    k: float
    old_lr: float
    new_lr: float
    lr_factor: float
    runtime_k: float = 1.0  # the part of k the active runtime scaling compensates (k is the rest)


def runtime_factor(ctx: CheckContext, ref=None) -> float | None:
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


def batch_text(c: Comparison) -> str:
    """``effective batch 16 -> 64 (x4)``, naming the part a runtime scaling compensates."""
    total = c.k * c.runtime_k
    text = f"effective batch {numbers.plain(c.old_batch)} -> {numbers.plain(c.new_batch)} (x{numbers.plain(total)}"
    if not same_number(c.runtime_k, 1.0):
        text += f"; x{numbers.plain(c.runtime_k)} of it is rescaled at run time, x{numbers.plain(c.k)} is not"
    return text + ")"


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
    return r.lr.span


def lr_name(ctx: CheckContext) -> str:
    return ctx.recipe.lr.key


def fmt_lr(ctx: CheckContext, x: float) -> str:
    """An lr written like the file's own literal (quotes dropped for messages)."""
    return numbers.format_like(x, ctx.recipe.lr.raw or None).strip("'\"")


def literal_for(value, x: float) -> str:
    """The literal a fix writes for ``value``: its own style, and its PyYAML type kept."""
    return numbers.format_like(
        x, value.raw or None, yaml_plain=value.span is not None and value.span.path.endswith((".yaml", ".yml"))
    )


def optimizer_label(ctx: CheckContext) -> str:
    r = ctx.recipe
    name = r.optimizer_display or "optimizer not found"
    default = f", {r.profile.title} default" if r.optimizer_is_default else ""
    return f"{name} ({ctx.policy.family_title}{default})"


def references_text(ctx: CheckContext) -> str:
    """Name the reference used, and the others when they disagree with it."""
    ref = ctx.reference
    parts = [f"vs {ref.label}"]
    for other in ctx.references:
        if other is ref or other.batch is None:
            continue
        if not same_number(other.batch, ref.batch):
            parts.append(f"{other.label} had batch {numbers.plain(other.batch)}; the {ref.kind} reference wins")
    return "; ".join(parts)


def assumptions_text(ctx: CheckContext) -> str:
    return "; ".join(ctx.recipe.assumptions)


def data(ctx: CheckContext, c: Comparison, expected: float, **more) -> ScalingData:
    """The finding's data: the comparison, the policy and the references (``more``: the rule's own facts)."""
    r, ref = ctx.recipe, ctx.reference
    assert ref is not None  # a Comparison is made against the primary reference
    return ScalingData(
        batch_old=c.old_batch,
        batch_new=c.new_batch,
        k=c.k,
        runtime_k=c.runtime_k,
        lr_old=c.old_lr,
        lr_new=c.new_lr,
        lr_factor=c.lr_factor,
        expected_lr=expected,
        policy=ctx.policy.fix,
        band=ctx.policy.band,
        family=r.family,
        optimizer=r.optimizer_display,
        momentum=r.momentum,
        lr_key=r.lr.key,
        profile=r.profile.name,
        reference=RefLabel(ref.kind, ref.label),
        references=[RefSummary(x.kind, x.label, x.batch, x.lr) for x in ctx.references],
        batch_parts=r.parts,
        assumptions=list(r.assumptions),
        why=ctx.policy.note,
        **more,
    )


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


def inherited(ctx: CheckContext, value) -> bool:
    """Whether ``value`` comes from a base file (a fix then overrides it in the child, never the base). A
    value of another member of a config set is not inherited: it is edited where it is written."""
    return value.span is not None and value.provenance == INHERITED


def override_edit(ctx: CheckContext, key: str, content: str) -> tuple[Edit | None, str]:
    """An edit setting ``key`` in the checked (child) file, or None and why not."""
    src = ctx.source
    if src is None:
        return None, "the checked file is not available"
    if any(p.isdigit() for p in key.split(".")):
        return None, f"{key} is an item of a list inherited from a base file: override the list in {src.path}"
    from lrlint import fix as _fix

    edit = None
    if src.format == "yaml":
        edit = _fix.yaml_override(src, key, content)
    elif src.format == "python":
        edit = _fix.python_dict_override(src, key, content)
    if edit is None:
        return None, f"lrlint cannot insert {key} into {src.path}: set it by hand"
    return edit, ""


def lr_fix(ctx: CheckContext, c: Comparison, expected: float) -> Fix | None:
    """Rewrite the lr literal; safe only within the no-silent-fix guards."""
    r = ctx.recipe
    lr = r.lr
    if lr.span is None:
        return None
    if inherited(ctx, lr):
        return _inherited_lr_fix(ctx, c, expected)
    if lr.provenance in NO_EDIT_WHY:
        # shown, never applied: the message says why lrlint does not rewrite it
        why = NO_EDIT_WHY[lr.provenance] + (f" (`{lr.raw}`)" if lr.raw and lr.provenance == EXPRESSION else "")
        return Fix(DISPLAY_ONLY, f"Set {lr.key} to {numbers.plain(expected)}", [], why)
    if lr.provenance not in (LITERAL, STRING, ARGPARSE):
        return None
    content = literal_for(lr, expected)
    title = f"Set {lr.key} to {content.strip(chr(39) + chr(34))}"
    reasons = _guards(ctx, c)
    if lr.span.path != changed_batch_span(ctx).path:
        reasons.append("the lr lives in another file than the batch change")
    applicability = UNSAFE if reasons else SAFE
    edits = [Edit(lr.span, content)]
    record = _record_reference_lr(ctx, c)
    if record is not None:
        edits.append(record)
        title += f" and record lr={record.content.split('=', 1)[1]} in the reference"
    return Fix(applicability, title, edits, "; ".join(reasons))


def _record_reference_lr(ctx: CheckContext, c: Comparison) -> Edit | None:
    """``# lrlint: reference batch=64`` states no lr: the lr it was tuned with is taken from git or the file
    itself, which the fix is about to change. Writing ``lr=`` into the directive keeps the reference stable
    (else every ``--fix`` run would scale the lr again)."""
    ref, lr = ctx.reference, ctx.recipe.lr
    if ref is None or ref.kind != DECLARED or ref.lr_recorded or ref.span is None or ref.span.path != lr.span.path:
        return None
    s = ref.span
    lines = ctx.recipe.doc.lines
    if (
        lines is not None and s.path == ctx.recipe.doc.path
    ):  # after the directive's last character (not trailing blanks)
        start = lines.offset(s.line, 1)
        s = lines.span(s.path, start, start + len(lines.line_text(s.line).rstrip()))
    at = Span(s.path, s.end, s.end, s.end_line, s.end_col, s.end_line, s.end_col)
    return Edit(at, f" lr={numbers.format_like(c.old_lr, lr.raw or None).strip(chr(39) + chr(34))}")


def _guards(ctx: CheckContext, c: Comparison) -> list[str]:
    reasons = []
    t = ctx.settings.thresholds
    if not ctx.policy.safe:
        reasons.append(ctx.policy.note or f"no established rule for the {ctx.policy.family_title} family")
    if c.k > t.max_safe_factor or c.k < 1 / t.max_safe_factor:
        reasons.append(
            f"batch factor x{numbers.plain(c.k)} is past x{numbers.plain(t.max_safe_factor)}: check with `lrlint verify`"
        )
    if c.new_batch > t.max_safe_batch:
        reasons.append(
            f"effective batch {numbers.plain(c.new_batch)} is past {numbers.plain(t.max_safe_batch)}: check with `lrlint verify`"
        )
    if ctx.shared_lr:
        reasons.append("the lr value is shared by several recipes")
    return reasons


def _inherited_lr_fix(ctx: CheckContext, c: Comparison, expected: float) -> Fix | None:
    """An lr from a base file: set it in the child (the base keeps the lr its own batch needs)."""
    lr = ctx.recipe.lr
    content = literal_for(lr, expected)
    if ctx.source is not None and ctx.source.format == "yaml":
        content = numbers.format_like(expected, lr.raw or None, yaml_plain=True)
    title = f"Set {lr.key} to {content.strip(chr(39) + chr(34))} in {ctx.recipe.doc.path} (overrides the base's {numbers.plain(c.old_lr)})"
    edit, why = override_edit(ctx, lr.key, content)
    if edit is None:
        return Fix(DISPLAY_ONLY, title, [], why)
    reasons = _guards(ctx, c)
    return Fix(UNSAFE if reasons else SAFE, title, [edit], "; ".join(reasons))


def rule_title(rule: str) -> str:
    return RULE_TITLE[rule]


__all__ = [
    "Comparison",
    "compare",
    "changed_batch_span",
    "fmt_lr",
    "optimizer_label",
    "references_text",
    "data",
    "related",
    "lr_fix",
    "DISPLAY_ONLY",
]
