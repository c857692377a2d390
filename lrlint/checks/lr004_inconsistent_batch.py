"""LR004 inconsistent-batch: two statements of the batch in one config disagree."""

from __future__ import annotations

from pathlib import PurePath

from lrlint import numbers
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import ConsistencyData, TagMismatchData
from lrlint.findings import ERROR, SAFE, WARNING, Edit, Finding, FindingData, Fix, Related
from lrlint.references.choose import stale_tag
from lrlint.scaling import same_number
from lrlint.spans import Span
from lrlint.values import Value
from lrlint.vocabulary import Severity

DOC = """\
## What it does
Flags a batch that the config states twice, inconsistently:

* a file-name tag (MMEngine's `8xb2` = 8 devices x 2 per device, `bs256`)
  that disagrees with the batch in the (merged) config;
* a declared reference batch (`auto_scale_lr.base_batch_size`) written in
  the file that disagrees with the file's tag while the tag and the content
  agree: a stale declaration copied from another file (`base_batch_size`
  512 in an `8xb32` = 256 file that trains 256). It is not a batch change
  (no LR001): lrlint compares the lr with the tag's batch, and the
  declaration only misleads a run with automatic lr scaling;
* DeepSpeed's `train_batch_size` that no whole number of devices can make
  from `train_micro_batch_size_per_gpu` x `gradient_accumulation_steps`
  (DeepSpeed's own start-up assertion);
* Detectron2's `SOLVER.IMS_PER_BATCH` not divisible by
  `SOLVER.REFERENCE_WORLD_SIZE` (`auto_scale_workers` asserts it).

## Why is this bad?
The file name is what people (and lrlint) read as the batch the lr was tuned
for; when it lies, every lr decision made from it is off by the same factor
(open-mmlab/mmdetection #815, #3240: "the default lr is for 8 GPUs x 2
images"). The DeepSpeed and Detectron2 cases fail at start-up, after the job
waited in the queue.

## Example
```json
{"train_batch_size": 100, "train_micro_batch_size_per_gpu": 8, "gradient_accumulation_steps": 4}
```

Use instead:
```json
{"train_batch_size": 256, "train_micro_batch_size_per_gpu": 8, "gradient_accumulation_steps": 4}
```

## Fix safety
A stale declaration has a safe fix: it sets the declaration to the batch the
name and the content agree on (the lr is not touched). The other cases have
no fix: which of the two statements is right is the author's call.
"""


def _finding(
    ctx: CheckContext,
    msg: str,
    span: Span | None,
    data: FindingData,
    severity: Severity = WARNING,
    related=(),
    notes=(),
) -> Finding:
    r = ctx.recipe
    if span is None:
        span = r.lr.span if r.lr.span is not None and r.lr.span.path == r.doc.path else Span.file_start(r.doc.path)
    return Finding(RULE.code, RULE.name, msg, severity, span, related=list(related), data=data, notes=list(notes))


def _tag(ctx: CheckContext):
    r = ctx.recipe
    tag = r.tag
    if tag is None or tag.inherited_from is not None:  # a base's tag: its devices stand in, its batch is the base's
        return
    name = PurePath(r.doc.path).name
    pd = r.roles.get("batch_per_device")
    rv = r.roles.get("repeats")
    reps = r.parts.get("repeats", 1.0)
    if (
        tag.per_device is not None
        and pd is not None
        and pd.known
        and pd.number is not None
        and pd.number * reps != tag.per_device
    ):
        what = f"{pd.key} is {numbers.plain(pd.number)}"
        if rv is not None:
            what = (
                f"{pd.key} x {rv.key} is {numbers.plain(pd.number)} x {numbers.plain(reps)} = "
                f"{numbers.plain(pd.number * reps)}"
            )
        hint = ""
        if rv is None and tag.transposed(pd, r.doc.path):
            hint = (
                f" (read the other way round, {tag.per_device} devices x {tag.devices}, it matches: an older "
                "devices x per-device spelling renamed backwards?)"
            )
        yield _finding(
            ctx,
            f"file name {name} says {tag.describe()}, but {what}{hint}: rename the file or set the batch it names",
            pd.span if pd.span is not None and pd.span.path == r.doc.path else None,
            TagMismatchData(r.profile.name, tag.text, tag.total, pd.number, pd.key),
            related=[Related(pd.span, "per-device batch")]
            if pd.span is not None and pd.span.path != r.doc.path
            else [],
            notes=[f"{pd.key} is inherited from {pd.span.path}"]
            if pd.span is not None and pd.span.path != r.doc.path
            else [],
        )
        return
    dv = r.roles.get("devices")
    if (
        tag.devices is not None
        and dv is not None
        and not dv.from_tag
        and dv.span is not None  # a count no file states (the run's --devices) is no statement of the config
        and dv.known
        and dv.number is not None
        and dv.number != tag.devices
    ):
        yield _finding(
            ctx,
            f"file name {name} says {tag.describe()}, but {dv.key} is {numbers.plain(dv.number)}: "
            "rename the file or fix the device count",
            dv.span if dv.span is not None and dv.span.path == r.doc.path else None,
            TagMismatchData(r.profile.name, tag.text, tag.total, dv.number, dv.key),
        )
        return
    if (
        tag.batch is not None
        and tag.devices is None
        and r.effective_batch is not None
        and not r.unknown
        and not any("assumed" in a for a in r.assumptions)
        and r.effective_batch != tag.batch
    ):
        bv = next((v.span for v in r.batch_values() if v.span is not None), None)
        yield _finding(
            ctx,
            f"file name {name} says {tag.describe()}, but the config's effective batch is "
            f"{numbers.plain(r.effective_batch)}: "
            f"rename the file or fix the batch",
            bv if bv is not None and bv.path == r.doc.path else None,
            TagMismatchData(r.profile.name, tag.text, tag.total, r.effective_batch),
        )


def _nonzero_factors(values: dict[str, Value], keys: list[str]) -> tuple[list[Value], list[float]] | None:
    """The values of ``keys`` and their numbers, when each is known and not zero."""
    factors, nums = [], []
    for k in keys:
        f = values.get(k)
        n = f.number if f is not None and f.known else None
        if f is None or not n:
            return None
        factors.append(f)
        nums.append(n)
    return factors, nums


def _consistency(ctx: CheckContext):
    r = ctx.recipe
    values = r.doc.values
    for c in r.profile.consistency:
        total = values.get(c.total)
        total_n = total.number if total is not None and total.known else None
        known = _nonzero_factors(values, c.factors)
        if total is None or total_n is None or known is None:
            continue
        factors, nums = known
        product = 1.0
        for n in nums:
            product *= n
        if total_n % product == 0:
            continue
        fields = {
            "total": numbers.plain(total_n),
            "product": numbers.plain(product),
            "factors": " * ".join(numbers.plain(n) for n in nums),
        }
        fields.update({f"f{i}": numbers.plain(n) for i, n in enumerate(nums)})
        span = total.span if total.span is not None and total.span.path == r.doc.path else None
        related = [Related(f.span, f.key) for f in factors if f.span is not None]
        yield _finding(
            ctx,
            c.message.format(**fields),
            span,
            ConsistencyData(r.profile.name, c.total, total_n, dict(zip(c.factors, nums, strict=True))),
            ERROR,
            related,
        )


def _stale_declaration(ctx: CheckContext):
    """A declared batch (``auto_scale_lr.base_batch_size``) written in the checked file that disagrees with the
    file's own tag while the tag and the content agree: the declaration is stale (copied from another file)."""
    r = ctx.recipe
    tag = r.tag
    if tag is None or tag.inherited_from is not None or tag.total is None or r.scaling is not None:
        return  # with a runtime scaling on, LR007 reports a base batch that disagrees with the tag
    if r.effective_batch is None or r.unknown or not same_number(r.effective_batch, float(tag.total)):
        return
    for key in r.profile.declared_batch:
        v = r.doc.values.get(key)
        if v is None or v.span is None or v.span.path != r.doc.path or stale_tag(r, v) is None:
            continue
        declared = numbers.plain(v.number or 0)
        content = str(tag.total)
        yield Finding(
            RULE.code,
            RULE.name,
            f"`{key}` {declared} disagrees with {tag.text} = {tag.total} in the name and the content",
            WARNING,
            v.span,
            fix=Fix(SAFE, f"Set {key} to {content}", [Edit(v.span, content)]),
            data=TagMismatchData(r.profile.name, tag.text, tag.total, v.number or 0.0, key),
            notes=[
                f"file name {tag.describe()}; the config trains {numbers.plain(r.effective_batch)}",
                f"{key} is what a run with automatic lr scaling rescales from; lrlint does not take it as the "
                "batch the lr was tuned for (--explain)",
            ],
        )


def check(ctx: CheckContext):
    yield from _tag(ctx)
    yield from _stale_declaration(ctx)
    yield from _consistency(ctx)


_STALE = (
    "train_dataloader = dict(batch_size=32)\n"
    "optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))\n"
    "auto_scale_lr = dict(base_batch_size={})\n"
)

RULE = Rule(
    code="LR004",
    name="inconsistent-batch",
    summary="A declared batch (file-name tag, DeepSpeed train_batch_size, ...) disagrees with the config",
    severity=WARNING,
    fix_availability="sometimes",
    doc=DOC,
    check=check,
    valid=(
        Example(
            '{"train_batch_size": 256, "train_micro_batch_size_per_gpu": 8, "gradient_accumulation_steps": 4, '
            '"optimizer": {"type": "AdamW", "params": {"lr": 1e-4}}}\n',
            filename="ds_config.json",
        ),
        Example("global_batch_size: 256\nlr: 0.1\noptimizer: sgd\n", filename="resnet50_bs256.yaml"),
    ),
    invalid=(
        Example(
            '{"train_batch_size": 100, "train_micro_batch_size_per_gpu": 8, "gradient_accumulation_steps": 4, '
            '"optimizer": {"type": "AdamW", "params": {"lr": 1e-4}}}\n',
            filename="ds_config.json",
            expect=("LR004",),
        ),
        Example("global_batch_size: 512\nlr: 0.1\noptimizer: sgd\n", filename="resnet50_bs256.yaml", expect=("LR004",)),
        Example("SOLVER:\n  IMS_PER_BATCH: 30\n  BASE_LR: 0.02\n  REFERENCE_WORLD_SIZE: 8\n", expect=("LR004",)),
        Example(
            _STALE.format(512),
            filename="td-hm_hrnet-w32_8xb32-210e_coco-256x192.py",
            expect=("LR004",),
            expected_fix=_STALE.format(256),
        ),
    ),
)
