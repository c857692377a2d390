"""LR006 schedule-not-rescaled: step-based schedule lengths kept while the batch changed."""

from __future__ import annotations

import re

from lrlint import keypaths, numbers
from lrlint.checks import compare as cmp
from lrlint.checks import fixes, locations, wording
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import RefLabel, ScheduleData
from lrlint.findings import DISPLAY_ONLY, UNSAFE, WARNING, Edit, Finding, Fix, Related
from lrlint.references import STRENGTH, Reference
from lrlint.regex import pattern
from lrlint.scaling import batch_changed, same_number
from lrlint.spans import Span
from lrlint.values import Value

DOC = """\
## What it does
Flags step-based schedule lengths (`SOLVER.MAX_ITER`, `SOLVER.STEPS`,
`SOLVER.WARMUP_ITERS`, Hugging Face `max_steps` and integer `warmup_steps`,
DeepSpeed `warmup_num_steps`, MMEngine `train_cfg.max_iters` and
`param_scheduler` `end` with `by_epoch=False`) left unchanged when the
effective batch changed by k against a reference. The expected values are the
old ones divided by k, as Detectron2's `DefaultTrainer.auto_scale_workers`
computes them. Epoch-based schedules need no change and are not flagged.

## Why is this bad?
A schedule counted in optimizer steps covers k times as many samples when the
batch grows by k: a 1x schedule silently becomes a 4x one (training takes 4
times as long, detectron2 #3520: "2 days became 7"), and the lr decay steps
and the warmup land at other epochs than the recipe was tuned for (Goyal et
al. 2017 keep the schedule fixed in epochs).

## Example
```yaml
# lrlint: reference batch=16 lr=0.02 SOLVER.MAX_ITER=90000
SOLVER:
  IMS_PER_BATCH: 64
  BASE_LR: 0.08
  MAX_ITER: 90000
```

Use instead:
```yaml
# lrlint: reference batch=16 lr=0.02 SOLVER.MAX_ITER=90000
SOLVER:
  IMS_PER_BATCH: 64
  BASE_LR: 0.08
  MAX_ITER: 22500
```

## Fix safety
Unsafe: the edit divides each length by k (integers stay integers), but a
team may want the longer training on purpose. A length inherited from a base
file is overridden in the child; an item of an inherited list is shown, not
edited.
"""

_TUPLE = r"^\s*[\(\[]?\s*\d+(?:\s*,\s*\d+)*\s*,?\s*[\)\]]?\s*$"


def _numbers(v) -> list[float] | None:
    """The step counts of a schedule value; None when it holds none the checks can use (zero steps is no
    schedule; an out-of-range count, ``numbers.unusable``, is not computed with)."""
    if not v.known:
        return None
    if isinstance(v.value, str) and pattern(_TUPLE).match(v.value) and "," in v.value:
        out = [float(x) for x in re.findall(r"\d+", v.value)]
        return None if any(numbers.unusable(x) for x in out) else out
    n = v.number
    if n is None or isinstance(v.value, bool) or numbers.unusable(n):
        return None
    if isinstance(v.value, float) and n < 1:  # a ratio (warmup_ratio 0.1), not a step count
        return None
    return [n]


def _scaled(x: float, k: float, as_int: bool) -> float:
    y = x / k
    return float(max(1, round(y))) if as_int else y


def _epoch_based(recipe, key: str) -> bool:
    values = recipe.doc.values
    for ef in recipe.profile.epoch_flags:
        if keypaths.matches(ef.pattern, key):
            flag = values.get(keypaths.join(keypaths.parent(key), ef.key))
            if flag is None:
                return ef.default
            return bool(flag.value) and str(flag.value).lower() not in ("false", "0")
    return False


def _old_value(ref, key: str):
    if ref.values and key in ref.values:
        return [float(ref.values[key])]
    rec = ref.recipe
    if rec is None:
        return None
    for v in rec.schedule:
        if v.key == key:
            return _numbers(v)
    return None


def _content(v, new: list[float], as_int: bool) -> str:
    raw = v.raw or str(v.value)
    if len(new) > 1 or (isinstance(v.value, str) and pattern(_TUPLE).match(v.value) and "," in v.value):
        it = iter(new)
        return re.sub(r"\d+", lambda m: numbers.plain(next(it)), raw)
    return str(int(new[0])) if as_int else numbers.format_like(new[0], v.raw or None)


def check(ctx: CheckContext):
    r = ctx.recipe
    if r.effective_batch is None or r.unknown:
        return
    s = r.scaling
    rescales = s is not None and any(rs.name == s.name and rs.rescales_schedule for rs in r.profile.runtime_scaling)

    def unscaled_k(ref) -> float:
        """The batch factor against ``ref`` that no runtime rescaling of the schedule compensates."""
        k = r.effective_batch / ref.batch
        rk = cmp.runtime_factor(ctx, ref) if rescales else None
        return k / rk if rk else k

    if (
        ctx.reference is None
        or not ctx.reference.batch
        or not batch_changed(unscaled_k(ctx.reference), ctx.settings.thresholds)
    ):
        # the strongest reference says the batch is the one the schedule was written for (or the runtime rescales it)
        return
    refs = sorted([x for x in ctx.references if x.batch], key=lambda x: STRENGTH[x.kind])
    t = ctx.settings.thresholds
    for v in r.schedule:
        cur = _numbers(v)
        if not cur or v.span is None or _epoch_based(r, v.key):
            continue
        for ref in refs:  # the strongest reference that states this value decides
            old = _old_value(ref, v.key)
            if old is None:
                continue
            k = unscaled_k(ref)
            # unchanged while the batch changed (a changed value: the author rescaled it, or chose a new length)
            unchanged = len(old) == len(cur) and all(same_number(a, b) for a, b in zip(old, cur, strict=True))
            if batch_changed(k, t) and unchanged:
                yield _finding(ctx, v, cur, ref, k)
            break


def _finding(ctx: CheckContext, v: Value, cur: list[float], ref: Reference, k: float) -> Finding:
    r = ctx.recipe
    assert v.span is not None and ref.batch is not None and r.effective_batch is not None
    as_int = isinstance(v.value, (int, str))
    new = [_scaled(x, k, as_int) for x in cur]
    how = f"divided by {numbers.plain(k)}" if k > 1 else f"multiplied by {numbers.plain(1 / k)}"
    shown_old = ", ".join(numbers.plain(x) for x in cur)
    shown_new = ", ".join(numbers.plain(x) for x in new)
    inherited = locations.inherited(ctx, v)
    msg = (
        f"effective batch {numbers.plain(ref.batch)} -> {numbers.plain(r.effective_batch)} (x{numbers.plain(k)}) "
        f"but the step-based {v.key} stays {shown_old}; expected {shown_new} ({how})"
    )
    notes = [f"{v.key} is inherited from {v.span.path}"] if inherited else []
    notes += wording.reference_notes(ctx, ref)
    fix, span, related = _fix(ctx, v, _content(v, new, as_int), inherited)
    data = ScheduleData(
        key=v.key,
        old=cur if len(cur) > 1 else cur[0],
        expected=new if len(new) > 1 else new[0],
        k=k,
        batch_old=ref.batch,
        batch_new=r.effective_batch,
        reference=RefLabel(ref.kind, ref.label),
        profile=r.profile.name,
    )
    return Finding(RULE.code, RULE.name, msg, WARNING, span, related=related, fix=fix, data=data, notes=notes)


def _fix(ctx: CheckContext, v: Value, content: str, inherited: bool) -> tuple[Fix, Span, list[Related]]:
    """The fix, where the finding is reported, and its related location. An inherited value is overridden
    in the child, and the finding is reported at the child's changed batch."""
    r = ctx.recipe
    assert v.span is not None
    title = f"Set {v.key} to {content}"
    span: Span | None = v.span
    related: list[Related] = []
    if inherited:
        edit, why = fixes.override_edit(ctx, v.key, content)
        fix = (
            Fix(UNSAFE, title + f" in {r.doc.path}", [edit], "a longer training may be intended")
            if edit
            else Fix(DISPLAY_ONLY, title, [], why)
        )
        span = locations.changed_batch_span(ctx) if ctx.reference is not None else None
        related = [Related(v.span, f"{v.key} unchanged")]
    else:
        fix = Fix(UNSAFE, title, [Edit(v.span, content)], "a longer training may be intended")
    if span is None or span.path != r.doc.path:
        return fix, v.span, []
    return fix, span, related


RULE = Rule(
    code="LR006",
    name="schedule-not-rescaled",
    summary="Step-based schedule lengths unchanged when the batch changed",
    severity="warning",
    fix_availability="sometimes",
    doc=DOC,
    check=check,
    valid=(
        Example(
            "# lrlint: reference batch=16 lr=0.02 SOLVER.MAX_ITER=90000\nSOLVER:\n  IMS_PER_BATCH: 64\n"
            "  BASE_LR: 0.08\n  MAX_ITER: 22500\n"
        ),
        # REFERENCE_WORLD_SIZE: the runtime rescales from this pair and schedule for other worker counts
        Example(
            "# lrlint: reference batch=16 lr=0.02 SOLVER.MAX_ITER=90000\nSOLVER:\n  IMS_PER_BATCH: 64\n"
            "  BASE_LR: 0.08\n  MAX_ITER: 22500\n  REFERENCE_WORLD_SIZE: 8\n"
        ),
    ),
    invalid=(
        Example(
            "# lrlint: reference batch=16 lr=0.02 SOLVER.MAX_ITER=90000\nSOLVER:\n  IMS_PER_BATCH: 64\n"
            "  BASE_LR: 0.08\n  MAX_ITER: 90000\n",
            expect=("LR006",),
            expected_fix=(
                "# lrlint: reference batch=16 lr=0.02 SOLVER.MAX_ITER=90000\nSOLVER:\n  IMS_PER_BATCH: 64\n"
                "  BASE_LR: 0.08\n  MAX_ITER: 22500\n"
            ),
        ),
    ),
)
