"""Calls between a script's own functions: what their parameters hold, and which run from the command line.

Real training scripts pass module constants and config objects down a chain of functions
(``train(BATCH_SIZE, LR)``, ``fabric.launch(main, devices, train)``): a parameter without a default takes
the value every call site passes (positionally or by keyword for a direct call; a function handed to
another callable takes the arguments named like its parameters). A function handed to an entry point of
the rules (``CLI(setup)``, ``fire.Fire(main)``) is the command line: its parameters are options.

The functions are read callers first (:func:`callers_first`), so a callee sees what its callers pass.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from lrlint.sources import py_fold as F
from lrlint.sources.py_fold import Sym
from lrlint.sources.py_scope import dotted

MAX_SITES = 32  # call sites kept per function (more: the parameter is what they agree on, or unknown)


def _params(fn: cst.FunctionDef) -> list[cst.Param]:
    return list(fn.params.posonly_params) + list(fn.params.params) + list(fn.params.kwonly_params)


class Binder:
    """What the script's calls pass to its own functions, and which functions are command-line entry points."""

    def __init__(self, funcs: dict[str, cst.FunctionDef]) -> None:
        self.funcs = funcs
        self.sites: dict[str, list[dict[str, Sym]]] = {}
        self.entries: set[str] = set()

    def direct(self, name: str, node: cst.Call, args: list[tuple[str | None, Sym]]) -> None:
        """``name(a, b, key=c)``: the values by parameter (``args``: (keyword or None, value) in order)."""
        fn = self.funcs.get(name)
        if fn is None:
            return
        params = [p.name.value for p in _params(fn)]
        bound: dict[str, Sym] = {}
        i = 0
        for kw, sym in args:
            if kw is None:
                if i < len(params) and params[i] not in ("self", "cls"):
                    bound[params[i]] = sym
                i += 1
            elif kw in params:
                bound[kw] = sym
        self._add(name, bound)

    def passed(self, name: str, args: list[tuple[str | None, str | None, Sym]], entry: bool) -> None:
        """A function handed to another callable (``fabric.launch(main, devices, train)``): arguments named
        like its parameters (``args``: (keyword, the argument's own name, value)); ``entry``: the callable is
        an entry point (the function's parameters are command-line options)."""
        fn = self.funcs.get(name)
        if fn is None:
            return
        if entry:
            self.entries.add(name)
            return
        params = {p.name.value for p in _params(fn)}
        bound = {}
        for kw, own, sym in args:
            target = kw if kw in params else own if own in params else None
            if target is not None:
                bound[target] = sym
        if bound:
            self._add(name, bound)

    def _add(self, name: str, bound: dict[str, Sym]) -> None:
        sites = self.sites.setdefault(name, [])
        if len(sites) < MAX_SITES:
            sites.append(bound)

    def value(self, fn: str, param: str) -> Sym | None:
        """The value every call site passes for ``param`` (merged when they differ), None when none does."""
        vals = [s[param] for s in self.sites.get(fn, ()) if param in s]
        if not vals:
            return None
        sites = self.sites[fn]
        if len(vals) < len(sites):  # some call passes nothing: the parameter has no default to fall back on
            return None
        m = vals[0]
        for v in vals[1:]:
            m = F.merge(m, v, f"{fn}() is called with different values of {param}")
        return m


def _referenced(fn: cst.FunctionDef, names: set[str]) -> set[str]:
    """The names of ``names`` that ``fn``'s body calls or passes (its callees)."""
    found: set[str] = set()

    class Visit(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            for n in (node.func, *(a.value for a in node.args)):
                d = dotted(n)
                if d in names:
                    found.add(d)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is fn  # nested functions are read with their own scope

    fn.visit(Visit())
    found.discard(fn.name.value)
    return found


def callers_first(deferred: list[tuple[Any, Any, Any]]) -> list[tuple[Any, Any, Any]]:
    """The module's functions ordered so that a function comes after the functions that call it (source
    order otherwise; a cycle keeps source order); methods keep their place."""
    plain = [d for d in deferred if d[2] is None and isinstance(d[0], cst.FunctionDef)]
    if len(plain) < 2:
        return deferred
    names = {d[0].name.value for d in plain}
    callees = {d[0].name.value: _referenced(d[0], names) for d in plain}
    callers: dict[str, set[str]] = {n: set() for n in names}
    for caller, cs in callees.items():
        for c in cs:
            callers[c].add(caller)
    order: list[str] = []
    done: set[str] = set()
    pending = [d[0].name.value for d in plain]
    while pending:
        ready = next((n for n in pending if callers[n] <= done), pending[0])  # a cycle: source order
        pending.remove(ready)
        done.add(ready)
        order.append(ready)
    rank = {n: i for i, n in enumerate(order)}
    by_rank = sorted(plain, key=lambda d: rank[d[0].name.value])
    it = iter(by_rank)
    return [next(it) if (d[2] is None and isinstance(d[0], cst.FunctionDef)) else d for d in deferred]


def call_arguments(node: cst.Call) -> list[tuple[str | None, Any]]:
    """(keyword or None, value node) of a call's plain arguments (``*args``/``**kw`` end the list)."""
    out = []
    for a in node.args:
        if a.star:
            break
        out.append((a.keyword.value if a.keyword is not None else None, a.value))
    return out
