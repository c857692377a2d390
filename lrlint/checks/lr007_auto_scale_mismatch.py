"""LR007 auto-scale-mismatch: the framework scales the lr at run time and the config scales it too."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks import compare as cmp
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.findings import ERROR, UNSAFE, Edit, Finding, Fix
from lrlint.scaling import same_number

DOC = """\
## What it does
Flags a learning-rate change made by hand on top of a framework that already
rescales the lr with the batch at run time: MMEngine `auto_scale_lr` with
`enable=True`, timm with `lr` unset (`lr = lr_base * batch / lr_base_size`),
Detectron2 with `SOLVER.REFERENCE_WORLD_SIZE` set, and the like. It also flags
a runtime scaling whose declared base batch disagrees with the batch the lr
was written for.

## Why is this bad?
The lr is then scaled twice: a batch x4 with a hand-edited lr x4 and a
runtime x4 trains at 16 times the tuned lr, which diverges (the failure shape
behind open-mmlab/mmdetection #3240 and #11497).

## Example
```yaml
# lrlint: reference batch=16 lr=0.02
SOLVER:
  IMS_PER_BATCH: 64
  BASE_LR: 0.08
  REFERENCE_WORLD_SIZE: 8
```

Use instead:
```yaml
SOLVER:
  IMS_PER_BATCH: 64
  BASE_LR: 0.02
  REFERENCE_WORLD_SIZE: 8
```

## Fix safety
The fix restores the reference lr and is unsafe: which of the two scalings
the team meant to keep is a decision.
"""


def check(ctx: CheckContext):
    r = ctx.recipe
    s = r.scaling
    if s is None or s.name == "expression":
        return
    c = cmp.compare(ctx)
    if c is None or same_number(c.new_lr, c.old_lr):
        return
    msg = (f"effective batch {numbers.plain(c.old_batch)} -> {numbers.plain(c.new_batch)} (x{numbers.plain(c.k)}) and "
           f"{r.lr.key} {cmp.fmt_lr(ctx, c.old_lr)} -> {cmp.fmt_lr(ctx, c.new_lr)} by hand, but {s.description}: "
           f"the lr is scaled twice; keep {r.lr.key} at {cmp.fmt_lr(ctx, c.old_lr)} [{cmp.references_text(ctx)}]")
    fix = None
    if r.lr.span is not None and r.lr.raw:
        content = cmp.literal_for(r.lr, c.old_lr)
        fix = Fix(UNSAFE, f"Restore {r.lr.key} to {content}", [Edit(r.lr.span, content)], "which scaling to keep is the team's decision")
    related = [] if s.value is None or s.value.span is None else [cmp.Related(s.value.span, "runtime scaling enabled here")]
    yield Finding(RULE.code, RULE.name, msg, ERROR, r.lr.span or cmp.changed_batch_span(ctx),
                  data=cmp.data(ctx, c, c.old_lr, runtime_scaling=s.name), fix=fix, related=related)


RULE = Rule(
    code="LR007", name="auto-scale-mismatch",
    summary="Runtime lr auto-scaling is on and the lr was scaled by hand too (or its base batch disagrees)",
    severity=ERROR, fix_availability="sometimes", doc=DOC, check=check,
    valid=(
        Example("# lrlint: reference batch=16 lr=0.02\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.02\n  REFERENCE_WORLD_SIZE: 8\n"),
    ),
    invalid=(
        Example("# lrlint: reference batch=16 lr=0.02\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n  REFERENCE_WORLD_SIZE: 8\n", expect=("LR007",)),
    ),
)
