"""The references of one recipe: what its batch and lr are compared with.

Four kinds, one function each, in the order ``collect`` lists them:

* ``declared``: inline ``# lrlint: reference batch=256 lr=0.1`` comments, then the profile's declared
  batch keys (``auto_scale_lr.base_batch_size``);
* ``inheritance``: the base config the file inherits from;
* ``user``: the file named by ``--reference``;
* ``history``: the same file at the git base.

Each of the last three pairs the recipe with the other side's recipe of the same lr key (or its only
recipe). ``primary`` in :mod:`lrlint.references` picks the strongest.

A declared reference may state a batch without an lr (``# lrlint: reference batch=64``, or a declared
batch key). The lr it was tuned with is then filled in by ``fill_declared_lr``:

1. a reference stated in a base file (not the checked one) takes the inheritance reference's lr: the
   base states the pair the lr in the base was written for;
2. otherwise the git history's lr, else the recipe's own current lr. Neither stays stable once the lr
   is fixed (git and the file then hold the new one), so the reference is marked ``lr_recorded=False``
   and the lr fix writes ``lr=`` into the directive.
"""

from __future__ import annotations

from lrlint import directives, numbers
from lrlint.recipes import Recipe
from lrlint.references import DECLARED, HISTORY, INHERITANCE, USER, Reference
from lrlint.spans import Span
from lrlint.values import Document
from lrlint.vocabulary import ReferenceKind


def declared(recipe: Recipe, doc: Document) -> list[Reference]:
    """The document's inline reference comments, then the profile's declared batch keys."""
    refs = []
    lines = doc.lines
    for d in directives.declared_references(doc.comments):
        span: Span | None = None
        if lines is not None:
            start = lines.offset(d.line, 1)
            span = lines.span(doc.path, start, start + len(lines.line_text(d.line)))
        where = f"{span.path if span is not None else doc.path}:{d.line}"
        label = f"inline reference at {where}"
        refs.append(Reference(DECLARED, label, d.batch, d.lr, span, values=d.values or None, why=d.why))
    # a declared global batch says nothing about a per-device batch on unknown devices
    devices_known = recipe.roles.get("batch_per_device") is None or recipe.roles.get("devices") is not None
    for key in recipe.profile.declared_batch:
        v = recipe.doc.values.get(key)
        n = v.number if v is not None and v.known else None
        if v is not None and n and devices_known:
            where = "" if v.span is None or v.span.path == doc.path else f" in {v.span.path}"
            refs.append(Reference(DECLARED, f"{key} = {numbers.plain(n)}{where}", n, None, v.span, declared_key=key))
    return refs


def inheritance(recipe: Recipe, base: list[Recipe], label: str) -> Reference | None:
    """The base config's recipe (``label``: the nearest base, as shown)."""
    return _from_pair(INHERITANCE, f"base {label}", recipe, base)


def user(recipe: Recipe, reference: list[Recipe], label: str) -> Reference | None:
    """The recipe of the ``--reference`` file (``label``: the file as the user named it)."""
    return _from_pair(USER, f"--reference {label}", recipe, reference)


def history(recipe: Recipe, old: list[Recipe], label: str) -> Reference | None:
    """The same document at the git base (``label``: the base revision, as shown)."""
    return _from_pair(HISTORY, f"git {label}", recipe, old)


def fill_declared_lr(refs: list[Reference], recipe: Recipe, doc: Document) -> None:
    """Give each declared reference without an lr the lr it was tuned with (see the module's doc)."""
    hist = next((r for r in refs if r.kind == HISTORY), None)
    inh = next((r for r in refs if r.kind == INHERITANCE), None)
    for r in refs:
        if r.kind != DECLARED or r.lr is not None:
            continue
        if inh is not None and r.span is not None and r.span.path != doc.path:
            r.lr = inh.lr
        else:
            r.lr = hist.lr if hist is not None else recipe.lr_value
            r.lr_recorded = False


def collect(
    recipe: Recipe,
    doc: Document,
    base: tuple[list[Recipe], str] | None = None,
    reference: tuple[list[Recipe], str] | None = None,
    old: tuple[list[Recipe], str] | None = None,
) -> list[Reference]:
    """Every reference of ``recipe`` (of ``doc``): declared, inheritance, user, history.

    ``base``, ``reference`` and ``old`` are the other side's recipes with their label, when there is one.
    """
    refs = declared(recipe, doc)
    for side, make in ((base, inheritance), (reference, user), (old, history)):
        if side is not None and side[0]:
            ref = make(recipe, *side)
            if ref is not None:
                refs.append(ref)
    fill_declared_lr(refs, recipe, doc)
    return refs


def _pair(recipe: Recipe, candidates: list[Recipe]) -> Recipe | None:
    """The candidate with the recipe's lr key, else the only candidate."""
    for c in candidates:
        if c.lr.key == recipe.lr.key:
            return c
    return candidates[0] if len(candidates) == 1 else None


def _from_pair(kind: ReferenceKind, label: str, recipe: Recipe, candidates: list[Recipe]) -> Reference | None:
    r = _pair(recipe, candidates)
    if r is None:
        return None
    batch_v = next((v for v in r.batch_values() if v.span is not None), None)
    return Reference(
        kind,
        label,
        r.effective_batch if not r.unknown else None,
        r.lr_value,
        span=batch_v.span if batch_v else None,
        recipe=r,
        parts=dict(r.parts),
    )
