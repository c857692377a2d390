"""What every inheritance strategy shares: the merge of flattened values, provenance, problems, results."""

from __future__ import annotations

from pathlib import Path

from lrlint import keypaths
from lrlint.records import Record, field
from lrlint.sources import INCLUDE_ERROR, Source, SourceError
from lrlint.values import INHERITED, UNKNOWN, Document, Value

MAX_DEPTH = 100  # inheritance chain length before LR906 (real chains are < 10; 50-deep ones still resolve)


class Problem(Record):
    """An LR906 problem at a span of some file (the child or one of its bases)."""

    path: str
    error: SourceError


class Resolved(Record):
    doc: Document  # the child merged over its bases
    base: Document | None  # the bases merged without the child: the inheritance reference
    base_label: str = ""  # the nearest base, as shown
    base_names: list[str] = field(default_factory=list)  # file names of the direct bases, nearest last
    sources: list[Source] = field(default_factory=list)  # every base file read (for code frames)
    problems: list[Problem] = field(default_factory=list)


class Loaded(Record):
    """A parsed config file: its source, its (first) document and where it is on disk."""

    source: Source
    doc: Document
    fs: Path
    docs: list[Document] | None = None  # every document the file holds (None: not read from disk by the resolver)


class Shape(Record):
    """What a merge needs to know of the child's keys (computed once per child dict, see ``shape``)."""

    drop: set[str]  # scopes of the base the child replaces whole: deleted mappings, lists
    prefixes: set[str]  # every proper prefix of a child key (the child's mappings)
    heads: set[str]  # the first part of every child key


def shape(child: dict[str, Value], delete_key: str | None = None) -> Shape:
    """The child's mappings, lists and deleted scopes, from its keys."""
    out = Shape(set(), set(), set())
    for k, v in child.items():
        if is_delete_key(k, delete_key) and deletes(v):
            out.drop.add(keypaths.parent(k))
        out.heads.add(k.partition(".")[0])
        start = 0
        while (i := k.find(".", start)) >= 0:
            out.prefixes.add(k[:i])
            if k[i + 1 : (j if (j := k.find(".", i + 1)) >= 0 else len(k))].isdigit():
                out.drop.add(k[:i])  # a list: a part that is an index follows
            start = i + 1
    return out


def is_delete_key(k: str, delete_key: str | None) -> bool:
    """Whether the child's key ``k`` is a delete key (``_delete_``, or ``x._delete_``)."""
    return bool(delete_key) and (k == delete_key or k.endswith("." + str(delete_key)))


def deletes(v: Value) -> bool:
    """Whether a delete key's value deletes its scope of the base (``_delete_=True``)."""
    return v.value not in (False, None, 0) and str(v.value).lower() not in ("false", "0")


def merge(
    base: dict[str, Value], child: dict[str, Value], delete_key: str | None = None, child_shape: Shape | None = None
) -> dict[str, Value]:
    """``child`` over ``base`` on flattened keys: scalars and lists replace, mappings merge.

    Each base key under a head of the child is tested by set lookups of its own prefixes; ``child_shape``:
    ``shape(child, delete_key)``, when it is known."""
    if not base:
        return over({}, child, delete_key)
    return over(kept_base(base, child, child_shape or shape(child, delete_key)), child, delete_key)


def kept_base(base: dict[str, Value], child: dict[str, Value], sh: Shape) -> dict[str, Value]:
    """The base keys a child of shape ``sh`` keeps (``merge`` before the child's own keys are set)."""
    drop, prefixes = sh.drop, sh.prefixes
    if "" in drop:  # a delete key at the top replaces the whole base
        return {}

    def kept(k: str) -> bool:
        if k in prefixes or k in drop:  # a base scalar where the child has a mapping; a dropped scope
            return False
        head = k
        while (i := head.rfind(".")) >= 0:
            head = head[:i]
            if head in child or head in drop:  # the child has a scalar where the base has a mapping
                return False
        return True

    heads = sh.heads  # a base key under no head of the child is kept as it is
    return {k: v for k, v in base.items() if k.partition(".")[0] not in heads or kept(k)}


def over(kept: dict[str, Value], child: dict[str, Value], delete_key: str | None) -> dict[str, Value]:
    """The child's own keys set over the base keys it keeps (a new dict; a delete key is not a value)."""
    out = dict(kept)
    if not delete_key:
        out.update(child)
        return out
    for k, v in child.items():
        if not is_delete_key(k, delete_key):
            out[k] = v
    return out


def mark(
    values: dict[str, Value], own_path: str, cache: dict[int, tuple[Value, Value]] | None = None
) -> dict[str, Value]:
    """Values from files other than ``own_path`` become INHERITED (UNKNOWN ones stay unknown); ``cache``
    (id of a value -> the value and its INHERITED copy) makes each copy once per run."""
    out = {}
    for k, v in values.items():
        if v.span is not None and v.span.path != own_path and v.provenance not in (INHERITED, UNKNOWN):
            if cache is None:
                v = v.with_provenance(INHERITED)
            else:
                hit = cache.get(id(v))
                if hit is None or hit[0] is not v:
                    hit = cache[id(v)] = (v, v.with_provenance(INHERITED))
                v = hit[1]
        out[k] = v
    return out


def is_key(k: str, key: str) -> bool:
    """``k`` is ``key`` or lies under it."""
    return k == key or k.startswith(key + ".")


def problem(v: Value | None, reason: str) -> Problem:
    """An LR906 problem at a value's span (the entry that names a base), or at the top of the file."""
    if v is None or v.span is None:
        return Problem("", SourceError(INCLUDE_ERROR, reason))
    s = v.span
    return Problem(s.path, SourceError(INCLUDE_ERROR, reason, s.line, s.col, s.end_line, s.end_col))


def with_values(doc: Document, values: dict[str, Value], key: str) -> Document:
    """``doc`` with the merged ``values``; the child's own entries under the inheritance ``key`` are kept
    (findings from bases point at them)."""
    values = {**values, **{k: v for k, v in doc.values.items() if is_key(k, key) and k not in values}}
    return Document(doc.path, doc.format, values, doc.index, doc.lines, doc.comments, doc.problems, doc.variant)


# a child's merge as ``PathBases.resolve`` made it: the child (resolved), its bases' merged values, its own
# marked values, the delete key, their ``shape``, and the base keys it kept (``kept_base`` of the marked bases)
MadeMerge = tuple[Path, dict[str, Value], dict[str, Value], str | None, Shape, dict[str, Value]]


class ChildMerge(Record):
    """The base keys a child kept when it was merged over its bases (``PathBases.resolve``), kept to merge the
    same file again: ``--fix``'s re-check merges a fixed file's new version and its version at the git base,
    whose own keys are the checked version's or differ only in keys that no base key lies under."""

    fs: Path  # the child, resolved
    base: dict[str, Value]  # its bases' merged values, as the kept combination of its base entries gives them
    delete_key: str | None
    keys: set[str]  # the child's own keys
    deleting: dict[str, bool]  # its delete keys -> ``deletes``
    shape: Shape  # ``shape`` of its own values
    kept: dict[str, Value]  # ``kept_base`` of the marked bases

    @classmethod
    def of(cls, made: MadeMerge) -> ChildMerge:
        fs, base, own, delete_key, sh, kept = made
        deleting = {k: deletes(v) for k, v in own.items() if is_delete_key(k, delete_key)}
        return cls(fs, base, delete_key, set(own), deleting, sh, kept)

    def again(
        self, base: dict[str, Value], own: dict[str, Value], delete_key: str | None
    ) -> tuple[dict[str, Value] | None, Shape | None]:
        """``kept_base`` of the same bases for a child with own values ``own``, when it is this one's (same bases,
        same child mappings, heads and deleted scopes, and no key in one child and not the other lies over a
        base key), and ``shape`` of ``own`` (None: not computed, the bases differ)."""
        if base is not self.base or delete_key != self.delete_key:
            return None, None
        if own.keys() == self.keys and all(deletes(own[k]) == d for k, d in self.deleting.items()):
            return self.kept, self.shape  # the same keys, deleting the same scopes: the same shape
        sh = shape(own, delete_key)
        old = self.shape
        if sh.heads != old.heads or sh.prefixes != old.prefixes or sh.drop != old.drop:
            return None, sh
        for k in self.keys.symmetric_difference(own):  # a key one child has: a fix adds an lr the base sets
            under = k + "."
            if any(b.startswith(under) for b in base):
                return None, sh
        return self.kept, sh
