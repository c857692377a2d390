"""Calls in the Python reader's walk: the rules' callables, ``dict(...)`` and friends, the script's own
functions and config classes, and any other call (its arguments are read, its value is unknown).

:class:`CallSites` is the part of the walk (:class:`lrlint.sources.py_analyze.Analyzer`) that evaluates
calls; it uses the walk's state (imports, scopes, emitted keys) declared below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from lrlint.python_rules import PythonTable
from lrlint.sources import py_fold as F
from lrlint.sources.py_calls import Binder, call_arguments
from lrlint.sources.py_cli import CliOptions
from lrlint.sources.py_ctors import Callables
from lrlint.sources.py_eval import Evaluator
from lrlint.sources.py_fold import DICT, LIST, MODULE, NAMESPACE, SCALAR, UNKNOWN_KIND, Sym
from lrlint.sources.py_imports import ImportMap
from lrlint.sources.py_keys import Keys
from lrlint.sources.py_scope import ClassCtx, Scope, dotted
from lrlint.values import EXPRESSION, LITERAL

_COPY_FUNCS = frozenset({"copy.deepcopy", "copy.copy", "deepcopy", "dict.copy"})
_STR_METHODS = ("lower", "upper", "strip")


class CallSites:
    """The call evaluation of the walk."""

    table: PythonTable
    imports: ImportMap
    ev: Evaluator
    cli: CliOptions
    calls: Callables
    keys: Keys
    binder: Binder
    values: dict[str, Sym]
    local_funcs: dict[str, Any]
    local_classes: dict[str, ClassCtx]

    def _emit(self, key: str, sym: Sym, ctor: bool = False) -> None:
        self.keys.emit(key, sym, ctor)

    _path: Callable[[Any, Scope], str | None]  # the walk's method (Analyzer._path): a target's dotted key

    def _call(self, node: cst.Call, scope: Scope, d: int) -> Sym:
        if id(node) in self.calls.built:
            return self.calls.built[id(node)]
        func = node.func
        if self.calls.is_lazy(func):
            return self.calls.lazy(node, func, scope, d)
        name = dotted(func)
        qual = self.imports.resolve(name) if name else ""
        local = name is not None and "." not in name and scope.lookup(name) is not None
        if local and name is not None:  # a name bound to a class (``optimizer_cls = torch.optim.AdamW``)
            alias = self._class_alias(scope.lookup(name))
            if alias is not None:
                name, qual, local = alias, alias, False
        last = qual.rsplit(".", 1)[-1] if qual else (func.attr.value if isinstance(func, cst.Attribute) else "")
        kind = self.table.calls_kind(qual) if qual and not local else None
        self._bind_call(node, name if local else None, kind == "entry", scope, d)
        if kind in ("passthrough", "merge"):
            return self._passthrough(node, kind, scope, d)
        r = self._builtin_call(node, name, qual, last, local, scope, d)
        if r is None and isinstance(func, cst.Attribute):
            r = self._method_call(node, func, last, scope, d)
        if r is None and name and not local:
            r = self.ev.pure_call(node, qual, scope, d) or self.calls.known(node, qual, scope, d)
        if r is not None:
            return r
        if name in self.local_classes and self.local_classes[name].fields:
            return self._config_instance(node, self.local_classes[name], scope, d)
        if name and not local and self.table.config_name is not None and self.table.config_name.search(last):
            return self._foreign_config(node, scope, d)
        return self._opaque_call(node, name, last, scope, d)

    def _class_alias(self, bound: Sym | None) -> str | None:
        """The class a local name is bound to: an imported class, or the first of those an ``if`` chooses
        between when the rules know each as an optimizer of one family."""
        if bound is None:
            return None
        if bound.kind == MODULE and isinstance(bound.value, str) and "." in bound.value:
            return None if bound.value.startswith("<local>.") else bound.value  # a function of the file: its own call
        classes = (bound.extra or {}).get("classes")
        if not classes:
            return None
        from lrlint.profiles import optimizer_table

        families = {optimizer_table().lookup(str(c).rsplit(".", 1)[-1])[1] for c in classes}
        return str(classes[0]) if len(families) == 1 and "unknown" not in families else None

    def _foreign_config(self, node: cst.Call, scope: Scope, d: int) -> Sym:
        """An imported config class called with keywords (``TrainArgs(global_batch_size=128, ...)``): the
        keywords given (its own defaults live in another file)."""
        items = {}
        for a in node.args:
            v = self.ev.eval(a.value, scope, d)
            if a.keyword is not None:
                items[a.keyword.value] = v
            elif a.star == "**" and v.kind == DICT and v.items:
                items.update(v.items)
        return Sym(DICT, None, node, LITERAL, items=items)

    def _bind_call(self, node: cst.Call, local: str | None, entry: bool, scope: Scope, d: int) -> None:
        """What a call passes to the script's own functions (see :mod:`py_calls`)."""
        funcs = self.local_funcs
        if local is not None and local in funcs and scope.lookup(local) is not None:
            self.binder.direct(local, node, [(kw, self.ev.eval(v, scope, d)) for kw, v in call_arguments(node)])
        passed = [
            n
            for _kw, v in call_arguments(node)
            if isinstance(v, cst.Name) and (n := v.value) in funcs and (s := scope.lookup(n)) and s.kind == MODULE
        ]
        if passed:
            args = [
                (kw, v.value if isinstance(v, cst.Name) else None, self.ev.eval(v, scope, d))
                for kw, v in call_arguments(node)
                if not (isinstance(v, cst.Name) and v.value in passed)
            ]
            for n in passed:
                self.binder.passed(n, args, entry)

    def _passthrough(self, node: cst.Call, kind: str, scope: Scope, d: int) -> Sym:
        """``OmegaConf.create(x)`` is x; ``OmegaConf.merge(a, b)`` is the mappings merged in order (an argument
        lrlint cannot read, such as the command line's overrides, leaves the defaults as they are)."""
        args = [self.ev.eval(a.value, scope, d) for a in node.args if a.keyword is None and not a.star]
        if kind == "passthrough":
            return args[0] if args else Sym(DICT, None, node, LITERAL, items={})
        items: dict[str, Sym] = {}
        for a in args:
            if a.kind == DICT and a.items:
                _deep_update(items, a.items)
        return Sym(DICT, None, node, LITERAL, items=items)

    def _builtin_call(
        self, node: cst.Call, name: str | None, qual: str, last: str, local: bool, scope: Scope, d: int
    ) -> Sym | None:
        """``dict(...)``, ``copy.deepcopy(x)``, ``partial(Ctor, ...)``, and the calls that return a namespace."""
        if name == "dict" and not local:
            return Sym(DICT, None, node, LITERAL, items=self._dict_items(node, scope, d))
        if qual in _COPY_FUNCS and node.args:
            return self.ev.eval(node.args[0].value, scope, d)
        if qual in ("functools.partial", "partial") and node.args:
            target = dotted(node.args[0].value)
            if target:
                fake = node.with_changes(func=node.args[0].value, args=node.args[1:])
                r = self.ev.pure_call(fake, self.imports.resolve(target), scope, d)
                r = r or self.calls.known(fake, self.imports.resolve(target), scope, d, original=node)
                if r is not None:
                    return r
        if last in self.table.ns_methods:
            if isinstance(node.func, cst.Attribute):
                self.ev.eval(node.func.value, scope, d)
            ns = Sym(NAMESPACE, None, node)
            if last == "parse_known_args":
                return Sym(LIST, None, node, elems=[ns, F.unknown("unparsed arguments", node)])
            return ns
        return None

    def _method_call(self, node: cst.Call, func: cst.Attribute, last: str, scope: Scope, d: int) -> Sym | None:
        """``x.copy()``, ``parser.set_defaults(...)``, ``parser.add_argument(...)``, ``d.update(...)``,
        ``self.save_hyperparameters()``."""
        if last == "copy" and not node.args:
            return self.ev.eval(func.value, scope, d)
        if last == "set_defaults":
            self.cli.set_defaults(node, scope, self._emit)
            return F.unknown("set_defaults() returns None", node)
        if last in ("add_argument", "add_option"):
            ad = self.cli.argument(node)
            if ad is not None and f"args.{ad.dest}" not in self.values and self.cli.args.get(ad.dest) is ad:
                ad.sym = None
                self._emit(f"args.{ad.dest}", self.cli.default(ad, scope))
            return F.unknown("an argparse action", node)
        if last == "update":
            return self._update(node, func, scope, d)
        if last in self.table.hparams_save and scope.cls is not None:
            scope.cls.hparams.update(scope.params)
            return F.unknown(f"{last}() returns None", node)
        return None

    def _config_instance(self, node: cst.Call, ctx: ClassCtx, scope: Scope, d: int) -> Sym:
        """A local config class called: its fields, overridden by the keywords."""
        items = dict(ctx.fields)
        for a in node.args:
            if a.keyword is not None:
                v = self.ev.eval(a.value, scope, d)
                items[a.keyword.value] = v
                self._emit(f"{ctx.name}.{a.keyword.value}", v)
        return Sym(DICT, None, node, items=items, prefix=ctx.name)

    def _opaque_call(self, node: cst.Call, name: str | None, last: str, scope: Scope, d: int) -> Sym:
        """Any other call: its arguments are evaluated (constructors may hide inside), its value is unknown."""
        func = node.func
        if not isinstance(func, cst.Name):
            self.ev.eval(func, scope, d)
        for a in node.args:
            self.ev.eval(a.value, scope, d)
        if isinstance(func, cst.Attribute) and last in _STR_METHODS and not node.args:
            base = self.ev.eval(func.value, scope, d)
            if base.known and isinstance(base.value, str):
                return Sym(SCALAR, getattr(base.value, last)(), node, EXPRESSION)
        label = name or (last + "()" if last else "a call")
        ns_func = self.table.ns_functions
        if name and name in self.local_funcs and ns_func is not None and ns_func.search(name):
            return Sym(NAMESPACE, None, node)
        u = F.unknown(f"returned by {label}()", node)
        if self.table.batch_like(last):
            return self.ev.ref(u, f"{label}()")
        return u

    def _dict_items(self, node: cst.Call, scope: Scope, d: int) -> dict[str, Sym]:
        """``dict(a=1, **other)`` / ``x.update(...)`` arguments as items (keywords win in order)."""
        items: dict[str, Sym] = {}
        for a in node.args:
            if a.keyword is not None:
                items[a.keyword.value] = self.ev.eval(a.value, scope, d)
            else:
                v = self.ev.eval(a.value, scope, d)
                if v.kind == DICT and v.items:
                    items.update(v.items)
        return items

    def _update(self, node: cst.Call, func: cst.Attribute, scope: Scope, d: int) -> Sym:
        path = self._path(func.value, scope)
        base = self.ev.eval(func.value, scope, d)
        new = self._dict_items(node, scope, d)
        if base.kind == DICT and base.items is not None:
            base.items.update(new)
        if path is not None and base.kind in (DICT, UNKNOWN_KIND, MODULE):
            for k, v in new.items():
                self._emit(f"{path}.{k}", v)
        return F.unknown("update() returns None", node)


def _deep_update(into: dict[str, Sym], new: dict[str, Sym]) -> None:
    for k, v in new.items():
        cur = into.get(k)
        if cur is not None and cur.kind == DICT and v.kind == DICT and cur.items is not None and v.items:
            merged = dict(cur.items)
            _deep_update(merged, v.items)
            into[k] = Sym(DICT, None, v.node, LITERAL, items=merged)
        else:
            into[k] = v
