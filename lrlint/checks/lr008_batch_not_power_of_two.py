"""LR008 batch-not-power-of-two: a style rule, off by default."""

from __future__ import annotations

from lrlint import numbers
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import PowerOfTwoData
from lrlint.findings import INFO, Finding
from lrlint.vocabulary import BATCH_SIZE_ROLES

DOC = """\
## What it does
Flags a per-device, global or total batch size that is not a power of two.
A style rule: off by default; enable it with `extend-select = ["LR008"]`.

## Why is this bad?
It is not wrong. It is a practitioner convention (powers of two between 16 and
512, 32 as a start) that keeps batches aligned with accelerator tiles and makes
batch changes whole factors, so the lr scales by a clean k.

## Example
```yaml
per_device_train_batch_size: 24
```

Use instead:
```yaml
per_device_train_batch_size: 32
```
"""


def _power_of_two(n: float) -> bool:
    return n >= 1 and float(n).is_integer() and (int(n) & (int(n) - 1)) == 0


def check(ctx: CheckContext):
    r = ctx.recipe
    for role in BATCH_SIZE_ROLES:
        v = r.roles.get(role)
        n = v.number if v is not None and v.known else None
        if v is None or n is None or v.span is None or n < 1 or numbers.unusable(n) or _power_of_two(n):
            continue  # a batch under 1 or out of range is no batch size (the recipe explains it)
        lower = 1 << (int(n).bit_length() - 1)
        yield Finding(
            RULE.code,
            RULE.name,
            f"{v.key} = {numbers.plain(n)} is not a power of two (nearest: {lower} or {lower * 2})",
            INFO,
            v.span,
            data=PowerOfTwoData(batch_key=v.key, batch=n),
        )


RULE = Rule(
    code="LR008",
    name="batch-not-power-of-two",
    summary="A batch size that is not a power of two (style, off by default)",
    severity=INFO,
    fix_availability="none",
    doc=DOC,
    check=check,
    default_enabled=False,
    valid=(Example("per_device_train_batch_size: 32\nlearning_rate: 2.0e-5\n"),),
    invalid=(Example("per_device_train_batch_size: 24\nlearning_rate: 2.0e-5\n", expect=("LR008",)),),
)
