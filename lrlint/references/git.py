"""The git reference: files as they were at the base revision, with few git processes.

A run makes a fixed number of git calls whatever the number of files: ``rev-parse`` (the work
tree and the verified base commit), ``merge-base`` (``git diff A...`` semantics; not for HEAD),
``config`` (the filter drivers to turn off), one rename-aware ``diff --name-status`` against the
work tree, and one long-lived ``cat-file --batch`` for every blob. ``lrlint.gitproc`` says what
keeps each of them from running the repository's configured commands.

A run on a few files (pre-commit) limits the diff to them, so git does not stat the whole
work tree; only when one of them is new at the base (it may be a rename) is the whole tree
diffed to find where it came from.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from lrlint import gitproc, sources
from lrlint.discover import resolved
from lrlint.records import Record, field
from lrlint.sources import Source

if TYPE_CHECKING:
    from lrlint.discover import Target

MAX_PATHSPEC = 64  # more checked files than this: one diff of the whole tree
# git pairs a rename or copy at 50% similarity; two different configs of one family (two model sizes) are often
# that alike. Below this score the old file is not the new one's history: the new file is treated as new.
RENAME_MIN_SIMILARITY = 70


class GitUnavailable(Exception):
    """No git, or not a work tree: no history reference (one note, not an error)."""


class GitError(Exception):
    """Exit 2: a base that is not one commit, or a repository git refuses to work in."""


class BadRevision(GitError):
    """``--base`` names nothing git knows, or more or less than one commit: a usage error."""


class GitRefused(GitError):
    """git stopped before reaching the work tree for a reason other than "not a repository" (dubious
    ownership, a broken repository): the history reference would be lost, so the run stops and says why."""


_NO_WORK_TREE = ("not a git repository", "must be run in a work tree")


def _run(args: list[str], cwd: Path, config: tuple[tuple[str, str], ...] = ()):
    return gitproc.run(args, cwd, config)


def toplevel(start: Path) -> Path | None:
    """The work tree's top level around ``start``; None without git or outside a work tree."""
    if not gitproc.available():
        return None
    out = _run(["rev-parse", "--show-toplevel"], start)
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def _not_a_work_tree(stderr: str) -> Exception:
    if any(s in stderr for s in _NO_WORK_TREE) or not stderr.strip():
        return GitUnavailable("not inside a git work tree: no history reference")
    return GitRefused(f"git refused the repository: {gitproc.said(stderr.removeprefix('fatal: '))}")


def _verify_args(rev: str) -> list[str]:
    return ["rev-parse", "--show-toplevel", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"]


def _verify(start: Path, rev: str, started: subprocess.Popen[str] | None = None) -> tuple[Path, str]:
    """The work tree's top level and the one commit ``rev`` names (``started``: that rev-parse, already
    running); raises GitUnavailable/GitError."""
    bad = BadRevision(
        f"--base {gitproc.shown(rev)}: not a revision (it must name one commit: a branch, tag or commit id)"
    )
    if "\0" in rev:
        raise bad
    out = gitproc.finish(started) if started is not None else _run(_verify_args(rev), start)
    lines = out.stdout.splitlines()
    if out.returncode == 0 and len(lines) == 2:
        return Path(lines[0]), lines[1]
    if not lines:  # git stopped before the work tree
        raise _not_a_work_tree(out.stderr)
    if _run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], start).returncode != 0:
        raise GitUnavailable("the repository has no commits yet: no history reference")
    raise bad


class Started(Record):
    """The first git calls of ``GitBase.open(start, rev)`` (rev-parse and the filter drivers), started before
    the run asks for git (``started``): they run while the first file is read."""

    start: Path
    rev: str
    verify: subprocess.Popen[str]
    filters: subprocess.Popen[str]

    def stop(self) -> None:
        gitproc.stop(self.verify)
        gitproc.stop(self.filters)


def started(start: Path, rev: str) -> Started | None:
    """``GitBase.open(start, rev)``'s first git calls, started now; None where open starts none (no git, a
    revision that cannot be one) or they do not start (open then meets the same error)."""
    if "\0" in rev or not gitproc.available():
        return None
    try:
        filters = gitproc.start(gitproc.FILTERS, start)
    except OSError:
        return None
    try:
        verify = gitproc.start(_verify_args(rev), start)
    except OSError:
        gitproc.stop(filters)
        return None
    return Started(start, rev, verify, filters)


class GitBase(Record):
    root: Path
    rev: str  # the revision asked for (as shown to the user)
    commit: str  # the merge-base commit compared with
    changed: dict[str, str | None] = field(default_factory=dict)  # new path -> old path (None: new file)
    seen: set[str] | None = None  # the files a limited diff covered (None: the whole tree was diffed)
    _cat: subprocess.Popen | None = None
    _config: tuple[tuple[str, str], ...] = ()  # the filter drivers emptied for diffs of the work tree

    @classmethod
    def open(
        cls,
        start: Path,
        rev: str,
        paths: list[Path] | None = None,
        on_root: Callable[[Path], object] | None = None,
        early: Started | None = None,
    ) -> GitBase:
        """``paths``: the files being checked, when few (the diff is limited to them); ``on_root``: called with
        the work tree's top level as soon as it is known (to start other git calls beside the diff);
        ``early``: the first calls, started before (``started``; used when they are for this start and rev)."""
        if early is not None and (early.start, early.rev) != (start, rev):
            early.stop()
            early = None
        if early is None:
            if not gitproc.available():
                raise GitUnavailable("git is not installed: no history reference")
            # the filter drivers (the diff may hash work-tree files: no filter driver runs), read from the same
            # repository while rev-parse finds its top level
            filters = gitproc.start(gitproc.FILTERS, start)
        else:
            filters = early.filters
        try:
            root, commit = _verify(start, rev, early.verify if early is not None else None)
        except BaseException:
            gitproc.stop(filters)
            raise
        if on_root is not None:
            on_root(root)
        if rev != "HEAD":  # `git diff REV...` semantics: compare with the merge base
            mb = _run(["merge-base", commit, "HEAD"], root)
            if mb.returncode == 0 and mb.stdout.strip():
                commit = mb.stdout.strip()
        config = gitproc.filters_of(gitproc.finish(filters))
        diff_cmd = ["diff", "--name-status", "-z", "-M", *gitproc.DIFF_SAFETY, commit, "--"]
        changed = None
        limited = False
        if paths and len(paths) <= MAX_PATHSPEC:
            diff = _run(["--literal-pathspecs", *diff_cmd, *(str(p) for p in paths)], root, config)
            if diff.returncode == 0:
                changed = _parse_name_status(diff.stdout)
                limited = None not in changed.values()
                if not limited:  # added here: maybe renamed from a path outside the pathspec
                    changed = None
        if changed is None:
            diff = _run(diff_cmd, root, config)
            if diff.returncode != 0:
                raise GitUnavailable(f"git diff failed: {diff.stderr.strip()}")
            changed = _parse_name_status(diff.stdout)
        base = cls(root, rev, commit)
        base.changed = changed
        base._config = config
        if limited:  # the diff saw only these files; others are asked about when needed
            base.seen = set()
            for p in paths or []:
                with contextlib.suppress(ValueError, RuntimeError, OSError):  # outside the tree, a link loop
                    base.seen.add(Path(p).resolve().relative_to(root.resolve()).as_posix())
        return base

    @property
    def label(self) -> str:
        """The base as shown: ``HEAD``, or ``origin/main (merge base 1a2b3c4d5e)``."""
        return self.rev if self.rev == "HEAD" else f"{self.rev} (merge base {self.commit[:10]})"

    def _ask(self, rel: str) -> None:
        """A file outside the limited diff (a base config of a checked child): one diff of that file."""
        if self.seen is None or rel in self.seen:
            return
        self.seen.add(rel)
        out = _run(
            ["--literal-pathspecs", "diff", "--name-status", "-z", *gitproc.DIFF_SAFETY, self.commit, "--", rel],
            self.root,
            self._config,
        )
        if out.returncode == 0:
            self.changed.update(_parse_name_status(out.stdout))

    def old_path(self, rel: str) -> str | None:
        """The path the file had at the base; None if new there. Unchanged files map to themselves."""
        self._ask(rel)
        return self.changed.get(rel, rel)

    def is_changed(self, rel: str) -> bool:
        self._ask(rel)
        return rel in self.changed

    def changed_targets(self, targets: Iterable[Target]) -> list[Path]:
        """The targets changed since the base (not new there), resolved: the files whose dependents are followed."""
        out = []
        for t in targets:
            rel = self.relative(t.fs_path)
            if rel is not None and self.is_changed(rel) and self.old_path(rel) is not None:
                out.append(resolved(t.fs_path))
        return out

    def relative(self, fs: Path) -> str | None:
        """``fs`` from the work tree's top level (``/``-separated); None outside the work tree."""
        try:
            return resolved(fs).relative_to(resolved(self.root)).as_posix()  # the run resolves each once
        except ValueError:
            return None

    def read_at_base(self, fs: Path, fmt: str) -> Source | None:
        """The file ``fs`` as it was at the base revision, named ``<label>:<path at the base>``.

        None outside the work tree, or when the file is new since the base. A rename is followed (the
        path at the base is the old one). Raises SourceError when the bytes do not decode.
        """
        rel = self.relative(fs)
        old = self.old_path(rel) if rel is not None else None
        data = self.read(old) if old is not None else None
        if data is None:
            return None
        return sources.decode(f"{self.label}:{old}", fmt, data)

    def read(self, rel_old: str) -> bytes | None:
        """The blob at the base revision (one shared ``cat-file --batch`` process; no filter applies)."""
        name = f"{self.commit}:{rel_old}"
        if any(c in rel_old for c in "\n\r"):  # the batch protocol is line-based: its own process
            one = gitproc.run(["cat-file", "blob", name], self.root, text=False)
            return one.stdout if one.returncode == 0 else None
        if self._cat is None:
            self._cat = gitproc.popen(["cat-file", "--batch"], self.root)
        assert self._cat.stdin and self._cat.stdout
        self._cat.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline()
        if header.endswith((b" missing\n", b" ambiguous\n")):
            return None
        parts = header.split()
        if len(parts) != 3 or not parts[2].isdigit():  # not git's answer: start afresh next time
            self.close()
            return None
        data = self._cat.stdout.read(int(parts[2]))
        self._cat.stdout.read(1)  # trailing newline
        return data

    def close(self) -> None:
        if self._cat is not None:
            try:
                if self._cat.stdin:
                    self._cat.stdin.close()
                self._cat.wait(timeout=5)
            except Exception:
                self._cat.kill()
            self._cat = None


def _parse_name_status(out: str) -> dict[str, str | None]:
    """``git diff --name-status -z -M`` -> {new path: old path or None for added}."""
    items = out.split("\0")
    changed: dict[str, str | None] = {}
    i = 0
    while i < len(items) and items[i]:
        status = items[i]
        if status[0] in "RC":
            old, new = items[i + 1], items[i + 2]
            score = status[1:]
            changed[new] = old if not score.isdigit() or int(score) >= RENAME_MIN_SIMILARITY else None
            i += 3
        else:
            path = items[i + 1]
            if status[0] == "A":
                changed[path] = None
            elif status[0] != "D":
                changed[path] = path
            i += 2
    return changed
