"""Walk a libcst Module and read its training settings, never executing it.

The walk runs the statements in order (module level first, then function bodies) over a small
environment of symbolic values; expressions go to :mod:`py_eval`, command-line options and config
classes to :mod:`py_cli`, and the callables the rules name to :mod:`py_ctors`. It emits flattened
``key -> Sym`` entries (:mod:`py_keys`); :mod:`python_source` turns them into Values with exact spans.

Key conventions (docs: ``python_source`` module docstring):

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
* the rules' constructors -> their ``key`` (``optimizer.*``, ``optimizer_1.*``...,
  ``dataloader.*``, ``eval_dataloader.*``, ``trainer.*``, ``fabric.*``, ``accelerator.*``,
  the root for TrainingArguments-family and MMEngine ``Runner`` keywords); lazy calls
  (Detectron2 ``L(x)(...)``) -> the assigned name's keys plus the target key (``._target_``);
* ``with read_base():`` imports -> the base key of the profile that names the context
  (``_base_``), a list of relative paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import libcst as cst

from lrlint.python_rules import BaseImport, PythonTable
from lrlint.sources import py_fold as F
from lrlint.sources.py_calls import Binder, callers_first
from lrlint.sources.py_callsite import CallSites
from lrlint.sources.py_cli import ArgDef, CliOptions
from lrlint.sources.py_ctors import Callables
from lrlint.sources.py_eval import Evaluator
from lrlint.sources.py_fold import DICT, LIST, MODULE, NAMESPACE, SCALAR, UNKNOWN_KIND, Sym
from lrlint.sources.py_imports import ImportMap
from lrlint.sources.py_keys import Keys
from lrlint.sources.py_scope import ClassCtx, Scope, body_of, dotted, op_name, str_of
from lrlint.values import ARGPARSE, LITERAL, ROOT_PREFIX


class Analyzer(CallSites):
    """``forced``: conditions (as written) taken as true or false, to read one branch of an ``if`` lrlint
    cannot decide; ``splits`` lists the conditions whose branches set a batch factor to different numbers."""

    def __init__(
        self, modules: list[cst.Module], limits: Any, table: PythonTable, forced: dict[str, bool] | None = None
    ) -> None:
        self.modules = modules
        self.forced = forced or {}
        self.splits: list[str] = []
        self.table = table
        self.imports = ImportMap()
        self.import_nodes: dict[str, Any] = {}
        self.local_funcs: dict[str, Any] = {}
        self.local_classes: dict[str, ClassCtx] = {}
        self.deferred: list[tuple[Any, Scope, ClassCtx | None]] = []
        self.globals = Scope("", {"__name__": F.const("__main__", None)})
        self.read_bases: list[tuple[str, Any, list[str] | None, BaseImport]] = []  # (path, node, names, kind)
        self.keys = Keys(table, limits.max_values)
        self.values = self.keys.values
        self.cli = CliOptions(table, self.imports, lambda n, s: self.ev.eval(n, s, 0), self.globals)
        self.ev = Evaluator(modules[0], table, self.imports, self.cli, self._call, self._bind)
        self.calls = Callables(table, self.ev, self.keys, self.cli, self.local_classes)
        self.binder = Binder(self.local_funcs)

    # ------------------------------------------------------------------ entry
    def run(self) -> dict[str, Sym]:
        for m in self.modules:
            self.cli.prescan(m.body)
        for m in self.modules:
            self._block(m.body, self.globals)
        self.deferred = callers_first(self.deferred)
        i = 0
        while i < len(self.deferred):
            fn, parent, cls = self.deferred[i]
            i += 1
            self._function(fn, parent, cls)
        for d in self.cli.args.values():
            key = f"args.{d.dest}"
            if key not in self.values and not ((dflt := self.cli.default(d)).kind == DICT and dflt.items):
                self._emit(key, dflt)
        if self.read_bases:
            self._emit_bases()
        return self.values

    def release(self) -> None:
        """Drop the walk's state. The evaluator's and the command-line reader's callbacks point back at the
        walk (a reference cycle): without this the file's syntax tree lives on until the cycle collector
        runs, which then scans every node of it."""
        for part in (self.ev, self.cli, self.calls, self.binder):
            if hasattr(part, "__dict__"):
                part.__dict__.clear()
        self.__dict__.clear()

    def _emit(self, key: str, sym: Sym, ctor: bool = False) -> None:
        self.keys.emit(key, sym, ctor)

    def _emit_bases(self) -> None:
        key = self.read_bases[0][3].key
        if key in self.values:
            return
        elems = [
            Sym(SCALAR, path, node, LITERAL, extra={"names": names} if names else None)
            for path, node, names, _ in self.read_bases
        ]
        self._emit(key, Sym(LIST, None, self.read_bases[0][1], elems=elems))

    # ----------------------------------------------------------- statements
    def _block(self, body: Any, scope: Scope) -> None:
        for st in body:
            self._stmt(st, scope)

    def _stmt(self, st: Any, scope: Scope) -> None:
        if isinstance(st, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
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
                self.ev.eval(st.iter, scope)
                self._assign(st.target, F.unknown("a loop variable", st.target), scope, bind_only=True)
            else:
                self.ev.eval(st.test, scope)
            self._loop(body_of(st), scope)
            if st.orelse is not None:
                self._block(body_of(st.orelse), scope)
        elif isinstance(st, cst.With):
            self._with(st, scope)
        elif isinstance(st, cst.Try):
            self._block(body_of(st), scope)
            handlers = [body_of(h) for h in st.handlers]
            if handlers:
                self._branches(scope, [*handlers, ()], "set in an exception handler")
            if st.orelse is not None:
                self._block(body_of(st.orelse), scope)
            if st.finalbody is not None:
                self._block(body_of(st.finalbody), scope)

    def _with(self, st: cst.With, scope: Scope) -> None:
        if scope is self.globals:
            kind = next((k for item in st.items if (k := self._base_import(item.item)) is not None), None)
            if kind is not None:
                self._read_base(body_of(st), kind)
                for item in st.items:
                    self.ev.eval(item.item, scope)
                self._block(body_of(st), Scope("<read_base>", {}, parent=scope))  # its imports are bases only
                return
        for item in st.items:
            self.ev.eval(item.item, scope)
            if item.asname is not None:
                name = item.asname.name
                self._assign(name, F.unknown("a context manager's value", name), scope, bind_only=True)
        self._block(body_of(st), scope)

    def _base_import(self, node: Any) -> BaseImport | None:
        """The inheritance a ``with read_base():`` context declares (the rules' ``base_imports``)."""
        if not isinstance(node, cst.Call):
            return None
        name = dotted(node.func)
        if name is None:
            return None
        return self.table.base_imports.get(self.imports.resolve(name).rsplit(".", 1)[-1])

    def _read_base(self, body: Any, kind: BaseImport) -> None:
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
                mod = dotted(small.module) if small.module is not None else None
                if not mod:
                    continue
                up = len(small.relative) - 1
                path = ("./" if up == 0 else "../" * up) + mod.replace(".", "/") + ".py"
                names = (
                    None
                    if isinstance(small.names, cst.ImportStar)
                    else [a.name.value for a in small.names if isinstance(a.name, cst.Name) and a.asname is None]
                )
                self.read_bases.append((path, small.module, names, kind))

    def _import_base(self, small: cst.ImportFrom) -> None:
        """``from ..common.optim import SGD as optimizer`` in a config: the base ``../common/optim.py``, of which
        the object ``SGD`` is taken as ``optimizer`` (the rules' ``import_bases``)."""
        names, _loaders, kind = self.table.import_bases or (frozenset(), frozenset(), None)
        mod = dotted(small.module) if small.module is not None else None
        if not mod or isinstance(small.names, cst.ImportStar) or kind is None:
            return
        taken = []
        for a in small.names:
            src = dotted(a.name)
            dst = a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name) else src
            if src and dst in names:
                taken.append(src if src == dst else f"{src} as {dst}")
        if taken:
            up = len(small.relative) - 1
            path = ("./" if up == 0 else "../" * up) + mod.replace(".", "/") + ".py"
            self.read_bases.append((path, small.module, taken, kind))

    def _loaded_base(self, target: Any, value: Any) -> bool:
        """``optimizer = model_zoo.get_config("common/optim.py").SGD``: a base under the config root."""
        names, loaders, kind = self.table.import_bases or (frozenset(), frozenset(), None)
        if kind is None or not isinstance(target, cst.Name) or target.value not in names:
            return False
        if not (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Call) and value.value.args):
            return False
        func = dotted(value.value.func)
        path = str_of(value.value.args[0].value)
        qual = self.imports.resolve(func) if func is not None else ""
        if path is None or not any(qual == x or qual.endswith("." + x) for x in loaders):
            return False
        src = value.attr.value
        taken = [src if src == target.value else f"{src} as {target.value}"]
        self.read_bases.append((f"{ROOT_PREFIX}{path}", value.value, taken, kind))
        return True

    def _small(self, small: Any, scope: Scope) -> None:
        if isinstance(small, cst.Assign):
            if (
                scope is self.globals
                and len(small.targets) == 1
                and self._loaded_base(small.targets[0].target, small.value)
            ):
                self._assign(small.targets[0].target, self.ev.eval(small.value, scope), scope, bind_only=True)
                return
            self.calls.hint = dotted(small.targets[-1].target) if len(small.targets) == 1 else None
            val = self.ev.eval(small.value, scope)
            self.calls.hint = None
            for t in small.targets:
                self._assign(t.target, val, scope)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.calls.hint = dotted(small.target)
                val = self.ev.eval(small.value, scope)
                self.calls.hint = None
                self._assign(small.target, val, scope)
        elif isinstance(small, cst.AugAssign):
            cur = self.ev.eval(small.target, scope)
            rhs = self.ev.eval(small.value, scope)
            op = op_name(small.operator).replace("Assign", "")
            self._assign(small.target, F.fold_binary(op, cur, rhs, small), scope)
        elif isinstance(small, cst.Expr):
            self.ev.eval(small.value, scope)
        elif isinstance(small, cst.Return):
            if small.value is not None:
                self.ev.eval(small.value, scope)
        elif isinstance(small, cst.Import):
            self._import(small, scope)
        elif isinstance(small, cst.ImportFrom):
            self._import_from(small, scope)

    def _import(self, small: cst.Import, scope: Scope) -> None:
        for alias in small.names:
            mod = dotted(alias.name)
            if mod:
                as_node = _as_name(alias)
                asname = as_node.value if as_node is not None else None
                self.imports.add_import(mod, asname)
                local = asname or mod.split(".", 1)[0]
                scope.env.pop(local, None)
                self.import_nodes[local] = as_node if as_node is not None else alias.name

    def _import_from(self, small: cst.ImportFrom, scope: Scope) -> None:
        if scope is self.globals and small.relative and self.table.import_bases is not None:
            self._import_base(small)
        mod = dotted(small.module) if small.module is not None else ""
        mod = "." * len(small.relative) + (mod or "")
        if isinstance(small.names, cst.ImportStar):
            self.imports.add_from(mod, "*", None)
            return
        for alias in small.names:
            name = dotted(alias.name)
            if name:
                as_node = _as_name(alias)
                asname = as_node.value if as_node is not None else None
                self.imports.add_from(mod, name, asname)
                scope.env.pop(asname or name, None)
                self.import_nodes[asname or name] = as_node if as_node is not None else alias.name

    # ------------------------------------------------------------ branching
    def _if(self, st: cst.If, scope: Scope) -> None:
        test = self.ev.eval(st.test, scope)
        t = F.truth(test)
        orelse: Any = st.orelse
        else_body: Any = ()
        if isinstance(orelse, cst.Else):
            else_body = body_of(orelse)
        elif isinstance(orelse, cst.If):
            else_body = (orelse,)
        cond = ""
        if t is None:
            cond = self.ev.module.code_for_node(st.test).strip() if len(body_of(st)) < 10_000 else "..."
            t = self.forced.get(cond)
        if t is True:
            self._block(body_of(st), scope)
        elif t is False:
            self._block(else_body, scope)
        else:
            split = self._branches(scope, [body_of(st), else_body], f"set differently depending on `{cond[:80]}`")
            if split and scope.loop == 0 and cond not in self.splits:
                self.splits.append(cond)

    def _branches(self, scope: Scope, bodies: list, why: str) -> bool:
        """Run each body from the same state; a name set differently on two branches becomes unknown.
        True when a batch factor is one of them, known on each branch."""
        before_env = dict(scope.env)
        before_ns = dict(self.cli.ns_over)
        results = []
        for body in bodies:
            scope.env = dict(before_env)
            self.cli.ns_over = dict(before_ns)
            self._block(body, scope)
            results.append((scope.env, self.cli.ns_over))
        env = dict(before_env)
        split = False
        for name in _union_keys(r[0] for r in results):
            vals = [v for r in results if (v := r[0].get(name, before_env.get(name))) is not None]
            m = _merged(vals, why)
            env[name] = m
            if m is not before_env.get(name) and all(m is not v for v in vals) and scope.cls is None:
                key = self.keys.name_key(name, scope.name)
                if key in self.values:
                    self._emit(key, m)
                    split = split or self._splits_on(name, vals)
        scope.env = env
        ns = dict(before_ns)
        for name in _union_keys(r[1] for r in results):
            base = self.cli.args.get(name)
            found = [r[1].get(name, before_ns.get(name)) for r in results]
            found = [v if v is not None else (self.cli.default(base) if base else None) for v in found]
            known = [v for v in found if v is not None]
            m = _merged(known, why)
            ns[name] = m
            if all(m is not v for v in known):
                self._emit(f"args.{name}", m)
                split = split or self._splits_on(name, known)
        self.cli.ns_over = ns
        return split

    def _splits_on(self, name: str, vals: list[Sym]) -> bool:
        """A batch factor with a known number on every branch (``gradient_accumulation_steps``): the file is
        worth reading branch by branch."""
        return len(vals) > 1 and self.table.batch_like(name) and all(v.number is not None for v in vals)

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
    def _function(self, fn: cst.FunctionDef, parent: Scope, cls: ClassCtx | None) -> None:
        scope = Scope(
            fn.name.value if cls is None else f"{cls.name}.{fn.name.value}",
            {},
            parent=parent if parent.cls is None else self.globals,
            cls=cls,
        )
        cli, opts = self.cli.cli_function(fn)
        cli = cli or (cls is None and fn.name.value in self.binder.entries)
        params = list(fn.params.params) + list(fn.params.kwonly_params) + list(fn.params.posonly_params)
        for i, p in enumerate(params):
            name = p.name.value
            if cls is not None and i == 0 and name in ("self", "cls") and p in fn.params.params:
                continue
            sym = self._parameter(fn, p, cli, opts, scope)
            scope.env[name] = sym
            scope.params[name] = sym
        self._block(body_of(fn), scope)

    def _parameter(self, fn: cst.FunctionDef, p: cst.Param, cli: bool, opts: dict[str, ArgDef], scope: Scope) -> Sym:
        """A parameter's value: a command-line option's default, the default, or what every call passes.
        A config object as default (``train: TrainArgs = TrainArgs(global_batch_size=128)``) is keyed under the
        parameter's name; a default of a setting parameter (``devices: int = 4``) is the script's setting."""
        name = p.name.value
        if name in opts:
            sym = self.cli.parameter(opts[name])
            self._emit(f"args.{name}", sym)
            return sym
        dnode = self.cli.parameter_default(p.default) if p.default is not None else None
        if dnode is None:
            passed = self.binder.value(fn.name.value, name) if scope.cls is None else None
            return passed if passed is not None else F.unknown(f"parameter {name} of {fn.name.value}()", p.name)
        sym = self.cli.parameter(ArgDef(name, p, dnode, {})) if cli else self.ev.eval(dnode, self.globals)
        if sym.kind == DICT and sym.items:
            self._emit(self.keys.name_key(name, scope.name), sym)
        elif cli or (
            sym.kind == SCALAR
            and self.table.setting_parameters is not None
            and self.table.setting_parameters.fullmatch(name)
            and f"args.{name}" not in self.values
        ):
            self._emit(f"args.{name}", sym)
        return sym

    def _class(self, st: cst.ClassDef, scope: Scope) -> None:
        name = st.name.value
        ctx = ClassCtx(name)
        self.local_classes[name] = ctx
        scope.env[name] = Sym(MODULE, f"<local>.{name}", None)
        is_config, cli = self.cli.class_kind(st)
        cscope = Scope(name, {}, parent=scope, cls=None)
        for item in body_of(st):
            if isinstance(item, cst.FunctionDef):
                self.deferred.append((item, self.globals, ctx))
                continue
            if isinstance(item, cst.SimpleStatementLine) and is_config:
                for small in item.body:
                    found = self.cli.field_default(small)
                    if found is not None:
                        self._field(ctx, cscope, found[0], self.ev.eval(found[1], scope), cli)
                continue
            self._stmt(item, cscope)

    def _field(self, ctx: ClassCtx, cscope: Scope, target: str, sym: Sym, cli: bool) -> None:
        key = f"{ctx.name}.{target}"
        if sym.kind == SCALAR:
            prov = ARGPARSE if cli else sym.prov
            sym = Sym(SCALAR, sym.value, sym.node, prov, sym.why, scale=sym.scale, origin=key)
        ctx.fields[target] = sym
        cscope.env[target] = sym
        self._emit(key, sym)
        if cli:
            self.cli.fields.setdefault(target, sym)

    # -------------------------------------------------------------- assign
    def _bind(self, target: Any, val: Sym, scope: Scope) -> None:
        self._assign(target, val, scope, bind_only=True)

    def _assign(self, target: Any, val: Sym, scope: Scope, bind_only: bool = False) -> None:
        if isinstance(target, cst.Name):
            self._assign_name(target, val, scope, bind_only)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elts = [e.value for e in target.elements]
            if val.kind == LIST and val.elems is not None and len(val.elems) == len(elts):
                for t, v in zip(elts, val.elems, strict=True):
                    self._assign(t, v, scope, bind_only)
            else:
                for t in elts:
                    v = (
                        val
                        if val.kind == NAMESPACE
                        else F.unknown(val.why or "unpacked from a value lrlint cannot read", t)
                    )
                    self._assign(t, v, scope, bind_only)
        elif isinstance(target, (cst.Attribute, cst.Subscript)) and not bind_only:
            self._assign_path(target, val, scope)

    def _assign_name(self, target: cst.Name, val: Sym, scope: Scope, bind_only: bool) -> None:
        name = target.value
        scope.env[name] = val
        if bind_only or val.kind == NAMESPACE or (val.kind == MODULE and val.node is None):
            return
        if val.kind == DICT and val.prefix is not None:
            return  # a constructed object: already keyed by its constructor
        key = self.keys.name_key(name, scope.name)
        if scope.loop and key in self.values:
            return
        self._emit(key, val)
        if self.read_bases and scope is self.globals and val.kind == DICT:
            # Python semantics: ``x = dict(...)`` rebinds x; the dict from the bases is gone (MMEngine's _delete_)
            delete = self.read_bases[0][3].delete_key
            if delete:
                self.values[f"{key}.{delete}"] = Sym(SCALAR, True, target, LITERAL, origin=f"{key}.{delete}")

    def _assign_path(self, target: cst.Attribute | cst.Subscript, val: Sym, scope: Scope) -> None:
        root: Any = target
        while isinstance(root, (cst.Attribute, cst.Subscript)):
            root = root.value
        rootname = root.value if isinstance(root, cst.Name) else None
        # self.x = ... inside a method: per-class state, never a key
        if rootname in ("self", "cls"):
            if scope.cls is not None and isinstance(target, cst.Attribute) and target.value is root:
                scope.cls.self_env[target.attr.value] = val
            return
        # args.X = ... on a namespace: overrides the option's default
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and self.ev.is_namespace(target.value, scope)
        ):
            attr = target.attr.value
            self.cli.ns_over[attr] = val
            self._emit(f"args.{attr}", val)
            return
        path = self._path(target, scope)
        if path is None:
            return
        base = self.ev.eval(target.value, scope)
        part = path.rsplit(".", 1)[-1]
        if base.kind == DICT and base.items is not None:
            base.items[part] = val
        elif isinstance(target.value, cst.Name) and base.kind in (UNKNOWN_KIND, MODULE):
            # train = get_config(...).train; train.max_iter = 90000: later reads of train.max_iter see it
            holder = Sym(DICT, None, target.value, items={part: val}, prefix=path.rsplit(".", 1)[0])
            scope.rebind(target.value.value, holder)
        if rootname is not None and rootname in self.import_nodes:
            self.calls.target_of_import(rootname, self.import_nodes[rootname])
        self._emit(path, val)

    def _path(self, node: Any, scope: Scope) -> str | None:
        if isinstance(node, cst.Name):
            sym = scope.lookup(node.value)
            if sym is not None and sym.kind == DICT and sym.prefix:
                return sym.prefix
            if sym is not None and sym.kind == NAMESPACE:
                return "args"
            return node.value
        if isinstance(node, cst.Attribute):
            p = self._path(node.value, scope)
            return f"{p}.{node.attr.value}" if p else None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            idx = self.ev.eval(node.slice[0].slice.value, scope)
            p = self._path(node.value, scope)
            if p and idx.kind == SCALAR and isinstance(idx.value, (str, int)) and not isinstance(idx.value, bool):
                return f"{p}.{idx.value}"
        return None


def _union_keys(maps: Iterable[dict[str, Sym]]) -> list[str]:
    """The names set on any branch, in the order the branches set them (never a set's hash order)."""
    return list(dict.fromkeys(name for m in maps for name in m))


def _merged(vals: list[Sym], why: str) -> Sym:
    m = vals[0]
    for v in vals[1:]:
        m = F.merge(m, v, why)
    return m


def _as_name(alias: cst.ImportAlias) -> cst.Name | None:
    """The ``y`` of ``import x as y`` (``None`` without ``as``, or for ``as`` a dotted or starred target)."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name
    return None
