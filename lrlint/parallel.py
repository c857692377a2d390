"""Every core: a run over many files checks contiguous parts of the file list in worker processes.

The targets are discovered once, in order, and cut into contiguous parts (several per worker, so a slow
part does not leave the other workers idle); each worker keeps one ``Engine`` for all the parts it
checks, so a base config shared by many children is parsed at most once per worker. The parts' results
are joined in the targets' order, which is the order a serial run produces them in: the report is the
same byte for byte. Input problems of a base shared by several parts are reported once, where a serial
run reports them (at the first part that meets them).

A worker returns what the report needs: the findings, the explanations, the files checked, and the
sources and comments of the files findings point at. A run over few files (fewer than ``MIN_FILES``),
``jobs`` 1 and a platform without ``fork`` run in-process (``lrlint.api``); so do the editor server and
stdin. When a worker dies (killed, out of memory), the parts it had not returned are checked in-process.

With ``--fix``, the workers stay after the check (``Workers``): each round's fixed files are parsed and
re-checked by the worker that checked them, which holds their bases parsed (``lrlint.fix.recheck``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lrlint import api, bigstack, profiles, sources
from lrlint.discover import Target, discover, resolved, resolving
from lrlint.progress import Progress
from lrlint.results import Result
from lrlint.settings import Settings

if TYPE_CHECKING:
    from lrlint.fix import recheck

MIN_FILES = 40  # fewer files are checked in-process: starting workers costs more than it gains
PARTS_PER_JOB = 4  # parts per worker
PART_FILES = 500  # at most this many files per part (a big run: more parts)
KEEP_FILES = api.KEEP_FILES  # a worker that holds more parsed files starts its next part afresh


class JobsError(ValueError):
    """A --jobs or LRLINT_JOBS value that is not a positive whole number."""


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def jobs_setting(option: str | int | None, env: str | None) -> int:
    """The number of processes a run may use: ``--jobs`` wins, then ``LRLINT_JOBS``, else the usable CPUs."""
    for name, raw in (("--jobs", option), ("LRLINT_JOBS", env)):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            n = int(str(raw).strip())
        except ValueError:
            raise JobsError(f"{name}: {raw!r} is not a whole number") from None
        if n < 1:
            raise JobsError(f"{name}: {n} must be 1 or more")
        return n
    return usable_cpus()


@dataclass
class _Part:
    """What a worker returns for one part of the targets."""

    result: Result
    problems: list[tuple[int, tuple]] = field(default_factory=list)  # (finding index, key) of input problems
    git_root: str | None = None
    git_note: str | None = None
    pid: int = 0
    guess: recheck.Guess | None = None  # with --fix: the first fix round of the part's files, guessed


# the worker process's one engine (set by _start, used by _check_part)
_WORKER: dict[str, object] = {}


def _start(
    settings: Settings,
    base: str | None,
    reference: str | None,
    cwd: Path,
    pathspec: list[Path],
    unsafe: bool | None = None,
) -> None:
    """``unsafe``: None unless the run fixes (then whether unsafe fixes are applied too)."""
    engine = _WORKER["engine"] = api.Engine(settings, base=base, reference=reference, cwd=cwd)
    engine.keeps_merges = unsafe is not None
    _WORKER["pathspec"] = pathspec
    _WORKER["fixing"] = (unsafe, base, reference) if unsafe is not None else None


def _check_part(targets: list[Target], sets_done: frozenset[int]) -> _Part:
    engine = _WORKER["engine"]
    assert isinstance(engine, api.Engine)
    pathspec = _WORKER["pathspec"]
    assert isinstance(pathspec, list)
    return bigstack.run(lambda: _part(engine, targets, sets_done, pathspec))


def _part(engine: api.Engine, targets: list[Target], sets_done: frozenset[int], pathspec: list[Path]) -> _Part:
    result = Result()
    engine.problems_reported.clear()
    if engine.resolver.size() > KEEP_FILES:  # memory stays flat: a worker keeps one part's files, not all
        engine.forget()
    with resolving():
        api.check_targets(engine, targets, result, pathspec=pathspec, sets_done=sets_done, lean=True)
    where = {id(f): i for i, f in enumerate(result.findings)}
    problems = [(where[id(f)], key) for f, key in engine.problems_reported if id(f) in where]
    git_root = str(engine.git.root) if engine.git is not None else None
    fixing = _WORKER.get("fixing")
    guess = None
    if isinstance(fixing, tuple):  # while the other workers still check: the part's first fix round
        from lrlint.fix import loop

        unsafe, base, reference = fixing
        guess = loop.guess(engine, result, [t.path for t in targets], unsafe, base, reference)
    return _Part(_for_report(result), problems, git_root, engine.git_note, os.getpid(), guess)


def _for_report(result: Result) -> Result:
    """The part of a result the report needs (``Result.keep_for_report``)."""
    result.keep_for_report()
    return Result(
        findings=result.findings,
        files=result.files,
        sources=result.sources,
        explanations=result.explanations,
        comments=result.comments,
        covered=result.covered,
    )


def cut(targets: list[Target], settings: Settings, parts: int) -> list[tuple[list[Target], frozenset[int]]]:
    """Contiguous parts of about equal size, each with the config sets an earlier part checks (a set is
    checked where its first member is listed, as in a serial run)."""
    size = max(1, -(-len(targets) // parts))
    _sets, member_of = api.set_members(settings)
    out: list[tuple[list[Target], frozenset[int]]] = []
    seen: set[int] = set()
    for start in range(0, len(targets), size):
        chunk = targets[start : start + size]
        out.append((chunk, frozenset(seen)))
        seen.update(i for t in chunk if (i := member_of.get(resolved(t.fs_path))) is not None)
    return out


def check_paths(
    paths: list[str],
    settings: Settings,
    base: str | None = None,
    reference: str | None = None,
    force_exclude: bool = False,
    keep_parsed: bool = False,
    jobs: int = 1,
    min_files: int = MIN_FILES,
    progress: Progress | None = None,
    workers: Workers | None = None,
) -> Result:
    """``api.check_paths`` on ``jobs`` processes when there are at least ``min_files`` files (the same result);
    ``progress`` is told how many files there are and how many are done. With ``workers`` (``--fix``), the
    processes are kept there after the check, to re-check the fixed files where they were checked; the
    caller closes them."""
    notes: list[str] = []
    with resolving():
        targets = discover(paths, settings, force_exclude=force_exclude, notes=notes)
        if progress is not None:
            progress.start(len(targets))
        if jobs <= 1 or len(targets) < min_files or not _can_fork():
            return api.check_found(targets, notes, settings, base, reference, keep_parsed, lean=True, progress=progress)
        pathspec = api.pathspec_of(settings, targets)
        # before the workers are forked: they share the parsers and the shipped rules
        sources.preload(t.format for t in targets)
        profiles.optimizer_table()
        parts = cut(targets, settings, min(len(targets), max(jobs * PARTS_PER_JOB, -(-len(targets) // PART_FILES))))
    cwd = Path.cwd().resolve()
    pool = workers if workers is not None else Workers(settings)
    try:
        outs = pool.check(parts, jobs, (settings, base, reference, cwd, pathspec, pool.unsafe), progress)
    finally:
        if workers is None:
            pool.close()
    return join(outs, settings, notes, base or settings.base)


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


class Workers:
    """Worker processes, each with one engine, each answering over its own pipe: the parts of a check go to
    whichever worker is free; a fixed file's re-check goes to the worker that checked it, which holds its
    bases parsed (``recheck``). A worker that dies leaves its work to the calling process."""

    def __init__(self, settings: Settings, unsafe: bool | None = None) -> None:
        """``unsafe``: None unless the run fixes (then whether unsafe fixes are applied too)."""
        self.settings = settings
        self.unsafe = unsafe
        self.cwd = Path.cwd().resolve()
        self.guesses: list[recheck.Guess] = []  # each part's guessed first fix round
        self.conns: list = []
        self.procs: list = []
        self.alive: set[int] = set()
        self.owner: dict[str, int] = {}  # checked file (as shown) -> the worker that checked it

    def start(self, jobs: int, init: tuple) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        for i in range(jobs):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs, init), daemon=True, name=f"lrlint-worker-{i}")
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)
            self.alive.add(i)

    def check(
        self, parts: list[tuple[list[Target], frozenset[int]]], jobs: int, init: tuple, progress: Progress | None
    ) -> list[_Part]:
        """Each part's result, in order; the parts a dead worker did not return are checked in-process."""
        from multiprocessing.connection import wait

        self.start(min(jobs, len(parts)), init)
        outs: list[_Part | None] = [None] * len(parts)
        todo = list(range(len(parts)))
        busy: dict[int, int] = {}  # worker -> the part it checks
        while True:
            for w in sorted(self.alive - busy.keys()):
                if todo and self._send(w, (_check_part, parts[todo[0]])):
                    busy[w] = todo.pop(0)
            if not busy:
                break
            for conn in wait([self.conns[w] for w in busy]):
                w = self.conns.index(conn)
                i = busy.pop(w)
                got = self._receive(w)
                if got is None:
                    continue
                outs[i] = got
                if got.guess is not None:
                    self.guesses.append(got.guess)
                    got.guess = None
                self.owner.update((t.path, w) for t in parts[i][0])
                if progress is not None:
                    progress.advance(len(parts[i][0]))
        missing = [i for i, o in enumerate(outs) if o is None]
        if missing:
            _start(*init)
            try:
                for i in missing:
                    chunk, done = parts[i]
                    outs[i] = _check_part(chunk, done)
                    if progress is not None:
                        progress.advance(len(chunk))
            finally:
                _close_worker()
        return [o for o in outs if o is not None]

    def recheck(
        self, data: dict[str, bytes], formats: dict[str, str], base: str | None, reference: str | None
    ) -> tuple[dict[str, str], Result | None]:
        """The fixed files of a round re-checked by the workers that checked them (``fix.recheck.Workers``)."""
        from multiprocessing.connection import wait

        _sets, member_of = api.set_members(self.settings)
        if not self.alive or (member_of and any(resolved(Path(p)) in member_of for p in data)):
            return {}, None  # a config set is checked whole, in one process
        from lrlint.fix import recheck

        failed, ready = recheck.take_guesses(self.guesses, data, self.cwd)
        if failed:
            return failed, None
        shares: dict[int, list[str]] = {}
        for p in data:
            if p in ready:
                continue
            w = self.owner.get(p)
            if w not in self.alive:  # a file no worker checked (a base a fix edits)
                w = min(sorted(self.alive), key=lambda k: len(shares.get(k, [])))
            shares.setdefault(w, []).append(p)
        waiting = {
            w for w, paths in shares.items() if self._send(w, (_recheck_part, (paths, data, formats, base, reference)))
        }
        whole = len(waiting) == len(shares)
        while waiting:
            for conn in wait([self.conns[w] for w in waiting]):
                w = self.conns.index(conn)
                waiting.discard(w)
                out = self._receive(w, raising=False)
                if out is None:  # died, or its task raised
                    whole = False
                    continue
                bad, share = out
                failed.update(bad)
                if share is not None and not share.alone:
                    ready.update((p, (share, i)) for i, p in enumerate(share.paths))
                elif not bad:
                    whole = False
        if failed:  # the other shares were re-checked with these files in the overlay: not kept
            return {p: failed[p] for p in data if p in failed}, None
        if not whole:
            return {}, None
        return {}, recheck.merge(list(data), ready, self.settings)

    def _send(self, w: int, task: tuple | None) -> bool:
        try:
            self.conns[w].send(task)
        except (OSError, ValueError):
            self._dead(w)
            return False
        return True

    def _receive(self, w: int, raising: bool = True):
        """The worker's answer; None when it died (or, without ``raising``, when its task raised)."""
        try:
            ok, value = self.conns[w].recv()
        except (EOFError, OSError):
            self._dead(w)
            return None
        if not ok:
            if raising:
                raise value
            return None
        return value

    def _dead(self, w: int) -> None:
        self.alive.discard(w)
        self.owner = {p: k for p, k in self.owner.items() if k != w}

    def release(self) -> None:
        """Tell each worker to stop (``close`` waits for them)."""
        for w in sorted(self.alive):
            self._send(w, None)
        self.alive = set()

    def close(self) -> None:
        self.release()
        for conn in self.conns:
            conn.close()
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self.conns, self.procs, self.alive = [], [], set()


def _serve(conn, init: tuple) -> None:
    """A worker: one engine, then each task from the pipe, answered as (True, value) or (False, exception)."""
    _start(*init)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if task is None:
            break
        fn, args = task
        try:
            out: tuple[bool, object] = (True, fn(*args))
        except Exception as e:  # noqa: BLE001 - raised again in the caller
            out = (False, e)
        try:
            conn.send(out)
        except Exception as e:  # noqa: BLE001 - an exception that does not pickle
            conn.send((False, RuntimeError(f"{type(e).__name__}: {e}")))
    _close_worker()


def _recheck_part(
    paths: list[str], data: dict[str, bytes], formats: dict[str, str], base: str | None, reference: str | None
) -> tuple[dict[str, str], recheck.Rechecked | None]:
    """A worker's share of a fix round: its files parsed (their parse problems, when one does not parse),
    then re-checked with the files this worker parsed taken as parsed."""
    from lrlint.fix import recheck

    engine = _WORKER["engine"]
    assert isinstance(engine, api.Engine)

    def go() -> tuple[dict[str, str], recheck.Rechecked | None]:
        given: recheck.Given = {}
        failed: dict[str, str] = {}
        for p in paths:
            got = recheck.parse(p, formats[p], data[p], engine.settings)
            if isinstance(got, str):
                failed[p] = got
            else:
                given[p] = got
        if failed:
            return failed, None
        made = engine.made()
        git = recheck.shared_git(engine, list(data))
        spec = _WORKER["pathspec"]
        assert isinstance(spec, list)
        _res, share = recheck.check_round(
            engine.settings, base, reference, data, formats, made, given, paths, git, spec
        )
        return {}, share

    return bigstack.run(go)


def _close_worker() -> None:
    engine = _WORKER.pop("engine", None)
    if isinstance(engine, api.Engine):
        engine.close()


def join(outs: list[_Part], settings: Settings, notes: list[str], base_rev: str | None) -> Result:
    """The parts' results as one, in order, as a serial run builds it."""
    result = Result(notes=list(notes))
    seen: set[tuple] = set()
    git_root = git_note = None
    for out in outs:
        part = out.result
        repeated = set()
        for i, key in out.problems:
            if key in seen:
                repeated.add(i)
            seen.add(key)
        result.findings.extend(f for i, f in enumerate(part.findings) if i not in repeated)
        result.files.extend(part.files)
        result.covered |= part.covered
        result.explanations.extend(part.explanations)
        for p, s in part.sources.items():
            result.sources.setdefault(p, s)
        result.comments.update(part.comments)
        git_root = git_root or out.git_root
        git_note = git_note or out.git_note
    result.workers = len({o.pid for o in outs if o.pid != os.getpid()})
    return api.finish(result, settings, git_root, git_note, base_rev)
