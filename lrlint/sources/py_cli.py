"""Command-line options and config classes in a Python script: the defaults a run starts from.

argparse ``add_argument`` (dest as argparse derives it: ``--batch-size`` -> ``batch_size``; ``dest=``
wins; a string default goes through ``type=int/float``), ``set_defaults``, click ``@click.option``,
typer ``Option(...)`` parameters, and dataclass-style config classes (which classes count, and which
are command-line dataclasses, comes from the rules' ``config_classes``). ``args.X`` on a namespace
resolves through :meth:`CliOptions.lookup`; an assignment ``args.X = ...`` overrides the default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from lrlint.python_rules import PythonTable
from lrlint.sources.py_fold import DICT, LIST, SCALAR, UNKNOWN_KIND, Sym
from lrlint.sources.py_imports import ImportMap
from lrlint.sources.py_scope import Scope, dotted, first_positional, keyword_args, last_name, str_of
from lrlint.values import ARGPARSE, EXPRESSION, UNKNOWN

Evaluate = Callable[[Any, Scope], Sym]

_ACTION_DEFAULTS: dict[str, Any] = {"store_true": False, "store_false": True, "count": None}


@dataclass
class ArgDef:
    """One ``add_argument`` call (or click option / typer parameter)."""

    dest: str
    call: Any
    default: Any  # the default's node, or None
    kw: dict
    sym: Sym | None = None


def _dest(flags: list[str], lower: bool = False) -> str | None:
    """The name argparse (or click) gives an option: the first long flag, else short, else positional."""
    longs = [f for f in flags if f.startswith("--")]
    shorts = [f for f in flags if f.startswith("-") and not f.startswith("--")]
    pos = [f for f in flags if not f.startswith("-")]
    names = longs or shorts or pos
    if not names:
        return None
    dest = names[0].lstrip("-").replace("-", "_")
    return dest.lower() if lower else dest


class CliOptions:
    """Every option the script defines, and the overrides assigned to its namespace."""

    def __init__(self, table: PythonTable, imports: ImportMap, evaluate: Evaluate, globals_scope: Scope) -> None:
        self.table = table
        self.imports = imports
        self.evaluate = evaluate
        self.globals = globals_scope
        self.args: dict[str, ArgDef] = {}
        self.ns_over: dict[str, Sym] = {}  # ``args.X = ...`` assignments
        self.fields: dict[str, Sym] = {}  # fields of command-line dataclasses
        self._by_call: dict[int, ArgDef] = {}

    # -- argparse -------------------------------------------------------------------------------
    def prescan(self, body: Any) -> None:
        """Find every ``add_argument`` first: ``args.X`` may be read before the parser is built."""
        for st in body:
            if isinstance(st, cst.SimpleStatementLine):
                for small in st.body:
                    val = getattr(small, "value", None)
                    if isinstance(val, cst.Call):
                        self.argument(val)
            elif isinstance(st, (cst.FunctionDef, cst.ClassDef, cst.With, cst.For, cst.While)):
                self.prescan(st.body.body if isinstance(st.body, cst.IndentedBlock) else ())
                orelse = getattr(st, "orelse", None)
                if orelse is not None:
                    self.prescan(orelse.body.body if isinstance(orelse.body, cst.IndentedBlock) else ())
            elif isinstance(st, cst.If):
                node: Any = st
                while isinstance(node, cst.If):
                    if isinstance(node.body, cst.IndentedBlock):
                        self.prescan(node.body.body)
                    node = node.orelse.body if isinstance(node.orelse, cst.Else) else node.orelse
                    if isinstance(node, cst.IndentedBlock):
                        self.prescan(node.body)
            elif isinstance(st, cst.Try) and isinstance(st.body, cst.IndentedBlock):
                self.prescan(st.body.body)

    def argument(self, call: cst.Call) -> ArgDef | None:
        """The option an ``add_argument``/``add_option`` call defines (None for any other call)."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in ("add_argument", "add_option")):
            return None
        if id(call) in self._by_call:
            return self._by_call[id(call)]
        flags = []
        kw = {}
        for a in call.args:
            if a.keyword is not None:
                kw[a.keyword.value] = a.value
            elif a.star == "":
                s = str_of(a.value)
                if s is None:
                    return None
                flags.append(s)
        dest = str_of(kw["dest"]) if "dest" in kw else _dest(flags)
        if not dest or not dest.isidentifier():
            return None
        d = ArgDef(dest, call, kw.get("default"), kw)
        self._by_call[id(call)] = d
        self.args.setdefault(dest, d)
        if self.args[dest] is not d and "default" in kw:
            self.args[dest] = d  # a later definition of the same dest wins (conflict_handler or subparsers)
        return d

    def default(self, d: ArgDef, scope: Scope | None = None) -> Sym:
        """The option's default as a value (argparse provenance), evaluated once."""
        if d.sym is not None and d.sym.kind != UNKNOWN_KIND:
            return d.sym
        key = f"args.{d.dest}"
        action = str_of(d.kw["action"]) if "action" in d.kw else None
        typ = dotted(d.kw["type"]) if "type" in d.kw else None
        if d.default is None:
            v: Any = _ACTION_DEFAULTS.get(action or "")
            why = "" if action in ("store_true", "store_false") else "no default: None unless given on the command line"
            sym = Sym(SCALAR, v, d.call, ARGPARSE, why, origin=key)
        else:
            s = self.evaluate(d.default, scope or self.globals)
            if s.kind == SCALAR:
                v = s.value
                if isinstance(v, str) and typ in ("int", "float"):
                    with contextlib.suppress(ValueError):
                        v = int(v) if typ == "int" else float(v)
                sym = Sym(SCALAR, v, s.node, ARGPARSE, s.why if s.prov == EXPRESSION else "", origin=key)
            elif s.kind in (LIST, DICT):
                sym = s
            else:
                why = s.why or "default not known statically"
                sym = Sym(UNKNOWN_KIND, None, s.node or d.default, UNKNOWN, why, origin=key, scale=s.scale)
        d.sym = sym
        return sym

    def lookup(self, attr: str) -> Sym | None:
        """``args.<attr>``: an assigned override, else the option's default, else a command-line dataclass field."""
        v = self.ns_over.get(attr)
        if v is not None:
            return v
        d = self.args.get(attr)
        if d is not None:
            return self.default(d)
        return self.fields.get(attr)

    def set_defaults(self, node: cst.Call, scope: Scope, emit: Callable[[str, Sym], None]) -> None:
        """``parser.set_defaults(epochs=90)``: new defaults for options already defined."""
        for a in node.args:
            if a.keyword is not None and a.keyword.value in self.args:
                dd = self.args[a.keyword.value]
                nd = ArgDef(dd.dest, node, a.value, {k: v for k, v in dd.kw.items() if k != "action"})
                self.args[a.keyword.value] = nd
                if a.keyword.value not in self.ns_over:
                    emit(f"args.{nd.dest}", self.default(nd, scope))

    # -- click / typer ----------------------------------------------------------------------------
    def cli_function(self, fn: cst.FunctionDef) -> tuple[bool, dict[str, ArgDef]]:
        """click options (by parameter name) and whether parameter defaults are CLI defaults (click/typer)."""
        opts: dict[str, ArgDef] = {}
        cli = False
        for dec in fn.decorators:
            d = dec.decorator
            call = d if isinstance(d, cst.Call) else None
            name = dotted(call.func if call is not None else d) or ""
            last = name.rsplit(".", 1)[-1]
            if last in ("command", "group", "main") and (call is not None or "click" in name):
                cli = True
            if (
                call is not None
                and last in ("option", "argument")
                and ("click" in self.imports.resolve(name) or name.startswith(("click.", "option", "argument")))
            ):
                cli = True
                decls = [s for a in call.args if a.keyword is None and (s := str_of(a.value)) is not None]
                kw = keyword_args(call)
                idents = [s for s in decls if s.isidentifier()]
                dest = idents[0].lower() if idents else _dest([s for s in decls if s.startswith("-")], lower=True)
                if dest is None:
                    continue
                default = kw.get("default")
                if default is None and "is_flag" in kw:
                    kw = {**kw, "action": cst.SimpleString('"store_true"')}
                opts[dest] = ArgDef(dest, call, default, kw)
        for p in fn.params.params:
            if isinstance(p.default, cst.Call) and last_name(p.default.func) in ("Option", "Argument"):
                q = dotted(p.default.func) or ""
                if "typer" in self.imports.resolve(q) or q.startswith("typer"):
                    cli = True
        return cli, opts

    @staticmethod
    def parameter_default(node: Any) -> Any:
        """A parameter's default node; typer's ``Option(1e-3)`` gives its own default."""
        if isinstance(node, cst.Call) and last_name(node.func) in ("Option", "Argument"):
            return keyword_args(node).get("default", first_positional(node))
        return node

    def parameter(self, d: ArgDef) -> Sym:
        """A click/typer function parameter: an option (an earlier definition of the name stays) and its default."""
        self.args.setdefault(d.dest, d)
        return self.default(d)

    # -- config classes ---------------------------------------------------------------------------
    def class_kind(self, st: cst.ClassDef) -> tuple[bool, bool]:
        """(its fields are settings, they are command-line options) for a class definition."""
        t = self.table
        name = st.name.value
        bases = [self.imports.resolve(dotted(b.value) or "").rsplit(".", 1)[-1] for b in st.bases]
        decos = [
            self.imports.resolve(dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "")
            for d in st.decorators
        ]
        is_config = (
            any(d.rsplit(".", 1)[-1] in t.config_decorators for d in decos)
            or any(b in t.config_bases for b in bases)
            or (t.config_name is not None and t.config_name.search(name) is not None)
        )
        cli = (t.cli_name is not None and t.cli_name.search(name) is not None) or any(b in t.cli_bases for b in bases)
        return is_config, cli

    def field_default(self, small: Any) -> tuple[str, Any] | None:
        """``lr: float = 0.1`` / ``lr = field(default=0.1)`` in a config class: (field name, default node)."""
        target, value = None, None
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            target, value = small.target.value, small.value
        elif (
            isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)
        ):
            target, value = small.targets[0].target.value, small.value
        if target is None or value is None or target.startswith("__"):
            return None
        if isinstance(value, cst.Call):
            where = self.table.field_functions.get(last_name(value.func))
            if where is not None:
                kwd = keyword_args(value)
                value = kwd.get("default", first_positional(value) if where == "first" else None)
                if value is None:
                    return None
        return target, value
