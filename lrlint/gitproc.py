"""Every git process lrlint starts, with the settings that keep a repository from running commands through it.

git runs programs that its configuration names: ``core.fsmonitor`` whenever it looks at the work tree, a
filter driver (``filter.<name>.clean`` / ``.process``) when it hashes a work-tree file that
``.gitattributes`` maps to that driver, ``diff.external`` and ``diff.<name>.textconv`` / ``.command``
when it shows a diff. lrlint's git calls turn every one of them off:

* ``-c core.fsmonitor=false`` on every call;
* ``diff`` runs with ``--no-ext-diff --no-textconv --no-color``;
* before the first ``diff`` of a work tree, the configured filter drivers are listed (``git config``,
  which runs nothing) and each is emptied for the calls that may hash work-tree files
  (``GIT_CONFIG_COUNT`` settings: a driver name may hold ``=``, which ``-c`` cannot spell);
* blobs are read with ``cat-file --batch``, which applies no filter;
* revisions reach git only after ``rev-parse --verify --end-of-options REV^{commit}`` accepted them.

``GIT_OPTIONAL_LOCKS=0`` keeps git from writing the index; ``LC_ALL=C`` makes its messages English.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

PROTECT = ("-c", "core.fsmonitor=false")
DIFF_SAFETY = ("--no-ext-diff", "--no-textconv", "--no-color")
_FILTER_KEYS = (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))


def available() -> bool:
    return shutil.which("git") is not None


def environment(config: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """The environment of a git call; ``config``: (key, value) settings added after the user's own."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    if config:
        try:
            n = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
        except ValueError:
            n = 0
        for key, value in config:
            env[f"GIT_CONFIG_KEY_{n}"] = key
            env[f"GIT_CONFIG_VALUE_{n}"] = value
            n += 1
        env["GIT_CONFIG_COUNT"] = str(n)
    return env


def run(
    args: list[str], cwd: Path, config: tuple[tuple[str, str], ...] = (), text: bool = True
) -> subprocess.CompletedProcess[Any]:  # str output with text, else bytes
    """``git -c core.fsmonitor=false ARGS`` in ``cwd``, output captured, nothing read from stdin."""
    return finish(start(args, cwd, config, text))


def start(
    args: list[str], cwd: Path, config: tuple[tuple[str, str], ...] = (), text: bool = True
) -> subprocess.Popen[Any]:
    """``run``'s process, started and not waited for: ``finish`` collects it (a run starts the git calls it
    will need together)."""
    return subprocess.Popen(
        ["git", *PROTECT, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=text,
        errors="surrogateescape" if text else None,
        env=environment(config),
    )


def finish(proc: subprocess.Popen[Any]) -> subprocess.CompletedProcess[Any]:
    """The output and exit code of a process ``start`` started (``subprocess.run``'s result)."""
    with proc:
        try:
            out, err = proc.communicate()
        except BaseException:  # as subprocess.run: an interrupted wait kills the process
            proc.kill()
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def stop(proc: subprocess.Popen[Any]) -> None:
    """A started process whose output is not needed after all: ended and reaped."""
    with proc:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def popen(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    """A long-lived git process fed through stdin (``cat-file --batch``)."""
    return subprocess.Popen(
        ["git", *PROTECT, *args],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment(),
    )


FILTERS = ["config", "-z", "--name-only", "--get-regexp", r"^filter\."]  # the filter drivers configured


def filters_off(root: Path) -> tuple[tuple[str, str], ...]:
    """Settings that empty every filter driver the repository's configuration defines (one ``git config``)."""
    return filters_of(run(FILTERS, root))


def filters_of(out: subprocess.CompletedProcess[str]) -> tuple[tuple[str, str], ...]:
    """``filters_off`` from the output of ``git FILTERS`` (run anywhere in the repository)."""
    names = []
    for key in out.stdout.split("\0") if out.returncode == 0 else []:
        head, _, _sub = key.rpartition(".")
        if head.startswith("filter.") and head not in names:
            names.append(head)
    return tuple((f"{head}.{k}", v) for head in names for k, v in _FILTER_KEYS)


def said(stderr: str) -> str:
    """git's message as lrlint shows it: control characters escaped, blank lines dropped."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip()
        if line:
            lines.append("".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in line))
    return "\n  ".join(lines)


def shown(text: str) -> str:
    """A user-given string in a message: as is when printable, else quoted with escapes."""
    return text if text.isprintable() else repr(text)
