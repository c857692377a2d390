"""LR003 missing-warmup: the lr was raised by a large factor and nothing warms it up."""

from __future__ import annotations

from lrlint import numbers, sources
from lrlint.checks import compare as cmp
from lrlint.checks import fixes, locations, wording
from lrlint.checks.base import CheckContext, Example, Rule
from lrlint.checks.data import RefLabel, WarmupData
from lrlint.findings import DISPLAY_ONLY, UNSAFE, WARNING, Finding, Fix, Related
from lrlint.scaling import same_number

DOC = """\
## What it does
Flags a learning rate raised by a large factor (4x or more by default, against
any reference: the git base, a base config, a declared reference) when the
merged config has no warmup at all (no `warmup_steps`, `warmup_ratio`,
`warmup_epochs`, `SOLVER.WARMUP_ITERS`, MMEngine `LinearLR` warmup, ...). A
framework that scales the lr at run time counts as raising it.

A raise that lands at or under the top of the optimizer family's usual range
(`usual_lr` in `rules/optimizers.yaml`: SGD family 1e-4 to 0.5, adaptive
1e-6 to 1e-3) is not flagged: an ordinary level needs no warmup, however low
the reference was (AdamW 1e-4 after a 1e-5 fine-tuning base). `--explain`
says so for the recipe. The range is of the lr that runs, not per sample:
Goyal et al.'s lr of 3.2 for batch 8192 is 0.1 per 256 samples, an ordinary
level per sample, and it is the case that needed the warmup. Sign-based and
unknown optimizers have no range: the raise alone decides. The range is the
family's, not the task's: an SGD detector raised from 0.02 to 0.16 stays
silent although detectors usually train at 0.02.

A level above the range is not flagged without a raise by `warmup-factor`:
in the benchmark repositories (`bench/realworld/lr_levels.py`) the 25 recipes
that train above their family's range without a warmup are published as they
are (linear classifiers on frozen features at SGD lr 12 and 30, 3D detectors
at AdamW 8e-3, MobileNet-V3 at RMSprop 0.064), and the one raise of x2 to x4
without a warmup (Adam 1e-3 -> 2e-3 for half the batch) is LR002's to judge.

## Why is this bad?
Goyal et al. 2017 ("Accurate, Large Minibatch SGD") could only train ResNet-50
at batch 8192 with the linearly scaled lr after adding a gradual warmup over
the first 5 epochs: at the start of training the weights change fast and a
large lr diverges. Without warmup, the scaled lr that LR001 asks for can make
the run blow up in its first hundred steps.

## Example
```yaml
# lrlint: reference batch=256 lr=0.1
batch_size: 2048
lr: 0.8
optimizer: sgd
```

Use instead:
```yaml
# lrlint: reference batch=256 lr=0.1
batch_size: 2048
lr: 0.8
optimizer: sgd
warmup_epochs: 5
```

## Fix safety
Unsafe, and only where the framework's profile knows how to add a warmup
(`lrlint profile NAME` shows it): Hugging Face and axolotl `warmup_ratio: 0.05`,
Detectron2 `SOLVER.WARMUP_ITERS: 1000`, LitGPT `train.lr_warmup_steps: 100`,
MMEngine a `LinearLR` warmup over 500 iterations first in `param_scheduler`.
The length and shape of a warmup are a choice (Goyal et al. used 5 epochs,
Detectron2 1000 iterations, Ultralytics 3 epochs): review it. Where the
scheduler list is inherited from a base file, the fix is shown, not applied.

## Options
`[tool.lrlint.thresholds] warmup-factor` (default 4); `usual-lr`, per family
(`usual-lr = { adaptive = [1e-6, 3e-4] }` narrows it; `[0, 0]` turns it off,
so that the raise alone decides).
"""


def has_warmup(recipe) -> bool:
    """Whether any warmup is configured (an unknown value counts: lrlint does not guess), or a component
    that warms up by default (the profile's ``warmup_when``: mmyolo's scheduler hooks)."""
    if any(c.holds(recipe.doc.values) for c in recipe.profile.warmup_when):
        return True
    for w in recipe.warmup:
        if not w.known:
            return True
        n = w.number
        if n is None:
            if isinstance(w.value, str) and w.value.strip():
                return True
            continue
        if n > 0:
            return True
    if not recipe.warmup:
        d = recipe.profile.defaults.get("warmup")
        return isinstance(d, (int, float)) and not isinstance(d, bool) and d > 0
    return False


def warmup_keys(profile) -> list[str]:
    """The warmup settings a profile reads, as a user writes them (the fix's key first)."""
    keys = [p.replace("**.", "") for p in profile.patterns("warmup")]
    keys = [k for k in keys if "*" not in k]
    w = profile.warmup_fix
    if w is not None and w.item:  # a scheduler in a list: its fields are not settings of their own
        keys = [f"a warmup scheduler first in {w.key}"] + [k for k in keys if not k.startswith(w.key + ".")]
    elif w is not None:
        keys.insert(0, w.key)
    return list(dict.fromkeys(keys))


def usual_level(ctx: CheckContext, lr: float) -> str | None:
    """Why ``lr`` (the lr that runs after a raise) needs no warmup: it is at or under the top of its optimizer
    family's usual range (``usual_lr`` in rules/optimizers.yaml, or ``[tool.lrlint.thresholds] usual-lr``);
    None when it is above, or the family has no range."""
    usual = ctx.policy.usual_lr
    if usual is None or not lr <= usual[1] * (1 + 1e-9):
        return None
    lo, hi = usual
    where = "is under" if lr < lo * (1 - 1e-9) else "stays within"
    return (
        f"{where} the {ctx.policy.family} family's usual range, {numbers.plain(lo)} to {numbers.plain(hi)} "
        "(usual-lr): an ordinary level needs no warmup"
    )


def _hint(recipe) -> str:
    keys = warmup_keys(recipe.profile)
    return f" (e.g. {keys[0]})" if keys else ""


def warmup_fix(ctx: CheckContext) -> Fix | None:
    """The profile's way to add a warmup, as an unsafe fix in the checked file; display-only where the file
    does not hold what it edits (a scheduler list inherited from a base)."""
    w = ctx.recipe.profile.warmup_fix
    src = ctx.source
    if w is None or src is None:
        return None
    why = "the length of a warmup is a choice" + (f" ({w.description})" if w.description else "")
    if w.item:
        edits = sources.prepend_edits(src, w.key, w.item)
        title = f"Add {w.item} first in {w.key}"
        if edits is None:
            return Fix(DISPLAY_ONLY, title, [], f"{w.key} is not assigned in {src.path}: add it by hand")
        return Fix(UNSAFE, title, edits, why)
    edit, reason = fixes.override_edit(ctx, w.key, w.value)
    title = f"Set {w.key} to {w.value}"
    if edit is None:
        return Fix(DISPLAY_ONLY, title, [], reason)
    return Fix(UNSAFE, title, [edit], why)


def check(ctx: CheckContext):
    r = ctx.recipe
    if r.lr_value is None or r.effective_batch is None or r.unknown or has_warmup(r):
        return
    t = ctx.settings.thresholds
    best = None
    for ref in ctx.references:
        if not ref.batch or not ref.lr:
            continue
        k = r.effective_batch / ref.batch
        f = r.lr_value / ref.lr
        # the lr the file states is the reference's, and the runtime rescales it: the rescaled lr is what runs
        runtime = r.scaling
        if runtime is not None and (runtime.name == "expression" or not same_number(r.lr_value, ref.lr)):
            runtime = None
        if runtime is not None:
            rk = cmp.runtime_factor(ctx, ref) or 1.0  # the part of the change the runtime rescales the lr for
            f = rk**runtime.exponent
            if same_number(f, 1.0):
                runtime = None
        if f >= t.warmup_factor and (best is None or f > best[0]):
            best = (f, ref, k, runtime)
    if best is None:
        return
    f, ref, k, runtime = best
    if not ref.batch or not ref.lr:  # skipped above: stated for the type checker
        return
    usual = usual_level(ctx, ref.lr * f)
    if usual is not None:
        ctx.quiet.append(
            f"LR003 silent: {r.lr.key} {wording.fmt_lr(ctx, ref.lr)} -> {wording.fmt_lr(ctx, ref.lr * f)} "
            f"(x{numbers.plain(f)} against {ref.label}) {usual}"
        )
        return
    how = (
        f"{runtime.description}: the lr runs x{numbers.plain(f)} the reference's"
        if runtime is not None
        else f"{r.lr.key} {wording.fmt_lr(ctx, ref.lr)} -> {wording.fmt_lr(ctx, r.lr_value)} (x{numbers.plain(f)})"
    )
    msg = f"{how} with no warmup configured; add a gradual warmup{_hint(r)}"
    notes = [
        f"effective batch {numbers.plain(ref.batch)} -> {numbers.plain(r.effective_batch)}",
        *wording.reference_notes(ctx, ref),
    ]
    span = (
        r.lr.span
        if r.lr.span is not None and not locations.inherited(ctx, r.lr)
        else locations.changed_batch_span(ctx)
        if ctx.reference
        else r.lr.span
    )
    related = []
    if r.lr.span is not None and r.lr.span != span:
        related.append(Related(r.lr.span, f"{r.lr.key} x{numbers.plain(f)}"))
    if span is None:
        return
    yield Finding(
        RULE.code,
        RULE.name,
        msg,
        WARNING,
        span,
        related=related,
        fix=warmup_fix(ctx),
        data=WarmupData(
            lr_factor=f,
            batch_old=ref.batch,
            batch_new=r.effective_batch,
            k=k,
            lr_old=ref.lr,
            lr_new=r.lr_value,
            runtime_scaling=runtime is not None,
            threshold=t.warmup_factor,
            reference=RefLabel(ref.kind, ref.label),
            lr_key=r.lr.key,
            profile=r.profile.name,
        ),
        notes=notes,
    )


RULE = Rule(
    code="LR003",
    name="missing-warmup",
    summary="Learning rate raised by a large factor with no warmup configured",
    severity=WARNING,
    fix_availability="sometimes",
    doc=DOC,
    check=check,
    valid=(
        Example("# lrlint: reference batch=256 lr=0.1\nbatch_size: 2048\nlr: 0.8\noptimizer: sgd\nwarmup_epochs: 5\n"),
        Example("# lrlint: reference batch=256 lr=0.1\nbatch_size: 512\nlr: 0.2\noptimizer: sgd\n"),
        Example("# lrlint: reference batch=8 lr=1.0e-5\nper_device_train_batch_size: 32\nlearning_rate: 1.0e-4\n"),
    ),
    invalid=(
        Example("# lrlint: reference batch=256 lr=0.1\nbatch_size: 2048\nlr: 0.8\noptimizer: sgd\n", expect=("LR003",)),
        Example(
            "# lrlint: reference batch=256 lr=0.1\nbatch_size: 2048\nlr: 0.8\noptimizer: sgd\nwarmup_epochs: 0\n",
            expect=("LR003",),
        ),
        Example(
            "# lrlint: reference batch=32 lr=5.0e-4\nper_device_train_batch_size: 512\nlearning_rate: 2.0e-3\n",
            filename="train_args.yaml",
            expect=("LR003",),
            expected_fix=(
                "# lrlint: reference batch=32 lr=5.0e-4\nper_device_train_batch_size: 512\nlearning_rate: 2.0e-3\n"
                "warmup_ratio: 0.05\n"
            ),
        ),
    ),
)
