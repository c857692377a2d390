"""The git reference: files as they were at the base revision, with few git processes.

A run makes a fixed number of git calls whatever the number of files: ``rev-parse``,
``merge-base`` (``git diff A...`` semantics), one rename-aware ``diff --name-status``
against the work tree, and one long-lived ``cat-file --batch`` for every blob.

A run on a few files (pre-commit) limits the diff to them, so git does not stat the whole
work tree; only when one of them is new at the base (it may be a rename) is the whole tree
diffed to find where it came from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

MAX_PATHSPEC = 64  # more checked files than this: one diff of the whole tree


class GitUnavailable(Exception):
    """No git, or not a work tree: no history reference (one note, not an error)."""


class BadRevision(Exception):
    """``--base`` names nothing git knows: a usage error."""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
    )


def toplevel(start: Path) -> Path | None:
    """The work tree's top level around ``start``; None without git or outside a work tree."""
    if shutil.which("git") is None:
        return None
    out = _run(["rev-parse", "--show-toplevel"], start)
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


@dataclass
class GitBase:
    root: Path
    rev: str  # the revision asked for (as shown to the user)
    commit: str  # the merge-base commit compared with
    changed: dict[str, str | None] = field(default_factory=dict)  # new path -> old path (None: new file)
    seen: set[str] | None = None  # the files a limited diff covered (None: the whole tree was diffed)
    _cat: subprocess.Popen | None = None

    @classmethod
    def open(cls, start: Path, rev: str, paths: list[Path] | None = None) -> GitBase:
        """``paths``: the files being checked, when few (the diff is limited to them)."""
        if shutil.which("git") is None:
            raise GitUnavailable("git is not installed: no history reference")
        # one call: the work tree root, HEAD and the base revision
        out = _run(["rev-parse", "--show-toplevel", "HEAD^{commit}", f"{rev}^{{commit}}"], start)
        lines = out.stdout.splitlines()
        if out.returncode != 0 or len(lines) < 3:
            top = _run(["rev-parse", "--show-toplevel"], start)
            if top.returncode != 0:
                raise GitUnavailable("not inside a git work tree: no history reference")
            if _run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], start).returncode != 0:
                raise GitUnavailable("the repository has no commits yet: no history reference")
            raise BadRevision(f"--base {rev}: not a revision git knows")
        root, head, target = Path(lines[0]), lines[1], lines[2]
        commit = target
        if target != head:
            mb = _run(["merge-base", target, head], root)
            if mb.returncode == 0 and mb.stdout.strip():
                commit = mb.stdout.strip()
        diff_cmd = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", commit, "--"]
        changed = None
        limited = False
        if paths and len(paths) <= MAX_PATHSPEC:
            diff = _run(["--literal-pathspecs", *diff_cmd, *(str(p) for p in paths)], root)
            if diff.returncode == 0:
                changed = _parse_name_status(diff.stdout)
                limited = None not in changed.values()
                if not limited:  # added here: maybe renamed from a path outside the pathspec
                    changed = None
        if changed is None:
            diff = _run(diff_cmd, root)
            if diff.returncode != 0:
                raise GitUnavailable(f"git diff failed: {diff.stderr.strip()}")
            changed = _parse_name_status(diff.stdout)
        base = cls(root, rev, commit)
        base.changed = changed
        if limited:  # the diff saw only these files; others are asked about when needed
            base.seen = set()
            for p in paths:
                try:
                    base.seen.add(Path(p).resolve().relative_to(root.resolve()).as_posix())
                except ValueError:
                    pass
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
            ["--literal-pathspecs", "diff", "--name-status", "-z", "--no-ext-diff", self.commit, "--", rel], self.root
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

    def read(self, rel_old: str) -> bytes | None:
        """The blob at the base revision (one shared ``cat-file --batch`` process)."""
        if self._cat is None:
            self._cat = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        assert self._cat.stdin and self._cat.stdout
        self._cat.stdin.write(f"{self.commit}:{rel_old}\n".encode("utf-8", "surrogateescape"))
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().decode("utf-8", "replace").split()
        if len(header) < 3 or header[1] == "missing":
            return None
        size = int(header[2])
        data = self._cat.stdout.read(size)
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
            changed[new] = old
            i += 3
        else:
            path = items[i + 1]
            if status[0] == "A":
                changed[path] = None
            elif status[0] != "D":
                changed[path] = path
            i += 2
    return changed
