"""The ``--fix`` re-check: the fixed files checked again from their bytes in memory, as ``check_paths`` would.

One parse per file: the parse that proves a fixed file still parses is the one its re-check reads
(``Rechecking``), and the files the check parsed are taken as parsed (``Result.parsed``, or a worker's own
parsed files). ``check_round`` re-checks some of a round's files (all of them in-process; a worker's share
on several processes) and ``Rechecked`` carries what a worker returns; ``merge`` joins the shares in the
round's order, which gives the result one process gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lrlint import api, sources
from lrlint.discover import Target
from lrlint.findings import Finding
from lrlint.inherit.model import Loaded
from lrlint.progress import Progress
from lrlint.results import Parsed, Result
from lrlint.settings import Settings
from lrlint.sources import Limits, Source, SourceError
from lrlint.values import Document

Given = dict[str, tuple[Source, list[Document]]]  # path -> a fixed file's source and documents, parsed once


def parse(path: str, fmt: str, data: bytes, settings: Settings) -> tuple[Source, list[Document]] | str:
    """The fixed bytes decoded and parsed, or why they do not parse."""
    limits = Limits(max_file_size=getattr(settings, "max_file_size", Limits.max_file_size))
    try:
        src = sources.decode(path, fmt, data)
        return src, sources.parse(src, limits)
    except SourceError as e:
        return f"{e.line}:{e.col}: {e.reason}"
    except Exception as e:  # a parser bug must not lose the user's file
        return f"{type(e).__name__}: {e}"


class Rechecking(api.Engine):
    """An engine whose overlay files come with their documents (``given``): a target among them is read from
    them, not parsed again. Everything else is ``api.Engine``'s."""

    def __init__(
        self,
        settings: Settings,
        base: str | None,
        reference: str | None,
        overlay: dict[Path, bytes],
        parsed: dict[Path, Loaded],
        given: Given,
        cwd: Path | None = None,
    ):
        super().__init__(settings, base=base, reference=reference, cwd=cwd, overlay=overlay, parsed=parsed)
        self.given = {(self.cwd / p).resolve(): got for p, got in given.items()}

    def read(self, target: Target) -> Parsed:
        got = self.given.get((self.cwd / target.fs_path).resolve())
        if got is not None:
            src, docs = got
            # as ``api.Engine.read`` reads an overlay file: under the size limit, a script only when it may
            # hold a recipe (else it is not parsed at all)
            if src.path == target.path and len(src.data) <= self.limits.max_file_size and self._worth(src):
                return self.parse_source(src, target.fs_path, docs=docs)
        return super().read(target)

    @staticmethod
    def _worth(src: Source) -> bool:
        if src.format != "python":
            return True
        from lrlint.sources import python_source

        return python_source.mentions_training_names(src.text)


class Marks(Progress):
    """Where each target's findings end in a result (``check_targets`` tells its progress after each target)."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.ends: list[int] = []

    def advance(self, n: int = 1) -> None:
        self.ends.append(len(self.result.findings))


@dataclass
class Rechecked:
    """A worker's share of a round: each target's findings (unfiltered), sources and comments; ``alone``:
    why the share cannot be joined with the others (the round is then re-checked in one process)."""

    paths: list[str]
    findings: list[list[Finding]] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    comments: dict[str, dict[int, str]] = field(default_factory=dict)
    covered: set[str] = field(default_factory=set)
    alone: str = ""


def check_round(
    settings: Settings,
    base: str | None,
    reference: str | None,
    data: dict[str, bytes],
    formats: dict[str, str],
    parsed: dict[Path, Loaded],
    given: Given,
    paths: list[str] | None = None,
) -> tuple[Result, Rechecked]:
    """Re-check ``paths`` (default: every file of the round, in its order) with the round's bytes (``data``)
    in the overlay. The result is unfiltered; the share says where each target's findings are."""
    every = [Target(p, Path(p), formats[p]) for p in data]
    mine = every if paths is None else [t for t in every if t.path in set(paths)]
    overlay = {Path(p): d for p, d in data.items()}
    engine = Rechecking(settings, base, reference, overlay, parsed, given)
    res = Result()
    marks = Marks(res)
    share = Rechecked([t.path for t in mine])
    try:
        api.check_targets(engine, mine, res, pathspec=api.pathspec_of(settings, every), progress=marks)
        if paths is not None:
            share.alone = _alone(engine, mine, set(data))
    finally:
        engine.close()
    start = 0
    for end in marks.ends:
        share.findings.append(res.findings[start:end])
        start = end
    if start != len(res.findings):
        share.alone = share.alone or "findings after the last target"
    share.sources = {t.path: res.sources[t.path] for t in mine if t.path in res.sources}
    share.comments = {t.path: res.comments[t.path] for t in mine if t.path in res.comments}
    share.covered = set(res.covered)
    return res, share


def _alone(engine: api.Engine, targets: list[Target], round_files: set[str]) -> str:
    """Why a share of a round does not join the others as one process would: an input problem of a file of
    the round met as another's base (reported once per run: at the first file of the round that meets it; a
    problem of any other file is not kept from a re-check), a target changed since the git base (its
    dependents are compared over the whole round)."""
    if any(f.span.path in round_files for f, _key in engine.problems_reported):
        return "an input problem of a file of the round"
    if engine.git_refused():
        return "git refused"
    git = engine.repo_git()
    if git is not None and git.changed_targets(targets):
        return "a changed file's dependents"
    return ""


def merge(order: list[str], shares: list[Rechecked], settings: Settings) -> Result:
    """The shares as the one result ``check_round`` gives for every file of the round, filtered as reported."""
    by_path = {p: (s, i) for s in shares for i, p in enumerate(s.paths)}
    res = Result()
    for path in order:
        share, i = by_path[path]
        res.files.append(path)
        res.findings.extend(share.findings[i])
        if path in share.sources:
            res.sources[path] = share.sources[path]
        if path in share.comments:
            res.comments[path] = share.comments[path]
    for share in shares:
        res.covered |= share.covered
    return filtered(res, settings)


def filtered(res: Result, settings: Settings) -> Result:
    res.findings = api.reported(api.filter_findings(res.findings, res, settings), settings)
    return res


class Workers(Protocol):
    """Processes that re-check a round's files where they were checked (``lrlint.parallel``)."""

    def recheck(
        self, data: dict[str, bytes], formats: dict[str, str], base: str | None, reference: str | None
    ) -> tuple[dict[str, str], Result | None]:
        """Each file's parse problem (nothing re-checked when there is one), else the round's result, or None
        when the workers cannot give it (it is then re-checked in-process)."""
        ...
