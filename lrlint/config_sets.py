"""Config sets: files one run merges in order, checked as one recipe.

Lightning CLI (jsonargparse) takes ``fit --config trainer.yaml --config model.yaml --config
data.yaml``: later files override earlier ones, mappings merge, lists are replaced. The batch
then lives in one file, the lr in another and the devices in a third, and none of them alone
is a recipe. ``[tool.lrlint] config-sets`` lists such sets; a member among the checked files
checks its whole set once (the other members are read from disk), and each value keeps its own
file and line, so a finding points at the batch line that changed and a fix edits the lr where
it is written. The git reference merges each member's blob at the base (a member new since then
is left out).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lrlint import interpolate, sources
from lrlint.checks.lr9xx_input import input_finding
from lrlint.discover import Target, display_path, resolved
from lrlint.inherit import merge
from lrlint.recipes import Recipe
from lrlint.references.git import GitBase
from lrlint.results import Parsed, Result
from lrlint.settings import Settings
from lrlint.sources import INCLUDE_ERROR, Limits, Source, SourceError
from lrlint.spans import LineIndex
from lrlint.values import Document, Value

if TYPE_CHECKING:
    from lrlint.baseline import Baseline


class SetEngine(Protocol):
    """What checking a set needs from the run's engine (``lrlint.api.Engine``)."""

    settings: Settings
    cwd: Path
    limits: Limits

    baseline: Baseline | None

    def read_source(self, target: Target) -> Source: ...
    def open_git(self, start: Path) -> GitBase | None: ...
    def recipes_of(self, doc: Document) -> list[Recipe]: ...
    def report_problem(self, result: Result, path: str, err: SourceError, lines: LineIndex | None = None) -> None: ...
    def check_parsed(self, path: str, parsed: Parsed, old: Parsed | None, result: Result) -> None: ...


def sets_of(settings: Settings) -> list[list[Path]]:
    """The configured sets, as resolved paths (relative entries are relative to the config file)."""
    root = Path(settings.root)
    return [[resolved(root / p) for p in group] for group in settings.config_sets]


def _entry_problem(settings: Settings, member: Path, cwd: Path) -> SourceError:
    """A listed member that is missing: reported at its entry in the config file when it can be found there."""
    shown = display_path(member, cwd)
    reason = f"{shown} is listed in tool.lrlint.config-sets but does not exist"
    cfg = settings.config_file
    if cfg and Path(cfg).is_file():
        text = Path(cfg).read_text(encoding="utf-8", errors="replace")
        for name in (os.path.relpath(member, Path(cfg).resolve().parent).replace(os.sep, "/"), member.name):
            at = text.find(name)
            if at >= 0:
                line = text.count("\n", 0, at) + 1
                col = at - (text.rfind("\n", 0, at) + 1) + 1
                return SourceError(INCLUDE_ERROR, reason, line, col, line, col + len(name))
    return SourceError(INCLUDE_ERROR, reason)


def _merged(docs: list[Document], anchor: Document) -> Document:
    values: dict[str, Value] = {}
    for d in docs:
        values = merge(values, d.values)
    doc = Document(anchor.path, anchor.format, values, 0, anchor.lines, anchor.comments)
    return interpolate.resolve_document(doc) if doc.format == "yaml" else doc


def check_set(engine: SetEngine, members: list[Path], result: Result) -> None:
    """Check one set: merge its members, build its recipes, compare with the set at the git base."""
    loaded = _load_members(engine, members, result)
    if not loaded:
        return
    # the member stating an inline reference anchors the set (its comments are read), else the last one
    anchor_t, anchor = next(
        ((t, d) for t, d in loaded if "lrlint: reference" in " ".join(d.comments.values())), loaded[-1]
    )
    merged = _merged([d for _, d in loaded], anchor)
    recipes = engine.recipes_of(merged)
    if not recipes:
        return
    parsed = Parsed(result.sources[anchor_t.path], [merged], [recipes], [[]], [""], config_set=True)
    start = len(result.findings)
    old = _history(engine, loaded, anchor)
    engine.check_parsed(anchor_t.path, parsed, old, result)
    if engine.baseline is not None:
        engine.baseline.mark_set(result.findings[start:], lambda: old)


def _load_members(engine: SetEngine, members: list[Path], result: Result) -> list[tuple[Target, Document]]:
    """Each member's first document (a missing or unreadable member is reported and left out)."""
    loaded: list[tuple[Target, Document]] = []
    for fs in members:
        shown = display_path(fs, engine.cwd)
        fmt = sources.format_of(fs)
        if not fs.is_file() or fmt is None:
            err = _entry_problem(engine.settings, fs, engine.cwd)
            cfg = engine.settings.config_file
            path = display_path(Path(cfg), engine.cwd) if cfg and err.line else shown
            engine.report_problem(result, path, err)
            continue
        t = Target(shown, fs, fmt)
        result.covered.add(t.path)
        try:
            src = engine.read_source(t)
            docs = sources.parse(src, engine.limits)
        except SourceError as e:
            result.findings.append(input_finding(t.path, e))
            continue
        result.sources[t.path] = src
        result.comments[t.path] = dict(docs[0].comments) if docs else {}
        for d in docs:
            for prob in d.problems:
                result.findings.append(input_finding(t.path, prob, src.lines))
        if docs:
            loaded.append((t, docs[0]))
    return loaded


def _history(engine: SetEngine, loaded: list[tuple[Target, Document]], anchor: Document) -> Parsed | None:
    """The set as it was at the git base: each member's blob there (a member new since then is left
    out); None without git or when no member is in the repository."""
    old_docs: list[Document] = []
    label_source = None
    for t, _doc in loaded:
        git = engine.open_git(t.fs_path.parent)
        if git is None:
            return None
        try:
            src = git.read_at_base(t.fs_path, t.format)
            if src is None:
                continue  # outside the repository, or new in this change: the set at the base did not have it
            docs = sources.parse(src, engine.limits)
        except SourceError:
            continue
        label_source = label_source or src
        if docs:
            old_docs.append(docs[0])
    if label_source is None or not old_docs:
        return None
    merged = _merged(old_docs, anchor)
    return Parsed(label_source, [merged], [engine.recipes_of(merged)], config_set=True)
