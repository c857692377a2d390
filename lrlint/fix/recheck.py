"""The ``--fix`` re-check: the fixed files checked again from their bytes in memory, as ``check_paths`` would.

One parse per file: the parse that proves a fixed file still parses is the one its re-check reads
(``Rechecking``), and the files the check parsed are taken as parsed, its merges of the files no fix
changed as made, and its look at the repository around the configs taken as it is (``Result.made``,
or a worker's own).
``check_round`` re-checks some of a round's files (all of them in-process; a worker's share on several
processes) and ``Rechecked`` carries what a worker returns; ``merge`` joins the shares in the
round's order, which gives the result one process gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from lrlint import api, sources
from lrlint.discover import Target, resolved, resolving
from lrlint.findings import Finding
from lrlint.inherit import Resolver
from lrlint.inherit.model import Loaded
from lrlint.profiles import Profile
from lrlint.progress import Progress
from lrlint.references.git import GitBase
from lrlint.results import Made, Parsed, Result
from lrlint.settings import Settings
from lrlint.sources import Limits, Source, SourceError
from lrlint.spans import Span
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


def relabel(docs: list[Document], old: str, new: str) -> list[Document] | None:
    """The documents of a file parsed under the name ``old`` as parsing the same bytes under ``new`` gives
    them (the name is in their spans); None when a text of theirs holds ``old`` (then they are parsed)."""
    out = []
    for doc in docs:
        if any(old in e.reason for e in doc.problems) or doc.path != old:
            return None
        values = {}
        for k, v in doc.values.items():
            if old in v.raw or old in v.why or (v.scaling is not None and old in v.scaling.text):
                return None
            span = v.span
            if span is not None and span.path == old:
                v = v.with_span(Span(new, span.start, span.end, span.line, span.col, span.end_line, span.end_col))
            values[k] = v
        out.append(replace(doc, path=new, values=values, comments=dict(doc.comments), problems=list(doc.problems)))
    return out


class Asked(dict):
    """An overlay that notes each path looked up in it (the files whose bytes a re-check depended on: every
    read of a file the engine may take from the overlay asks it first)."""

    def __init__(self, data: dict[Path, bytes]) -> None:
        super().__init__(data)
        self.asked: set[Path] = set()

    def __contains__(self, key: object) -> bool:
        self.asked.add(key)  # type: ignore[arg-type]
        return super().__contains__(key)

    def __getitem__(self, key: Path) -> bytes:
        self.asked.add(key)
        return super().__getitem__(key)

    def get(self, key: Path, default=None):
        self.asked.add(key)
        return super().get(key, default)


class Seeded(Resolver):
    """A resolver that takes what another run's resolver (``lender``, the check's) made: the files it read
    from disk as parsed when first needed, and its merges of files that are not in the overlay (the overlay
    files are read again; so the overlay is asked only about the files this run reads). An overlay file
    read as a base whose bytes were parsed already (``given``, by resolved path) is taken with those
    documents, as ``load`` would parse it."""

    def __init__(
        self,
        profiles: tuple[Profile, ...],
        limits: Limits,
        cwd: Path,
        lender: Resolver | None,
        given: dict[Path, tuple[Source, list[Document]]] | None = None,
    ):
        super().__init__(profiles, limits, cwd)
        if lender is not None:
            lender.lend(self)
        self.given = given or {}

    def reads_one_as_lender(self, shown: str) -> bool:
        """Not a file in the overlay (asked once per file: ``Asked`` keeps what was asked)."""
        return resolved(self.cwd / shown) not in self.overlay

    def known(self, fs: Path) -> Loaded | None:
        """The lender's parse of the file ``fs`` (resolved) from disk."""
        return self.lender.parsed(fs) if self.lender is not None else None

    def _take(self, fs: Path) -> None:
        fs = resolved(fs)
        if fs not in self._files and fs not in self.overlay and (hit := self.known(fs)) is not None:
            self._files[fs] = hit

    def load(self, fs: Path) -> Loaded:
        self._take(fs)
        fs = resolved(fs)
        got = self.given.get(fs)
        if got is not None and fs not in self._files and fs in self.overlay:
            src, docs = got
            if src.path == self.display(fs) and len(src.data) <= self.limits.max_file_size:
                doc = docs[0] if docs else Document(src.path, src.format, {}, lines=src.lines)
                self._files[fs] = Loaded(src, doc, fs, docs)
        return super().load(fs)

    def parsed(self, fs: Path) -> Loaded | None:
        self._take(fs)
        return super().parsed(fs)


class Rechecking(api.Engine):
    """An engine whose overlay files come with their documents (``given``): a target among them is read from
    them, not parsed again. Everything else is ``api.Engine``'s."""

    def __init__(
        self,
        settings: Settings,
        base: str | None,
        reference: str | None,
        overlay: dict[Path, bytes],
        made: Made | None,
        given: Given,
        cwd: Path | None = None,
        git: GitBase | None = None,
        git_paths: list[Path] | None = None,
    ):
        """``git``: the check's open repository (``shared_git``), asked instead of opening it again; else it is
        opened as the check opened it, with the check's files (``git_paths``, the run's pathspec): the same
        diff, so the same answers (a limited diff of the round's files would ask git once per base file outside
        them, and tell a renamed base from a new one differently)."""
        super().__init__(settings, base=base, reference=reference, cwd=cwd, overlay=overlay)
        self.shared = git is not None
        self.git_paths = git_paths
        if git is not None:
            self.git, self._git_opened = git, True
        self.given = {resolved(self.cwd / p): got for p, got in given.items()}
        lender = made.resolver if made is not None else None
        self.seeded = self.resolver = Seeded(self.profiles, self.limits, self.cwd, lender, self.given)
        if made is not None:  # the files it reads are not written before the re-check ends
            self.around.take(made.around)
        self.overlay = self.resolver.overlay = Asked(self.overlay)

    def read(self, target: Target) -> Parsed:
        got = self.given.get(resolved(self.cwd / target.fs_path))
        if got is not None:
            src, docs = got
            # as ``api.Engine.read`` reads an overlay file: under the size limit, a script only when it may
            # hold a recipe (else it is not parsed at all)
            if src.path == target.path and len(src.data) <= self.limits.max_file_size and self._worth(src):
                return self.parse_source(src, target.fs_path, docs=docs)
        return super().read(target)

    def parse_source(
        self,
        src: Source,
        fs_path: Path | None = None,
        remember: bool = True,
        resolver: Resolver | None = None,
        docs: list[Document] | None = None,
    ) -> Parsed:
        """``api.Engine.parse_source``; a file as it was at the git base (``history``: not remembered) whose bytes
        are the ones the check parsed takes the check's documents, under the base's name."""
        if docs is None and not remember and fs_path is not None:
            known = self.seeded.known(resolved(fs_path))
            if known is not None and known.docs and known.source.data == src.data and known.source.format == src.format:
                docs = relabel(known.docs, known.source.path, src.path)
        return super().parse_source(src, fs_path, remember, resolver, docs)

    def open_git(self, start: Path) -> GitBase | None:
        if self._git_opened or self.git_paths is None:
            return super().open_git(start)
        round_paths, self.pathspec = self.pathspec, self.git_paths
        try:
            return super().open_git(start)
        finally:
            self.pathspec = round_paths

    def close(self) -> None:
        if not self.shared:  # the check's repository stays open for the check
            super().close()

    @staticmethod
    def _worth(src: Source) -> bool:
        if src.format != "python":
            return True
        from lrlint.sources import python_source

        return python_source.mentions_training_names(src.text)


class Marks(Progress):
    """Where each target's findings end in a result, and the files looked up in the overlay until then
    (``check_targets`` tells its progress after each target)."""

    def __init__(self, result: Result, overlay: Asked) -> None:
        self.result = result
        self.overlay = overlay
        self.ends: list[int] = []
        self.asked: list[frozenset[Path]] = []

    def advance(self, n: int = 1) -> None:
        self.ends.append(len(self.result.findings))
        self.asked.append(frozenset(self.overlay.asked))


@dataclass
class Rechecked:
    """A worker's share of a round: each target's findings (unfiltered), sources and comments; ``alone``:
    why the share cannot be joined with the others (the round is then re-checked in one process)."""

    paths: list[str]
    findings: list[list[Finding]] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    comments: dict[str, dict[int, str]] = field(default_factory=dict)
    alone: str = ""
    # per target: every file looked up in the overlay until it was checked (resolved paths), which holds every
    # file its result depends on (an earlier target's look-up may have read a file it reads from the cache)
    asked: list[frozenset[Path]] = field(default_factory=list)


@dataclass
class Guess:
    """A worker's guess at the first fix round of the files it checked, re-checked while the other workers
    still check theirs (``lrlint.fix.loop.guess``). The real round takes a file's share when the round gives
    the file the same bytes and every file the share looked up (``Rechecked.asked``) the same bytes, or none."""

    overlay: dict[str, bytes]  # the guessed round's bytes (of the files that parse)
    failed: dict[str, tuple[bytes, str]]  # path -> the guessed bytes that do not parse, and why
    share: Rechecked | None


def take_guesses(
    guesses: list[Guess], data: dict[str, bytes], cwd: Path
) -> tuple[dict[str, str], dict[str, tuple[Rechecked, int]]]:
    """The parse problems and the re-checked shares of the round's files (``data``) that guesses got right."""
    failed = {p: why for g in guesses for p, (b, why) in g.failed.items() if data.get(p) == b}
    if failed:
        return {p: failed[p] for p in data if p in failed}, {}
    real = {resolved(cwd / p): b for p, b in data.items()}
    ready: dict[str, tuple[Rechecked, int]] = {}
    for g in guesses:
        share = g.share
        if share is None or share.alone:
            continue
        guessed = {resolved(cwd / p): b for p, b in g.overlay.items()}
        for i, p in enumerate(share.paths):
            if data.get(p) == g.overlay.get(p) and all(real.get(k) == guessed.get(k) for k in share.asked[i]):
                ready[p] = (share, i)
    return {}, ready


def run_pathspec(settings: Settings, files: list[str]) -> list[Path]:
    """The pathspec a check of ``files`` (as shown, relative to the working directory) opened git with."""
    return api.pathspec_of(settings, [Target(p, Path(p), "") for p in files])


def shared_git(engine: api.Engine, paths: list[str]) -> GitBase | None:
    """The repository ``engine`` (the check's) has open, when a re-check of ``paths`` would open the same one
    at the same base (every path in its work tree, in no nested repository): its diff covers every file, so
    the re-check asks it instead of running git once per base file outside the round's files."""
    git = engine.git
    if git is None or not engine._git_opened:
        return None
    root = git.root.resolve()
    for p in paths:
        d = resolved(engine.cwd / p).parent
        while d != root:
            if (d / ".git").exists() or d.parent == d:
                return None
            d = d.parent
    return git


def check_round(
    settings: Settings,
    base: str | None,
    reference: str | None,
    data: dict[str, bytes],
    formats: dict[str, str],
    made: Made | None,
    given: Given,
    paths: list[str] | None = None,
    git: GitBase | None = None,
    git_paths: list[Path] | None = None,
) -> tuple[Result, Rechecked]:
    """Re-check ``paths`` (default: every file of the round, in its order) with the round's bytes (``data``)
    in the overlay. The result is unfiltered; the share says where each target's findings are."""
    every = [Target(p, Path(p), formats[p]) for p in data]
    mine = every if paths is None else [t for t in every if t.path in set(paths)]
    overlay = {Path(p): d for p, d in data.items()}
    engine = Rechecking(settings, base, reference, overlay, made, given, git=git, git_paths=git_paths)
    res = Result()
    assert isinstance(engine.overlay, Asked)
    marks = Marks(res, engine.overlay)
    share = Rechecked([t.path for t in mine])
    try:
        with resolving():  # each path resolved once, as in the check
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
    share.asked = marks.asked
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


def merge(order: list[str], shares: dict[str, tuple[Rechecked, int]], settings: Settings) -> Result:
    """The shares (path -> its share, and its place there) as the one result ``check_round`` gives for every
    file of the round (none a config set's member), filtered as reported."""
    res = Result()
    for path in order:
        share, i = shares[path]
        res.files.append(path)
        res.covered.add(path)
        res.findings.extend(share.findings[i])
        if path in share.sources:
            res.sources[path] = share.sources[path]
        if path in share.comments:
            res.comments[path] = share.comments[path]
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

    def release(self) -> None:
        """No round is left: the workers may stop (while the fixed files are written)."""
        ...
