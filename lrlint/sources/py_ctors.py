"""The callables the rules name, matched by table (``python:`` sections of ``rules/frameworks/*.yaml``).

A constructor's arguments become keys under its ``key`` (``optimizer.lr``, ``dataloader.batch_size``,
``trainer.devices``; the document root for ``TrainingArguments``); a second call of the same kind
gets ``optimizer_1.*``. Loaders, environment reads and device counts give unknown values that say
where the value comes from at run time. Detectron2-style lazy calls keep their target.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import libcst as cst

from lrlint.python_rules import Constructor, PythonTable
from lrlint.sources import py_fold as F
from lrlint.sources.py_cli import CliOptions
from lrlint.sources.py_eval import Evaluator
from lrlint.sources.py_fold import DICT, MODULE, NAMESPACE, SCALAR, Sym
from lrlint.sources.py_keys import Keys
from lrlint.sources.py_scope import Scope, dotted
from lrlint.values import DEFAULT, LITERAL


class Callables:
    """Calls of the rules' callables, evaluated to Syms; constructed objects are emitted as keys."""

    def __init__(self, table: PythonTable, ev: Evaluator, keys: Keys, cli: CliOptions, local_classes: dict) -> None:
        self.table = table
        self.ev = ev
        self.keys = keys
        self.cli = cli
        self.local_classes = local_classes
        self.built: dict[int, Sym] = {}  # call node id -> the object it constructed (evaluated once)
        self.hint: str | None = None  # the name the current statement assigns to (``val_loader``)

    def known(self, node: cst.Call, qual: str, scope: Scope, d: int, original: Any = None) -> Sym | None:
        """The value of a call of a callable the rules name; None for any other."""
        t = self.table
        last = qual.rsplit(".", 1)[-1]
        if t.reads_environment(qual):
            args = [self.ev.eval(a.value, scope, d) for a in node.args]
            name = args[0].value if args and args[0].known else "?"
            dflt = f" (default {args[1].value!r} when unset)" if len(args) > 1 and args[1].known else ""
            u = F.unknown(f"read from the environment variable {name}{dflt}", node)
            return self.ev.ref(u, str(name).lower()) if isinstance(name, str) else u
        if t.is_loader(qual):
            for a in node.args:
                self.ev.eval(a.value, scope, d)
            return F.unknown(f"read from a file by {dotted(node.func) or last}()", node)
        if last in t.device_counts:
            u = F.unknown(f"returned by {dotted(node.func)}() at run time", node)
            return self.ev.ref(u, f"{dotted(node.func)}()")
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        ctor = t.constructor(qual, last, keywords)
        if ctor is not None and (ctor.optimizers or last not in self.local_classes):
            return self._construct(ctor, node, qual, scope, d, original)
        if qual in t.parsers or last in t.parsers:
            for a in node.args:
                self.ev.eval(a.value, scope, d)
            return Sym(MODULE, qual, None)
        return None

    def _construct(self, c: Constructor, node: cst.Call, qual: str, scope: Scope, d: int, original: Any) -> Sym:
        last = qual.rsplit(".", 1)[-1]
        func = node.func
        items = self.arguments(node, scope, d, tuple(c.positional))
        for name in c.namespace:
            s = self.cli.lookup(name)
            if s is not None:
                items.setdefault(name, s)
        for name in c.drop:
            items.pop(name, None)
        for name, value in c.defaults.items():
            if name not in items:
                items[name] = Sym(SCALAR, value, func, DEFAULT, f"{last}() default", origin=None)
        if c.type is not None:
            if c.type.argument is None:
                typ = Sym(SCALAR, last, func, LITERAL, f"the {c.key} class {qual}")
            else:
                given = items.pop(c.type.argument, None)
                typ = given or Sym(SCALAR, c.type.default, func, LITERAL, f"{last}() default {c.key}")
            items = {c.type.key: typ, **items}
        key = c.key
        if c.eval is not None:
            first = dotted(node.args[0].value) if node.args and node.args[0].keyword is None else ""
            if self.table.is_eval(c, self.hint or "", first or ""):
                key = c.eval.key
        return self.store(node, key, items, original)

    def store(self, node: Any, base: str, items: dict[str, Sym], original: Any = None) -> Sym:
        """Emit a constructed object's arguments under ``base`` (numbered when repeated); the object's Sym."""
        prefix = self.keys.alloc(base) if base else ""
        for k, v in items.items():
            if v.kind == NAMESPACE or (v.kind == MODULE and v.node is None):
                continue
            self.keys.emit(f"{prefix}.{k}" if prefix else k, v, ctor=True)
        obj = Sym(DICT, None, node, items=items, prefix=prefix or None)
        self.built[id(original or node)] = obj
        return obj

    def arguments(self, node: cst.Call, scope: Scope, d: int, positional: tuple[str | None, ...] = ()) -> dict:
        """Keyword arguments by name, positional ones by the names given, ``**kwargs`` spread when readable."""
        out: dict[str, Sym] = {}
        pos = 0
        for a in node.args:
            if a.keyword is not None:
                out[a.keyword.value] = self.ev.eval(a.value, scope, d)
            elif a.star == "**":
                out.update(self._star_kwargs(a.value, scope, d))
            elif a.star == "*":
                self.ev.eval(a.value, scope, d)
            else:
                name = positional[pos] if pos < len(positional) else None
                pos += 1
                v = self.ev.eval(a.value, scope, d)
                if name:
                    out[name] = v
        return out

    def _star_kwargs(self, node: Any, scope: Scope, d: int) -> dict[str, Sym]:
        # a helper the rules name (timm's **optimizer_kwargs(cfg=args)): the options it reads
        if isinstance(node, cst.Call):
            fields = self.table.kwargs_helpers.get((dotted(node.func) or "").rsplit(".", 1)[-1])
            if fields is not None:
                return {name: s for name in fields if (s := self.cli.lookup(name)) is not None}
        v = self.ev.eval(node, scope, d)
        if v.kind == DICT and v.items:
            return dict(v.items)
        return {}

    # -- lazy calls ------------------------------------------------------------------------------
    def is_lazy(self, func: Any) -> TypeGuard[cst.Call]:
        """``L(x)`` in ``L(x)(...)``: a lazy call the rules name, with its one argument."""
        if not (isinstance(func, cst.Call) and len(func.args) == 1):
            return False
        inner = dotted(func.func)
        if inner is None:
            return False
        names = self.table.lazy_names
        return self.ev.imports.resolve(inner) in names or (inner in names and "." not in inner)

    def lazy(self, node: cst.Call, inner: cst.Call, scope: Scope, d: int) -> Sym:
        """``L(torch.optim.SGD)(lr=0.02)``: the arguments plus the target, kept by whoever assigns it."""
        tnode = inner.args[0].value
        target = dotted(tnode)
        tsym = Sym(SCALAR, self.ev.imports.resolve(target) if target else "?", tnode, LITERAL)
        items = {self.table.lazy_target: tsym, **self.arguments(node, scope, d)}
        obj = Sym(DICT, None, node, items=items)
        self.built[id(node)] = obj
        return obj

    def target_of_import(self, name: str, node: Any) -> None:
        """``from ..common.optim import SGD as optimizer`` then ``optimizer.lr = ...``: the optimizer is SGD."""
        key = f"{name}.{self.table.lazy_target}"
        if key in self.keys.values:
            return
        qual = self.ev.imports.resolve(name)
        last = qual.rsplit(".", 1)[-1]
        if self.table.is_optimizer(last) or self.table.is_optimizer(qual):
            self.keys.values[key] = Sym(SCALAR, last, node, LITERAL, f"imported as {qual}", origin=key)
