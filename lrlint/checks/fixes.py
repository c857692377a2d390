"""The fixes the scaling checks propose: the lr literal rewritten, or an override written into the child of
a base config, with the guards that make a fix unsafe."""

from __future__ import annotations

from lrlint import numbers, sources
from lrlint.checks.base import CheckContext
from lrlint.checks.compare import Comparison
from lrlint.checks.locations import changed_batch_span, inherited
from lrlint.findings import DISPLAY_ONLY, SAFE, UNSAFE, Edit, Fix
from lrlint.references import DECLARED
from lrlint.spans import Span
from lrlint.values import ARGPARSE, DEFAULT, EXPRESSION, INTERPOLATED, LITERAL, STRING, Value
from lrlint.vocabulary import Applicability

# lr values a fix does not edit, and why (the fix is display-only)
NO_EDIT_WHY = {
    EXPRESSION: "the lr is an expression: change the expression by hand",
    INTERPOLATED: "the lr comes from an interpolation: change the value it refers to",
    DEFAULT: "the lr is the framework's default: set it explicitly in the config",
}


def literal_for(value: Value, x: float, suggested: bool = True) -> str:
    """The literal a fix writes for ``value``: its own style, and its PyYAML type kept; a ``suggested`` value
    (computed by a rule) at the literal's precision, else exact (a value restored)."""
    yaml_plain = value.span is not None and value.span.path.endswith((".yaml", ".yml"))
    if suggested:
        return numbers.suggest(x, value.raw or None, yaml_plain=yaml_plain)
    return numbers.format_like(x, value.raw or None, yaml_plain=yaml_plain)


def override_edit(ctx: CheckContext, key: str, content: str) -> tuple[Edit | None, str]:
    """An edit setting ``key`` in the checked (child) file, or None and why not."""
    src = ctx.source
    if src is None:
        return None, "the checked file is not available"
    if any(p.isdigit() for p in key.split(".")):
        return None, f"{key} is an item of a list inherited from a base file: override the list in {src.path}"
    edit = sources.override_edit(src, key, content)
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
        template = lr.raw if lr.provenance != EXPRESSION else None
        return Fix(DISPLAY_ONLY, f"Set {lr.key} to {numbers.suggest(expected, template or None)}", [], why)
    if lr.provenance not in (LITERAL, STRING, ARGPARSE):
        return None
    content = literal_for(lr, expected)
    title = f"Set {lr.key} to {content.strip(chr(39) + chr(34))}"
    reasons = _guards(ctx, c)
    if lr.span.path != changed_batch_span(ctx).path:
        reasons.append("the lr lives in another file than the batch change")
    applicability: Applicability = UNSAFE if reasons else SAFE
    edits = [Edit(lr.span, content)]
    record = _record_reference(ctx, c)
    if record is not None:
        edits.append(record[0])
        title += record[1]
    return Fix(applicability, title, edits, "; ".join(reasons))


def _record_reference(ctx: CheckContext, c: Comparison) -> tuple[Edit, str] | None:
    """A declared batch without an lr takes the lr it was tuned with from git or the file itself, which the
    fix is about to change; the edit (and the title's words for it) that keeps the reference stable, else every
    ``--fix`` run (after a commit) would scale the lr again. ``# lrlint: reference batch=64`` gets ``lr=``
    written into the directive; a declared batch key (``auto_scale_lr.base_batch_size``) is set to the new
    batch, the batch the new lr is tuned for."""
    ref, lr = ctx.reference, ctx.recipe.lr
    if (
        ref is None
        or ref.kind != DECLARED
        or ref.lr_recorded
        or ref.span is None
        or lr.span is None
        or ref.span.path != lr.span.path
    ):
        return None
    if ref.declared_key is not None:
        v = ctx.recipe.doc.values.get(ref.declared_key)
        if v is None or v.span is None or v.span.path != lr.span.path or v.provenance != LITERAL:
            return None
        content = numbers.format_like(c.new_batch, v.raw or None)
        return Edit(v.span, content), f" and set {ref.declared_key} to {content}"
    s = ref.span
    lines = ctx.recipe.doc.lines
    if (
        lines is not None and s.path == ctx.recipe.doc.path
    ):  # after the directive's last character (not trailing blanks)
        start = lines.offset(s.line, 1)
        s = lines.span(s.path, start, start + len(lines.line_text(s.line).rstrip()))
    at = Span(s.path, s.end, s.end, s.end_line, s.end_col, s.end_line, s.end_col)
    old_lr = numbers.format_like(c.old_lr, lr.raw or None).strip(chr(39) + chr(34))
    return Edit(at, f" lr={old_lr}"), f" and record lr={old_lr} in the reference"


def _guards(ctx: CheckContext, c: Comparison) -> list[str]:
    reasons = []
    t = ctx.settings.thresholds
    if not ctx.policy.safe:
        reasons.append(ctx.policy.note or f"no established rule for the {ctx.policy.family_title} family")
    if c.k > t.max_safe_factor or c.k < 1 / t.max_safe_factor:
        reasons.append(
            f"batch factor x{numbers.plain(c.k)} is past x{numbers.plain(t.max_safe_factor)}: "
            "check with `lrlint verify`"
        )
    if c.new_batch > t.max_safe_batch:
        reasons.append(
            f"effective batch {numbers.plain(c.new_batch)} is past {numbers.plain(t.max_safe_batch)}: "
            "check with `lrlint verify`"
        )
    if ctx.shared_lr:
        reasons.append("the lr value is shared by several recipes")
    return reasons


def _inherited_lr_fix(ctx: CheckContext, c: Comparison, expected: float) -> Fix | None:
    """An lr from a base file: set it in the child (the base keeps the lr its own batch needs)."""
    lr = ctx.recipe.lr
    content = literal_for(lr, expected)
    if ctx.source is not None and ctx.source.format == "yaml":
        content = numbers.suggest(expected, lr.raw or None, yaml_plain=True)
    title = (
        f"Set {lr.key} to {content.strip(chr(39) + chr(34))} in {ctx.recipe.doc.path} "
        f"(overrides the base's {numbers.plain(c.old_lr)})"
    )
    edit, why = override_edit(ctx, lr.key, content)
    if edit is None:
        return Fix(DISPLAY_ONLY, title, [], why)
    reasons = _guards(ctx, c)
    return Fix(UNSAFE if reasons else SAFE, title, [edit], "; ".join(reasons))
