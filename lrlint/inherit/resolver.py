"""The Resolver: files read once per run, and the strategy each profile's ``inherit.kind`` names."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Protocol

from lrlint import sources
from lrlint.discover import display_path, resolved
from lrlint.inherit.bases import ImportBases, MMEngineBases, PathBases
from lrlint.inherit.hydra import HydraDefaults
from lrlint.inherit.model import MAX_DEPTH, ChildMerge, Loaded, MadeMerge, Resolved, Shape, shape
from lrlint.profiles import Inherit, Profile
from lrlint.sources import INCLUDE_ERROR, Limits, Source, SourceError
from lrlint.values import Document, Value

# a base file's values merged over its bases, the files they were read from (as shown), its chain's height
Merge = tuple[dict[str, Value], tuple[tuple[str, Source], ...], int]


class Strategy(Protocol):
    """How the configs of one ``inherit.kind`` name their bases, and how a child merges over them."""

    def resolve(self, r: Resolver, me: Loaded, inh: Inherit) -> Resolved | None: ...


# ``inherit.kind`` of a profile -> how its configs name their bases
STRATEGIES: dict[str, Strategy] = {
    "path": PathBases(),
    "mmengine": MMEngineBases(),
    "hydra_defaults": HydraDefaults(),
    "python_imports": ImportBases(),
}


def inherit_profile(doc: Document, profiles: tuple[Profile, ...]) -> Profile | None:
    """The profile whose ``inherit.key`` the document uses (best-ranked first)."""
    for p in profiles:  # profiles are sorted by priority
        inh = p.inherit
        if inh is None or doc.format not in p.detect.formats:
            continue
        if inh.key in doc.values or any(k.startswith(inh.key + ".") for k in doc.values):
            return p
    return None


def inherit_keys(profiles: tuple[Profile, ...]) -> frozenset[str]:
    """The keys that name bases (``_BASE_``, ``_base_``, ``defaults``): every profile's ``inherit.key``."""
    return frozenset(p.inherit.key for p in profiles if p.inherit is not None)


class Resolver:
    """One run's inheritance resolution, with a cache of parsed files."""

    def __init__(self, profiles: tuple[Profile, ...], limits: Limits, cwd: Path) -> None:
        self.profiles = profiles
        self.limits = limits
        self.cwd = cwd.resolve()
        self._files: dict[Path, Loaded | SourceError] = {}
        self.parses = 0  # files parsed by the resolver (tests check each base is parsed once)
        self.overlay: dict[Path, bytes] = {}  # resolved path -> bytes not yet on disk (an editor's buffers)
        # a base file's values merged over its bases, by (strategy, key, delete key, file): computed once
        self.merged: dict[tuple, Merge] = {}
        self.marks: dict[int, tuple[Value, Value]] = {}  # a value's INHERITED copy, made once (model.mark)
        # the merged bases of a list of base entries (siblings name the same ones), and their marked copy
        self.combos: dict[tuple, tuple[dict[str, Value], list[tuple[str, str]], dict[str, Source]]] = {}
        self.marked_bases: dict[int, tuple[dict[str, Value], dict[str, Value]]] = {}
        self._shapes: dict[tuple[int, str | None], tuple[dict[str, Value], Shape]] = {}
        # what was built from a child's merged bases (``lrlint.base_recipes``), by the objects it was built from
        self.base_recipes: dict[tuple, tuple] = {}
        self.lender: Resolver | None = None  # an earlier resolver whose merges this one may take (``lend``)
        self._as_lender: dict[str, bool] = {}  # path as shown -> ``reads_one_as_lender``
        self.recent: list[MadeMerge] = []  # the merges of the child resolved last (``keep_recent`` keeps them)
        self.kept: dict[Path, list[ChildMerge]] = {}  # resolved path -> the merges of a child kept to merge again

    # -- merges made once ----------------------------------------------------------------
    def lend(self, borrower: Resolver) -> None:
        """Let ``borrower``, a later resolver over the same tree, take the merges this one made. The caches keyed
        by the object they were made from are shared as they are; a base's merged values only where the
        borrower reads every file they were made from as this one read it (``reads_as_lender``)."""
        if borrower.cwd != self.cwd:  # the kept merges name files by their path as shown from the cwd
            return
        borrower.lender = self
        borrower.marks, borrower.marked_bases, borrower._shapes = self.marks, self.marked_bases, self._shapes
        borrower.base_recipes = self.base_recipes

    def reads_as_lender(self, shown: list[str]) -> bool:
        """Whether this resolver reads the files ``shown`` (paths as shown) as its lender read them (each file
        asked once, ``reads_one_as_lender``)."""
        for path in shown:
            hit = self._as_lender.get(path)
            if hit is None:
                hit = self._as_lender[path] = self.reads_one_as_lender(path)
            if not hit:
                return False
        return True

    def reads_one_as_lender(self, shown: str) -> bool:
        """Whether this resolver reads the file ``shown`` as its lender read it (a resolver lent nothing: no)."""
        return False

    def merged_of(self, key: tuple, target: Path) -> Merge | None:
        """The kept merge of the base file ``target`` (``key`` names it and how it was merged), its own or its
        lender's."""
        hit = self.merged.get(key)
        if hit is None and self.lender is not None:
            hit = self.lender.merged_of(key, target)
            if hit is not None:
                if not self.reads_as_lender([self.display(target), *(path for path, _src in hit[1])]):
                    return None
                self.merged[key] = hit
        return hit

    def combo_of(self, key: tuple) -> tuple[dict[str, Value], list[tuple[str, str]], dict[str, Source]] | None:
        """The kept merge of a list of base entries (``key`` names them and where they are), its own or its
        lender's."""
        hit = self.combos.get(key)
        if hit is None and self.lender is not None:
            hit = self.lender.combo_of(key)
            if hit is not None:
                if not self.reads_as_lender(list(hit[2])):
                    return None
                self.combos[key] = hit
        return hit

    def note(self, made: MadeMerge) -> None:
        """A child's merge, made now (``keep_recent`` keeps it)."""
        if self.recent and self.recent[0][0] != made[0]:
            self.recent = []
        self.recent.append(made)

    def keep_recent(self, fs: Path) -> None:
        """Keep the merges of ``fs``, the child resolved last, to merge it again (a file --fix will edit)."""
        fs = resolved(fs)
        if self.recent and self.recent[0][0] == fs:
            self.kept[fs] = [ChildMerge.of(m) for m in self.recent]
        self.recent = []

    def kept_again(
        self, fs: Path, base: dict[str, Value], own: dict[str, Value], delete_key: str | None
    ) -> tuple[dict[str, Value] | None, Shape | None]:
        """The base keys the child ``fs`` with own values ``own`` keeps over ``base``, taken from a kept merge of the
        same child (its own or its lender's) where ``ChildMerge.again`` can, and ``shape`` of ``own`` when it
        was computed."""
        r: Resolver | None = self
        sh = None
        while r is not None:
            for m in r.kept.get(fs, ()):
                got, sh_m = m.again(base, own, delete_key)
                if got is not None:
                    return got, sh_m
                sh = sh or sh_m
            r = r.lender
        return None, sh

    # -- files ---------------------------------------------------------------------------
    def is_file(self, fs: Path) -> bool:
        """Whether ``fs`` is a file this resolver reads (an editor's unsaved buffer counts); False for a name
        the OS refuses (too long, a NUL byte: a name from a repository may be any text)."""
        try:
            fs = resolved(fs)
            return fs in self.overlay or fs.is_file()
        except (OSError, ValueError):
            return False

    def display(self, fs: Path) -> str:
        return display_path(resolved(fs), self.cwd)

    def chain_problem(self, target: Path, stack: list[Path]) -> str | None:
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
            self._files[fs] = Loaded(source, docs[0], fs, None if fs in self.overlay else docs)

    def size(self) -> int:
        """How many files this resolver holds."""
        return len(self._files)

    def parsed(self, fs: Path) -> Loaded | None:
        """A file this resolver has already read and parsed from disk (a base), with all its documents."""
        hit = self._files.get(resolved(fs))
        return hit if isinstance(hit, Loaded) and hit.docs is not None and hit.fs not in self.overlay else None

    def load(self, fs: Path) -> Loaded:
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
                hit = Loaded(src, doc, fs, docs)
            except SourceError as e:
                hit = copy.copy(e)  # without the traceback and context of where it was raised
            self._files[fs] = hit
        if isinstance(hit, SourceError):
            # a copy: a raised error takes the frames it passes (which hold this resolver) as its traceback,
            # and the kept one would then keep the resolver alive in a reference cycle
            raise copy.copy(hit)
        return hit

    def _source(self, fs: Path, fmt: str) -> Source:
        if fs in self.overlay:
            return sources.from_bytes(self.display(fs), fmt, self.overlay[fs], self.limits)
        try:
            return sources.read(self.display(fs), fs, fmt, self.limits)
        except sources.Missing:
            raise SourceError(INCLUDE_ERROR, f"{self.display(fs)} does not exist") from None

    def shape(self, values: dict[str, Value], delete_key: str | None) -> Shape:
        """``model.shape`` of a base's merged values, once per run (a base merged into many children)."""
        key = (id(values), delete_key)
        hit = self._shapes.get(key)
        if hit is None or hit[0] is not values:
            hit = self._shapes[key] = (values, shape(values, delete_key))
        return hit[1]

    # -- entry point ---------------------------------------------------------------------
    def resolve(self, doc: Document, src: Source, fs: Path, profile: Profile) -> Resolved | None:
        """Merge ``doc`` (of ``src``, at ``fs`` on disk; ``src`` may be an older version) over its bases."""
        inh = profile.inherit
        if inh is None:
            return None
        return STRATEGIES[inh.kind].resolve(self, Loaded(src, doc, resolved(fs)), inh)


class AtRevision(Resolver):
    """Bases as they were at the git base revision (the history reference of an inheriting child): a
    file changed since then is read from its blob, any other through the live resolver (parsed once), whose
    merges of such files it takes."""

    def __init__(self, live: Resolver, git) -> None:
        super().__init__(live.profiles, live.limits, live.cwd)
        self.live, self.git = live, git
        self._lives: dict[Path, bool] = {}  # resolved path -> ``_live``
        live.lend(self)

    def load(self, fs: Path) -> Loaded:
        if self._live(fs):
            return self.live.load(fs)
        return super().load(fs)

    def _live(self, fs: Path) -> bool:
        """Whether ``fs`` is read through the live resolver: outside the work tree, or unchanged since the base."""
        hit = self._lives.get(fs)
        if hit is None:
            rel = self.git.relative(fs)
            hit = self._lives[fs] = rel is None or not self.git.is_changed(rel)
        return hit

    def reads_one_as_lender(self, shown: str) -> bool:
        return self._live(resolved(self.cwd / shown))

    def _source(self, fs: Path, fmt: str) -> Source:
        src = self.git.read_at_base(fs, fmt)
        if src is None:
            raise SourceError(INCLUDE_ERROR, f"{self.display(fs)} did not exist at {self.git.label}")
        return src
