"""What a recipe is compared with: declared, user-named, inherited or git-history references."""

from __future__ import annotations

from lrlint.recipes import Recipe
from lrlint.records import Record
from lrlint.spans import Span
from lrlint.vocabulary import DECLARED, HISTORY, INHERITANCE, STRENGTH, USER, ReferenceKind

__all__ = ["DECLARED", "HISTORY", "INHERITANCE", "STRENGTH", "USER", "Reference", "primary"]


class Reference(Record):
    kind: ReferenceKind
    label: str  # e.g. "git HEAD", "inline reference at configs/a.yaml:2"
    batch: float | None
    lr: float | None
    span: Span | None = None  # where the reference is stated (comment line, base file's batch)
    recipe: Recipe | None = None  # the reference Recipe, when there is one
    parts: dict[str, float] | None = None  # batch parts of the reference recipe
    # other values the reference states (``# lrlint: reference batch=16 SOLVER.MAX_ITER=90000``)
    values: dict[str, float] | None = None
    declared_key: str | None = None  # the profile's declared batch key it comes from (auto_scale_lr.base_batch_size)
    lr_recorded: bool = True  # False: a declared batch without an lr, whose lr was taken from git or the file itself
    why: str = ""  # a declared reference whose numbers the checks cannot use: why


def primary(refs: list[Reference]) -> Reference | None:
    usable = [r for r in refs if r.batch is not None]
    return min(usable, key=lambda r: STRENGTH[r.kind]) if usable else None
