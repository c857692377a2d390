"""Symbolic evaluation of Python expressions: literals, names, attributes, items, operators.

Nothing is executed: each expression becomes a :class:`~lrlint.sources.py_fold.Sym` (a known
constant, a dict/list of Syms, a namespace, an imported name, or unknown with the reason), and
the batch dependence of a value read through a batch-like name rides along (``Sym.scale``). Calls
are handed back to the walker (``call``), which knows the statements and the rules' callables;
math and builtins on constants fold here (:meth:`Evaluator.pure_call`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import libcst as cst

from lrlint.python_rules import PythonTable
from lrlint.sources import py_fold as F
from lrlint.sources.py_cli import CliOptions
from lrlint.sources.py_fold import DICT, LIST, MODULE, NAMESPACE, SCALAR, UNKNOWN_KIND, Sym
from lrlint.sources.py_imports import ImportMap
from lrlint.sources.py_scope import Scope, dotted, op_name
from lrlint.values import EXPRESSION, LITERAL

MAX_EVAL_DEPTH = F.MAX_EVAL_DEPTH

Call = Callable[[cst.Call, Scope, int], Sym]
Bind = Callable[[Any, Sym, Scope], None]

_MATH_MODULES = ("math", "numpy", "np")


def plain_string(literal: str) -> str | None:
    """The value of a quoted string literal without a prefix, escapes or carriage returns (most config
    strings: read without compiling them); None for any other literal."""
    q = literal[:1]
    if q not in ("'", '"') or "\\" in literal or "\r" in literal:
        return None
    n = 3 if len(literal) >= 6 and literal.startswith(q * 3) else 1
    return literal[n:-n]


class Evaluator:
    """Expressions to Syms in a scope; ``call`` evaluates calls, ``bind`` binds a walrus target."""

    def __init__(
        self, module: cst.Module, table: PythonTable, imports: ImportMap, cli: CliOptions, call: Call, bind: Bind
    ) -> None:
        self.module = module
        self.table = table
        self.imports = imports
        self.cli = cli
        self.call = call
        self.bind = bind
        self._by_type: dict[type, Callable[[Any, Scope, int], Sym]] = {
            cst.Integer: self._integer,
            cst.Float: self._float,
            cst.SimpleString: self._string,
            cst.Name: self._name,
            cst.Attribute: self._attribute,
            cst.BinaryOperation: self._binary,
            cst.UnaryOperation: self._unary,
            cst.Call: self.call,
            cst.List: self._sequence,
            cst.Tuple: self._sequence,
            cst.Dict: self._dict,
            cst.ConcatenatedString: self._concatenated,
            cst.FormattedString: lambda n, s, d: F.unknown("an f-string (lrlint does not evaluate f-strings)", n),
            cst.Comparison: self._comparison,
            cst.BooleanOperation: self._boolean,
            cst.IfExp: self._ifexp,
            cst.Subscript: self._subscript,
            cst.Set: self._set,
            cst.NamedExpr: self._walrus,
            cst.Ellipsis: lambda n, s, d: F.unknown("...", n),
        }

    def eval(self, node: Any, scope: Scope, depth: int = 0) -> Sym:
        if depth > MAX_EVAL_DEPTH:
            return F.too_deep(node)
        handler = self._by_type.get(type(node))
        if handler is None:
            return F.unknown("an expression lrlint does not evaluate", node)
        return handler(node, scope, depth + 1)

    # -- batch dependence and namespaces ---------------------------------------------------------
    def ref(self, sym: Sym, label: str) -> Sym:
        """A value read through a batch-like name depends on the batch."""
        return F.read_through(sym, label, self.table)

    def is_namespace(self, node: Any, scope: Scope) -> bool:
        """Whether ``node`` names parsed command-line options (``args``, ``self.opt``)."""
        if isinstance(node, cst.Name):
            sym = scope.lookup(node.value)
            if sym is not None:
                if sym.kind == NAMESPACE:
                    return True
                if sym.kind in (DICT, LIST, SCALAR, MODULE):
                    return False
            if node.value in self.imports.names:
                return False
            return node.value in self.table.ns_names
        if isinstance(node, cst.Attribute):  # a one-letter attribute (``x.a``) is too common to be one
            return node.attr.value in self.table.ns_names and len(node.attr.value) > 1
        return False

    # -- literals --------------------------------------------------------------------------------
    def _integer(self, node: cst.Integer, scope: Scope, d: int) -> Sym:
        try:
            return F.const(int(node.value.replace("_", ""), 0), node)
        except ValueError:
            return F.unknown("unreadable integer", node)

    def _float(self, node: cst.Float, scope: Scope, d: int) -> Sym:
        try:
            return F.const(float(node.value.replace("_", "")), node)
        except ValueError:
            return F.unknown("unreadable number", node)

    def _string(self, node: cst.SimpleString, scope: Scope, d: int) -> Sym:
        plain = plain_string(node.value)
        if plain is not None:
            return F.const(plain, node)
        try:
            v = ast.literal_eval(node.value)
        except (ValueError, SyntaxError, MemoryError):
            return F.unknown("unreadable string", node)
        return F.const(v, node) if isinstance(v, str) else F.unknown("a bytes literal", node)

    def _concatenated(self, node: cst.ConcatenatedString, scope: Scope, d: int) -> Sym:
        left = self.eval(node.left, scope, d)
        right = self.eval(node.right, scope, d)
        if left.known and right.known and isinstance(left.value, str) and isinstance(right.value, str):
            return F.const(left.value + right.value, node)
        return F.unknown("a string lrlint cannot read", node)

    def _sequence(self, node: Any, scope: Scope, d: int) -> Sym:
        elems = []
        for e in node.elements:
            if isinstance(e, cst.StarredElement):
                self.eval(e.value, scope, d)
                return F.unknown("a list built with *unpacking", node)
            elems.append(self.eval(e.value, scope, d))
        return Sym(LIST, None, node, LITERAL, elems=elems)

    def _dict(self, node: cst.Dict, scope: Scope, d: int) -> Sym:
        items: dict[str, Sym] = {}
        for e in node.elements:
            if isinstance(e, cst.StarredDictElement):
                base = self.eval(e.value, scope, d)
                if base.kind == DICT and base.items:
                    items.update(base.items)
                continue
            if isinstance(e, cst.DictElement):
                k = self.eval(e.key, scope, d)
                v = self.eval(e.value, scope, d)
                if k.kind == SCALAR and isinstance(k.value, (str, int)) and not isinstance(k.value, bool):
                    items[str(k.value)] = v
        return Sym(DICT, None, node, LITERAL, items=items)

    def _set(self, node: cst.Set, scope: Scope, d: int) -> Sym:
        # MMEngine's {{_base_.x}} substitution is a set of a set
        inner = node.elements[0].value if len(node.elements) == 1 else None
        if isinstance(inner, cst.Set) and len(inner.elements) == 1:
            ref = dotted(inner.elements[0].value) or "a base config value"
            return F.unknown(f"substituted from the base config at load time ({{{{{ref}}}}})", node)
        return F.unknown("a set", node)

    # -- operators -------------------------------------------------------------------------------
    def _binary(self, node: cst.BinaryOperation, scope: Scope, d: int) -> Sym:
        left = self.eval(node.left, scope, d)
        right = self.eval(node.right, scope, d)
        return F.fold_binary(op_name(node.operator), left, right, node)

    def _unary(self, node: cst.UnaryOperation, scope: Scope, d: int) -> Sym:
        return F.fold_unary(op_name(node.operator), self.eval(node.expression, scope, d), node)

    def _comparison(self, node: cst.Comparison, scope: Scope, d: int) -> Sym:
        left = self.eval(node.left, scope, d)
        result: bool | None = True
        for comp in node.comparisons:
            right = self.eval(comp.comparator, scope, d)
            r = F.compare(op_name(comp.operator), left, right)
            if r is None:
                result = None
            elif result is not None:
                result = result and r
            left = right
        if result is None:
            return F.unknown("a comparison lrlint cannot decide", node)
        return Sym(SCALAR, result, node, EXPRESSION)

    def _boolean(self, node: cst.BooleanOperation, scope: Scope, d: int) -> Sym:
        left = self.eval(node.left, scope, d)
        lt = F.truth(left)
        is_and = isinstance(node.operator, cst.And)
        if lt is not None and lt is not is_and:
            return left
        right = self.eval(node.right, scope, d)
        if lt is not None:
            return right
        return F.unknown("a condition lrlint cannot decide", node)

    def _ifexp(self, node: cst.IfExp, scope: Scope, d: int) -> Sym:
        test = F.truth(self.eval(node.test, scope, d))
        if test is True:
            return self.eval(node.body, scope, d)
        if test is False:
            return self.eval(node.orelse, scope, d)
        a = self.eval(node.body, scope, d)
        b = self.eval(node.orelse, scope, d)
        return F.merge(a, b, f"chosen at run time by `{self.module.code_for_node(node.test)[:80]}`")

    def _walrus(self, node: cst.NamedExpr, scope: Scope, d: int) -> Sym:
        v = self.eval(node.value, scope, d)
        self.bind(node.target, v, scope)
        return v

    # -- names -----------------------------------------------------------------------------------
    def _name(self, node: cst.Name, scope: Scope, d: int = 0) -> Sym:
        name = node.value
        if name == "True":
            return F.const(True, node)
        if name == "False":
            return F.const(False, node)
        if name == "None":
            return Sym(SCALAR, None, node, LITERAL)
        sym = scope.lookup(name)
        if sym is None and scope.cls is not None and name in scope.cls.fields:
            sym = scope.cls.fields[name]
        if sym is None:
            if name in self.imports.names:
                return Sym(MODULE, self.imports.resolve(name), node)
            why = f"{name} comes from a star import" if self.imports.star else f"{name} is not defined in this file"
            return self.ref(F.unknown(why, node), name)
        return self.ref(sym, name)

    def _self_namespace(self, node: cst.Attribute, scope: Scope) -> Sym | None:
        """``self.hparams.lr`` / ``self.cfg.lr`` inside a method: saved hyperparameters, options, or unknown."""
        value = node.value
        if not (
            scope.cls is not None
            and isinstance(value, cst.Attribute)
            and isinstance(value.value, cst.Name)
            and value.value.value == "self"
            and value.attr.value in self.table.self_namespaces
        ):
            return None
        attr, label = node.attr.value, dotted(node) or node.attr.value
        holder = scope.cls.hparams if value.attr.value in self.table.hparams_attributes else {}
        if attr in holder:
            return self.ref(holder[attr], label)
        inner = scope.cls.self_env.get(value.attr.value)
        if inner is not None and inner.kind == DICT and inner.items and attr in inner.items:
            return self.ref(inner.items[attr], label)
        ns = self.cli.lookup(attr)
        if ns is not None:
            return self.ref(ns, label)
        return self.ref(F.unknown(f"{label} is set at run time", node), label)

    def _attribute(self, node: cst.Attribute, scope: Scope, d: int) -> Sym:
        attr = node.attr.value
        label = dotted(node) or attr
        value = node.value
        if (
            scope.cls is not None
            and isinstance(value, cst.Name)
            and value.value == "self"
            and attr in scope.cls.self_env
        ):
            return self.ref(scope.cls.self_env[attr], label)
        own = self._self_namespace(node, scope)
        if own is not None:
            return own
        base = self.eval(value, scope, d)
        if base.kind == MODULE:
            return Sym(MODULE, f"{base.value}.{attr}", node)
        if base.kind == DICT and base.items is not None:
            if attr in base.items:
                return self.ref(base.items[attr], label)
            return self.ref(F.unknown(f"{label} is not set in this file", node), label)
        if base.kind == SCALAR and isinstance(base.value, str):
            return F.unknown("a method of a string", node)
        if base.kind == NAMESPACE or (base.kind == UNKNOWN_KIND and self.is_namespace(value, scope)):
            ns = self.cli.lookup(attr)
            if ns is not None:
                return self.ref(ns, label)
            why = f"{label} is not an option defined in this file"
        elif base.kind == UNKNOWN_KIND:
            why = (
                f"{label} is an attribute of a value lrlint cannot read ({base.why})"
                if base.why
                else f"{label} is not known statically"
            )
        else:
            why = f"{label} is not known statically"
        return self.ref(F.unknown(why, node), label)

    def _subscript(self, node: cst.Subscript, scope: Scope, d: int) -> Sym:
        base = self.eval(node.value, scope, d)
        idx = None
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            idx = self.eval(node.slice[0].slice.value, scope, d)
        label = dotted(node.value) or "a value"
        if base.kind == MODULE and base.value in ("os.environ", "environ"):
            name = idx.value if idx is not None and idx.known else "?"
            u = F.unknown(f"read from the environment variable {name}", node)
            return self.ref(u, str(name).lower()) if isinstance(name, str) else u
        if base.kind == MODULE and base.value == "sys.argv":
            return F.unknown("read from the command line (sys.argv)", node)
        if idx is not None and idx.known:
            found = self._item(base, idx.value, label, node)
            if found is not None:
                return found
        return F.unknown(f"an item of {label}", node)

    def _item(self, base: Sym, key: Any, label: str, node: Any) -> Sym | None:
        if base.kind == DICT and base.items is not None and str(key) in base.items:
            return self.ref(base.items[str(key)], str(key))
        if (
            base.kind == LIST
            and base.elems is not None
            and isinstance(key, int)
            and -len(base.elems) <= key < len(base.elems)
        ):
            return base.elems[key]
        if base.kind == NAMESPACE and isinstance(key, str):
            ns = self.cli.lookup(key)
            if ns is not None:
                return self.ref(ns, key)
        if base.kind == UNKNOWN_KIND:
            u = F.unknown(f"{label}[{key!r}] is read from a value lrlint cannot read ({base.why})", node)
            return self.ref(u, str(key)) if isinstance(key, str) else u
        return None

    # -- pure calls ------------------------------------------------------------------------------
    def pure_call(self, node: cst.Call, qual: str, scope: Scope, d: int) -> Sym | None:
        """``math.sqrt(x)``, ``int(x)``, ``max(a, b)`` folded on their arguments; None for any other call."""
        last = qual.rsplit(".", 1)[-1]
        if "." in qual and qual.rsplit(".", 1)[0] in _MATH_MODULES and last in F.MATH_FUNCS:
            args = [self.eval(a.value, scope, d) for a in node.args]
            return F.fold_call(last, args, node, F.MATH_FUNCS[last])
        if qual in F.BUILTIN_FUNCS and qual not in self.imports.names:
            args = [self.eval(a.value, scope, d) for a in node.args if a.keyword is None and not a.star]
            if qual in ("min", "max") and len(args) == 1:
                return F.unknown(f"{qual}() of a collection", node)
            return F.fold_call(qual, args, node, F.BUILTIN_FUNCS[qual])
        return None
