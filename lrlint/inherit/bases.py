"""Bases named by path: Detectron2's ``_BASE_`` and MMEngine's ``_base_`` (and its ``read_base()`` imports).

A child names one base or a list; later bases override earlier ones, the child overrides all, each
base is resolved the same way (recursively). Paths are relative to the naming file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lrlint.discover import is_file, resolved
from lrlint.inherit.model import (
    MAX_DEPTH,
    Loaded,
    Problem,
    Resolved,
    is_key,
    kept_base,
    mark,
    merge,
    over,
    problem,
    shape,
    with_values,
)
from lrlint.profiles import Inherit
from lrlint.regex import pattern
from lrlint.sources import INCLUDE_ERROR, Source, SourceError
from lrlint.values import ROOT_PREFIX, Document, Value

_FILE_DIRNAME = r"\{\{\s*fileDirname\s*\}\}"


def _entries(doc: Document, key: str) -> list[Value]:
    """``key: x`` or ``key: [x, y]`` -> the Values naming bases, in order."""
    v = doc.values.get(key)
    if v is not None and not (v.value == "[]" or f"{key}.0" in doc.values):  # "[]": a list marker (Python source)
        return [v]
    out, i = [], 0
    while (v := doc.values.get(f"{key}.{i}")) is not None:
        out.append(v)
        i += 1
    return out


class PathBases:
    """Detectron2 ``_BASE_: ../Base-RCNN-FPN.yaml``: the bases a file names by path, merged under it."""

    def resolve(self, r, me: Loaded, inh: Inherit) -> Resolved | None:
        """``r``: the Resolver (files, cache, cycle checks)."""
        doc = me.doc
        problems: list[Problem] = []
        read: dict[str, Source] = {}
        base, names = self._combined(r, doc, me, inh, problems, read)
        if base is None:
            return Resolved(doc, None, problems=problems) if problems else None
        hit = r.marked_bases.get(id(base))
        if hit is None or hit[0] is not base:
            hit = r.marked_bases[id(base)] = (base, mark(base, "", r.marks))
        if doc.path in read:  # a base value may be the child's own (an input problem): marked after the merge
            merged = mark(merge(base, doc.values, inh.delete_key), doc.path, r.marks)
        else:  # every base value is another file's: the marked bases merged with the child's marked values
            own = mark(doc.values, doc.path, r.marks)
            kept, sh = r.kept_again(me.fs, base, own, inh.delete_key)
            sh = sh or shape(own, inh.delete_key)
            if kept is None:
                kept = kept_base(hit[1], own, sh) if hit[1] else {}
            merged = over(kept, own, inh.delete_key)
            r.note((me.fs, base, own, inh.delete_key, sh, kept))
        bdoc = Document(names[-1][1] if names else doc.path, doc.format, hit[1], lines=None)
        return Resolved(
            with_values(doc, merged, inh.key),
            bdoc,
            names[-1][1] if names else "",
            [n for n, _ in names],
            list(read.values()),
            problems,
        )

    def _combined(
        self, r, doc: Document, me: Loaded, inh: Inherit, problems: list[Problem], read: dict
    ) -> tuple[dict[str, Value] | None, list[tuple[str, str]]]:
        """``_bases`` of a child, once per list of entries in a folder: siblings that name the same bases get
        the same merged values. A result with problems is not kept; a kept one is used only by a child it
        does not read (a child that is its own base's base gets its cycle reported)."""
        entries = _entries(doc, inh.key)
        key = (
            type(self),
            inh.key,
            inh.delete_key,
            me.fs.parent,
            tuple((e.key, e.value if isinstance(e.value, str) else repr(e.value), e.names) for e in entries),
        )
        hit = r.combo_of(key)
        if hit is not None and me.source.path not in hit[2]:
            read.update(hit[2])
            return hit[0], hit[1]
        before = len(problems)
        base, names, _ = self._bases(r, doc, me.fs, inh, [me.fs], problems, read)
        if base is not None and len(problems) == before:
            r.combos[key] = (base, names, dict(read))
        return base, names

    def target(self, entry: Value, fs: Path) -> Path | None:
        """The file an entry names (None: it names none)."""
        if not isinstance(entry.value, str) or not entry.value.strip():
            return None
        p = Path(entry.value.strip())
        return p if p.is_absolute() else fs.parent / p

    def skip(self, entry: Value) -> bool:
        """An entry that names a base outside this tree (left out, not a problem)."""
        return False

    def optional(self, entry: Value) -> bool:
        """An entry whose file may be outside this tree (left out when it names none here)."""
        return False

    def restrict(self, entry: Value, values: dict[str, Value]) -> dict[str, Value]:
        """The part of a base's values the entry takes (all of them)."""
        return values

    def _bases(
        self, r, doc: Document, fs: Path, inh: Inherit, stack: list[Path], problems: list[Problem], read: dict
    ) -> tuple[dict[str, Value] | None, list[tuple[str, str]], int]:
        """The merged values of ``doc``'s bases (None when it names none), (file name, shown path) of each, and
        the height of its chain (how many levels of bases below ``stack`` were checked for cycles and depth)."""
        entries = _entries(doc, inh.key)
        if not entries:
            return None, [], 0
        merged: dict[str, Value] = {}
        names: list[tuple[str, str]] = []
        height = 0
        for entry in entries:
            if self.skip(entry):
                continue
            target = self.target(entry, fs)
            if target is None and self.optional(entry):
                continue
            if target is None:
                problems.append(problem(entry, f"{inh.key} must name a file, not {entry.value!r}"))
                continue
            target = resolved(target)
            height = max(height, 1)
            why = r.chain_problem(target, stack)
            if why:
                problems.append(problem(entry, why))
                continue
            try:
                loaded = r.load(target)
            except SourceError as e:
                reason = e.reason if e.code == INCLUDE_ERROR else f"{r.display(target)}: {e.reason}"
                problems.append(problem(entry, f"base config {entry.value!r} cannot be read: {reason}"))
                continue
            read[loaded.source.path] = loaded.source
            values, below = self._merged_file(r, loaded, target, inh, stack, problems, read)
            height = max(height, 1 + below)
            taken = self.restrict(entry, values)
            merged = merge(merged, taken, inh.delete_key, r.shape(taken, inh.delete_key) if merged else None)
            names.append((target.name, loaded.source.path))
        return merged, names, height

    def _merged_file(
        self, r, loaded: Loaded, target: Path, inh: Inherit, stack: list[Path], problems: list[Problem], read: dict
    ) -> tuple[dict[str, Value], int]:
        """A base file's own values merged over its bases, and the height of its chain, once per run: a result
        without problems is kept (``r.merged``) with the files it read, and reused wherever its chain still
        fits under MAX_DEPTH (a chain without problems reaches no file of any stack that leads to it)."""
        key = (type(self), inh.key, inh.delete_key, target)
        hit = r.merged_of(key, target)
        if hit is not None and len(stack) + hit[2] <= MAX_DEPTH:
            values, files, height = hit
            for path, src in files:
                read[path] = src
            return values, height
        mine: list[Problem] = []
        sub_read: dict[str, Source] = {}
        sub, _, height = self._bases(r, loaded.doc, target, inh, stack + [target], mine, sub_read)
        own = {k: v for k, v in loaded.doc.values.items() if not is_key(k, inh.key)}
        values = merge(sub if sub is not None else {}, own, inh.delete_key)
        problems.extend(mine)
        read.update(sub_read)
        if not mine:
            r.merged[key] = (values, tuple(sub_read.items()), height)
        return values, height


class MMEngineBases(PathBases):
    """MMEngine ``_base_ = ['./a.py', '../b.py']`` (or ``with read_base():`` imports, which the Python reader
    turns into the same list): ``{{fileDirname}}`` is the file's directory, ``mmdet::...`` names a base in
    an installed package (not in this tree), ``from .x import a, b`` takes only those top-level names."""

    def target(self, entry: Value, fs: Path) -> Path | None:
        if isinstance(entry.value, str):
            entry = Value(entry.key, pattern(_FILE_DIRNAME).sub(fs.parent.as_posix(), entry.value), entry.span)
        return super().target(entry, fs)

    def skip(self, entry: Value) -> bool:
        return isinstance(entry.value, str) and "::" in entry.value

    def restrict(self, entry: Value, values: dict[str, Value]) -> dict[str, Value]:
        if not entry.names:
            return values
        return {k: v for k, v in values.items() if k.split(".", 1)[0] in entry.names}


class ImportBases(PathBases):
    """Detectron2 LazyConfig: ``from ..common.optim import SGD as optimizer`` takes the object ``SGD`` of
    ``../common/optim.py`` as ``optimizer``; ``model_zoo.get_config("common/optim.py").SGD`` names the path
    under the tree's ``configs/`` directory (the nearest one that has it, looking up from the file); one that
    is not in the tree is the installed package's (left out)."""

    def target(self, entry: Value, fs: Path) -> Path | None:
        if isinstance(entry.value, str) and entry.value.startswith(ROOT_PREFIX):
            rel = entry.value[len(ROOT_PREFIX) :]
            for anc in fs.parents:
                cand = anc / rel if anc.name == "configs" else anc / "configs" / rel
                if is_file(cand):
                    return cand
            return None
        return super().target(entry, fs)

    def optional(self, entry: Value) -> bool:
        return isinstance(entry.value, str) and entry.value.startswith(ROOT_PREFIX)

    def resolve(self, r, me: Loaded, inh: Inherit) -> Resolved | None:
        """The merged config; objects taken from several files (an optimizer from ``common/optim.py``, a
        loader from ``common/data/coco.py``) were never trained together: no inheritance reference then,
        only a config that takes everything from one other config has one."""
        res = super().resolve(r, me, inh)
        if res is not None and len(set(res.base_names)) > 1:
            res.base = None
        return res

    def restrict(self, entry: Value, values: dict[str, Value]) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for name in entry.names or ():
            src, _, dst = name.partition(" as ")
            dst = dst or src
            for k, v in values.items():
                head, dot, rest = k.partition(".")
                if head == src:
                    key = dst + dot + rest
                    out[key] = replace(v, key=key) if key != k else v
        return out
