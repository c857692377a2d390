"""Walk a libcst Module and read its training settings, never executing it.

The walk keeps a small environment of symbolic values (:mod:`py_fold`) and emits
flattened ``key -> Sym`` entries; :mod:`python_source` turns them into Values with
exact spans. Key conventions (docs: ``python_source`` module docstring):

* module-level ``NAME = <scalar>`` -> ``NAME``; ``NAME = dict(...)``/``{...}``/``[...]``
  -> nested keys (``optim_wrapper.optimizer.lr``, ``param_scheduler.0.end``, and the
  list itself as ``param_scheduler`` = ``"[]"``);
* function-local names -> ``NAME`` too, or ``<function>.NAME`` when another scope
  already owns ``NAME``;
* attribute/subscript assignments -> their dotted path (``optimizer.lr``,
  ``dataloader.train.total_batch_size``, ``cfg.optimizer.lr``); ``self.x`` is kept
  per class and never keyed;
* argparse / click / typer defaults -> ``args.<dest>``; assignments
  ``args.X = ...`` (any namespace variable) override ``args.X``;
* dataclass-style config classes -> ``<ClassName>.<field>``;
* known constructors -> ``optimizer.*`` (``optimizer_1.*``...), ``dataloader.*``
  (``eval_dataloader.*`` for val/test loaders), ``trainer.*``, ``fabric.*``,
  ``accelerator.*``; TrainingArguments-family and MMEngine ``Runner`` keywords at the root;
  Detectron2 ``L(x)(...)`` -> the assigned name's keys plus ``._target_``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from lrlint.sources import py_fold as F
from lrlint.sources.py_fold import DICT, LIST, MODULE, NAMESPACE, SCALAR, UNKNOWN_KIND, Scale, Sym
from lrlint.sources.py_imports import (
    COPY_FUNCS,
    ENV_FUNCS,
    FILE_FUNCS,
    HF_ARGS_CLASSES,
    HF_MODULES,
    LAZYCALL,
    PARSE_FUNCS,
    TIMM_FACTORIES,
    ImportMap,
    is_lightning,
    is_optimizer,
)
from lrlint.values import ARGPARSE, EXPRESSION, LITERAL, UNKNOWN

MAX_EVAL_DEPTH = 150
MAX_LIST_ITEMS = 256

# keys worth keeping when their value is unknown
_RELEVANT = re.compile(
    r"(?i)(?:^|_)(?:lr|blr)$|learning_rate|batch|^bsz?$|_bsz?$|optim|^opt$|accum|devices|gpus|world_size|num_nodes|nnodes"
    r"|num_processes|num_machines|warmup|momentum|max_steps|max_iters?|max_epochs|_target_|^type$|base_lr|lr_base|scale_lr"
)
_NS_NAMES = frozenset(
    {
        "args",
        "opt",
        "opts",
        "cfg",
        "config",
        "conf",
        "hparams",
        "hp",
        "hps",
        "flags",
        "FLAGS",
        "params",
        "options",
        "arguments",
        "train_args",
        "training_args",
        "script_args",
        "model_args",
        "data_args",
        "a",
        "parsed",
        "parsed_args",
        "cli_args",
        "hyperparams",
    }
)
_NS_FUNC = re.compile(r"(?i)arg|opt|parse|config|cfg|hparam|flags")
_EVAL_LOADER = re.compile(r"(?i)val|test|eval|dev_|valid")
_CONFIG_CLASS = re.compile(r"(?:Arguments|Args|Config|Configs|Options|Hparams|HParams|Params|Settings|Cfg)$")
_CLI_CLASS = re.compile(r"(?:Arguments|Args)$")
_LIGHTNING_TRAINER_KW = frozenset(
    {
        "devices",
        "num_nodes",
        "accumulate_grad_batches",
        "max_epochs",
        "accelerator",
        "gpus",
        "strategy",
        "precision",
        "max_steps",
        "tpu_cores",
        "num_processes",
    }
)


@dataclass
class ArgDef:
    """One ``add_argument`` call (or click option / typer parameter)."""

    dest: str
    call: Any
    default: Any  # the default's node, or None
    kw: dict
    sym: Sym | None = None


@dataclass
class ClassCtx:
    name: str
    self_env: dict[str, Sym] = field(default_factory=dict)
    hparams: dict[str, Sym] = field(default_factory=dict)
    fields: dict[str, Sym] = field(default_factory=dict)


@dataclass
class Scope:
    name: str  # "" for the module
    env: dict[str, Sym]
    parent: Scope | None = None
    cls: ClassCtx | None = None
    params: dict[str, Sym] = field(default_factory=dict)
    loop: int = 0


def _dotted(node: Any) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _str_of(node: Any) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            v = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return v if isinstance(v, str) else None
    return None


def _op_name(op: Any) -> str:
    return type(op).__name__


class Analyzer:
    def __init__(self, modules: list[cst.Module], limits: Any) -> None:
        self.modules = modules
        self.module = modules[0]
        self.max_values = limits.max_values
        self.imports = ImportMap()
        self.import_nodes: dict[str, Any] = {}
        self.values: dict[str, Sym] = {}
        self.key_owner: dict[str, str] = {}
        self.args: dict[str, ArgDef] = {}
        self.ns_over: dict[str, Sym] = {}
        self.arg_fields: dict[str, Sym] = {}
        self.counters: dict[str, int] = {}
        self.ctor_cache: dict[Any, Sym] = {}
        self.local_funcs: dict[str, Any] = {}
        self.local_classes: dict[str, ClassCtx] = {}
        self.deferred: list[tuple[Any, Scope, ClassCtx | None]] = []
        self.globals = Scope("", {"__name__": F.const("__main__", None)})
        self._hint: str | None = None
        self._argdefs_by_call: dict[Any, ArgDef] = {}
        self.read_bases: list[
            tuple[str, Any, list[str] | None]
        ] = []  # ``with read_base():`` imports: (path, node, names)

    # ------------------------------------------------------------------ entry
    def run(self) -> dict[str, Sym]:
        for m in self.modules:
            self._prescan(m.body, None)
        for m in self.modules:
            self._block(m.body, self.globals)
        i = 0
        while i < len(self.deferred):
            fn, parent, cls = self.deferred[i]
            i += 1
            self._function(fn, parent, cls)
        for d in self.args.values():
            key = f"args.{d.dest}"
            if key not in self.values:
                self._emit(key, self._arg_sym(d, self.globals))
        if self.read_bases and "_base_" not in self.values:
            self._emit(
                "_base_",
                Sym(
                    LIST,
                    None,
                    self.read_bases[0][1],
                    elems=[
                        Sym(SCALAR, path, node, LITERAL, extra={"names": names} if names else None)
                        for path, node, names in self.read_bases
                    ],
                ),
            )
        return self.values

    # ------------------------------------------------------------ emission
    def _emit(self, key: str, sym: Sym, ctor: bool = False) -> None:
        if sym.kind in (SCALAR, UNKNOWN_KIND):
            if sym.kind == UNKNOWN_KIND and not ctor and not _RELEVANT.search(key.rsplit(".", 1)[-1]):
                self.values.pop(key, None)
                return
            if sym.origin is None:
                sym.origin = key
            self.values[key] = sym
        elif sym.kind == DICT:
            if sym.prefix is None:
                sym.prefix = key
            for k, v in (sym.items or {}).items():
                self._emit(f"{key}.{k}", v, ctor)
        elif sym.kind == LIST:
            self.values[key] = Sym(SCALAR, "[]", sym.node, LITERAL, origin=key)
            if len(sym.elems or ()) > MAX_LIST_ITEMS:
                return  # a data table, not a setting: the list itself only
            for i, e in enumerate(sym.elems or ()):
                self._emit(f"{key}.{i}", e, ctor)
        elif sym.kind == MODULE and sym.node is not None:
            s = Sym(SCALAR, str(sym.value), sym.node, LITERAL, origin=key)
            self.values[key] = s
        if len(self.values) > self.max_values:
            raise OverflowError(f"more than {self.max_values} values")

    def _name_key(self, name: str, scope: Scope) -> str:
        owner = self.key_owner.setdefault(name, scope.name)
        if owner == scope.name:
            return name
        return f"{scope.name}.{name}"

    def _alloc(self, base: str) -> str:
        n = self.counters.get(base, 0)
        self.counters[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    # --------------------------------------------------------------- prescan
    def _prescan(self, body: Any, cls: Any) -> None:
        """Find every ``add_argument`` first: ``args.X`` may be read before the parser is built."""
        for st in body:
            if isinstance(st, cst.SimpleStatementLine):
                for small in st.body:
                    val = getattr(small, "value", None)
                    if isinstance(val, cst.Call):
                        self._maybe_argument(val)
            elif isinstance(st, (cst.FunctionDef, cst.ClassDef, cst.With, cst.For, cst.While)):
                self._prescan(st.body.body if isinstance(st.body, cst.IndentedBlock) else (), cls)
                orelse = getattr(st, "orelse", None)
                if orelse is not None:
                    self._prescan(orelse.body.body if isinstance(orelse.body, cst.IndentedBlock) else (), cls)
            elif isinstance(st, cst.If):
                node: Any = st
                while isinstance(node, cst.If):
                    if isinstance(node.body, cst.IndentedBlock):
                        self._prescan(node.body.body, cls)
                    node = node.orelse.body if isinstance(node.orelse, cst.Else) else node.orelse
                    if isinstance(node, cst.IndentedBlock):
                        self._prescan(node.body, cls)
            elif isinstance(st, cst.Try):
                if isinstance(st.body, cst.IndentedBlock):
                    self._prescan(st.body.body, cls)

    def _maybe_argument(self, call: cst.Call) -> ArgDef | None:
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in ("add_argument", "add_option")):
            return None
        if id(call) in self._argdefs_by_call:
            return self._argdefs_by_call[id(call)]
        flags = []
        kw = {}
        for a in call.args:
            if a.keyword is not None:
                kw[a.keyword.value] = a.value
            elif a.star == "":
                s = _str_of(a.value)
                if s is None:
                    return None
                flags.append(s)
        dest = _str_of(kw["dest"]) if "dest" in kw else None
        if dest is None:
            longs = [f for f in flags if f.startswith("--")]
            shorts = [f for f in flags if f.startswith("-") and not f.startswith("--")]
            pos = [f for f in flags if not f.startswith("-")]
            name = (longs or shorts or pos or [None])[0]
            if name is None:
                return None
            dest = name.lstrip("-").replace("-", "_")
        if not dest or not dest.isidentifier():
            return None
        d = ArgDef(dest, call, kw.get("default"), kw)
        self._argdefs_by_call[id(call)] = d
        self.args.setdefault(dest, d)
        if self.args[dest] is not d and "default" in kw:
            self.args[dest] = d  # a later definition of the same dest wins (conflict_handler or subparsers)
        return d

    def _arg_sym(self, d: ArgDef, scope: Scope) -> Sym:
        if d.sym is not None and d.sym.kind != UNKNOWN_KIND:
            return d.sym
        key = f"args.{d.dest}"
        action = _str_of(d.kw["action"]) if "action" in d.kw else None
        typ = _dotted(d.kw["type"]) if "type" in d.kw else None
        if d.default is None:
            v: Any = {"store_true": False, "store_false": True, "count": None}.get(action or "")
            why = "" if action in ("store_true", "store_false") else "no default: None unless given on the command line"
            sym = Sym(SCALAR, v, d.call, ARGPARSE, why, origin=key)
        else:
            s = self._eval(d.default, scope, 0)
            if s.kind == SCALAR:
                v = s.value
                if isinstance(v, str) and typ in ("int", "float"):
                    try:
                        v = int(v) if typ == "int" else float(v)
                    except ValueError:
                        pass
                sym = Sym(SCALAR, v, s.node, ARGPARSE, s.why if s.prov == EXPRESSION else "", origin=key)
            elif s.kind == LIST:
                sym = s
            else:
                sym = Sym(
                    UNKNOWN_KIND,
                    None,
                    s.node or d.default,
                    UNKNOWN,
                    s.why or "default not known statically",
                    origin=key,
                    scale=s.scale,
                )
        d.sym = sym
        return sym

    # ----------------------------------------------------------- statements
    def _block(self, body: Any, scope: Scope) -> None:
        for st in body:
            self._stmt(st, scope)

    def _body(self, node: Any) -> Any:
        b = node.body
        return (
            b.body if isinstance(b, cst.IndentedBlock) else (b.body if isinstance(b, cst.SimpleStatementSuite) else ())
        )

    def _stmt(self, st: Any, scope: Scope) -> None:
        if isinstance(st, cst.SimpleStatementLine):
            for small in st.body:
                self._small(small, scope)
        elif isinstance(st, cst.If):
            self._if(st, scope)
        elif isinstance(st, cst.FunctionDef):
            scope.env[st.name.value] = Sym(MODULE, f"<local>.{st.name.value}", None)
            self.local_funcs[st.name.value] = st
            self.deferred.append((st, scope, None))
        elif isinstance(st, cst.ClassDef):
            self._class(st, scope)
        elif isinstance(st, (cst.For, cst.While)):
            if isinstance(st, cst.For):
                self._eval(st.iter, scope, 0)
                self._assign(st.target, F.unknown("a loop variable", st.target), scope, bind_only=True)
            else:
                self._eval(st.test, scope, 0)
            self._loop(self._body(st), scope)
            if st.orelse is not None:
                self._block(self._body(st.orelse), scope)
        elif isinstance(st, cst.With):
            if scope is self.globals and any(self._is_read_base(item.item) for item in st.items):
                self._read_base(self._body(st))
            for item in st.items:
                self._eval(item.item, scope, 0)
                if item.asname is not None:
                    self._assign(
                        item.asname.name,
                        F.unknown("a context manager's value", item.asname.name),
                        scope,
                        bind_only=True,
                    )
            self._block(self._body(st), scope)
        elif isinstance(st, cst.Try):
            self._block(self._body(st), scope)
            handlers = [self._body(h) for h in st.handlers]
            if handlers:
                self._branches(scope, [*handlers, ()], "set in an exception handler")
            if st.orelse is not None:
                self._block(self._body(st.orelse), scope)
            if st.finalbody is not None:
                self._block(self._body(st.finalbody), scope)
        elif isinstance(st, cst.SimpleStatementSuite):  # pragma: no cover - only inside compound statements
            for small in st.body:
                self._small(small, scope)

    def _is_read_base(self, node: Any) -> bool:
        if not isinstance(node, cst.Call):
            return False
        name = _dotted(node.func)
        return name is not None and self.imports.resolve(name).rsplit(".", 1)[-1] == "read_base"

    def _read_base(self, body: Any) -> None:
        """MMEngine's pure-Python inheritance: ``from .._base_.models.x import *`` inside ``with read_base():``
        names the base file ``../_base_/models/x.py`` (as ``_base_`` would); ``import a, b`` takes only those
        top-level names from it (a renamed import, ``a as b``, is left out). Absolute imports point into an
        installed package: they are not in this tree (like ``mmdet::`` bases) and are left out."""
        for st in body:
            if not isinstance(st, cst.SimpleStatementLine):
                continue
            for small in st.body:
                if not isinstance(small, cst.ImportFrom) or not small.relative:
                    continue
                mod = _dotted(small.module) if small.module is not None else None
                if not mod:
                    continue
                up = len(small.relative) - 1
                path = ("./" if up == 0 else "../" * up) + mod.replace(".", "/") + ".py"
                names = (
                    None
                    if isinstance(small.names, cst.ImportStar)
                    else [a.name.value for a in small.names if isinstance(a.name, cst.Name) and a.asname is None]
                )
                self.read_bases.append((path, small.module, names))

    def _small(self, small: Any, scope: Scope) -> None:
        if isinstance(small, cst.Assign):
            self._hint = _dotted(small.targets[-1].target) if len(small.targets) == 1 else None
            val = self._eval(small.value, scope, 0)
            self._hint = None
            for t in small.targets:
                self._assign(t.target, val, scope)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self._hint = _dotted(small.target)
                val = self._eval(small.value, scope, 0)
                self._hint = None
                self._assign(small.target, val, scope)
        elif isinstance(small, cst.AugAssign):
            cur = self._eval(small.target, scope, 0)
            rhs = self._eval(small.value, scope, 0)
            op = _op_name(small.operator).replace("Assign", "")
            self._assign(small.target, F.fold_binary(op, cur, rhs, small), scope)
        elif isinstance(small, cst.Expr):
            self._eval(small.value, scope, 0)
        elif isinstance(small, cst.Return):
            if small.value is not None:
                self._eval(small.value, scope, 0)
        elif isinstance(small, cst.Import):
            for alias in small.names:
                mod = _dotted(alias.name)
                if mod:
                    asname = (
                        alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
                    )
                    self.imports.add_import(mod, asname)
                    local = asname or mod.split(".", 1)[0]
                    scope.env.pop(local, None)
                    self.import_nodes[local] = alias.asname.name if asname else alias.name
        elif isinstance(small, cst.ImportFrom):
            mod = _dotted(small.module) if small.module is not None else ""
            mod = "." * len(small.relative) + (mod or "")
            if isinstance(small.names, cst.ImportStar):
                self.imports.add_from(mod, "*", None)
            else:
                for alias in small.names:
                    name = _dotted(alias.name)
                    if name:
                        asname = (
                            alias.asname.name.value
                            if alias.asname and isinstance(alias.asname.name, cst.Name)
                            else None
                        )
                        self.imports.add_from(mod, name, asname)
                        scope.env.pop(asname or name, None)
                        self.import_nodes[asname or name] = alias.asname.name if asname else alias.name

    # ------------------------------------------------------------ branching
    def _if(self, st: cst.If, scope: Scope) -> None:
        test = self._eval(st.test, scope, 0)
        t = F.truth(test)
        orelse: Any = st.orelse
        else_body: Any = ()
        if isinstance(orelse, cst.Else):
            else_body = self._body(orelse)
        elif isinstance(orelse, cst.If):
            else_body = (orelse,)
        if t is True:
            self._block(self._body(st), scope)
        elif t is False:
            self._block(else_body, scope)
        else:
            cond = self.module.code_for_node(st.test) if len(self._body(st)) < 10_000 else "..."
            self._branches(scope, [self._body(st), else_body], f"set differently depending on `{cond[:80]}`")

    def _branches(self, scope: Scope, bodies: list, why: str) -> None:
        before_env = dict(scope.env)
        before_ns = dict(self.ns_over)
        results = []
        for body in bodies:
            scope.env = dict(before_env)
            self.ns_over = dict(before_ns)
            self._block(body, scope)
            results.append((scope.env, self.ns_over))
        env = dict(before_env)
        for name in set().union(*(r[0].keys() for r in results)):
            vals = [r[0].get(name, before_env.get(name)) for r in results]
            vals = [v for v in vals if v is not None]
            m = vals[0]
            for v in vals[1:]:
                m = F.merge(m, v, why)
            env[name] = m
            if m is not before_env.get(name) and all(m is not v for v in vals) and scope.cls is None:
                key = self._name_key(name, scope)
                if key in self.values:
                    self._emit(key, m)
        scope.env = env
        ns = dict(before_ns)
        for name in set().union(*(r[1].keys() for r in results)):
            vals = [r[1].get(name, before_ns.get(name)) for r in results]
            base = self.args.get(name)
            vals = [v if v is not None else (self._arg_sym(base, self.globals) if base else None) for v in vals]
            vals = [v for v in vals if v is not None]
            m = vals[0]
            for v in vals[1:]:
                m = F.merge(m, v, why)
            ns[name] = m
            if all(m is not v for v in vals):
                self._emit(f"args.{name}", m)
        self.ns_over = ns

    def _loop(self, body: Any, scope: Scope) -> None:
        """A loop body runs zero or more times; keys set before the loop keep their values."""
        saved = dict(self.values)
        scope.loop += 1
        try:
            self._branches(scope, [body, ()], "changes inside a loop")
        finally:
            scope.loop -= 1
        for k, v in saved.items():
            self.values[k] = v

    # ---------------------------------------------------------- definitions
    def _is_cli_function(self, fn: cst.FunctionDef) -> tuple[bool, dict[str, ArgDef]]:
        """click options (by parameter name) and whether defaults are CLI defaults (click/typer)."""
        opts: dict[str, ArgDef] = {}
        cli = False
        for dec in fn.decorators:
            d = dec.decorator
            call = d if isinstance(d, cst.Call) else None
            name = _dotted(call.func if call is not None else d) or ""
            last = name.rsplit(".", 1)[-1]
            if last in ("command", "group", "main") and (call is not None or "click" in name):
                cli = True
            if (
                call is not None
                and last in ("option", "argument")
                and ("click" in self.imports.resolve(name) or name.startswith(("click.", "option", "argument")))
            ):
                cli = True
                decls = [s for a in call.args if a.keyword is None and (s := _str_of(a.value)) is not None]
                kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
                idents = [s for s in decls if s.isidentifier()]
                longs = [s for s in decls if s.startswith("--")]
                shorts = [s for s in decls if s.startswith("-") and not s.startswith("--")]
                pick = (idents or longs or shorts or [None])[0]
                if pick is None:
                    continue
                dest = pick.lstrip("-").replace("-", "_").lower()
                default = kw.get("default")
                if default is None and "is_flag" in kw:
                    kw = {**kw, "action": cst.SimpleString('"store_true"')}
                opts[dest] = ArgDef(dest, call, default, kw)
        for p in fn.params.params:
            if p.default is not None and isinstance(p.default, cst.Call):
                q = _dotted(p.default.func) or ""
                if q.rsplit(".", 1)[-1] in ("Option", "Argument") and (
                    "typer" in self.imports.resolve(q) or q.startswith("typer")
                ):
                    cli = True
        return cli, opts

    def _function(self, fn: cst.FunctionDef, parent: Scope, cls: ClassCtx | None) -> None:
        scope = Scope(
            fn.name.value if cls is None else f"{cls.name}.{fn.name.value}",
            {},
            parent=parent if parent.cls is None else self.globals,
            cls=cls,
        )
        cli, opts = self._is_cli_function(fn)
        params = list(fn.params.params) + list(fn.params.kwonly_params) + list(fn.params.posonly_params)
        for i, p in enumerate(params):
            name = p.name.value
            if cls is not None and i == 0 and name in ("self", "cls") and p in fn.params.params:
                continue
            if name in opts:
                d = opts[name]
                self.args.setdefault(name, d)
                sym = self._arg_sym(d, self.globals)
                self._emit(f"args.{name}", sym)
            elif p.default is not None:
                dnode = p.default
                if isinstance(dnode, cst.Call) and (_dotted(dnode.func) or "").rsplit(".", 1)[-1] in (
                    "Option",
                    "Argument",
                ):
                    first = next((a.value for a in dnode.args if a.keyword is None), None)
                    kwd = {a.keyword.value: a.value for a in dnode.args if a.keyword is not None}
                    dnode = kwd.get("default", first)
                if cli:
                    d = ArgDef(name, p, dnode, {})
                    self.args.setdefault(name, d)
                    sym = self._arg_sym(d, self.globals)
                    self._emit(f"args.{name}", sym)
                else:
                    sym = (
                        self._eval(dnode, self.globals, 0)
                        if dnode is not None
                        else F.unknown(f"parameter {name} of {fn.name.value}()", p.name)
                    )
            else:
                sym = F.unknown(f"parameter {name} of {fn.name.value}()", p.name)
            scope.env[name] = sym
            scope.params[name] = sym
        body = self._body(fn)
        self._block(body, scope)

    def _class(self, st: cst.ClassDef, scope: Scope) -> None:
        name = st.name.value
        ctx = ClassCtx(name)
        self.local_classes[name] = ctx
        scope.env[name] = Sym(MODULE, f"<local>.{name}", None)
        bases = [self.imports.resolve(_dotted(b.value) or "") for b in st.bases]
        decos = [
            self.imports.resolve(_dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "")
            for d in st.decorators
        ]
        is_config = (
            any(
                d.rsplit(".", 1)[-1] in ("dataclass", "define", "s", "attrs", "frozen", "dataclass_json") for d in decos
            )
            or any(
                b.rsplit(".", 1)[-1]
                in (
                    "BaseModel",
                    "BaseSettings",
                    "TrainingArguments",
                    "Seq2SeqTrainingArguments",
                    "Config",
                    "NamedTuple",
                    "TypedDict",
                )
                for b in bases
            )
            or bool(_CONFIG_CLASS.search(name))
        )
        cli = bool(_CLI_CLASS.search(name)) or any(b.rsplit(".", 1)[-1] in HF_ARGS_CLASSES for b in bases)
        cscope = Scope(name, {}, parent=scope, cls=None)
        for item in self._body(st):
            if isinstance(item, cst.FunctionDef):
                self.deferred.append((item, self.globals, ctx))
                continue
            if isinstance(item, cst.SimpleStatementLine) and is_config:
                for small in item.body:
                    target, value = None, None
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        target, value = small.target.value, small.value
                    elif (
                        isinstance(small, cst.Assign)
                        and len(small.targets) == 1
                        and isinstance(small.targets[0].target, cst.Name)
                    ):
                        target, value = small.targets[0].target.value, small.value
                    if target is None or value is None or target.startswith("__"):
                        continue
                    if isinstance(value, cst.Call) and (_dotted(value.func) or "").rsplit(".", 1)[-1] in (
                        "field",
                        "Field",
                        "attrib",
                        "ib",
                    ):
                        kwd = {a.keyword.value: a.value for a in value.args if a.keyword is not None}
                        first = next((a.value for a in value.args if a.keyword is None), None)
                        value = kwd.get("default", first if (_dotted(value.func) or "").endswith("Field") else None)
                        if value is None:
                            continue
                    sym = self._eval(value, scope, 0)
                    key = f"{name}.{target}"
                    if sym.kind == SCALAR:
                        sym = Sym(
                            SCALAR,
                            sym.value,
                            sym.node,
                            ARGPARSE if cli else sym.prov,
                            sym.why,
                            scale=sym.scale,
                            origin=key,
                        )
                    ctx.fields[target] = sym
                    cscope.env[target] = sym
                    self._emit(key, sym)
                    if cli:
                        self.arg_fields.setdefault(target, sym)
                continue
            self._stmt(item, cscope)

    # -------------------------------------------------------------- assign
    def _assign(self, target: Any, val: Sym, scope: Scope, bind_only: bool = False) -> None:
        if isinstance(target, cst.Name):
            name = target.value
            scope.env[name] = val
            if bind_only or val.kind in (NAMESPACE,) or (val.kind == MODULE and val.node is None):
                return
            if val.kind == DICT and val.prefix is not None:
                return  # a constructed object: already keyed by its constructor
            key = self._name_key(name, scope)
            if scope.loop and key in self.values:
                return
            self._emit(key, val)
            if self.read_bases and scope is self.globals and val.kind == DICT:
                # Python semantics: ``x = dict(...)`` rebinds x; the dict from the bases is gone (MMEngine's _delete_)
                self.values[f"{key}._delete_"] = Sym(SCALAR, True, target, LITERAL, origin=f"{key}._delete_")
        elif isinstance(target, (cst.Tuple, cst.List)):
            elts = [e.value for e in target.elements]
            if val.kind == LIST and val.elems is not None and len(val.elems) == len(elts):
                for t, v in zip(elts, val.elems):
                    self._assign(t, v, scope, bind_only)
            else:
                for i, t in enumerate(elts):
                    v = (
                        val
                        if val.kind == NAMESPACE
                        else F.unknown(val.why or "unpacked from a value lrlint cannot read", t)
                    )
                    self._assign(t, v, scope, bind_only)
        elif isinstance(target, (cst.Attribute, cst.Subscript)):
            if bind_only:
                return
            root = target
            while isinstance(root, (cst.Attribute, cst.Subscript)):
                root = root.value
            rootname = root.value if isinstance(root, cst.Name) else None
            # self.x = ... inside a method: per-class state, never a key
            if rootname in ("self", "cls") and scope.cls is not None:
                if isinstance(target, cst.Attribute) and target.value is root:
                    scope.cls.self_env[target.attr.value] = val
                return
            if rootname in ("self", "cls"):
                return
            # args.X = ... on a namespace: overrides the option's default
            if (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and self._is_namespace(target.value, scope)
            ):
                attr = target.attr.value
                self.ns_over[attr] = val
                self._emit(f"args.{attr}", val)
                return
            path = self._path(target, scope)
            if path is None:
                return
            base = self._eval(target.value, scope, 0)
            part = path.rsplit(".", 1)[-1]
            if base.kind == DICT and base.items is not None:
                base.items[part] = val
            elif isinstance(target.value, cst.Name) and base.kind in (UNKNOWN_KIND, MODULE):
                # train = get_config(...).train; train.max_iter = 90000: later reads of train.max_iter see it
                holder = Sym(DICT, None, target.value, items={part: val}, prefix=path.rsplit(".", 1)[0])
                self._rebind(target.value.value, holder, scope)
            if rootname is not None and rootname in self.import_nodes:
                self._target_of_import(rootname)
            self._emit(path, val)

    def _rebind(self, name: str, sym: Sym, scope: Scope) -> None:
        s: Scope | None = scope
        while s is not None:
            if name in s.env:
                s.env[name] = sym
                return
            s = s.parent
        scope.env[name] = sym

    def _target_of_import(self, name: str) -> None:
        """``from ..common.optim import SGD as optimizer`` then ``optimizer.lr = ...``: the optimizer is SGD."""
        key = f"{name}._target_"
        if key in self.values:
            return
        qual = self.imports.resolve(name)
        last = qual.rsplit(".", 1)[-1]
        if is_optimizer(last) or is_optimizer(qual):
            self.values[key] = Sym(SCALAR, last, self.import_nodes[name], LITERAL, f"imported as {qual}", origin=key)

    def _path(self, node: Any, scope: Scope) -> str | None:
        if isinstance(node, cst.Name):
            sym = self._lookup(node.value, scope)
            if sym is not None and sym.kind == DICT and sym.prefix:
                return sym.prefix
            if sym is not None and sym.kind == NAMESPACE:
                return "args"
            return node.value
        if isinstance(node, cst.Attribute):
            p = self._path(node.value, scope)
            return f"{p}.{node.attr.value}" if p else None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            idx = self._eval(node.slice[0].slice.value, scope, 0)
            p = self._path(node.value, scope)
            if p and idx.kind == SCALAR and isinstance(idx.value, (str, int)) and not isinstance(idx.value, bool):
                return f"{p}.{idx.value}"
        return None

    # -------------------------------------------------------------- lookup
    def _lookup(self, name: str, scope: Scope) -> Sym | None:
        s: Scope | None = scope
        while s is not None:
            v = s.env.get(name)
            if v is not None:
                return v
            s = s.parent
        return None

    def _is_namespace(self, node: Any, scope: Scope) -> bool:
        if isinstance(node, cst.Name):
            sym = self._lookup(node.value, scope)
            if sym is not None:
                if sym.kind == NAMESPACE:
                    return True
                if sym.kind in (DICT, LIST, SCALAR, MODULE):
                    return False
            if node.value in self.imports.names:
                return False
            return node.value in _NS_NAMES
        if isinstance(node, cst.Attribute):
            return node.attr.value in _NS_NAMES and node.attr.value not in ("a",)
        return False

    def _ns_lookup(self, attr: str) -> Sym | None:
        v = self.ns_over.get(attr)
        if v is not None:
            return v
        d = self.args.get(attr)
        if d is not None:
            return self._arg_sym(d, self.globals)
        return self.arg_fields.get(attr)

    def _ref(self, sym: Sym, label: str) -> Sym:
        """A value read through a batch-like name depends on the batch."""
        if sym.scale is None and F.batch_like(label) and sym.kind in (SCALAR, UNKNOWN_KIND):
            return Sym(
                sym.kind,
                sym.value,
                sym.node,
                sym.prov,
                sym.why,
                scale=Scale({(label, sym.origin): 1.0}),
                origin=sym.origin,
            )
        return sym

    # ------------------------------------------------------------ evaluate
    def _eval(self, node: Any, scope: Scope, depth: int) -> Sym:
        if depth > MAX_EVAL_DEPTH:
            return F.unknown(f"expression nested more than {MAX_EVAL_DEPTH} levels deep", node)
        d = depth + 1
        t = type(node)
        if t is cst.Integer:
            s = node.value.replace("_", "")
            try:
                return F.const(int(s, 0), node)
            except ValueError:
                return F.unknown("unreadable integer", node)
        if t is cst.Float:
            try:
                return F.const(float(node.value.replace("_", "")), node)
            except ValueError:
                return F.unknown("unreadable number", node)
        if t is cst.SimpleString:
            try:
                v = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, MemoryError):
                return F.unknown("unreadable string", node)
            return F.const(v, node) if isinstance(v, str) else F.unknown("a bytes literal", node)
        if t is cst.Name:
            return self._name(node, scope)
        if t is cst.Attribute:
            return self._attribute(node, scope, d)
        if t is cst.BinaryOperation:
            left = self._eval(node.left, scope, d)
            right = self._eval(node.right, scope, d)
            return F.fold_binary(_op_name(node.operator), left, right, node)
        if t is cst.UnaryOperation:
            return F.fold_unary(_op_name(node.operator), self._eval(node.expression, scope, d), node)
        if t is cst.Call:
            return self._call(node, scope, d)
        if t in (cst.List, cst.Tuple):
            elems = []
            for e in node.elements:
                if isinstance(e, cst.StarredElement):
                    self._eval(e.value, scope, d)
                    return F.unknown("a list built with *unpacking", node)
                elems.append(self._eval(e.value, scope, d))
            return Sym(LIST, None, node, LITERAL, elems=elems)
        if t is cst.Dict:
            items: dict[str, Sym] = {}
            for e in node.elements:
                if isinstance(e, cst.StarredDictElement):
                    base = self._eval(e.value, scope, d)
                    if base.kind == DICT and base.items:
                        items.update(base.items)
                    continue
                k = self._eval(e.key, scope, d)
                v = self._eval(e.value, scope, d)
                if k.kind == SCALAR and isinstance(k.value, (str, int)) and not isinstance(k.value, bool):
                    items[str(k.value)] = v
            return Sym(DICT, None, node, LITERAL, items=items)
        if t is cst.ConcatenatedString:
            left = self._eval(node.left, scope, d)
            right = self._eval(node.right, scope, d)
            if left.known and right.known and isinstance(left.value, str) and isinstance(right.value, str):
                return F.const(left.value + right.value, node)
            return F.unknown("a string lrlint cannot read", node)
        if t is cst.FormattedString:
            return F.unknown("an f-string (lrlint does not evaluate f-strings)", node)
        if t is cst.Comparison:
            left = self._eval(node.left, scope, d)
            result: bool | None = True
            for comp in node.comparisons:
                right = self._eval(comp.comparator, scope, d)
                r = F.compare(_op_name(comp.operator), left, right)
                if r is None:
                    result = None
                elif result is not None:
                    result = result and r
                left = right
            if result is None:
                return F.unknown("a comparison lrlint cannot decide", node)
            return Sym(SCALAR, result, node, EXPRESSION)
        if t is cst.BooleanOperation:
            left = self._eval(node.left, scope, d)
            lt = F.truth(left)
            is_and = isinstance(node.operator, cst.And)
            if lt is not None and lt is not is_and:
                return left
            right = self._eval(node.right, scope, d)
            if lt is not None:
                return right
            return F.unknown("a condition lrlint cannot decide", node)
        if t is cst.IfExp:
            test = F.truth(self._eval(node.test, scope, d))
            if test is True:
                return self._eval(node.body, scope, d)
            if test is False:
                return self._eval(node.orelse, scope, d)
            a = self._eval(node.body, scope, d)
            b = self._eval(node.orelse, scope, d)
            return F.merge(a, b, f"chosen at run time by `{self.module.code_for_node(node.test)[:80]}`")
        if t is cst.Subscript:
            return self._subscript(node, scope, d)
        if t is cst.Set:
            # MMEngine's {{_base_.x}} substitution is a set of a set
            inner = node.elements[0].value if len(node.elements) == 1 else None
            if isinstance(inner, cst.Set) and len(inner.elements) == 1:
                ref = _dotted(inner.elements[0].value) or "a base config value"
                return F.unknown(f"substituted from the base config at load time ({{{{{ref}}}}})", node)
            return F.unknown("a set", node)
        if t is cst.NamedExpr:
            v = self._eval(node.value, scope, d)
            self._assign(node.target, v, scope, bind_only=True)
            return v
        if t is cst.Ellipsis:
            return F.unknown("...", node)
        return F.unknown("an expression lrlint does not evaluate", node)

    def _name(self, node: cst.Name, scope: Scope) -> Sym:
        name = node.value
        if name == "True":
            return F.const(True, node)
        if name == "False":
            return F.const(False, node)
        if name == "None":
            return Sym(SCALAR, None, node, LITERAL)
        sym = self._lookup(name, scope)
        if sym is None and scope.cls is not None and name in scope.cls.fields:
            sym = scope.cls.fields[name]
        if sym is None:
            if name in self.imports.names:
                return Sym(MODULE, self.imports.resolve(name), node)
            why = f"{name} comes from a star import" if self.imports.star else f"{name} is not defined in this file"
            return self._ref(F.unknown(why, node), name)
        return self._ref(sym, name)

    def _attribute(self, node: cst.Attribute, scope: Scope, d: int) -> Sym:
        attr = node.attr.value
        label = _dotted(node) or attr
        value = node.value
        # self.x / self.hparams.x
        if scope.cls is not None and isinstance(value, cst.Name) and value.value == "self":
            if attr in scope.cls.self_env:
                return self._ref(scope.cls.self_env[attr], label)
        if (
            scope.cls is not None
            and isinstance(value, cst.Attribute)
            and isinstance(value.value, cst.Name)
            and value.value.value == "self"
            and value.attr.value in ("hparams", "hp", "config", "cfg", "args")
        ):
            holder = scope.cls.hparams if value.attr.value == "hparams" else {}
            if attr in holder:
                return self._ref(holder[attr], label)
            inner = scope.cls.self_env.get(value.attr.value)
            if inner is not None and inner.kind == DICT and inner.items and attr in inner.items:
                return self._ref(inner.items[attr], label)
            ns = self._ns_lookup(attr)
            if ns is not None:
                return self._ref(ns, label)
            return self._ref(F.unknown(f"{label} is set at run time", node), label)
        base = self._eval(value, scope, d)
        if base.kind == MODULE:
            return Sym(MODULE, f"{base.value}.{attr}", node)
        if base.kind == DICT and base.items is not None:
            if attr in base.items:
                return self._ref(base.items[attr], label)
            return self._ref(F.unknown(f"{label} is not set in this file", node), label)
        if base.kind == SCALAR and isinstance(base.value, str):
            return F.unknown("a method of a string", node)
        if base.kind == NAMESPACE or (base.kind == UNKNOWN_KIND and self._is_namespace(value, scope)):
            ns = self._ns_lookup(attr)
            if ns is not None:
                return self._ref(ns, label)
            why = f"{label} is not an option defined in this file"
        elif base.kind == UNKNOWN_KIND:
            why = (
                f"{label} is an attribute of a value lrlint cannot read ({base.why})"
                if base.why
                else f"{label} is not known statically"
            )
        else:
            why = f"{label} is not known statically"
        return self._ref(F.unknown(why, node), label)

    def _subscript(self, node: cst.Subscript, scope: Scope, d: int) -> Sym:
        base = self._eval(node.value, scope, d)
        idx = None
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            idx = self._eval(node.slice[0].slice.value, scope, d)
        label = _dotted(node.value) or "a value"
        if base.kind == MODULE and base.value in ("os.environ", "environ"):
            name = idx.value if idx is not None and idx.known else "?"
            u = F.unknown(f"read from the environment variable {name}", node)
            return self._ref(u, str(name).lower()) if isinstance(name, str) else u
        if base.kind == MODULE and base.value == "sys.argv":
            return F.unknown("read from the command line (sys.argv)", node)
        if idx is not None and idx.known:
            if base.kind == DICT and base.items is not None and str(idx.value) in base.items:
                return self._ref(base.items[str(idx.value)], str(idx.value))
            if (
                base.kind == LIST
                and base.elems is not None
                and isinstance(idx.value, int)
                and -len(base.elems) <= idx.value < len(base.elems)
            ):
                return base.elems[idx.value]
            if base.kind == NAMESPACE and isinstance(idx.value, str):
                ns = self._ns_lookup(idx.value)
                if ns is not None:
                    return self._ref(ns, idx.value)
            if base.kind == UNKNOWN_KIND:
                u = F.unknown(f"{label}[{idx.value!r}] is read from a value lrlint cannot read ({base.why})", node)
                return self._ref(u, str(idx.value)) if isinstance(idx.value, str) else u
        return F.unknown(f"an item of {label}", node)

    # ----------------------------------------------------------------- calls
    def _call(self, node: cst.Call, scope: Scope, d: int) -> Sym:
        if id(node) in self.ctor_cache:
            return self.ctor_cache[id(node)]
        func = node.func
        # Detectron2 LazyConfig: L(torch.optim.SGD)(lr=...)
        if isinstance(func, cst.Call) and func.args:
            inner = _dotted(func.func)
            if (
                inner is not None
                and (self.imports.resolve(inner) in LAZYCALL or inner in ("L", "LazyCall"))
                and len(func.args) == 1
            ):
                return self._lazycall(node, func, scope, d)
        dotted = _dotted(func)
        qual = self.imports.resolve(dotted) if dotted else ""
        local = dotted is not None and "." not in dotted and self._lookup(dotted, scope) is not None
        last = qual.rsplit(".", 1)[-1] if qual else (func.attr.value if isinstance(func, cst.Attribute) else "")

        if dotted == "dict" and not local:
            return self._dict_call(node, scope, d)
        if qual in COPY_FUNCS and node.args:
            return self._eval(node.args[0].value, scope, d)
        if isinstance(func, cst.Attribute) and last == "copy" and not node.args:
            return self._eval(func.value, scope, d)
        if qual in ("functools.partial", "partial") and node.args:
            target = _dotted(node.args[0].value)
            if target:
                fake = node.with_changes(func=node.args[0].value, args=node.args[1:])
                r = self._call_known(fake, self.imports.resolve(target), scope, d, original=node)
                if r is not None:
                    return r
        if last in PARSE_FUNCS:
            if isinstance(func, cst.Attribute):
                self._eval(func.value, scope, d)
            ns = Sym(NAMESPACE, None, node)
            if last == "parse_known_args":
                return Sym(LIST, None, node, elems=[ns, F.unknown("unparsed arguments", node)])
            return ns
        if isinstance(func, cst.Attribute) and last == "set_defaults":
            for a in node.args:
                if a.keyword is not None and a.keyword.value in self.args:
                    dd = self.args[a.keyword.value]
                    nd = ArgDef(dd.dest, node, a.value, {k: v for k, v in dd.kw.items() if k != "action"})
                    self.args[a.keyword.value] = nd
                    if a.keyword.value not in self.ns_over:
                        self._emit(f"args.{nd.dest}", self._arg_sym(nd, scope))
            return F.unknown("set_defaults() returns None", node)
        if isinstance(func, cst.Attribute) and last in ("add_argument", "add_option"):
            ad = self._maybe_argument(node)
            if ad is not None and f"args.{ad.dest}" not in self.values and self.args.get(ad.dest) is ad:
                ad.sym = None
                self._emit(f"args.{ad.dest}", self._arg_sym(ad, scope))
            return F.unknown("an argparse action", node)
        if isinstance(func, cst.Attribute) and last == "update":
            return self._update(node, func, scope, d)
        if isinstance(func, cst.Attribute) and last == "save_hyperparameters" and scope.cls is not None:
            scope.cls.hparams.update({k: v for k, v in scope.params.items()})
            return F.unknown("save_hyperparameters() returns None", node)
        if dotted and not local:
            r = self._call_known(node, qual, scope, d)
            if r is not None:
                return r
        # a local config class: its fields, overridden by the keywords
        if dotted in self.local_classes and self.local_classes[dotted].fields:
            ctx = self.local_classes[dotted]
            items = dict(ctx.fields)
            for a in node.args:
                if a.keyword is not None:
                    v = self._eval(a.value, scope, d)
                    items[a.keyword.value] = v
                    self._emit(f"{ctx.name}.{a.keyword.value}", v)
            return Sym(DICT, None, node, items=items, prefix=ctx.name)
        # anything else: evaluate the arguments (constructors may hide inside), value unknown
        if not isinstance(func, cst.Name):
            self._eval(func, scope, d)
        for a in node.args:
            self._eval(a.value, scope, d)
        if isinstance(func, cst.Attribute) and last in ("lower", "upper", "strip") and not node.args:
            base = self._eval(func.value, scope, d)
            if base.known and isinstance(base.value, str):
                return Sym(SCALAR, getattr(base.value, last)(), node, EXPRESSION)
        name = dotted or (last + "()" if last else "a call")
        if dotted and dotted in self.local_funcs and _NS_FUNC.search(dotted):
            return Sym(NAMESPACE, None, node)
        u = F.unknown(f"returned by {name}()", node)
        if F.batch_like(last):
            return self._ref(u, f"{name}()")
        return u

    def _args(self, node: cst.Call, scope: Scope, d: int, positional: tuple[str | None, ...] = ()) -> dict[str, Sym]:
        out: dict[str, Sym] = {}
        pos = 0
        for a in node.args:
            if a.keyword is not None:
                out[a.keyword.value] = self._eval(a.value, scope, d)
            elif a.star == "**":
                out.update(self._star_kwargs(a.value, scope, d))
            elif a.star == "*":
                self._eval(a.value, scope, d)
            else:
                name = positional[pos] if pos < len(positional) else None
                pos += 1
                v = self._eval(a.value, scope, d)
                if name:
                    out[name] = v
        return out

    def _star_kwargs(self, node: Any, scope: Scope, d: int) -> dict[str, Sym]:
        # timm: **optimizer_kwargs(cfg=args) -> opt, lr, weight_decay, momentum from the namespace
        if isinstance(node, cst.Call) and (_dotted(node.func) or "").rsplit(".", 1)[-1] == "optimizer_kwargs":
            out = {}
            for name in ("opt", "lr", "weight_decay", "momentum"):
                s = self._ns_lookup(name)
                if s is not None:
                    out[name] = s
            return out
        v = self._eval(node, scope, d)
        if v.kind == DICT and v.items:
            return dict(v.items)
        if v.kind == NAMESPACE:
            return {}
        return {}

    def _ctor(self, node: Any, base: str, items: dict[str, Sym], original: Any = None) -> Sym:
        prefix = self._alloc(base) if base else ""
        for k, v in items.items():
            if v.kind in (NAMESPACE,) or (v.kind == MODULE and v.node is None):
                continue
            self._emit(f"{prefix}.{k}" if prefix else k, v, ctor=True)
        obj = Sym(DICT, None, node, items=items, prefix=prefix or None)
        self.ctor_cache[id(original or node)] = obj
        return obj

    def _call_known(self, node: cst.Call, qual: str, scope: Scope, d: int, original: Any = None) -> Sym | None:
        last = qual.rsplit(".", 1)[-1]
        func = node.func
        # pure math and builtins
        if (
            qual.startswith(("math.", "numpy.", "np.", "torch."))
            and last in F.MATH_FUNCS
            and "." in qual
            and qual.rsplit(".", 1)[0] in ("math", "numpy", "np")
        ):
            args = [self._eval(a.value, scope, d) for a in node.args]
            return F.fold_call(last, args, node, F.MATH_FUNCS[last])
        if qual in F.BUILTIN_FUNCS and qual not in self.imports.names:
            args = [self._eval(a.value, scope, d) for a in node.args if a.keyword is None and not a.star]
            if qual in ("min", "max") and len(args) == 1:
                return F.unknown(f"{qual}() of a collection", node)
            return F.fold_call(qual, args, node, F.BUILTIN_FUNCS[qual])
        if qual in ENV_FUNCS or qual.endswith(("os.environ.get", "os.getenv")):
            args = [self._eval(a.value, scope, d) for a in node.args]
            name = args[0].value if args and args[0].known else "?"
            dflt = f" (default {args[1].value!r} when unset)" if len(args) > 1 and args[1].known else ""
            u = F.unknown(f"read from the environment variable {name}{dflt}", node)
            return self._ref(u, str(name).lower()) if isinstance(name, str) else u
        if any(qual == f or qual.endswith("." + f) for f in FILE_FUNCS):
            for a in node.args:
                self._eval(a.value, scope, d)
            return F.unknown(f"read from a file by {_dotted(func) or last}()", node)
        if qual in (
            "torch.cuda.device_count",
            "cuda.device_count",
            "torch.distributed.get_world_size",
            "dist.get_world_size",
        ) or (last in ("get_world_size", "device_count", "num_processes")):
            u = F.unknown(f"returned by {_dotted(func)}() at run time", node)
            return self._ref(u, f"{_dotted(func)}()")
        # optimizers
        if is_optimizer(qual):
            items = self._args(node, scope, d, (None, "lr"))
            items.pop("params", None)
            t = Sym(SCALAR, last, func, LITERAL, f"the optimizer class {qual}")
            return self._ctor(node, "optimizer", {"type": t, **items}, original)
        if last in TIMM_FACTORIES and (qual.startswith("timm") or qual == last or "optim" in qual):
            names = TIMM_FACTORIES[last]
            if last == "create_optimizer":
                items = self._args(node, scope, d, ())
                for name in ("opt", "lr", "momentum", "weight_decay"):
                    s = self._ns_lookup(name)
                    if s is not None:
                        items.setdefault(name, s)
            else:
                items = self._args(node, scope, d, (None, *names))
            items.pop("model_or_params", None)
            opt = items.pop("opt", None) or Sym(SCALAR, "sgd", func, LITERAL, f"{last}() default optimizer")
            return self._ctor(node, "optimizer", {"type": opt, **items}, original)
        if last == "DataLoader":
            items = self._args(node, scope, d, ("dataset", "batch_size"))
            items.pop("dataset", None)
            hint = self._hint or ""
            dstext = _dotted(node.args[0].value) if node.args and node.args[0].keyword is None else ""
            is_eval = (
                bool(_EVAL_LOADER.search(hint) or _EVAL_LOADER.search(dstext or "")) and "train" not in hint.lower()
            )
            return self._ctor(node, "eval_dataloader" if is_eval else "dataloader", items, original)
        if last in HF_ARGS_CLASSES and last not in self.local_classes and (qual == last or qual.startswith(HF_MODULES)):
            items = self._args(node, scope, d, ("output_dir",))
            return self._ctor(node, "", items, original)
        if last == "Trainer" and not qual.startswith(HF_MODULES):
            kws = {a.keyword.value for a in node.args if a.keyword is not None}
            if is_lightning(qual, last) or kws & _LIGHTNING_TRAINER_KW:
                return self._ctor(node, "trainer", self._args(node, scope, d), original)
        if last == "Fabric" and (is_lightning(qual, last) or qual == "Fabric"):
            return self._ctor(node, "fabric", self._args(node, scope, d), original)
        if last == "Accelerator" and ("accelerate" in qual or qual == "Accelerator"):
            return self._ctor(node, "accelerator", self._args(node, scope, d), original)
        if last == "Runner" and ("mmengine" in qual or qual == "Runner"):
            return self._ctor(node, "", self._args(node, scope, d), original)
        if qual.endswith(("Config.fromfile", "Config")) and "mmengine" in qual and last == "Config":
            return None
        if qual == "HfArgumentParser" or last == "HfArgumentParser":
            for a in node.args:
                self._eval(a.value, scope, d)
            return Sym(MODULE, qual, None)
        return None

    def _lazycall(self, node: cst.Call, inner: cst.Call, scope: Scope, d: int) -> Sym:
        tnode = inner.args[0].value
        target = _dotted(tnode)
        tsym = Sym(SCALAR, self.imports.resolve(target) if target else "?", tnode, LITERAL)
        items = {"_target_": tsym, **self._args(node, scope, d)}
        obj = Sym(DICT, None, node, items=items)
        self.ctor_cache[id(node)] = obj
        return obj

    def _dict_items(self, node: cst.Call, scope: Scope, d: int) -> dict[str, Sym]:
        """``dict(a=1, **other)`` / ``x.update(...)`` arguments as items (keywords win in order)."""
        items: dict[str, Sym] = {}
        for a in node.args:
            if a.keyword is not None:
                items[a.keyword.value] = self._eval(a.value, scope, d)
            else:
                v = self._eval(a.value, scope, d)
                if v.kind == DICT and v.items:
                    items.update(v.items)
        return items

    def _dict_call(self, node: cst.Call, scope: Scope, d: int) -> Sym:
        return Sym(DICT, None, node, LITERAL, items=self._dict_items(node, scope, d))

    def _update(self, node: cst.Call, func: cst.Attribute, scope: Scope, d: int) -> Sym:
        path = self._path(func.value, scope)
        base = self._eval(func.value, scope, d)
        new = self._dict_items(node, scope, d)
        if base.kind == DICT and base.items is not None:
            base.items.update(new)
        if path is not None and base.kind in (DICT, UNKNOWN_KIND, MODULE) and base.kind != NAMESPACE:
            for k, v in new.items():
                self._emit(f"{path}.{k}", v)
        return F.unknown("update() returns None", node)
