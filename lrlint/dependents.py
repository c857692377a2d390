"""What a change of a shared file reaches: the configs that inherit or compose it (its dependents).

An edit of an MMEngine ``_base_`` file, a Detectron2 ``Base-*.yaml`` or a Hydra group option changes every
config built on it, though none of them changed. For each checked file changed since the git base, the
reverse index of the tree finds the configs built on it: one ``git grep`` per level of the inheritance
chain for the names of the files of the level before (a config names a base by its file name or stem),
each hit confirmed by resolving its bases (each file read once per run). Each dependent is compared with
itself at the base revision (its bases as they were there); what changed is reported at the changed line
of the shared file, one finding per changed value, naming how many configs it changes and the first few
(``--show-dependents`` lists all).

A change that brings a dependent's batch to what the dependent itself declares (its file-name tag, a
declared batch key such as ``auto_scale_lr.base_batch_size``) repairs it: no finding. A dependent that
already has a finding of its own in the run (it was checked too) is not counted again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from lrlint import checks, gitproc, numbers
from lrlint.checks.base import CheckContext
from lrlint.discover import Target, display_path, excluded, included, resolved
from lrlint.findings import Finding
from lrlint.inherit import inherit_profile
from lrlint.recipes import Recipe
from lrlint.references import Reference
from lrlint.references.collect import declared, history
from lrlint.results import ParsesSources
from lrlint.scaling import batch_changed, policy_for
from lrlint.sources import SourceError, format_of
from lrlint.values import Document

if TYPE_CHECKING:
    from lrlint.inherit import AtRevision
    from lrlint.profiles import OptimizerTable, Profile
    from lrlint.references.git import GitBase
    from lrlint.results import Parsed, Result
    from lrlint.settings import Settings


class Engine(ParsesSources, Protocol):
    """What the dependents need from the run's engine (``lrlint.api.Engine``)."""

    settings: Settings
    cwd: Path
    profiles: tuple[Profile, ...]
    optimizers: OptimizerTable

    def repo_git(self) -> GitBase | None: ...
    def read(self, target: Target) -> Parsed: ...
    def at_base(self, git: GitBase) -> AtRevision: ...


MAX_SHOWN = 3  # dependents named in a finding (all with --show-dependents)
MAX_LEVELS = 8  # inheritance levels followed from a shared file
MAX_DEPENDENTS = 5000  # dependents compared per run
GLOBS = ("*.py", "*.yaml", "*.yml", "*.json")
RULES = ("LR001", "LR002")  # what a shared file's change is reported as: the lr left behind, or mis-scaled


@dataclass
class Group:
    """The dependents one changed value of a shared file affects the same way."""

    first: Finding
    k: float
    lr_factor: float
    verb: str  # how the dependents use the shared file: inherit, compose
    configs: list[str] = field(default_factory=list)


def patterns(stem: str) -> list[str]:
    """How a config names a base whose file name has ``stem`` (extended regular expressions for git grep): a
    path or file name (MMEngine ``_base_``, Detectron2 ``_BASE_``, ``model_zoo.get_config``, a Hydra option
    written with its extension), a Python import (``from .._base_.datasets.x import *``, ``from ..common.x
    import y``), a Hydra option (``- data: x``, ``override /data: x``)."""
    s = re.sub(r"([.+^$()\[\]{}|*?\\])", r"\\\1", stem)
    return [
        rf"{s}\.(py|yaml|yml|json)",
        rf"from[[:space:]]+[.[:alnum:]_]*{s}[[:space:]]+import",
        rf":[[:space:]]*{s}[[:space:]]*(#.*)?$",
    ]


def grep(root: Path, stems: set[str]) -> list[str]:
    """Tracked config files (paths from the top level ``root``) that may name a file of one of ``stems``."""
    if not stems:
        return []
    args = ["grep", "-l", "-z", "-I", "-E", "--no-textconv", "--no-color"]
    for stem in sorted(stems):
        for pat in patterns(stem):
            args += ["-e", pat]
    out = gitproc.run([*args, "--", *GLOBS], root)
    if out.returncode not in (0, 1):  # 1: no match
        return []
    return [p for p in out.stdout.split("\0") if p]


def _name(rel: str) -> str:
    """The stem a config names a base by (``x`` of ``configs/_base_/x.py``)."""
    return PurePosixPath(rel).stem


class Dependents:
    """The dependents of the changed checked files of one run (each dependent read once)."""

    def __init__(self, engine: Engine, git: GitBase) -> None:
        self.engine, self.git = engine, git
        self.reaches: dict[Path, set[Path]] = {}  # dependent -> the shared files it is built on
        self.verbs: dict[Path, str] = {}

    def find(self, shared: list[Path]) -> None:
        """Every config built on one of ``shared``, level by level."""
        frontier = set(shared)
        wanted = {self.engine.resolver.display(s): s for s in shared}
        seen: set[Path] = set(shared)
        for _ in range(MAX_LEVELS):
            names = {_name(rel) for f in frontier if (rel := self.git.relative(f)) is not None}
            found: set[Path] = set()
            for rel in grep(self.git.root, names):
                fs = resolved(self.git.root / rel)
                if fs in seen or len(self.reaches) >= MAX_DEPENDENTS:
                    continue
                seen.add(fs)
                parsed = self._read(fs)
                on = {wanted[s.path] for s in parsed.base_sources if s.path in wanted} if parsed else set()
                if on:
                    found.add(fs)
                    self.reaches[fs] = on
                    kind = next((p.inherit.kind for d in parsed.docs if (p := self._inherit(d))), "")  # type: ignore[union-attr]
                    self.verbs[fs] = "compose" if kind == "hydra_defaults" else "inherit"
            if not found:
                return
            frontier = found

    def _inherit(self, doc: Document):
        p = inherit_profile(doc, self.engine.profiles)
        return p if p is not None and p.inherit is not None else None

    def _read(self, fs: Path) -> Parsed | None:
        fmt = format_of(fs)
        settings = self.engine.settings
        if fmt is None or excluded(fs, settings) or not included(fs, settings):
            return None
        try:
            return self.engine.read(Target(display_path(fs, self.engine.cwd), fs, fmt))
        except SourceError:
            return None

    def compare(self, fs: Path, shared: set[str]) -> list[Finding]:
        """The dependent at ``fs`` compared with itself at the base revision: its LR001/LR002 findings whose
        batch value is in one of the ``shared`` files (as shown)."""
        engine = self.engine
        parsed = self._read(fs)
        if parsed is None or not any(parsed.recipes):
            return []
        try:
            src = self.git.read_at_base(fs, parsed.source.format)
            old = (
                None if src is None else engine.parse_source(src, fs, remember=False, resolver=engine.at_base(self.git))
            )
        except SourceError:
            return []
        if old is None:
            return []
        out = []
        for i, (doc, recs) in enumerate(zip(parsed.docs, parsed.recipes, strict=True)):
            if i >= len(old.recipes):
                continue
            for recipe in recs:
                ref = history(recipe, old.recipes[i], self.git.label)
                if ref is None or ref.batch is None or _repaired(recipe, doc, ref, engine):
                    continue
                pol = policy_for(recipe.family, engine.settings, engine.optimizers)
                ctx = CheckContext(recipe, [ref], ref, pol, engine.settings, source=parsed.source)
                out += [
                    f
                    for check in checks.recipe_checks()
                    for f in check(ctx)
                    if f.code in RULES and f.span.path in shared
                ]
        return out


def _repaired(recipe: Recipe, doc: Document, ref: Reference, engine: Engine) -> bool:
    """Whether the change brings the dependent's batch to what it declares itself (its tag, a declared batch
    key) from another batch: the shared file is being made to fit its users."""
    now = recipe.effective_batch
    if now is None or ref.batch is None:
        return False
    stated = [r.batch for r in declared(recipe, doc) if r.batch]
    if recipe.tag is not None and recipe.tag.total is not None:
        stated.append(recipe.tag.total)
    t = engine.settings.thresholds
    return any(not batch_changed(now / s, t) and batch_changed(ref.batch / s, t) for s in stated)


def _nearest(path: str) -> tuple[int, str]:
    """Primary configs near the top of the tree first (``configs/train.yaml`` before ``configs/debug/x.yaml``)."""
    return (path.count("/"), path)


def _who(g: Group) -> str:
    n = len(g.configs)
    return f"1 config that {g.verb}s" if n == 1 else f"{n} configs that {g.verb}"


def _message(g: Group) -> str:
    n = len(g.configs)
    names = [PurePosixPath(c).name for c in sorted(g.configs, key=_nearest)]
    shown = names[:MAX_SHOWN]
    more = "" if n <= MAX_SHOWN else f", and {n - MAX_SHOWN} more"
    lr = "lr unchanged" if g.first.code == "LR001" else f"lr x{numbers.plain(g.lr_factor)}"
    return f"x{numbers.plain(g.k)} effective batch for {_who(g)} this file, {lr}: {', '.join(shown)}{more}"


def report(engine: Engine, git: GitBase, changed: list[Path], result: Result) -> None:
    """The dependents of the ``changed`` targets (``GitBase.changed_targets``) compared at the base revision;
    their findings, grouped per changed value of the shared file, added to ``result.findings``."""
    deps = Dependents(engine, git)
    deps.find(changed)
    flagged = {f.span.path for f in result.findings if f.code in RULES}  # checked dependents that report it
    as_shown = {c: engine.resolver.display(c) for c in changed}
    groups: dict[tuple, Group] = {}
    for fs in sorted(deps.reaches):
        name = engine.resolver.display(fs)
        if name in flagged:
            continue
        for f in deps.compare(fs, {as_shown[s] for s in deps.reaches[fs]}):
            k = getattr(f.data, "k", None)
            lr_factor = getattr(f.data, "lr_factor", 1.0)
            if k is None:
                continue
            key = (f.code, f.span.path, f.span.start, round(k, 6), round(lr_factor, 6))
            g = groups.setdefault(key, Group(f, k, lr_factor, deps.verbs.get(fs, "inherit")))
            if name not in g.configs:
                g.configs.append(name)
    own = {(f.code, f.span.path, f.span.start): f for f in result.findings}
    for g in groups.values():
        _finish(g, own.get((g.first.code, g.first.span.path, g.first.span.start)), engine.settings.show_dependents)
        if (g.first.code, g.first.span.path, g.first.span.start) not in own:
            result.findings.append(g.first)


def _finish(g: Group, own: Finding | None, show_all: bool) -> None:
    """The group's finding: its message names the dependents; when the shared file reports the change itself
    (``own``: its finding on the same value), a note on that finding says how far the change reaches."""
    names = sorted(g.configs, key=_nearest)
    if own is not None:
        listed = names if show_all else [PurePosixPath(c).name for c in names[:MAX_SHOWN]]
        more = "" if len(listed) == len(names) else f", and {len(names) - len(listed)} more"
        own.notes.append(f"the change reaches {_who(g)} this file: {', '.join(listed)}{more}")
        return
    f = g.first
    f.notes.insert(0, f"{names[0]}: {f.message}")
    if show_all:
        f.notes.insert(1, "dependents: " + ", ".join(names))
    elif len(names) > MAX_SHOWN:
        f.notes.insert(1, f"{len(names)} dependents (--show-dependents lists them)")
    f.message = _message(g)
    f.fix = None  # each dependent needs its own lr, set where it is written
