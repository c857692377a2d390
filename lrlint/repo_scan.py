"""One look at the repository around the checked configs, per run: the lines of its scripts that a config's
world size or lr scaling may come from (one ``git grep``, read as text; nothing is run).

* launch commands in shell scripts, Makefiles and README/docs code (``torchrun``, ``torch.distributed``,
  ``accelerate launch``, ``deepspeed``, ``dist_train``, ``srun``, ``#SBATCH``): ``lrlint.stated_devices``;
* the Python files with a line that scales an lr by batch-like names over a constant (config folders left
  out): ``lrlint.script_scaling``.
"""

from __future__ import annotations

import subprocess
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lrlint import gitproc
from lrlint.records import Record, field

if TYPE_CHECKING:
    from lrlint.recipes import Recipe
    from lrlint.references.git import GitBase
    from lrlint.script_scaling import ScriptRule
    from lrlint.settings import Settings
    from lrlint.stated_devices import Launchers

LAUNCHER_FILES = ("*.sh", "*.bash", "*.slurm", "*.sbatch", "Makefile", "*.mk", "*.md", "*.rst")
LAUNCHERS = r"torchrun|torch\.distributed\.(launch|run)|accelerate +launch|deepspeed|dist_train|SBATCH|srun"
# an lr scaled by the batch: all three on one line
SCALING = (r"lr|learning_rate", r"batch|world_size|global_size", r"/ *[0-9]|sqrt")
NOT_SCRIPTS = (":(exclude,glob)**/configs/**", ":(exclude,glob)**/_base_/**")


class RepoScan(Record):
    scripts: list[str] = field(default_factory=list)  # Python files (from the top level) that may scale an lr
    launch_lines: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, text)


def scan(root: Path) -> RepoScan:
    """The work tree at ``root``, as git tracks it."""
    return scanned(gitproc.run(_GREP, root))


_SCALING = ["(", "-e", SCALING[0], "--and", "-e", SCALING[1], "--and", "-e", SCALING[2], ")"]
_GREP = [
    *("grep", "-n", "-I", "-E", "--no-textconv", "--no-color", "-e", LAUNCHERS, "--or", *_SCALING),
    *("--", "*.py", *LAUNCHER_FILES, *NOT_SCRIPTS),
]


def scanned(out: subprocess.CompletedProcess[str]) -> RepoScan:
    """``scan``'s result from the output of its ``git grep``."""
    found = RepoScan()
    if out.returncode != 0:  # 1: nothing matched
        return found
    scripts: dict[str, None] = {}
    for row in out.stdout.splitlines():
        rel, _, rest = row.partition(":")
        num, _, text = rest.partition(":")
        if not num.isdigit():
            continue
        if rel.endswith(".py"):
            scripts[rel] = None
        else:
            found.launch_lines.append((rel, int(num), text))
    found.scripts = list(scripts)
    return found


class _Engine(Protocol):
    settings: Settings
    cwd: Path

    def repo_git(self) -> GitBase | None: ...


class Around:
    """What one run reads of the repository around its configs, each at most once: the scan, the launch
    commands by the configs they name, the scripts that scale an lr (declared and found)."""

    def __init__(self, engine: _Engine) -> None:
        # a weak reference: the engine holds this object, and a reference cycle would keep a finished run's
        # parsed files until the cycle collector runs (it is paused during runs)
        self.engine: _Engine = weakref.proxy(engine)
        self._scan: RepoScan | None = None
        self._grep: subprocess.Popen[str] | None = None  # the scan's git grep, started beside the git diff
        self._wanted = False  # a recipe asked for the repository: its scan will be read
        self._launchers: Launchers | None = None
        self._scripts: list[ScriptRule] | None = None

    def git(self) -> GitBase | None:
        self._wanted = True
        return self.engine.repo_git()

    def started(self, root: Path) -> None:
        """git found the work tree ``root`` (``GitBase.open``): the scan a recipe will read starts now, beside
        the diff; the first git use for something else (dependents, a baseline) starts nothing."""
        if self._wanted and self._scan is None and self._grep is None:
            self._grep = gitproc.start(_GREP, root)

    def scan(self) -> RepoScan:
        if self._scan is None:
            git = self.git()
            if git is None:
                self._scan = RepoScan()
            elif self._grep is not None:
                self._scan, self._grep = scanned(gitproc.finish(self._grep)), None
            else:
                self._scan = scan(git.root)
        return self._scan

    def take(self, other: Around) -> None:
        """What ``other`` (an earlier look at the same repository, in the same run) read: the scan, the launch
        commands, the scripts."""
        if self._scan is None:
            self._scan = other._scan
        if self._launchers is None:
            self._launchers = other._launchers
        if self._scripts is None:
            self._scripts = other._scripts

    def close(self) -> None:
        """A scan started and never read: its process ended."""
        if self._grep is not None:
            gitproc.stop(self._grep)
            self._grep = None

    def relative(self, path: str) -> str | None:
        """A file as shown (or as read at the git base, ``HEAD:configs/x.py``) from the work tree's top."""
        git = self.git()
        if git is None:
            return None
        if path.startswith(git.label + ":"):
            return path[len(git.label) + 1 :]
        return git.relative(self.engine.cwd / path)

    def launchers(self) -> Launchers:
        from lrlint.stated_devices import Launchers

        if self._launchers is None:
            git = self.git()
            self._launchers = Launchers(self.scan().launch_lines, git.root if git is not None else None)
        return self._launchers

    def consumed(self, recipe: Recipe, path: str) -> Recipe:
        """``recipe`` (of the file shown as ``path``) with the runtime scaling of a script that consumes it."""
        if recipe.scaling is not None:
            return recipe
        if self._scripts is None:
            git = self.git()
            declared, found = self.engine.settings.runtime_scaling, self.scan().scripts if git is not None else []
            self._scripts = []
            if declared or found:  # the script reader is imported only when there is a script to read
                from lrlint import script_scaling

                self._scripts = script_scaling.declared(declared)
                if git is not None:
                    self._scripts += script_scaling.detect(git.root, found)
        if not self._scripts:
            return recipe
        from lrlint import script_scaling

        return script_scaling.apply(recipe, self._scripts, self.relative(path) or path)
