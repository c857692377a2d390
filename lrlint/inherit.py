"""Config inheritance: one merged Document per config, driven by each profile's ``inherit`` section.

Kinds (``rules/frameworks/*.yaml``, ``inherit.kind``):

* ``path``: Detectron2 ``_BASE_: ../Base-RCNN-FPN.yaml`` (one base, recursive, relative to the file).
* ``mmengine``: ``_base_ = './a.py'`` or a list; later bases override earlier ones, the child overrides
  all; ``{{fileDirname}}`` is the file's directory; a mapping with ``_delete_=True`` replaces the base's.
* ``hydra_defaults``: a Hydra defaults list (``- optimizer: adamw``, ``_self_``, ``override /data: x``,
  ``optional``, ``group@pkg``) with config groups under the config root (the nearest ``configs/``-style
  directory, plus ``file://`` entries of ``hydra.searchpath``). An experiment (a group file) is composed
  into the primary config (``train.yaml``); the primary config alone is its reference.

Values keep their own file and span; values from other files than the child get provenance INHERITED.
Lists are replaced, not merged (as in MMEngine, yacs and OmegaConf). Nothing is executed. Each file is
read and parsed once per run (the Resolver's cache), however many children share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from lrlint import keypaths, sources
from lrlint.discover import display_path, resolved
from lrlint.profiles import Inherit, Profile
from lrlint.sources import INCLUDE_ERROR, Limits, Source, SourceError
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
class _Loaded:
    source: Source
    doc: Document
    fs: Path


def inherit_profile(doc: Document, profiles: tuple[Profile, ...]) -> Profile | None:
    """The profile whose ``inherit.key`` the document uses (best-ranked first)."""
    for p in profiles:  # profiles are sorted by priority
        inh = p.inherit
        if inh is None or doc.format not in p.detect.formats:
            continue
        if inh.key in doc.values or any(k.startswith(inh.key + ".") for k in doc.values):
            return p
    return None


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


def _list_heads(keys) -> set[str]:
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
            if k == delete_key or k.endswith("." + delete_key):
                if v.value not in (False, None, 0) and str(v.value).lower() not in ("false", "0"):
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


def _mark(values: dict[str, Value], own_path: str) -> dict[str, Value]:
    """Values from files other than ``own_path`` become INHERITED (UNKNOWN ones stay unknown)."""
    out = {}
    for k, v in values.items():
        if v.span is not None and v.span.path != own_path and v.provenance not in (INHERITED, UNKNOWN):
            v = replace(v, provenance=INHERITED, base_provenance=v.provenance)
        out[k] = v
    return out


def _package_of(source: Source) -> str | None:
    """The ``# @package X`` header of a Hydra config (``_global_`` -> "")."""
    for line in source.text.splitlines()[:10]:
        m = re.match(r"\s*#\s*@package\s+(\S+)", line)
        if m:
            pkg = m.group(1)
            return "" if pkg == "_global_" else pkg.replace("_global_.", "")
    return None


def _prefix(values: dict[str, Value], package: str) -> dict[str, Value]:
    if not package:
        return dict(values)
    return {f"{package}.{k}": replace(v, key=f"{package}.{k}") for k, v in values.items()}


class Resolver:
    """One run's inheritance resolution, with a cache of parsed files."""

    def __init__(self, profiles: tuple[Profile, ...], limits: Limits, cwd: Path) -> None:
        self.profiles = profiles
        self.limits = limits
        self.cwd = cwd.resolve()
        self._files: dict[Path, _Loaded | SourceError] = {}
        self.parses = 0  # files parsed by the resolver (tests check each base is parsed once)
        self.overlay: dict[Path, bytes] = {}  # resolved path -> bytes not yet on disk (an editor's buffers)

    # -- files ---------------------------------------------------------------------------
    def display(self, fs: Path) -> str:
        return display_path(resolved(fs), self.cwd)

    def _chain_problem(self, target: Path, stack: list[Path]) -> str | None:
        """Why ``target`` cannot be followed from ``stack``: a cycle or a chain too deep."""
        if target in stack:
            chain = " -> ".join(self.display(p) for p in stack[stack.index(target) :] + [target])
            return f"inheritance cycle: {chain}"
        if len(stack) > MAX_DEPTH:
            return f"inheritance chain deeper than {MAX_DEPTH} files"
        return None

    def remember(self, fs: Path, source: Source, docs: list[Document]) -> None:
        """Seed the cache with a file the engine already parsed."""
        fs = resolved(fs)
        if fs not in self._files and docs:
            self._files[fs] = _Loaded(source, docs[0], fs)

    def load(self, fs: Path) -> _Loaded:
        fs = resolved(fs)
        hit = self._files.get(fs)
        if hit is None:
            try:
                fmt = sources.format_of(fs)
                if fmt is None:
                    raise SourceError(INCLUDE_ERROR, f"{self.display(fs)}: not a YAML, JSON or Python file")
                src = self._source(fs, fmt)
                try:
                    docs = sources.parse(src, self.limits)
                except ImportError:
                    raise SourceError(INCLUDE_ERROR, f"{self.display(fs)}: no parser for {fmt} files") from None
                self.parses += 1
                doc = docs[0] if docs else Document(src.path, fmt, {}, lines=src.lines)
                hit = _Loaded(src, doc, fs)
            except SourceError as e:
                hit = e
            self._files[fs] = hit
        if isinstance(hit, SourceError):
            raise hit
        return hit

    def _source(self, fs: Path, fmt: str) -> Source:
        if fs in self.overlay:
            return sources.from_bytes(self.display(fs), fmt, self.overlay[fs], self.limits)
        try:
            return sources.read(self.display(fs), fs, fmt, self.limits)
        except sources.Missing:
            raise SourceError(INCLUDE_ERROR, f"{self.display(fs)} does not exist") from None

    # -- entry point ---------------------------------------------------------------------
    def resolve(self, doc: Document, src: Source, fs: Path, profile: Profile) -> Resolved | None:
        """Merge ``doc`` (of ``src``, at ``fs`` on disk; ``src`` may be an older version) over its bases."""
        inh = profile.inherit
        if inh is None:
            return None
        fs = resolved(fs)
        if inh.kind == "hydra_defaults":
            return self._hydra(_Loaded(src, doc, fs), inh)
        problems: list[Problem] = []
        read: dict[str, Source] = {}
        base, names = self._bases(doc, fs, inh, [fs], problems, read)
        if base is None:
            return Resolved(doc, None, problems=problems) if problems else None
        own = {k: v for k, v in doc.values.items()}
        merged = _mark(merge(base, own, inh.delete_key), doc.path)
        bdoc = Document(names[-1][1] if names else doc.path, doc.format, _mark(base, ""), lines=None)
        return Resolved(
            _with_values(doc, merged),
            bdoc,
            names[-1][1] if names else "",
            [n for n, _ in names],
            list(read.values()),
            problems,
        )

    # -- _BASE_ / _base_ -----------------------------------------------------------------------
    def _base_path(self, v: Value, fs: Path, inh: Inherit) -> Path | None:
        if not isinstance(v.value, str) or not v.value.strip():
            return None
        text = v.value.strip()
        if inh.kind == "mmengine":
            text = re.sub(r"\{\{\s*fileDirname\s*\}\}", fs.parent.as_posix(), text)
        p = Path(text)
        return p if p.is_absolute() else fs.parent / p

    def _bases(
        self, doc: Document, fs: Path, inh: Inherit, stack: list[Path], problems: list[Problem], read: dict[str, Source]
    ) -> tuple[dict[str, Value] | None, list[tuple[str, str]]]:
        """The merged values of ``doc``'s bases (None when it names none) and (file name, shown path) of each."""
        entries = _entries(doc, inh.key)
        if not entries:
            return None, []
        merged: dict[str, Value] = {}
        names: list[tuple[str, str]] = []
        for entry in entries:
            if isinstance(entry.value, str) and "::" in entry.value:
                continue  # a base in another installed package (mmdet::...): not in this tree
            target = self._base_path(entry, fs, inh)
            if target is None:
                problems.append(_problem(entry, f"{inh.key} must name a file, not {entry.value!r}"))
                continue
            target = resolved(target)
            why = self._chain_problem(target, stack)
            if why:
                problems.append(_problem(entry, why))
                continue
            try:
                loaded = self.load(target)
            except SourceError as e:
                reason = e.reason if e.code == INCLUDE_ERROR else f"{self.display(target)}: {e.reason}"
                problems.append(_problem(entry, f"base config {entry.value!r} cannot be read: {reason}"))
                continue
            read[loaded.source.path] = loaded.source
            sub, _ = self._bases(loaded.doc, target, inh, stack + [target], problems, read)
            own = {k: v for k, v in loaded.doc.values.items() if not _is_key(k, inh.key)}
            values = merge(sub, own, inh.delete_key) if sub is not None else merge({}, own, inh.delete_key)
            only = entry.names
            if only:  # ``from .x import a, b`` inside ``read_base()``: only those names
                values = {k: v for k, v in values.items() if k.split(".", 1)[0] in only}
            merged = merge(merged, values, inh.delete_key)
            names.append((target.name, loaded.source.path))
        return merged, names

    # -- Hydra defaults lists --------------------------------------------------------------------
    def _root(self, fs: Path, inh: Inherit) -> Path:
        for parent in fs.parents:
            if parent.name in inh.config_root:
                return parent
        return fs.parent

    def _search_roots(self, root: Path, primary: _Loaded | None) -> list[Path]:
        roots = [root]
        if primary is not None:
            for k, v in primary.doc.values.items():
                if (
                    keypaths.matches("hydra.searchpath.*", k)
                    and isinstance(v.value, str)
                    and v.value.startswith("file://")
                ):
                    p = Path(v.value[len("file://") :])
                    roots.append(resolved(p if p.is_absolute() else root.parent / p))
        return roots

    def _hydra(self, me: _Loaded, inh: Inherit) -> Resolved | None:
        doc, fs = me.doc, me.fs
        root = self._root(fs, inh)
        problems: list[Problem] = []
        read: dict[str, Source] = {}
        rel_dir = fs.parent.relative_to(root).as_posix() if fs.parent != root else ""
        if not rel_dir:  # a primary config: compose it; nothing to compare it with by inheritance
            values = self._compose(me, root, self._search_roots(root, me), "", {}, [fs], problems, read, None)
            return Resolved(
                _with_values(doc, _mark(values, doc.path)), None, sources=list(read.values()), problems=problems
            )
        package = _package_of(me.source)
        if package != "":  # a group option (data/mnist.yaml): compose its own defaults in its package
            values = self._compose(me, root, [root], "", {}, [fs], problems, read, rel_dir)
            if not read:
                return Resolved(doc, None, problems=problems) if problems else None
            return Resolved(
                _with_values(doc, _mark(values, doc.path)), None, sources=list(read.values()), problems=problems
            )
        # an experiment (@package _global_): compose the primary config with this option selected
        primary = self._primary(root, inh)
        if primary is None:
            values = self._compose(me, root, [root], "", {}, [fs], problems, read, rel_dir)
            return Resolved(
                _with_values(doc, _mark(values, doc.path)), None, sources=list(read.values()), problems=problems
            )
        read[primary.source.path] = primary.source
        roots = self._search_roots(root, primary)
        overrides = {}
        for group, option, _v, flags in _defaults(me.doc):
            if "override" in flags and group:
                overrides[group.lstrip("/")] = option
        overrides[rel_dir] = ("__child__", me)
        values = self._compose(primary, root, roots, "", overrides, [primary.fs], problems, read, None)
        base_problems: list[Problem] = []
        base = self._compose(primary, root, roots, "", {}, [primary.fs], base_problems, {}, None)
        read.pop(me.source.path, None)
        return Resolved(
            _with_values(doc, _mark(values, doc.path)),
            Document(primary.source.path, "yaml", _mark(base, ""), lines=None),
            primary.source.path,
            [primary.fs.name],
            list(read.values()),
            problems,
        )

    def _primary(self, root: Path, inh: Inherit) -> _Loaded | None:
        for name in inh.primary:
            p = root / name
            if p.is_file():
                try:
                    return self.load(p)
                except SourceError:
                    return None
        return None

    def _compose(
        self,
        me: _Loaded,
        root: Path,
        roots: list[Path],
        package: str,
        overrides: dict,
        stack: list[Path],
        problems: list[Problem],
        read: dict[str, Source],
        group_dir: str | None,
    ) -> dict[str, Value]:
        own = {k: v for k, v in me.doc.values.items() if not _is_key(k, "defaults")}
        own = _prefix(own, package)
        entries = _defaults(me.doc)
        if not any(g is None and o == "_self_" for g, o, _v, _f in entries):
            entries.append((None, "_self_", None, ()))
        merged: dict[str, Value] = {}
        here = group_dir if group_dir is not None else ""
        for group, option, v, flags in entries:
            if group is None and option == "_self_":
                merged = merge(merged, own)
                continue
            if "override" in flags:
                continue
            if group is None:  # a config of the same group: `- base_option`
                abs_group, pkg = here, package
            else:
                g, _, at = group.partition("@")
                abs_group = (
                    g[1:]
                    if g.startswith("/")
                    else keypaths.join(*[x for x in (here.replace("/", "."), g) if x]).replace(".", "/")
                )
                pkg = at if at else abs_group.replace("/", ".")
                if at == "_global_":
                    pkg = ""
            choice = overrides.get(abs_group, option) if group is not None else option
            if isinstance(choice, tuple):  # the checked experiment itself
                child = choice[1]
                merged = merge(
                    merged,
                    self._compose(child, root, roots, "", overrides, stack + [child.fs], problems, read, abs_group),
                )
                continue
            if choice is None or (isinstance(choice, str) and choice.lower() == "null"):
                continue
            target = None
            for r in roots:
                cand = resolved(r / abs_group / f"{choice}.yaml")
                if cand.is_file():
                    target = cand
                    break
            if target is None:
                if "optional" in flags:
                    continue
                where = f"{self.display(roots[0] / abs_group)}/{choice}.yaml"
                what = (
                    f"Hydra config group '{abs_group}' has no option '{choice}'"
                    if abs_group
                    else f"Hydra config '{choice}' does not exist"
                )
                problems.append(_problem(v, f"{what} ({where} not found)"))
                continue
            why = self._chain_problem(target, stack)
            if why:
                problems.append(_problem(v, why))
                continue
            try:
                loaded = self.load(target)
            except SourceError as e:
                problems.append(_problem(v, f"config {choice!r} cannot be read: {e.reason}"))
                continue
            read[loaded.source.path] = loaded.source
            header = _package_of(loaded.source)
            sub_pkg = pkg if header is None else header
            merged = merge(
                merged,
                self._compose(loaded, root, roots, sub_pkg, overrides, stack + [target], problems, read, abs_group),
            )
        return merged


class AtRevision(Resolver):
    """Bases as they were at the git base revision (the history reference of an inheriting child): a
    file changed since then is read from its blob, any other through the live resolver (parsed once)."""

    def __init__(self, live: Resolver, git) -> None:
        super().__init__(live.profiles, live.limits, live.cwd)
        self.live, self.git = live, git

    def _rel(self, fs: Path) -> str | None:
        try:
            return resolved(fs).relative_to(self.git.root.resolve()).as_posix()
        except ValueError:
            return None

    def load(self, fs: Path) -> _Loaded:
        rel = self._rel(fs)
        if rel is None or not self.git.is_changed(rel):
            return self.live.load(fs)
        return super().load(fs)

    def _source(self, fs: Path, fmt: str) -> Source:
        old = self.git.old_path(self._rel(fs))
        data = self.git.read(old) if old is not None else None
        if data is None:
            raise SourceError(INCLUDE_ERROR, f"{self.display(fs)} did not exist at {self.git.label}")
        return sources.decode(f"{self.git.label}:{old}", fmt, data)


def _is_key(k: str, key: str) -> bool:
    return k == key or k.startswith(key + ".")


def _defaults(doc: Document) -> list[tuple[str | None, object, Value | None, tuple[str, ...]]]:
    """A Hydra defaults list as (group or None, option, value, flags) in order."""
    out: dict[int, tuple] = {}
    for k, v in doc.values.items():
        if not k.startswith("defaults."):
            continue
        rest = k[len("defaults.") :]
        idx, _, name = rest.partition(".")
        if not idx.isdigit():
            continue
        i = int(idx)
        if not name:
            out[i] = (None, v.value, v, ())
            continue
        flags = []
        words = name.split()
        while len(words) > 1 and words[0] in ("override", "optional"):
            flags.append(words.pop(0))
        out[i] = (" ".join(words), v.value, v, tuple(flags))
    return [out[i] for i in sorted(out)]


def _problem(v: Value | None, reason: str) -> Problem:
    if v is None or v.span is None:
        return Problem("", SourceError(INCLUDE_ERROR, reason))
    s = v.span
    return Problem(s.path, SourceError(INCLUDE_ERROR, reason, s.line, s.col, s.end_line, s.end_col))


def _with_values(doc: Document, values: dict[str, Value]) -> Document:
    if doc.format == "yaml":  # keep the child's own defaults list: findings from bases point at it
        values = {**values, **{k: v for k, v in doc.values.items() if _is_key(k, "defaults") and k not in values}}
    return Document(doc.path, doc.format, values, doc.index, doc.lines, doc.comments, doc.problems)


__all__ = ["Resolver", "AtRevision", "Resolved", "Problem", "merge", "inherit_profile"]
