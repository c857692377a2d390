"""What every inheritance strategy shares: the merge of flattened values, provenance, problems, results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from lrlint import keypaths
from lrlint.sources import INCLUDE_ERROR, Source, SourceError
from lrlint.values import INHERITED, UNKNOWN, Document, Value

MAX_DEPTH = 100  # inheritance chain length before LR906 (real chains are < 10; 50-deep ones still resolve)


@dataclass
class Problem:
    """An LR906 problem at a span of some file (the child or one of its bases)."""

    path: str
    error: SourceError


@dataclass
class Resolved:
    doc: Document  # the child merged over its bases
    base: Document | None  # the bases merged without the child: the inheritance reference
    base_label: str = ""  # the nearest base, as shown
    base_names: list[str] = field(default_factory=list)  # file names of the direct bases, nearest last
    sources: list[Source] = field(default_factory=list)  # every base file read (for code frames)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Loaded:
    """A parsed config file: its source, its (first) document and where it is on disk."""

    source: Source
    doc: Document
    fs: Path


def _list_heads(keys: Iterable[str]) -> set[str]:
    """Key prefixes that are lists (a part that is an index follows them)."""
    heads = set()
    for k in keys:
        parts = k.split(".")
        for i in range(1, len(parts)):
            if parts[i].isdigit():
                heads.add(".".join(parts[:i]))
    return heads


def merge(base: dict[str, Value], child: dict[str, Value], delete_key: str | None = None) -> dict[str, Value]:
    """``child`` over ``base`` on flattened keys: scalars and lists replace, mappings merge."""
    drop: set[str] = set()
    if delete_key:
        for k, v in child.items():
            is_delete = k == delete_key or k.endswith("." + delete_key)
            if is_delete and v.value not in (False, None, 0) and str(v.value).lower() not in ("false", "0"):
                drop.add(keypaths.parent(k))
    drop |= _list_heads(child)
    child_keys = set(child)
    all_child_prefixes = set()
    for k in child:
        parts = k.split(".")
        for i in range(1, len(parts)):
            all_child_prefixes.add(".".join(parts[:i]))
    out: dict[str, Value] = {}
    for k, v in base.items():
        if any(keypaths.in_scope(k, d) for d in drop):
            continue
        if k in all_child_prefixes:  # a base scalar where the child has a mapping
            continue
        head = k
        replaced = False
        while "." in head:
            head = keypaths.parent(head)
            if head in child_keys:  # the child has a scalar where the base has a mapping
                replaced = True
                break
        if replaced:
            continue
        out[k] = v
    for k, v in child.items():
        if delete_key and (k == delete_key or k.endswith("." + delete_key)):
            continue
        out[k] = v
    return out


def mark(values: dict[str, Value], own_path: str) -> dict[str, Value]:
    """Values from files other than ``own_path`` become INHERITED (UNKNOWN ones stay unknown)."""
    out = {}
    for k, v in values.items():
        if v.span is not None and v.span.path != own_path and v.provenance not in (INHERITED, UNKNOWN):
            v = replace(v, provenance=INHERITED)
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
