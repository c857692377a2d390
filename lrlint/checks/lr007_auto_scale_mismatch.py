"""LR007 auto-scale-mismatch: the framework scales the lr at run time and the config scales it too."""

from __future__ import annotations

from collections.abc import Iterator

from lrlint import numbers
from lrlint.checks import compare as cmp
from lrlint.checks import fixes, locations, wording
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import BaseBatchData, IgnoredPartData, RuntimeRuleData, ScalingData
from lrlint.findings import DISPLAY_ONLY, ERROR, UNSAFE, WARNING, Edit, Finding, Fix, Related
from lrlint.profiles import RuntimeScaling
from lrlint.recipes import ActiveScaling, Recipe, name_tag
from lrlint.scaling import rule_for_exponent, same_number

DOC = """\
## What it does
Flags a learning-rate change made by hand on top of a framework that already
rescales the lr with the batch at run time: MMEngine `auto_scale_lr` with
`enable=True`, timm with `lr` unset (`lr = lr_base * batch / lr_base_size`),
Detectron2 with `SOLVER.REFERENCE_WORLD_SIZE` set (for a change in the number
of workers only: Detectron2 rescales from the file's own `IMS_PER_BATCH` and
`BASE_LR`, so an edit of those is LR001/LR002's), and the like. It also flags
a runtime scaling whose declared base batch (`auto_scale_lr.base_batch_size`)
disagrees with the batch the lr was written for (the file-name tag of the file
that sets the lr, e.g. `8xb2` = 16), a linear runtime rule applied to an
adaptive optimizer where the team's policy excludes linear scaling, and a
runtime rule that leaves out a batch multiplier (MMEngine's `auto_scale_lr`
ignores `optim_wrapper.accumulative_counts`).

## Why is this bad?
The lr is then scaled twice: a batch x4 with a hand-edited lr x4 and a
runtime x4 trains at 16 times the tuned lr, which diverges (the failure shape
behind open-mmlab/mmdetection #3240 and #11497).

## Example
A timm `args.yaml` with `lr` unset: timm computes
`lr = lr_base * global batch / lr_base_size` itself.
```yaml
# lrlint: reference batch=256 lr=0.1
model: resnet50
opt: sgd
batch_size: 1024
lr_base: 0.4
lr_base_size: 256
```

Use instead:
```yaml
# lrlint: reference batch=256 lr=0.1
model: resnet50
opt: sgd
batch_size: 1024
lr_base: 0.1
lr_base_size: 256
```

## Fix safety
The fix restores the reference lr and is unsafe: which of the two scalings
the team meant to keep is a decision.
"""


def _runtime(r: Recipe, s: ActiveScaling) -> RuntimeScaling | None:
    return next((rs for rs in r.profile.runtime_scaling if rs.name == s.name), None)


def _base_batch(ctx: CheckContext, s: ActiveScaling) -> Iterator[Finding]:
    """The declared base batch disagrees with the file-name tag of the file that sets the lr."""
    r = ctx.recipe
    ref = s.reference_batch
    if ref is None or not ref.known or not ref.number or r.lr.span is None:
        return
    tag = name_tag(r.profile, r.lr.span.path)
    if tag is None or tag.total is None or same_number(float(tag.total), ref.number):
        return
    msg = (
        f"{ref.key} = {numbers.plain(ref.number)}, but {r.lr.key} {wording.fmt_lr(ctx, r.lr_value or 0)} "
        f"was written for batch {tag.total}; expected {ref.key} = {tag.total}"
    )
    notes = [
        f"file name {tag.describe()}",
        f"{s.description.split(' (')[0]}: it scales from the wrong base, x{numbers.plain(tag.total / ref.number)} off",
    ]
    if ref.span is not None and ref.span.path != r.doc.path:
        notes.append(f"{ref.key} is set in {ref.span.path}")
    fix = None
    if ref.span is not None:
        content = str(tag.total)
        if locations.inherited(ctx, ref):
            edit, why = fixes.override_edit(ctx, ref.key, content)
            fix = (
                Fix(UNSAFE, f"Set {ref.key} to {content}", [edit], "the file name may be the one that is wrong")
                if edit
                else Fix(DISPLAY_ONLY, f"Set {ref.key} to {content}", [], why)
            )
        else:
            fix = Fix(
                UNSAFE,
                f"Set {ref.key} to {content}",
                [Edit(ref.span, content)],
                "the file name may be the one that is wrong",
            )
    span = (
        ref.span
        if ref.span is not None and not locations.inherited(ctx, ref)
        else (
            s.value.span
            if s.value is not None and s.value.span is not None and not locations.inherited(ctx, s.value)
            else None
        )
    )
    related = [Related(ref.span, "base batch declared here")] if ref.span is not None and ref.span != span else []
    if span is None:
        bv = next((v for v in r.batch_values() if v.span is not None and not locations.inherited(ctx, v)), None)
        span = bv.span if bv is not None else ref.span
    if span is None:
        return
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        ERROR,
        span,
        fix=fix,
        related=related,
        notes=notes,
        data=BaseBatchData(
            declared_base_batch=ref.number,
            tag=tag.text,
            tag_batch=tag.total,
            runtime_scaling=s.name,
            lr_key=r.lr.key,
            profile=r.profile.name,
        ),
    )


def _adaptive(ctx: CheckContext, s: ActiveScaling) -> Iterator[Finding]:
    """A runtime rule outside the team's band for this optimizer family (linear auto-scaling of AdamW under sqrt)."""
    r, policy = ctx.recipe, ctx.policy
    lo, hi = policy.band
    if lo - 1e-9 <= s.exponent <= hi + 1e-9:
        return
    span = s.value.span if s.value is not None and s.value.span is not None else r.lr.span
    if span is None:
        return
    msg = f"{s.description.split(' (')[0]}: the {rule_for_exponent(s.exponent)} rule; expected the {policy.describe()}"
    notes = [
        f"policy for {wording.optimizer_label(ctx)}: {policy.describe()}",
        f"turn the runtime scaling off and scale {r.lr.key} by hand, or change [tool.lrlint.policy] {policy.family}",
    ]
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        WARNING,
        span,
        notes=notes,
        data=RuntimeRuleData(
            runtime_scaling=s.name,
            exponent=s.exponent,
            policy=policy.fix,
            band=policy.band,
            family=r.family,
            optimizer=r.optimizer_display,
            profile=r.profile.name,
        ),
    )


def _ignored(ctx: CheckContext, s: ActiveScaling) -> Iterator[Finding]:
    """The runtime rule leaves out a batch multiplier that is not 1 (MMEngine ignores accumulative_counts)."""
    r = ctx.recipe
    rs = _runtime(r, s)
    if rs is None or r.effective_batch is None:
        return
    for role in rs.ignores:
        v = r.roles.get(role)
        n = v.number if v is not None and v.known else None
        if v is None or not n or n <= 1:
            continue
        span = v.span or r.lr.span
        if span is None:
            continue
        msg = (
            f"{s.description.split(' (')[0]}, but it ignores {v.key} = {numbers.plain(n)}: it scales for batch "
            f"{numbers.plain(r.effective_batch / n)}, not the effective {numbers.plain(r.effective_batch)}"
        )
        notes = [
            "open-mmlab/mmengine#894: the runtime rule leaves the accumulation out",
            f"scale {r.lr.key} for the accumulation by hand, or accumulate only to emulate the reference batch",
        ]
        yield Finding(
            RULE.code,
            RULE.name,
            msg,
            WARNING,
            span,
            notes=notes,
            data=IgnoredPartData(
                runtime_scaling=s.name,
                ignored=v.key,
                factor=n,
                effective_batch=r.effective_batch,
                profile=r.profile.name,
            ),
        )


def check(ctx: CheckContext):
    r = ctx.recipe
    s = r.scaling
    if s is None or s.name == "expression":
        return
    yield from _base_batch(ctx, s)
    yield from _adaptive(ctx, s)
    yield from _ignored(ctx, s)
    c = cmp.compare(ctx)
    if c is None or not cmp.compensated(ctx, c) or same_number(c.new_lr, c.old_lr):
        return  # a change the runtime does not compensate is LR001/LR002's
    msg = (
        f"effective batch {numbers.plain(c.old_batch)} -> {numbers.plain(c.new_batch)} "
        f"(x{numbers.plain(c.k * c.runtime_k)}) and {r.lr.key} {wording.fmt_lr(ctx, c.old_lr)} -> "
        f"{wording.fmt_lr(ctx, c.new_lr)} by hand, but the runtime scales it too; expected "
        f"{wording.fmt_lr(ctx, c.old_lr)}"
    )
    notes = [f"{s.description}: the lr is scaled twice", *wording.reference_notes(ctx)]
    fix = None
    if r.lr.span is not None and r.lr.raw:
        content = fixes.literal_for(r.lr, c.old_lr, suggested=False)
        fix = Fix(
            UNSAFE,
            f"Restore {r.lr.key} to {content}",
            [Edit(r.lr.span, content)],
            "which scaling to keep is the team's decision",
        )
    related = [] if s.value is None or s.value.span is None else [Related(s.value.span, "runtime scaling enabled here")]
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        ERROR,
        r.lr.span or locations.changed_batch_span(ctx),
        data=ScalingData.of(ctx, c, c.old_lr, runtime_scaling=s.name),
        fix=fix,
        related=related,
        notes=notes,
    )


RULE = Rule(
    code="LR007",
    name="auto-scale-mismatch",
    summary="Runtime lr auto-scaling is on and the lr was scaled by hand too (or its base batch disagrees)",
    severity=ERROR,
    fix_availability="sometimes",
    doc=DOC,
    check=check,
    valid=(
        Example(
            "# lrlint: reference batch=256 lr=0.1\nmodel: resnet50\nsched: cosine\nopt: sgd\nbatch_size: 1024\n"
            "lr_base: 0.1\nlr_base_size: 256\nwarmup_epochs: 5\n",
            filename="args.yaml",
        ),
        # Detectron2 rescales from the file's own pair: a hand-scaled pair is consistent, not double scaling
        Example(
            "# lrlint: reference batch=16 lr=0.02\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n"
            "  WARMUP_ITERS: 1000\n  REFERENCE_WORLD_SIZE: 8\n"
        ),
    ),
    invalid=(
        Example(
            "# lrlint: reference batch=256 lr=0.1\nmodel: resnet50\nsched: cosine\nopt: sgd\nbatch_size: 1024\n"
            "lr_base: 0.4\nlr_base_size: 256\nwarmup_epochs: 5\n",
            filename="args.yaml",
            expect=("LR007",),
        ),
    ),
)
