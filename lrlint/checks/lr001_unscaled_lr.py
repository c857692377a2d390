"""LR001 unscaled-lr: the effective batch changed and the learning rate did not."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks import compare as cmp
from lrlint.checks import fixes, locations, wording
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import ScalingData
from lrlint.checks.lr003_missing_warmup import has_warmup, usual_level, warmup_keys
from lrlint.findings import ERROR, WARNING, Finding, Fix
from lrlint.scaling import RULE_TITLE, assess, same_number
from lrlint.vocabulary import Severity

DOC = """\
## What it does
Flags a change of the effective batch size (per-device batch x gradient
accumulation x devices x nodes, or a global batch key) that comes without any
change of the learning rate, compared with the reference: the same file at the
git base, a base config, or a declared reference such as
`# lrlint: reference batch=256 lr=0.1`.

A reference is a batch and an lr that were trained together: a declaration
in the file that writes the lr beats one elsewhere, a stale declaration
(one that disagrees with its file's own tag) is set aside (LR004 reports
it), and a child that writes its own lr next to its own tag (or its own lr
and batch for other training data), replaces the optimizer, or composes a
base from fragments never trained together is not compared with that base.
`--explain` lists what was set aside and why.

With a git base (`--base`, pre-commit), a finding the file already had at the
base, with the same batch, lr and reference, is pre-existing: counted, not
reported (`--show-existing` lists it) and never failing the run; any rule's
findings are judged so.

## Why is this bad?
The learning rate was tuned for the old batch. Goyal et al. 2017 ("Accurate,
Large Minibatch SGD") showed that SGD keeps its accuracy up to batch 8192 only
if the lr is multiplied by k when the batch is multiplied by k; for Adam-style
optimizers the square-root rule (Malladi et al. 2022) keeps the gradient-noise
balance. Leaving the lr unchanged trains a different, usually worse, model.

## Example
```yaml
# lrlint: reference batch=64 lr=2e-5
per_device_train_batch_size: 32   # was 8, with 8 accumulation steps
gradient_accumulation_steps: 8
learning_rate: 2e-5
```

Use instead:
```yaml
# lrlint: reference batch=64 lr=2e-5
per_device_train_batch_size: 32
gradient_accumulation_steps: 8
learning_rate: 4e-5
```

## Fix safety
The fix rewrites the lr literal in the file's own number style. It is safe
when the optimizer family is known, the lr is a literal in the same file, the
batch factor is at most 16 and the effective batch at most 8192; otherwise it
is unsafe (`--unsafe-fixes`) and the message suggests `lrlint verify`.

## Options
`[tool.lrlint.policy]` (per family: `linear`, `sqrt`, `sqrt-to-linear`, `none`),
`[tool.lrlint.thresholds]` (`batch-tolerance`, `lr-tolerance`, `error-factor`).
"""


def check(ctx: CheckContext):
    c = cmp.compare(ctx)
    if c is None or cmp.compensated(ctx, c) or not same_number(c.new_lr, c.old_lr):
        return
    policy = ctx.policy
    if assess(c.k, 1.0, policy, ctx.settings.thresholds).ok:
        return
    expected = c.old_lr * c.k**policy.fix_exponent
    r = ctx.recipe
    msg = (
        f"{wording.batch_text(c)} but {r.lr.key} stays {wording.fmt_lr(ctx, c.new_lr)}; "
        f"expected {wording.fmt_suggested(ctx, expected)} ({RULE_TITLE[policy.fix]} rule)"
    )
    t = ctx.settings.thresholds
    severity: Severity = ERROR if (c.k >= t.error_factor or c.k <= 1 / t.error_factor) else WARNING
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        severity,
        locations.changed_batch_span(ctx),
        data=ScalingData.of(ctx, c, expected),
        fix=_with_warmup_advice(ctx, fixes.lr_fix(ctx, c, expected), expected, c.old_lr),
        related=locations.related(ctx, f"tuned for batch {numbers.plain(c.old_batch)}"),
        notes=[wording.rule_note(ctx, c), *wording.reference_notes(ctx)],
    )


def _with_warmup_advice(ctx: CheckContext, fix: Fix | None, expected: float, old_lr: float) -> Fix | None:
    """A fix that raises the lr by the warmup threshold or more, above its family's usual range, in a config
    without a warmup leads to LR003: its help says so first and names the warmup settings the profile reads."""
    r = ctx.recipe
    factor = expected / old_lr
    if fix is None or factor < ctx.settings.thresholds.warmup_factor or has_warmup(r):
        return fix
    if usual_level(ctx, expected) is not None:
        return fix  # the raised lr is an ordinary level for its family: LR003 stays silent
    keys = warmup_keys(r.profile)
    add = f": add one with {' or '.join(keys[:2])}" if keys else ""
    fix.message += f"; the lr then rises x{numbers.plain(factor)} with no warmup (LR003){add}"
    return fix


RULE = Rule(
    code="LR001",
    name="unscaled-lr",
    summary="Effective batch changed but the learning rate did not",
    severity=ERROR,
    fix_availability="sometimes",
    doc=DOC,
    check=check,
    valid=(
        Example("# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.4\noptimizer: sgd\n"),
        Example(
            "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 8\n"
            "learning_rate: 2e-5\n"
        ),
        Example(
            "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 32\ngradient_accumulation_steps: 8\n"
            "learning_rate: 4e-5\n"
        ),
    ),
    invalid=(
        Example(
            "# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.1\noptimizer: sgd\n",
            expect=("LR001",),
            expected_fix="# lrlint: reference batch=256 lr=0.1\nbatch_size: 1024\nlr: 0.4\noptimizer: sgd\n",
        ),
        Example(
            "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 32\ngradient_accumulation_steps: 8\n"
            "learning_rate: 2e-5\n",
            expect=("LR001",),
            expected_fix=(
                "# lrlint: reference batch=64 lr=2e-5\nper_device_train_batch_size: 32\n"
                "gradient_accumulation_steps: 8\nlearning_rate: 4e-5\n"
            ),
        ),
    ),
)
