"""The package's shape: no import cycle (function-level imports included), small modules, short functions;
and the project's own linters (ruff, mypy) pass on the repository.

The shape is read from the source text (every module's AST), so an import inside a function counts as much
as one at the top, and nothing is imported to check it.
"""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "lrlint"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

# The two hand-written scanners: one loop over the input each, kept whole on purpose.
SCANNERS = {
    ("lrlint.sources.json_source", "_scan"),
    ("lrlint.sources.yaml_source", "_compose"),
}

# Being split by the agents that own these modules; each entry goes when its split lands.
PENDING_MODULES: set[str] = set()
PENDING_FUNCTIONS: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = p.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


MODULES = _modules()
TREES = {name: ast.parse(p.read_text(encoding="utf-8"), str(p)) for name, p in MODULES.items()}


def _owner(name: str) -> str:
    """The module a dotted import name refers to (``lrlint.checks.compare.compare`` -> ``lrlint.checks.compare``)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str, tree: ast.Module) -> set[str]:
    """Every ``lrlint`` module ``module`` imports, wherever the import statement stands."""
    is_package = MODULES[module].name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # ``from lrlint.checks import compare`` imports the submodule; ``from lrlint.x import y`` the module x
            names = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in MODULES else origin for a in node.names]
        else:
            continue
        for n in names:
            if n == "lrlint" or n.startswith("lrlint."):
                target = _owner(n)
                if target in MODULES and target != module:
                    found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    graph = {name: _imports(name, tree) for name, tree in TREES.items()}
    assert "lrlint.api" in graph["lrlint.cli"]  # cli imports api inside a function: the walk sees it
    cycles = _cycles(graph)
    assert not cycles, "import cycles (function-level imports included): " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_module_over_the_line_limit():
    long = {
        name: n
        for name, p in MODULES.items()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES and name not in PENDING_MODULES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_over_the_line_limit():
    long = {}
    for name, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES and (name, node.name) not in SCANNERS | PENDING_FUNCTIONS:
                    long[f"{name}.{node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_allow_lists_hold_only_what_still_breaks_a_limit():
    """An entry whose module or function is now within its limit (or gone) is removed from its list."""
    lengths = {
        (name, node.name): node.end_lineno - node.lineno + 1
        for name, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    fixed = [
        m for m in PENDING_MODULES if m not in MODULES or len(MODULES[m].read_text().splitlines()) <= MAX_MODULE_LINES
    ]
    fixed += [f"{m}.{f}" for m, f in PENDING_FUNCTIONS if lengths.get((m, f), 0) <= MAX_FUNCTION_LINES]
    assert not fixed, f"within the limits now: remove from PENDING_MODULES/PENDING_FUNCTIONS: {fixed}"


# -- the project's own linters, with the settings in pyproject.toml (the versions pinned in the test extra)


def _linter(*args: str) -> tuple[int, str]:
    r = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    return r.returncode, r.stdout + r.stderr


def test_ruff_check_passes():
    code, out = _linter("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert code == 0, f"ruff check (fix with `ruff check --fix`, or by hand):\n{out}"


def test_ruff_format_leaves_the_tree_unchanged():
    code, out = _linter("ruff", "format", "--no-cache", "--check", ".")
    assert code == 0, f"ruff format --check (run `ruff format`):\n{out}"


def test_mypy_passes():
    """mypy with ``[tool.mypy]`` (the package; the core modules strictly). Its cache lives in the temporary
    directory, one per checkout: a second run on this machine reads it and takes seconds."""
    cache = Path(tempfile.gettempdir()) / f"lrlint-mypy-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"
    code, out = _linter("mypy", "--cache-dir", str(cache))
    assert code == 0, f"mypy:\n{out}"


def test_pre_commit_config_is_valid():
    """The repository's own hooks (.pre-commit-config.yaml) pass pre-commit's schema."""
    code, out = _linter("pre_commit", "validate-config", ".pre-commit-config.yaml")
    assert code == 0, f"pre-commit validate-config:\n{out}"


def test_lrlint_passes_on_its_own_repository():
    """lrlint's own hook over the repository's tracked configs and sources (examples/ are demos with findings)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.py", "*.yaml", "*.yml", "*.json"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    files = [f for f in listed.stdout.decode().split("\0") if f and not f.startswith("examples/")]
    assert len(files) > 100, files
    code, out = _linter("lrlint", "check", "--force-exclude", "--output-format", "concise", *files)
    assert code == 0, f"lrlint check:\n{out}"
