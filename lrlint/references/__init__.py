"""What a recipe is compared with: declared, user-named, inherited or git-history references."""

from __future__ import annotations

from dataclasses import dataclass

from lrlint.spans import Span

DECLARED = "declared"  # inline `# lrlint: reference`, file-name tag, auto_scale_lr.base_batch_size ...
USER = "user"  # --reference FILE
INHERITANCE = "inheritance"  # the base config a child inherits from
HISTORY = "history"  # the same file at the git base

# The strongest first: a declared reference wins over history (design.md).
STRENGTH = {USER: 0, DECLARED: 1, INHERITANCE: 2, HISTORY: 3}


@dataclass
class Reference:
    kind: str
    label: str  # e.g. "git HEAD", "inline reference (line 2)"
    batch: float | None
    lr: float | None
    span: Span | None = None  # where the reference is stated (comment line, base file's batch)
    lr_span: Span | None = None
    recipe: object | None = None  # the reference Recipe, when there is one
    parts: dict | None = None  # batch parts of the reference recipe
    values: dict | None = (
        None  # other values the reference states (``# lrlint: reference batch=16 SOLVER.MAX_ITER=90000``)
    )
    lr_recorded: bool = True  # False: a declared batch without an lr, whose lr was taken from git or the file itself


def primary(refs: list[Reference]) -> Reference | None:
    usable = [r for r in refs if r.batch is not None]
    return min(usable, key=lambda r: STRENGTH[r.kind]) if usable else None
