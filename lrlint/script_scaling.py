"""The config and the script that consumes it: an lr the repository's training script scales at run time.

Many repositories keep the lr of a config as a base lr and scale it in the training script
(``args.lr = args.blr * eff_batch_size / 256``, ``cfg.optim.lr *= math.sqrt(batch * world_size / 1024)``).
A config read by such a script needs no lr change when its batch changes (LR001 is silent for the batch
parts the script reads), and an lr scaled by hand on top of it is scaled twice (LR007), as with the
profiles' runtime rules.

Two ways to know: ``[tool.lrlint] runtime-scaling = [{script = "main.py", reads = "blr", rule = "linear",
per = 256}]``, and the common pattern found in the repository's ``*.py`` files that load config files
(yaml, OmegaConf, mmengine ``Config.fromfile``, json): an assignment to an lr from a config key read from
the loaded config, times batch-like names over a constant. Scripts are read with ``ast`` (never run),
found by ``lrlint.repo_scan`` (config folders left out), and apply to the configs below the script's
top-level folder (all configs for a script at the top).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lrlint import numbers
from lrlint.recipes import ActiveScaling, Recipe
from lrlint.regex import pattern

if TYPE_CHECKING:
    from lrlint.settings import ScriptScaling

LR_NAMES = r"(?i)(?:^|_)(?:b?lr|learning_rate)$"  # lr, blr, base_lr, peak_lr, learning_rate
LOADERS = ("yaml.safe_load", "yaml.load", "OmegaConf.load", "Config.fromfile", "json.load", "yaml.full_load")
MAX_SCRIPT = 1_000_000  # bytes: a larger file is no training script lrlint reads
WORLD = r"(?i)world_size|get_world_size|global_size|num_gpus|n_gpus|ngpus|nproc|num_processes|num_nodes"
BATCH = r"(?i)batch"
# the batch parts a batch-like name stands for
PARTS = (
    (("accum",), r"(?i)accum"),
    (("devices", "nodes"), WORLD),
    (("per_device", "global_batch", "total"), BATCH),
)


@dataclass(frozen=True)
class ScriptRule:
    """A script that scales the config key ``reads`` with the batch parts ``covers`` at run time."""

    script: str  # from the repository's top level
    reads: str
    exponent: float
    per: float | None
    covers: frozenset[str] | None  # None: every batch change
    line: int = 0  # where the script scales (0: declared in the settings)
    text: str = ""

    def scope(self) -> str:
        """The folder whose configs the script consumes ('' for the whole repository)."""
        parts = PurePosixPath(self.script).parts
        return parts[0] if len(parts) > 1 and self.line else ""

    def applies(self, recipe: Recipe, rel: str | None) -> bool:
        key = recipe.lr.key
        if not (key == self.reads or key.endswith("." + self.reads)):
            return False
        scope = self.scope()
        return not scope or (rel is not None and rel.startswith(scope + "/"))

    def scaling(self) -> ActiveScaling:
        rule = "linear" if self.exponent == 1 else "square-root"
        per = f" / {numbers.plain(self.per)}" if self.per else ""
        where = f"{self.script}:{self.line}" if self.line else f"{self.script} ([tool.lrlint] runtime-scaling)"
        how = f": {self.text}" if self.text else ""
        return ActiveScaling(
            f"script {self.script}",
            self.exponent,
            f"{where} scales {self.reads} with the batch at run time ({rule}{per}){how}",
            covers=self.covers,
        )


def declared(entries: list[ScriptScaling]) -> list[ScriptRule]:
    return [
        ScriptRule(
            e.script,
            e.reads,
            1.0 if e.rule == "linear" else 0.5,
            e.per,
            None if e.covers is None else frozenset(e.covers),
        )
        for e in entries
    ]


def _chain(node: ast.AST) -> list[str] | None:
    """``cfg.optim.base_lr`` / ``config["optim"]["lr"]`` as its parts; None for anything else."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            parts.append(node.slice.value)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return parts[::-1]
        else:
            return None


class _Scan(ast.NodeVisitor):
    """Assignments to an lr from a config's lr key times batch-like names over a constant."""

    def __init__(self, script: str, text: str, attrs: dict[str, ast.expr]) -> None:
        self.script, self.text = script, text
        self.attrs = attrs  # an attribute's or item's assignment (``cfg.optim.lr = base_lr``), by its dump
        self.local: dict[str, ast.expr] = {}  # a name's last plain assignment (one function at a time)
        self.rules: list[ScriptRule] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        saved, self.local = self.local, {}
        self.generic_visit(node)
        self.local = saved

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            if isinstance(t, ast.Name):
                self.local[t.id] = node.value
        target = node.targets[-1]
        self._lr(target, node.value, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.op, ast.Mult):
            self._lr(node.target, ast.BinOp(node.target, ast.Mult(), node.value), node)
        self.generic_visit(node)

    def _lr(self, target: ast.expr, value: ast.expr, node: ast.stmt) -> None:
        chain = _chain(target)
        if chain is None or not pattern(LR_NAMES).search(chain[-1]):
            return
        source = self._source(value, target, 0)
        if source is None or len(source) < 2:
            return
        names: list[str] = []
        per = self._batch(value, names, 0, target)
        if per is None or not names:
            return
        covers = frozenset(p for parts, pat in PARTS if any(pattern(pat).search(n) for n in names) for p in parts)
        sqrt = any(isinstance(n, ast.Call) and _name(n.func) == "sqrt" for n in ast.walk(value)) or any(
            isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(value)
        )
        self.rules.append(
            ScriptRule(
                self.script,
                ".".join(source[1:]),
                0.5 if sqrt else 1.0,
                per,
                covers or None,
                node.lineno,
                ast.get_source_segment(self.text, node) or "",
            )
        )

    def _source(self, value: ast.expr, target: ast.expr, depth: int) -> list[str] | None:
        """The config key the lr starts from (``args.blr``), following a local name or the target's own
        earlier value (``cfg.optim.lr = base_lr`` then ``cfg.optim.lr *= ...``)."""
        for n in ast.walk(value):
            if not isinstance(n, (ast.Attribute, ast.Subscript, ast.Name)):
                continue
            chain = _chain(n)
            if chain is None or not pattern(LR_NAMES).search(chain[-1]):
                continue
            if isinstance(n, ast.Name) and depth < 3 and n.id in self.local:
                return self._source(self.local[n.id], target, depth + 1)
            if ast.dump(n) == ast.dump(target) and depth < 3:
                earlier = self._assigned(target)
                if earlier is not None:
                    return self._source(earlier, target, depth + 1)
            if len(chain) >= 2:
                return chain
        return None

    def _assigned(self, target: ast.expr) -> ast.expr | None:
        return self.attrs.get(ast.dump(target))

    def _batch(self, value: ast.expr, names: list[str], depth: int, target: ast.expr) -> float | None:
        """The constant the batch-like factors are divided by (``/ 256``); the batch-like names in ``names``."""
        per: float | None = None
        for n in ast.walk(value):
            if isinstance(n, ast.Name) and depth < 3 and n.id in self.local and n.id not in names:
                if re.search(r"batch|world|size", n.id, re.I):
                    names.append(n.id)
                    inner = self._batch(self.local[n.id], names, depth + 1, target)
                    per = per or inner
                continue
            label = _name(n) if isinstance(n, (ast.Attribute, ast.Name, ast.Call)) else None
            if label and any(pattern(pat).search(label) for _, pat in PARTS):
                names.append(label)
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) and _constant(n.right) > 1:
                per = _constant(n.right)
        return per


def _constant(node: ast.expr) -> float:
    """A number literal's value; 0 for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return 0.0


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return _name(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def scan(text: str, script: str) -> list[ScriptRule]:
    """The runtime scalings of one script's text (``script``: its path from the top level)."""
    if len(text) > MAX_SCRIPT or not any(loader in text for loader in LOADERS):
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    attrs = {
        ast.dump(node.targets[0]): node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and not isinstance(node.targets[0], ast.Name)
    }
    s = _Scan(script, text, attrs)
    try:
        s.visit(tree)
    except RecursionError:
        return []
    return s.rules


def detect(root: Path, scripts: list[str]) -> list[ScriptRule]:
    """The runtime scalings of ``scripts`` (paths from the work tree's top level ``root``: the candidates
    ``lrlint.repo_scan`` found)."""
    rules = []
    for rel in scripts:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if len(data) <= MAX_SCRIPT:
            rules += scan(data.decode("utf-8", "replace"), rel)
    return rules


def apply(recipe: Recipe, rules: list[ScriptRule], rel: str | None) -> Recipe:
    """``recipe`` with the runtime scaling of the first rule that applies, when it has none of its own."""
    if recipe.scaling is not None:
        return recipe
    for rule in rules:
        if rule.applies(recipe, rel):
            return replace(recipe, scaling=rule.scaling())
    return recipe
