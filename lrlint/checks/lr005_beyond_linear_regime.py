"""LR005 beyond-linear-regime: the effective batch grew past where linear scaling holds for SGD."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks import locations, wording
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import LinearRegimeData, RefLabel
from lrlint.findings import WARNING, Finding
from lrlint.scaling import batch_changed

DOC = """\
## What it does
Flags an effective batch that changed against a reference and is now past the
regime where the linear scaling rule is known to hold for SGD-family
optimizers (8192 by default), unless the optimizer is LARS/LARC.

## Why is this bad?
Goyal et al. 2017 found that linear scaling with warmup kept ResNet-50's
ImageNet accuracy up to batch 8192 and broke down beyond it. You et al. 2017
(LARS) scaled further only with layer-wise adaptive rates, and McCandlish et
al. 2018 showed that past the critical batch (the gradient noise scale) more
batch buys little: a linearly scaled lr there is an extrapolation.

## Example
```yaml
# lrlint: reference batch=4096 lr=1.6
batch_size: 16384
lr: 6.4
optimizer: sgd
warmup_epochs: 5
```

Use instead:
```yaml
# lrlint: reference batch=4096 lr=1.6
batch_size: 16384
lr: 6.4
optimizer: lars
warmup_epochs: 5
```

## Fix safety
No fix: check the setup with `lrlint verify`, switch to LARS, or stay below
the critical batch.

## Options
`[tool.lrlint.thresholds] linear-regime-batch` (default 8192).
"""


def check(ctx: CheckContext):
    r = ctx.recipe
    t = ctx.settings.thresholds
    if r.family != "sgd" or r.optimizer_display == "LARS" or r.effective_batch is None or r.unknown:
        return
    if r.effective_batch <= t.linear_regime_batch:
        return
    ref = next(
        (
            x
            for x in ctx.references
            if x.batch and x.batch < r.effective_batch and batch_changed(r.effective_batch / x.batch, t)
        ),
        None,
    )
    if ref is None or not ref.batch:
        return
    msg = (
        f"effective batch {numbers.plain(ref.batch)} -> {numbers.plain(r.effective_batch)} is past "
        f"{numbers.plain(t.linear_regime_batch)}, where linear lr scaling stops holding; use LARS or check the run "
        "with `lrlint verify`"
    )
    notes = [f"optimizer: {wording.optimizer_label(ctx)}", *wording.reference_notes(ctx, ref)]
    span = locations.changed_batch_span(ctx) if ctx.reference is not None else r.lr.span
    if span is None:
        return
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        WARNING,
        span,
        data=LinearRegimeData(
            batch_old=ref.batch,
            batch_new=r.effective_batch,
            threshold=t.linear_regime_batch,
            optimizer=r.optimizer_display,
            family=r.family,
            reference=RefLabel(ref.kind, ref.label),
            profile=r.profile.name,
        ),
        notes=notes,
    )


RULE = Rule(
    code="LR005",
    name="beyond-linear-regime",
    summary="Effective batch past the regime where linear lr scaling holds for SGD",
    severity=WARNING,
    fix_availability="none",
    doc=DOC,
    check=check,
    valid=(
        Example(
            "# lrlint: reference batch=4096 lr=1.6\nbatch_size: 16384\nlr: 6.4\noptimizer: lars\nwarmup_epochs: 5\n"
        ),
        Example("# lrlint: reference batch=2048 lr=0.8\nbatch_size: 8192\nlr: 3.2\noptimizer: sgd\nwarmup_epochs: 5\n"),
    ),
    invalid=(
        Example(
            "# lrlint: reference batch=4096 lr=1.6\nbatch_size: 16384\nlr: 6.4\noptimizer: sgd\nwarmup_epochs: 5\n",
            expect=("LR005",),
        ),
    ),
)
