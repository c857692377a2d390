"""Findings a change caused: in a run with a git base, a finding already there at the base is *pre-existing*.

A run has a baseline when its base revision is given (``--base REV``, the ``base`` setting, or pre-commit's
``HEAD``/from-ref). Each checked file is then checked a second time as it was at the base revision: a
renamed file at its old path, its bases as they were there (``BaseTree``), with the references a check at
that revision has (inheritance, declared references, ``--reference``; no git reference: at the base the
file is compared with itself). A finding of the working tree is pre-existing when that check produced an
equal one: the same rule, the same keys and the same values (``identity``), never compared by line. A
finding whose inputs changed (the batch parts, the lr, the optimizer, a file-name tag, a declaration, a
value of any base file in the chain) is a different finding, so the change caused it.

Pre-existing findings never fail the run; the run counts them in one note and lists them, marked, with
``--show-existing`` (``show-existing`` setting). LR906 findings naming the same missing file are one
finding with the number of configs that name it (``group_missing``), in any run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from lrlint import sources
from lrlint.checks.data import InputData
from lrlint.checks.lr9xx_input import input_finding
from lrlint.discover import Target, resolved
from lrlint.findings import Finding, Related
from lrlint.inherit import Resolver
from lrlint.inherit.model import Loaded
from lrlint.regex import pattern
from lrlint.results import Parsed, ParsesSources, Result
from lrlint.sources import INCLUDE_ERROR, Source, SourceError

if TYPE_CHECKING:
    from lrlint.references.git import GitBase

# data fields that say where the numbers were read or why the advice holds, not what the finding is about
_NOT_INPUTS = frozenset({"references", "why"})
_LINE_NUMBERS = r"\bline \d+|:\d+(?::\d+)?\b"
RELATED_SHOWN = 3  # an LR906 for many configs points at this many of the others


def identity(f: Finding, name: str = "") -> tuple[str, str, str, str]:
    """What a finding is about, without where it is shown: the rule, the keys, the message (line numbers
    and the file's own ``name`` left out: a renamed file says its new name) and the data's values (the
    reference by its kind: a base file may have moved)."""
    data = f.data.to_json() if f.data is not None else {}
    values = {k: v for k, v in data.items() if k not in _NOT_INPUTS}
    if isinstance(values.get("reference"), dict):
        values["reference"] = values["reference"].get("kind")
    about = f.data.about() if f.data is not None else ""
    import json  # a run with a base only: a run without one does not import it

    text = json.dumps(values, sort_keys=True, default=str)
    message = f.message.replace(name, "\0") if name else f.message
    return (f.code, about, pattern(_LINE_NUMBERS).sub("", message), text)


def mark(findings: list[Finding], before: list[Finding] | None, names: tuple[str, str] = ("", "")) -> None:
    """Mark each of ``findings`` pre-existing when ``before`` (the same check at the base) has an equal one,
    each of ``before`` matching once; ``before`` None: the file and its chain are unchanged, all are.
    ``names``: the file's name now and at the base (a rename)."""
    if before is None:
        for f in findings:
            f.pre_existing = True
        return
    left: dict[tuple, int] = {}
    for b in before:
        key = identity(b, names[1])
        left[key] = left.get(key, 0) + 1
    for f in findings:
        key = identity(f, names[0])
        if left.get(key, 0) > 0:
            left[key] -= 1
            f.pre_existing = True


class BaseTree(Resolver):
    """Every file as it was at the base revision, by its path there: a file unchanged since then through the
    live resolver (parsed once per run), any other from its blob; a path the base lacks does not exist."""

    def __init__(self, live: Resolver, git: GitBase) -> None:
        super().__init__(live.profiles, live.limits, live.cwd)
        self.live, self.git = live, git

    def load(self, fs: Path) -> Loaded:
        rel = self.git.relative(fs)
        if rel is None:
            return self.live.load(fs)
        fs = resolved(fs)
        if fs not in self.live.overlay and fs.exists() and not self.git.is_changed(rel):
            return self.live.load(fs)
        return super().load(fs)

    def is_file(self, fs: Path) -> bool:
        rel = self.git.relative(fs)
        if rel is None:
            return self.live.is_file(fs)
        fs = resolved(fs)
        if fs not in self.live.overlay and self.live.is_file(fs) and not self.git.is_changed(rel):
            return True
        return self.git.read(rel) is not None

    def _source(self, fs: Path, fmt: str) -> Source:
        rel = self.git.relative(fs)
        data = self.git.read(rel) if rel is not None else None
        if data is None:
            raise SourceError(INCLUDE_ERROR, f"{self.display(fs)} does not exist")
        return sources.decode(f"{self.git.label}:{rel}", fmt, data)


class BaselineEngine(ParsesSources, Protocol):
    """What the baseline needs from the run's engine (``lrlint.api.Engine``)."""

    cwd: Path
    overlay: dict[Path, bytes]

    def open_git(self, start: Path) -> GitBase | None: ...
    def check_parsed(self, path: str, parsed: Parsed, old: Parsed | None, result: Result) -> None: ...


class Baseline:
    """One run's baseline: checks files as they were at the git base and marks what was there already."""

    def __init__(self, engine: BaselineEngine) -> None:
        self.engine = engine
        self._tree: BaseTree | None = None

    def forget(self) -> None:
        self._tree = None

    def _git(self, fs: Path) -> GitBase | None:
        start = resolved(fs).parent
        return self.engine.open_git(start if start.exists() else self.engine.cwd)

    def tree(self, git: GitBase) -> BaseTree:
        if self._tree is None or self._tree.live is not self.engine.resolver:
            self._tree = BaseTree(self.engine.resolver, git)
        return self._tree

    def mark_file(self, target: Target, parsed: Parsed | None, findings: list[Finding]) -> None:
        """Mark the findings of ``target`` (``parsed``: it as read now, None when it could not be read)."""
        if findings:
            before, old = self.file_at_base(target, parsed)
            mark(findings, before, (PurePosixPath(target.path).name, PurePosixPath(old).name))

    def file_at_base(self, target: Target, parsed: Parsed | None) -> tuple[list[Finding] | None, str]:
        """The findings of ``target`` as it was at the base ([] when it is new or there is no base; None
        when neither it nor a file of its chain changed: the findings are the same), and its path there."""
        git = self._git(target.fs_path)
        if git is None:
            return [], target.path
        rel = git.relative(target.fs_path)
        old = git.old_path(rel) if rel is not None else None
        if old is None:
            return [], target.path
        if parsed is not None and not parsed.problems and self._unchanged(git, rel, parsed):
            return None, old
        data = git.read(old)
        if data is None:
            return [], old
        out = Result()
        fs = git.root / old
        try:
            src = sources.decode(f"{git.label}:{old}", target.format, data)
            then = self.engine.parse_source(src, fs, remember=False, resolver=self.tree(git))
        except SourceError as e:
            return [input_finding(f"{git.label}:{old}", e)], old
        for doc in then.docs:
            out.findings.extend(input_finding(src.path, p, src.lines) for p in doc.problems)
        out.findings.extend(input_finding(p.path or src.path, p.error) for p in then.problems)
        if any(then.recipes):
            self.engine.check_parsed(src.path, then, None, out)
        return out.findings, old

    def _unchanged(self, git: GitBase, rel: str | None, parsed: Parsed) -> bool:
        if rel is None or git.is_changed(rel) or resolved(self.engine.cwd / parsed.source.path) in self.engine.overlay:
            return False
        for src in parsed.base_sources:
            base_rel = git.relative(self.engine.cwd / src.path)
            if base_rel is None or git.is_changed(base_rel):
                return False
        return True

    def mark_set(self, findings: list[Finding], at_base: Callable[[], Parsed | None]) -> None:
        """Mark the findings of a config set; ``at_base``: the set as it was at the base (None: none)."""
        if not findings:
            return
        then = at_base()
        out = Result()
        if then is not None:
            then = Parsed(then.source, then.docs, then.recipes, [[] for _ in then.docs], ["" for _ in then.docs])
            then.config_set = True
            self.engine.check_parsed(then.source.path, then, None, out)
        mark(findings, out.findings)


def group_missing(findings: list[Finding]) -> list[Finding]:
    """LR906 findings about the same missing file (named by many configs, as when a folder move breaks
    their links) as one finding, at the first config, with the number of configs and the first
    few others as related locations; pre-existing and caused ones are grouped apart."""
    groups: dict[tuple[str, bool], list[Finding]] = {}
    for f in findings:
        if f.code == "LR906":
            groups.setdefault((_missing(f), f.pre_existing), []).append(f)
    out: list[Finding] = []
    for f in findings:
        group = groups.get((_missing(f), f.pre_existing)) if f.code == "LR906" else None
        if group is None or len(group) == 1:
            out.append(f)
            continue
        if group[0] is not f:
            continue
        n = len({g.span.path for g in group})
        f.message = f"{f.message} (named by {n} configs)"
        f.related.extend(Related(g.span, "also named here") for g in group[1 : 1 + RELATED_SHOWN])
        reason = f.data.reason if isinstance(f.data, InputData) else f.message
        f.data = InputData(reason, files=n)
        out.append(f)
    return out


def _missing(f: Finding) -> str:
    """What an LR906 finding says is missing: the reason after "cannot be read: " (the file, however each
    config spells its relative link), else the whole message."""
    return f.message.split(" cannot be read: ", 1)[-1]


def summary_note(findings: list[Finding], shown: bool, base: str) -> str | None:
    """The run's one note on pre-existing findings (None when there are none)."""
    n = sum(1 for f in findings if f.pre_existing)
    if not n:
        return None
    what = f"{n} pre-existing finding{'' if n == 1 else 's'} in the checked files (already there at {base})"
    if shown:
        return f"{what}: listed, marked pre-existing; they do not fail the run"
    return f"{what}; --show-existing lists {'it' if n == 1 else 'them'}"
