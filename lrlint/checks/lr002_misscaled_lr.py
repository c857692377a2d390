"""LR002 misscaled-lr: both changed, but the lr factor is off the policy (or the wrong way)."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks import compare as cmp
from lrlint.checks import fixes, locations, wording
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import ExpressionRuleData, ScalingData
from lrlint.findings import ERROR, WARNING, Finding
from lrlint.scaling import RULE_TITLE, assess, rule_for_exponent, same_number
from lrlint.vocabulary import Severity

DOC = """\
## What it does
Flags a learning-rate change that does not match the batch change under the
team's policy for the optimizer family: linear for SGD, square-root to linear
for adaptive optimizers (Adam, AdamW, ...), with a tolerance band. It also flags
an lr moved in the wrong direction, and an lr computed from the batch in code
(`lr = base_lr * batch_size / 256`) with a rule the policy does not accept.
A child config whose lr is not a rescale of its base's (its own lr next to
its own file-name tag, another optimizer, `_delete_=True`) is a recipe of
its own and is not compared with the base (`--explain` says why); the
references are chosen as LR001's are.

## Why is this bad?
Scaling with the wrong rule is as harmful as not scaling: linear scaling of
AdamW at large factors is what diverging multi-GPU runs look like (CompVis
latent-diffusion #158, NeMo #1227), and square-root scaling of SGD under-trains
(Goyal et al. 2017). McCandlish et al. 2018 measured exponents between 0.5 and
1 for Adam, which is why the adaptive band accepts both rules by default.

## Example
```yaml
# lrlint: reference batch=256 lr=0.1
batch_size: 1024
lr: 0.2          # square-root scaled, but SGD needs linear
optimizer: sgd
```

Use instead:
```yaml
# lrlint: reference batch=256 lr=0.1
batch_size: 1024
lr: 0.4
optimizer: sgd
```

## Fix safety
As for LR001: the lr literal is rewritten to the policy's value; unsafe for
unknown or sign-based optimizers, factors past 16 and batches past 8192. An lr
computed by an expression gets no fix: change the expression or the policy.
"""


def _policy_name(exponent: float) -> str:
    return "linear" if exponent == 1 else "sqrt"


def _expression(ctx: CheckContext):
    """An lr computed from the batch with a rule outside the family's band."""
    r, policy = ctx.recipe, ctx.policy
    s = r.scaling
    if s is None or s.name != "expression":
        return
    lo, hi = policy.band
    if lo - 1e-9 <= s.exponent <= hi + 1e-9:
        return
    used = rule_for_exponent(s.exponent)
    want = rule_for_exponent(policy.fix_exponent)
    how = s.description.split(": ", 1)[-1]
    msg = f"{r.lr.key} follows the batch by the {used} rule ({how}); expected the {want} rule"
    notes = [
        f"policy for {wording.optimizer_label(ctx)}: {policy.describe()}",
        f'to keep {used} scaling, set [tool.lrlint.policy] {policy.family} = "{_policy_name(s.exponent)}"',
    ]
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        WARNING,
        r.lr.span or locations.changed_batch_span(ctx),
        data=ExpressionRuleData(
            lr_key=r.lr.key,
            family=r.family,
            optimizer=r.optimizer_display,
            policy=policy.fix,
            band=policy.band,
            expression_exponent=s.exponent,
            profile=r.profile.name,
        ),
        notes=notes,
    )


def check(ctx: CheckContext):
    yield from _expression(ctx)
    c = cmp.compare(ctx)
    if c is None or cmp.compensated(ctx, c) or same_number(c.new_lr, c.old_lr):
        return
    policy = ctx.policy
    a = assess(c.k, c.lr_factor, policy, ctx.settings.thresholds)
    if a.ok:
        return
    r = ctx.recipe
    expected = c.old_lr * c.k**policy.fix_exponent
    accepted = numbers.plain(a.low) if a.low == a.high else f"{numbers.plain(a.low)} to x{numbers.plain(a.high)}"
    direction = "; the lr moved the wrong way" if a.wrong_direction else ""
    msg = (
        f"{wording.batch_text(c)} "
        f"and {r.lr.key} {wording.fmt_lr(ctx, c.old_lr)} -> {wording.fmt_lr(ctx, c.new_lr)} "
        f"(x{numbers.plain(c.lr_factor)}){direction}; expected {wording.fmt_suggested(ctx, expected)} "
        f"({RULE_TITLE[policy.fix]} rule)"
    )
    notes = [
        f"policy for {wording.optimizer_label(ctx)}: {policy.describe()}, lr x{accepted} accepted",
        *wording.reference_notes(ctx),
    ]
    severity: Severity = ERROR if (a.deviation > ctx.settings.thresholds.error_factor or a.wrong_direction) else WARNING
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        severity,
        r.lr.span or locations.changed_batch_span(ctx),
        data=ScalingData.of(ctx, c, expected, deviation=a.deviation, wrong_direction=a.wrong_direction),
        fix=fixes.lr_fix(ctx, c, expected),
        related=locations.batch_related(ctx, c),
        notes=notes,
    )


RULE = Rule(
    code="LR002",
    name="misscaled-lr",
    summary="Learning rate changed with the batch, but not by the policy's rule",
    severity=ERROR,
    fix_availability="sometimes",
    doc=DOC,
    check=check,
    valid=(
        Example("# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.4\noptimizer: sgd\n"),
        Example(
            "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 32\ngradient_accumulation_steps: 8\n"
            "learning_rate: 8e-5\n"
        ),
    ),
    invalid=(
        Example(
            "# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.2\noptimizer: sgd\n",
            expect=("LR002",),
            expected_fix="# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.4\noptimizer: sgd\n",
        ),
        Example(
            "# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.05\noptimizer: sgd\n",
            expect=("LR002",),
            expected_fix="# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.4\noptimizer: sgd\n",
        ),
    ),
)
