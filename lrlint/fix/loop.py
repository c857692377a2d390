"""The ``--fix`` rounds: edit, re-parse and re-check in memory until no fix remains, then write.

A ``_Run`` holds what the rounds share (the current bytes, sources and findings of each file, what was
fixed, what went wrong); each step is one method. The caller's ``Result`` is left as it was: ``apply``
returns a new one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from lrlint import api, bigstack, guard
from lrlint.findings import Finding
from lrlint.fix import recheck
from lrlint.fix.edits import applicable, apply_edits, select, type_kept
from lrlint.fix.files import Pending, begin, clean_stale, drop, finish, fsync_dir, sync, unified_diff
from lrlint.results import Result
from lrlint.settings import Settings
from lrlint.sources import INTERNAL_ERROR, Source

MAX_ITERATIONS = 10
WRITERS = 8  # disk syncs waited for at once
WRITE_BATCH = 256  # files written in one go (each holds a file descriptor until it is renamed)

Place = tuple[str, int, int]  # (path, line, col) of an edit


class Fixed(NamedTuple):
    """A finding a fix removed."""

    code: str
    name: str
    severity: str


@dataclass
class FixOutcome:
    result: Result  # the re-checked result
    fixed: dict[str, list[Fixed]] = field(default_factory=dict)  # path -> the findings fixed there
    diff: str = ""
    problems: list[str] = field(default_factory=list)
    changed: dict[str, bytes] = field(default_factory=dict)  # path -> new bytes (written unless --diff)
    iterations: int = 0


@dataclass
class _Round:
    data: dict[str, bytes] = field(default_factory=dict)  # path -> the bytes after this round's edits
    fixed: dict[str, list[Finding]] = field(default_factory=dict)  # path -> the findings those edits fix
    given: recheck.Given = field(default_factory=dict)  # path -> those bytes parsed (the re-check reads them)
    # path -> where its parse problem goes among the run's problems, while its parse is left to the workers
    unparsed: dict[str, int] = field(default_factory=dict)


class _Run:
    def __init__(
        self,
        result: Result,
        settings: Settings,
        unsafe: bool,
        base: str | None,
        reference: str | None,
        rewrite_read_only: bool = False,
        workers: recheck.Workers | None = None,
    ):
        self.settings, self.unsafe, self.base, self.reference = settings, unsafe, base, reference
        self.workers = workers  # processes that parse and re-check the fixed files where they were checked
        self.defer = workers is not None  # the fixed files are parsed later (by the workers)
        self.git_paths: list[Path] | None = None  # the check's pathspec (git is opened with it), when needed
        self.rewrite_read_only = rewrite_read_only
        self.files = list(result.files)  # the checked files: their directories are cleaned of stale temporaries
        self.original: dict[str, Source] = dict(result.sources)  # as read: what the diff and the write compare with
        self.before: list[Finding] = list(result.findings)
        self.findings: list[Finding] = list(result.findings)
        self.sources: dict[str, Source] = dict(result.sources)
        self.comments = dict(result.comments)
        self.recipes = dict(result.recipes)
        self.made = result.made  # the check's parsed files and merges: the re-check does not make them again
        self.changed: dict[str, bytes] = {}  # path -> bytes after fixing
        self.fixed: dict[str, list[Fixed]] = {}
        self.problems: list[str] = []
        self.broken: set[str] = set()  # files whose fixes are given up
        self.rewritten: set[Place] = set()  # places an edit of this run rewrote
        self.refixed: set[Place] = set()  # places reported as still flagged after their fix
        self.iterations = 0

    def candidates(self) -> list[Finding]:
        """The findings whose fixes may be applied now. Each place is rewritten once per run: a finding
        that survives its own fix would loop, so it is reported once and left."""
        out = []
        for f in self.findings:
            if f.span.path in self.broken or not applicable(f, self.unsafe):
                continue
            assert f.fix is not None
            again = [p for e in f.fix.edits if (p := (e.span.path, e.span.line, e.span.col)) in self.rewritten]
            if again:
                if again[0] not in self.refixed:
                    self.refixed.add(again[0])
                    path, line, col = again[0]
                    self.problems.append(
                        f"{path}:{line}:{col}: {f.code} is still reported after its fix; "
                        "not rewritten again (does the reference state the lr it was tuned with?)"
                    )
                continue
            out.append(f)
        return out

    def edit(self, chosen: dict[str, list[Finding]]) -> _Round:
        """Apply the chosen fixes of each file to its current bytes; keep the files that still parse."""
        rnd = _Round()
        for path, fs in chosen.items():
            src = self.sources.get(path)
            if src is None:
                self._give_up(path, f"{path}: not fixed: the file was not read in this run")
                continue
            try:
                edited = self._edit_file(path, src, fs)
            except Exception as e:  # one file's fixes never abort the run: that file is left as it is
                if os.environ.get("LRLINT_DEBUG"):
                    raise
                self._give_up(path, f"{path}: not fixed: internal error while fixing this file: {guard.describe(e)}")
                continue
            if edited is not None:
                rnd.data[path], rnd.fixed[path] = edited
                if self.defer:
                    rnd.unparsed[path] = len(self.problems)
                else:
                    self._parse(rnd, path)
        return rnd

    def _parse(self, rnd: _Round, path: str) -> None:
        """Parse a file's fixed bytes; a file that would not parse is left as it is."""
        got = recheck.parse(path, self.sources[path].format, rnd.data[path], self.settings)
        if isinstance(got, str):
            self._not_parsed(rnd, path, got)
        else:
            rnd.given[path] = got

    def _unparsed(self, rnd: _Round, path: str, why: str) -> None:
        """A parse problem found after the round's edits: said where a serial run says it (after the problems
        of the files before it); the files after it say theirs after it."""
        later = list(rnd.unparsed)
        later = later[later.index(path) + 1 :]
        at = rnd.unparsed.pop(path)
        for q in later:
            rnd.unparsed[q] += 1
        self._not_parsed(rnd, path, why, at)

    def _not_parsed(self, rnd: _Round, path: str, why: str, at: int | None = None) -> None:
        msg = f"{path}: fixes not applied: the fixed file would not parse ({why})"
        self.problems.insert(len(self.problems) if at is None else at, msg)
        self.broken.add(path)
        del rnd.data[path], rnd.fixed[path]

    def _edit_file(self, path: str, src: Source, fs: list[Finding]) -> tuple[bytes, list[Finding]] | None:
        edits, ok = [], []
        for f in fs:
            assert f.fix is not None
            mine = [e for e in f.fix.edits if e.span.path == path]
            bad = None
            for e in mine:
                old = src.data[e.span.start : e.span.end].decode(src.encoding, "surrogateescape")
                if not type_kept(src.format, old, e.content):
                    bad = (
                        f"{path}:{e.span.line}:{e.span.col}: {f.code} not fixed: {e.content!r} would not load as the "
                        f"same type as {old!r}"
                    )
            if bad:
                self.problems.append(bad)
                continue
            edits.extend(mine)
            ok.append(f)
        if not edits:
            return None
        try:
            new = apply_edits(src.data, edits, src.encoding)
        except (ValueError, UnicodeEncodeError) as e:
            self._give_up(path, f"{path}: not fixed: {e}")
            return None
        if new == src.data:
            return None
        return new, ok

    def recheck(self, rnd: _Round) -> Result | None:
        """Check the round's files again as ``check_paths`` would, reading their fixed bytes; None when none is
        left (none parses) or the re-check failed."""
        formats = {p: self.sources[p].format for p in rnd.data}
        while self.workers is not None and rnd.unparsed:
            failed, res = self.workers.recheck(rnd.data, formats, self.base, self.reference)
            if not failed:
                if res is not None:
                    return res
                break  # the workers could not: parsed and re-checked here
            for path in [p for p in rnd.unparsed if p in failed]:
                self._unparsed(rnd, path, failed[path])
            formats = {p: formats[p] for p in rnd.data}
        for path in list(rnd.unparsed):
            got = recheck.parse(path, formats[path], rnd.data[path], self.settings)
            if isinstance(got, str):
                self._unparsed(rnd, path, got)
            else:
                del rnd.unparsed[path]
                rnd.given[path] = got
        if not rnd.data:
            return None
        try:
            return _recheck(rnd, formats, self)
        except Exception as e:  # never write what could not be re-checked
            self.problems.append(f"fixes not applied: re-checking the fixed files failed ({type(e).__name__}: {e})")
            return None

    def take(self, rnd: _Round, rechecked: Result) -> bool:
        """Keep the round's bytes and the re-checked findings of its files; False when nothing was kept."""
        progress = False
        for path, data in rnd.data.items():
            crash = next((f for f in rechecked.findings if f.span.path == path and f.code == INTERNAL_ERROR), None)
            if path not in rechecked.sources or crash is not None:
                why = f" ({crash.message})" if crash is not None else ""
                self._give_up(path, f"{path}: fixes not applied: the fixed file could not be re-checked{why}")
                continue
            self.changed[path] = data
            self.sources[path] = rechecked.sources[path]
            self.comments[path] = rechecked.comments.get(path, {})
            self.recipes[path] = rechecked.recipes.get(path, [])
            for f in rnd.fixed[path]:
                assert f.fix is not None
                self.fixed.setdefault(path, []).append(Fixed(f.code, f.name, f.severity))
                self.rewritten.update(
                    (e.span.path, e.span.line, e.span.col) for e in f.fix.edits if e.span.path == path
                )
            progress = True
        done = {p for p in rnd.data if p in self.changed and p not in self.broken}
        done |= {p for p in rechecked.covered if p not in rnd.data and p not in self.broken}  # other set members
        self.findings = [f for f in self.findings if f.span.path not in done]
        self.findings += [f for f in rechecked.findings if f.span.path in done]
        self.findings.sort(key=lambda f: f.sort_key)
        return progress

    def write(self, write: bool) -> str:
        """The diff of every changed file; with ``write``, each written atomically (a file that cannot be
        written is reported as it is on disk, with its original findings)."""
        diff_parts: list[str] = []
        dirs: set[Path] = set()
        if write:
            stale = clean_stale(sorted({Path(p).parent for p in self.files}))
            if stale:
                names = ", ".join(str(p) for p in stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
                self.problems.append(f"removed {len(stale)} temporary file(s) left by an interrupted --fix: {names}")
        paths = [p for p in sorted(self.changed) if self.changed[p] != self.original[p].data]
        written = self._write_all(paths) if write else {}
        for path in paths:
            src, new = self.original[path], self.changed[path]
            diff_parts.append(unified_diff(path, src, new))
            if not write:
                continue
            dirs.add(Path(path).parent)
            why = written[path]
            if why is not None:
                self.problems.append(f"{path}: not written: {why}")
                self.findings = [f for f in self.findings if f.span.path != path]
                self.findings += [f for f in self.before if f.span.path == path]
                self.sources[path] = src
                self.fixed.pop(path, None)
                del self.changed[path]
        for d in sorted(dirs):  # one directory fsync per directory, not per file
            fsync_dir(d)
        self.findings.sort(key=lambda f: f.sort_key)
        return "".join(diff_parts)

    def _write_all(self, paths: list[str]) -> dict[str, str | None]:
        """Write each file atomically, as ``write_atomic`` does, in three steps over up to WRITE_BATCH files:
        each file's temporary file written, then their disk syncs (several at once: each waits for the disk),
        then each renamed over its file. Returns why each was not written (None: written)."""
        out: dict[str, str | None] = {}
        for i in range(0, len(paths), WRITE_BATCH):
            begun: dict[str, Pending | str] = {}
            try:
                for path in paths[i : i + WRITE_BATCH]:
                    begun[path] = begin(
                        path, self.changed[path], self.original[path].data, rewrite_read_only=self.rewrite_read_only
                    )
                pending = [got for got in begun.values() if isinstance(got, Pending)]
                if len(pending) < 2:
                    for one in pending:
                        sync(one)
                else:
                    from concurrent.futures import ThreadPoolExecutor

                    with ThreadPoolExecutor(max_workers=min(WRITERS, len(pending))) as pool:
                        list(pool.map(sync, pending))
                for path, got in begun.items():
                    out[path] = got if isinstance(got, str) else finish(got, self.original[path].data)
            finally:  # an interrupted write leaves no temporary file
                for got in begun.values():
                    if isinstance(got, Pending) and got.fd >= 0:
                        drop(got)
        return out

    def _give_up(self, path: str, problem: str) -> None:
        self.problems.append(problem)
        self.broken.add(path)


def apply(
    result: Result,
    settings: Settings,
    unsafe: bool = False,
    write: bool = True,
    base: str | None = None,
    reference: str | None = None,
    max_iterations: int = MAX_ITERATIONS,
    rewrite_read_only: bool = False,
    workers: recheck.Workers | None = None,
) -> FixOutcome:
    """Apply fixes to the files of ``result``; return the re-checked result, what was fixed and the diff.
    A read-only file is left as it is (and said so) unless ``rewrite_read_only``. ``workers``: the processes
    that checked the files (``lrlint.parallel.Workers``), which parse and re-check them again."""
    return bigstack.run(
        lambda: _apply(result, settings, unsafe, write, base, reference, max_iterations, rewrite_read_only, workers)
    )


def _apply(
    result: Result,
    settings: Settings,
    unsafe: bool,
    write: bool,
    base: str | None,
    reference: str | None,
    max_iterations: int,
    rewrite_read_only: bool = False,
    workers: recheck.Workers | None = None,
) -> FixOutcome:
    run = _Run(result, settings, unsafe, base, reference, rewrite_read_only, workers)
    while run.iterations < max_iterations:
        chosen = select(run.candidates(), unsafe)
        if not chosen:
            break
        run.iterations += 1
        rnd = run.edit(chosen)
        if not rnd.data:
            break
        rechecked = run.recheck(rnd)
        if rechecked is None or not run.take(rnd, rechecked):
            break
    if workers is not None:
        workers.release()
    diff = run.write(write)
    fixed_result = replace(
        result, findings=run.findings, sources=run.sources, comments=run.comments, recipes=run.recipes
    )
    return FixOutcome(fixed_result, run.fixed, diff, run.problems, dict(run.changed), run.iterations)


def _recheck(rnd: _Round, formats: dict[str, str], run: _Run) -> Result:
    """Check files whose bytes are given in memory (an overlay of the fixed bytes), exactly as
    ``api.check_paths`` would."""
    if run.git_paths is None:
        run.git_paths = recheck.run_pathspec(run.settings, run.files)
    res, _share = recheck.check_round(
        run.settings, run.base, run.reference, rnd.data, formats, run.made, rnd.given, git_paths=run.git_paths
    )
    return recheck.filtered(res, run.settings)


def guess(
    engine: api.Engine,
    result: Result,
    paths: list[str],
    unsafe: bool,
    base: str | None,
    reference: str | None,
) -> recheck.Guess | None:
    """In a worker, right after it checked ``paths`` (``result``: their findings as checked): the first fix
    round of those files as the part alone would choose it, parsed and re-checked with the worker's parsed
    files. The real round, chosen over the whole run, takes what this got right (``recheck.take_guesses``);
    None when nothing is to be fixed, or on any error (the real round then re-checks those files)."""
    try:
        settings = engine.settings
        findings = api.reported(api.filter_findings(list(result.findings), result, settings), settings)
        run = _Run(replace(result, findings=findings), settings, unsafe, base, reference)
        run.defer = True
        chosen = select(run.candidates(), unsafe)
        if not chosen:
            return None
        rnd = run.edit(chosen)
        mine = set(paths)
        given: recheck.Given = {}
        failed: dict[str, tuple[bytes, str]] = {}
        for p in [p for p in rnd.data if p in mine]:
            got = recheck.parse(p, run.sources[p].format, rnd.data[p], settings)
            if isinstance(got, str):
                failed[p] = (rnd.data[p], got)
            else:
                given[p] = got
        overlay = {p: b for p, b in rnd.data.items() if p not in failed}
        formats = {p: run.sources[p].format for p in overlay}
        share = None
        if given:
            made = engine.made()
            git = recheck.shared_git(engine, list(overlay))
            _res, share = recheck.check_round(
                settings, base, reference, overlay, formats, made, given, list(given), git, engine.pathspec
            )
        return recheck.Guess(overlay, failed, share)
    except Exception:  # a guess never fails a run: the real round re-checks these files
        if os.environ.get("LRLINT_DEBUG"):
            raise
        return None
