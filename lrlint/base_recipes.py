"""The inheritance reference's recipes: a child's merged bases, indexed and built once per merge.

Siblings that name the same bases share their merged values (``Resolver.combos``), so what is built from
them is kept by the identity of those values (``Resolver.base_recipes``; a kept entry holds the objects it
was made from and is used only while they are the same objects).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePath

from lrlint import interpolate
from lrlint.keypaths import KeyIndex
from lrlint.profiles import OptimizerTable, Profile
from lrlint.recipes import Recipe, Tag, build, select_profile
from lrlint.values import Document, Value

Memo = dict[tuple, tuple]


def document(
    memo: Memo, base: Document, profiles: tuple[Profile, ...]
) -> tuple[Document, KeyIndex[Value], Profile | None]:
    """The merged bases as recipes are built from them (interpolated), their keys indexed, and the profile
    that claims them."""
    key = (id(base.values), base.path, id(profiles))
    hit = memo.get(key)
    if hit is None or hit[0] is not base.values or hit[1] is not profiles:
        bdoc = interpolate.resolve_document(base) if base.format == "yaml" else base
        index = KeyIndex(bdoc.values)
        hit = memo[key] = (base.values, profiles, (bdoc, index, select_profile(bdoc, profiles, index)))
    return hit[2]


def build_once(
    memo: Memo,
    bdoc: Document,
    index: KeyIndex[Value],
    profile: Profile,
    optimizers: OptimizerTable,
    tag: Tag | bool,
) -> list[Recipe]:
    """``build`` of the merged bases, once per profile and file-name tag (tags that differ only in the folder
    of the file they were inherited from build the same recipes: each takes its own tag)."""
    key = (id(bdoc.values), bdoc.path, id(profile), id(optimizers), _as_built(tag))
    hit = memo.get(key)
    if hit is None or hit[0] is not bdoc.values or hit[1] is not profile or hit[2] is not optimizers:
        hit = memo[key] = (
            bdoc.values,
            profile,
            optimizers,
            tag,
            build(bdoc, profile, optimizers, tag=tag, index=index),
        )
    if hit[3] == tag:
        return list(hit[4])
    return [replace(r, tag=tag or None) for r in hit[4]]


def _as_built(tag: Tag | bool) -> tuple | bool:
    """What ``build`` reads of a tag: its numbers, whether it is inherited and the name of the file it is
    inherited from (the message names the file, not its folder)."""
    if not isinstance(tag, Tag):
        return tag
    where = None if tag.inherited_from is None else PurePath(tag.inherited_from).name
    return (tag.text, tag.devices, tag.per_device, tag.batch, tag.inherited_from is None, where)
