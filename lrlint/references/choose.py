"""Which references were really trained together with the recipe's lr.

A reference is a batch and an lr that were tuned as a pair. ``collect`` lists every candidate;
``choose`` sets aside the ones that are not such a pair, each with the reason ``--explain`` shows:

1. a declared batch key (``auto_scale_lr.base_batch_size``) that disagrees with the file-name tag of
   the file it is written in: a stale declaration (LR004 reports it when that file is checked);
2. a declared batch key written in the checked file when the lr is inherited: the child restates its
   own batch, it does not re-tune the base's lr;
3. a child that writes its own lr next to its own file-name tag, or its own lr and batch for other
   training data than its base's (the profile's ``train_dataset`` role: Detectron2's PointRend
   Cityscapes recipe over a COCO base), is a recipe of its own: the base's lr and declarations written
   elsewhere are not its reference, unless its lr is the base's lr rescaled for the batch change as the
   policy accepts (then it is a rescaled base, and stays compared);
4. a child that replaces the optimizer (another type, or the profile's delete key, ``_delete_=True``,
   over the optimizer's settings) is not compared with the base's lr;
5. a base whose batch comes from one file and whose lr from another, with nothing tying them (the
   lr's file names no batch and declares none, no tagged base composes them), is not a trained recipe;
6. a config the profile marks as not a training recipe (``not_trained``: Detectron2's CI tests in
   ``quick_schedules/``) has no reference at all;
7. a git base whose only difference is the device count of the file-name tag (a rename that adds or
   changes the tag, the per-device content unchanged) is not a batch change.

The git reference (the same file at the base revision) and a ``--reference`` file are otherwise kept:
they are what the user compares with.
"""

from __future__ import annotations

from pathlib import PurePath

from lrlint import globs, numbers
from lrlint.recipes import Recipe, Tag, name_tag
from lrlint.records import replace
from lrlint.references import DECLARED, HISTORY, INHERITANCE, Reference
from lrlint.scaling import Policy, assess, same_number
from lrlint.settings import Thresholds
from lrlint.values import Value
from lrlint.vocabulary import BATCH_SIZE_ROLES


def stale_tag(recipe: Recipe, value: Value) -> Tag | None:
    """The file-name tag of the file ``value`` (a declared batch) is written in, when the two disagree."""
    if value.span is None or not value.known or not value.number:
        return None
    tag = name_tag(recipe.profile, value.span.path)
    if tag is None or tag.total is None or same_number(float(tag.total), value.number):
        return None
    return tag


def choose(
    refs: list[Reference],
    recipe: Recipe,
    doc_path: str,
    policy: Policy,
    thresholds: Thresholds,
    direct_bases: list[str] | None = None,
    replaced_scopes: list[str] | None = None,
) -> tuple[list[Reference], list[str]]:
    """The references of ``recipe`` (checked as ``doc_path``, whose direct bases are the files named
    ``direct_bases``; ``replaced_scopes``: the scopes it replaces with the delete key) that are trained pairs,
    and why each other one was set aside."""
    test = next((nt for nt in recipe.profile.not_trained if globs.matches(doc_path, [nt.glob])), None)
    if test is not None:
        return [], [f"{r.label} set aside: {doc_path} is not a training recipe ({test.why})" for r in refs]
    kept: list[Reference] = []
    why: list[str] = []
    lr_path = recipe.lr.span.path if recipe.lr.span is not None else None
    own = _own_recipe(refs, recipe, doc_path, lr_path, policy, thresholds)
    replaced = _optimizer_replaced(refs, recipe, doc_path, replaced_scopes or [])
    for r in refs:
        reason = _declared_reason(r, recipe, doc_path, lr_path)
        if reason is None and r.kind == INHERITANCE:
            reason = replaced or own or _untied(r, direct_bases or [])
            r = _tied_batch(r, recipe) if reason is None else r
        elif reason is None and r.kind == DECLARED and _lr_from_base(r, doc_path):
            reason = replaced or own or _lr_set_below(r, refs)
        elif reason is None and r.kind == HISTORY:
            reason = _tag_only(r, recipe)
        if reason is None:
            kept.append(r)
        else:
            why.append(f"{r.label} set aside: {reason}")
    return kept, why


def _lr_from_base(r: Reference, doc_path: str) -> bool:
    """A declared batch stated in a base file: its lr is the base's."""
    return r.span is not None and r.span.path != doc_path


def _lr_set_below(r: Reference, refs: list[Reference]) -> str | None:
    """A declared batch stated further up than the nearest base, whose lr the nearest base sets in its own
    file: the batch was declared for the lr of the file that states it, not for the one that replaced it."""
    inh = next((x for x in refs if x.kind == INHERITANCE), None)
    if inh is None or inh.recipe is None or r.span is None:
        return None
    lr = inh.recipe.lr
    if lr.span is None or lr.span.path == r.span.path or lr.span.path != inh.recipe.doc.path:
        return None
    return (
        f"{lr.key} is set again in {PurePath(lr.span.path).name}, below {PurePath(r.span.path).name} "
        "that declares the batch: the declared batch is not the one that lr was tuned for"
    )


def _declared_reason(r: Reference, recipe: Recipe, doc_path: str, lr_path: str | None) -> str | None:
    if r.kind != DECLARED or r.declared_key is None or r.span is None:
        return None
    v = recipe.doc.values.get(r.declared_key)
    tag = stale_tag(recipe, v) if v is not None else None
    if tag is not None:
        return f"it disagrees with {tag.describe()} in the name of {PurePath(r.span.path).name} (a stale declaration)"
    if r.span.path == doc_path and lr_path is not None and lr_path != doc_path:
        return (
            f"{PurePath(doc_path).name} restates its own batch there, but {recipe.lr.key} is inherited from "
            f"{lr_path}: it was tuned with the base's batch"
        )
    return None


def _own_recipe(
    refs: list[Reference], recipe: Recipe, doc_path: str, lr_path: str | None, policy: Policy, thresholds: Thresholds
) -> str | None:
    """Why the base's lr is not this recipe's reference: it writes its own lr next to its own tag, or its own lr
    and batch for other training data."""
    tag = recipe.tag
    inh = next((r for r in refs if r.kind == INHERITANCE), None)
    if lr_path != doc_path or inh is None:
        return None
    own: str | None = _other_data(recipe, inh, doc_path)
    if tag is not None and tag.inherited_from is None and tag.total is not None:
        own = f"next to its own tag ({tag.describe()})"
    lr = recipe.lr_value
    if own is None or not inh.batch or not inh.lr or lr is None or recipe.effective_batch is None:
        return None
    k = recipe.effective_batch / inh.batch
    if assess(k, lr / inh.lr, policy, thresholds).ok and not same_number(lr, inh.lr):
        return None  # the base's lr rescaled for this batch: compared as a rescale
    if same_number(lr, inh.lr) and same_number(k, 1.0):
        return None
    return (
        f"{PurePath(doc_path).name} writes its own {recipe.lr.key} {numbers.plain(lr)} {own}: a recipe of its own, "
        "not a rescale of the base's"
    )


def _other_data(recipe: Recipe, inh: Reference, doc_path: str) -> str | None:
    """How the child trains other data than its base with a batch of its own (None when it does not)."""
    ds = recipe.roles.get("train_dataset")
    base_ds = inh.recipe.roles.get("train_dataset") if inh.recipe is not None else None
    if ds is None or base_ds is None or ds.span is None or ds.span.path != doc_path:
        return None
    if not ds.known or not base_ds.known or ds.value == base_ds.value:
        return None
    batch = next((v for r in BATCH_SIZE_ROLES if (v := recipe.roles.get(r)) is not None), None)
    if batch is None or batch.span is None or batch.span.path != doc_path:
        return None
    return f"and {batch.key} for other training data ({ds.key} {_shown(ds)}; the base trains {_shown(base_ds)})"


def _shown(v: Value) -> str:
    return v.raw.strip() or str(v.value)


def _optimizer_replaced(refs: list[Reference], recipe: Recipe, doc_path: str, replaced_scopes: list[str]) -> str | None:
    inh = next((r for r in refs if r.kind == INHERITANCE and r.recipe is not None), None)
    if inh is None or inh.recipe is None:
        return None
    opt = recipe.roles.get("optimizer")
    base_opt = inh.recipe.optimizer_display
    if (
        opt is not None
        and opt.span is not None
        and opt.span.path == doc_path
        and recipe.optimizer_display
        and base_opt
        and recipe.optimizer_display != base_opt
    ):
        return f"{PurePath(doc_path).name} replaces the optimizer ({base_opt} -> {recipe.optimizer_display})"
    delete = recipe.profile.inherit.delete_key if recipe.profile.inherit is not None else "_delete_"
    for scope in replaced_scopes:
        if scope and recipe.lr.key.startswith(scope + "."):
            return f"{PurePath(doc_path).name} replaces {scope} of the base ({delete}=True)"
    return None


def _untied(r: Reference, direct_bases: list[str]) -> str | None:
    """A base assembled by the child itself from fragments never trained together: its batch and its lr come
    from two of the child's direct bases and nothing ties that lr to that batch. A base file that composes
    fragments (a model-zoo config, a Hydra primary config) was trained as composed."""
    base = r.recipe
    if base is None or base.lr.span is None:
        return None
    bv = next((v for v in base.batch_values() if v.span is not None), None)
    if bv is None or bv.span is None:
        return None
    lr_path, batch_path = base.lr.span.path, bv.span.path
    if lr_path == batch_path or not {PurePath(lr_path).name, PurePath(batch_path).name} <= set(direct_bases):
        return None
    if _declared_in_lr_file(base) is not None or name_tag(base.profile, lr_path) is not None:
        return None  # the lr's file names or declares the batch it was written for, or is a tagged recipe
    return (
        f"the base's batch ({bv.key} in {batch_path}) and lr ({base.lr.key} in {lr_path}) come from fragments "
        "never trained together: nothing ties that lr to that batch"
    )


def _declared_in_lr_file(base: Recipe) -> tuple[float, str] | None:
    """The batch the file that writes the base's lr names or declares for it (a schedule's ``bs256``, its
    ``auto_scale_lr.base_batch_size``), with where it is stated. A recipe's own tag (``8xb32``) is not such a
    statement: its content is the recipe (an ``-accum16`` beside it is not in the tag's number)."""
    if base.lr.span is None:
        return None
    lr_path = base.lr.span.path
    prof = base.profile
    t = name_tag(prof, lr_path, "schedule")
    if t is not None and t.total:
        return float(t.total), f"{t.text} in the name of {lr_path}"
    for key in prof.declared_batch:
        d = base.doc.values.get(key)
        if d is not None and d.span is not None and d.span.path == lr_path and d.known and d.number:
            return d.number, f"{key} = {numbers.plain(d.number)} in {lr_path}"
    return None


def _tied_batch(r: Reference, recipe: Recipe) -> Reference:
    """A base whose lr and batch are written in different files: the batch the lr's file states is the one the
    lr was written for (the batch fragment's per-device size on the child's devices may be another). A global
    batch says nothing about a per-device batch on devices the recipe does not state."""
    if recipe.roles.get("batch_per_device") is not None and recipe.roles.get("devices") is None:
        return r
    base = r.recipe
    bv = next((v for v in base.batch_values() if v.span is not None), None) if base is not None else None
    if base is None or base.lr.span is None or bv is None or bv.span is None or bv.span.path == base.lr.span.path:
        return r
    stated = _declared_in_lr_file(base)
    if stated is None or (r.batch is not None and same_number(r.batch, stated[0])):
        return r
    return replace(r, label=f"{r.label} (batch {numbers.plain(stated[0])}: {stated[1]})", batch=stated[0], parts=None)


def _tag_only(r: Reference, recipe: Recipe) -> str | None:
    """The git base differs only by the device count its file-name tag states."""
    old = r.recipe
    if old is None or not r.parts or not recipe.parts:
        return None
    dv, odv = recipe.roles.get("devices"), old.roles.get("devices")
    if dv is None or odv is None or not dv.from_tag or not odv.from_tag:
        return None
    if same_number(r.parts.get("devices") or 0, recipe.parts.get("devices") or 0):
        return None
    others = set(r.parts) | set(recipe.parts)
    others.discard("devices")
    if any(not same_number(r.parts.get(p) or 0, recipe.parts.get(p) or 0) for p in others):
        return None
    return (
        f"only the file name's tag changed ({odv.from_tag} -> {dv.from_tag}); the per-device content is the "
        "same, so the batch did not change (LR004 compares a tag with the content)"
    )
