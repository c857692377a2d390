"""Symbolic values for the Python reader: constants, folding, and batch dependence.

Nothing here imports libcst: a :class:`Sym` only holds a reference to the node
whose span the value will carry (resolved to a position after the walk).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any

from lrlint.values import ARGPARSE, EXPRESSION, LITERAL, STRING, UNKNOWN

# Kinds of symbolic value.
SCALAR = "scalar"  # a known int/float/str/bool/None
UNKNOWN_KIND = "unknown"
DICT = "dict"  # dict(...) / {...} / a constructed object's keyword arguments
LIST = "list"  # [...] / (...)
NAMESPACE = "ns"  # the result of parse_args() and friends
MODULE = "module"  # an imported module/class/function (value = qualified name)

MAX_INT_BITS = 4096  # folding stops at integers wider than this
MAX_EVAL_DEPTH = 150  # an expression nested deeper is not evaluated (its value is unknown)
MAX_STR = 10_000  # and at strings longer than this


@dataclass(eq=False, slots=True)
class Scale:
    """How a value depends on batch-like quantities: factor -> exponent.

    A factor is ``(label, key)``: ``label`` is how the source names it
    (``args.batch_size``, ``dist.get_world_size()``), ``key`` the document key of
    the value it comes from, or None when lrlint cannot read it (a run-time call).
    """

    deps: dict[tuple[str, str | None], float]
    alternatives: tuple[float, ...] = ()  # several exponents, chosen at run time (timm: sqrt for ada*)
    conditional: bool = False  # only on some branch of an undecidable ``if``

    def exponent(self) -> float:
        exps = [e for e in self.deps.values() if e]
        if not exps:
            return 0.0
        if len(set(exps)) == 1:
            return exps[0]
        for (label, _), e in self.deps.items():
            if e and re.search(r"batch|(?:^|[._])bsz?$", label, re.I):
                return e
        return max(exps, key=abs)


@dataclass(eq=False, slots=True)
class Sym:
    kind: str
    value: Any = None
    node: Any = None  # libcst node whose span the value carries
    prov: str = LITERAL
    why: str = ""
    items: dict[str, Sym] | None = None  # DICT
    elems: list[Sym] | None = None  # LIST
    scale: Scale | None = None
    origin: str | None = None  # document key this value is read from (``args.lr``)
    prefix: str | None = None  # key prefix a DICT was emitted under
    text: str = ""  # source text of a folded expression (filled lazily)
    extra: dict | None = None  # carried into ``Value.extra`` (``names`` of a ``read_base()`` import)

    @property
    def known(self) -> bool:
        return self.kind == SCALAR

    @property
    def number(self) -> float | int | None:
        v = self.value
        if self.kind != SCALAR or isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return v


def const(value: Any, node: Any, prov: str | None = None) -> Sym:
    if prov is None:
        prov = STRING if isinstance(value, str) else LITERAL
    return Sym(SCALAR, value, node, prov)


def unknown(why: str, node: Any = None, scale: Scale | None = None) -> Sym:
    return Sym(UNKNOWN_KIND, None, node, UNKNOWN, why, scale=scale)


def too_deep(node: Any) -> Sym:
    """The value of an expression nested past ``MAX_EVAL_DEPTH``."""
    return unknown(f"expression nested more than {MAX_EVAL_DEPTH} levels deep", node)


def read_through(sym: Sym, label: str, table: Any) -> Sym:
    """``sym`` read through the name ``label``: a value read through a batch-like name depends on the batch
    (``table``: the rules' :class:`~lrlint.python_rules.PythonTable`)."""
    if sym.scale is None and sym.kind in (SCALAR, UNKNOWN_KIND) and table.batch_like(label):
        return Sym(
            sym.kind, sym.value, sym.node, sym.prov, sym.why, scale=Scale({(label, sym.origin): 1.0}), origin=sym.origin
        )
    return sym


def _combine(a: Scale | None, b: Scale | None, sign: float) -> Scale | None:
    if a is None and b is None:
        return None
    deps: dict = dict(a.deps) if a else {}
    if b is not None:
        for k, e in b.deps.items():
            deps[k] = deps.get(k, 0.0) + sign * e
    deps = {k: e for k, e in deps.items() if abs(e) > 1e-12}
    if not deps:
        return None
    alts = (a.alternatives if a else ()) or (b.alternatives if b else ())
    cond = bool((a and a.conditional) or (b and b.conditional))
    return Scale(deps, alts, cond)


def _power(a: Scale | None, p: float) -> Scale | None:
    if a is None or p == 0:
        return None
    return Scale({k: e * p for k, e in a.deps.items()}, tuple(x * p for x in a.alternatives), a.conditional)


def _sum(a: Scale | None, b: Scale | None) -> Scale | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.deps == b.deps else (a if len(a.deps) >= len(b.deps) else b)


# --- folding ----------------------------------------------------------------


def _ok_number(x: Any) -> bool:
    if isinstance(x, bool):
        return True
    if isinstance(x, int):
        return x.bit_length() <= MAX_INT_BITS
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, str):
        return len(x) <= MAX_STR
    return x is None


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if abs(b) > 4096:
            raise OverflowError
        if (
            isinstance(a, int)
            and isinstance(b, int)
            and b > 0
            and a not in (0, 1, -1)
            and b * max(1, abs(a).bit_length()) > MAX_INT_BITS
        ):
            raise OverflowError
        r = a**b
        if isinstance(r, complex):
            raise ValueError
        return r
    raise TypeError


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, str) or isinstance(b, str):
        n = b if isinstance(a, str) else a
        s = a if isinstance(a, str) else b
        if not isinstance(n, int) or len(s) * max(n, 0) > MAX_STR:
            raise OverflowError
    return a * b


def _lshift(a: Any, b: Any) -> Any:
    if not isinstance(b, int) or b > MAX_INT_BITS:
        raise OverflowError
    return a << b


BINARY = {
    "Add": operator.add,
    "Subtract": operator.sub,
    "Multiply": _mul,
    "Divide": operator.truediv,
    "FloorDivide": operator.floordiv,
    "Modulo": operator.mod,
    "Power": _pow,
    "LeftShift": _lshift,
    "RightShift": operator.rshift,
    "BitAnd": operator.and_,
    "BitOr": operator.or_,
    "BitXor": operator.xor,
}
SYMBOL = {
    "Add": "+",
    "Subtract": "-",
    "Multiply": "*",
    "Divide": "/",
    "FloorDivide": "//",
    "Modulo": "%",
    "Power": "**",
    "LeftShift": "<<",
    "RightShift": ">>",
    "BitAnd": "&",
    "BitOr": "|",
    "BitXor": "^",
    "MatrixMultiply": "@",
}


def fold_binary(op: str, a: Sym, b: Sym, node: Any) -> Sym:
    """``a <op> b``: the folded number when both are known, the batch dependence either way."""
    if op in ("Multiply",):
        scale = _combine(a.scale, b.scale, 1.0)
    elif op in ("Divide", "FloorDivide"):
        scale = _combine(a.scale, b.scale, -1.0)
    elif op == "Power":
        p = b.number
        scale = _power(a.scale, float(p)) if p is not None and a.scale is not None else None
    elif op in ("Add", "Subtract"):
        scale = _sum(a.scale, b.scale)
    else:
        scale = None
    if a.known and b.known and op in BINARY:
        try:
            r = BINARY[op](a.value, b.value)
        except (ArithmeticError, TypeError, ValueError):
            r = _FAIL
        if r is not _FAIL and _ok_number(r):
            return Sym(SCALAR, r, node, EXPRESSION, "", scale=scale)
    why = a.why if not a.known else (b.why if not b.known else f"cannot fold {SYMBOL.get(op, op)}")
    return unknown(why, node, scale)


_FAIL = object()


def fold_unary(op: str, a: Sym, node: Any) -> Sym:
    if a.known:
        v = a.value
        try:
            if op == "Minus":
                r = -v
            elif op == "Plus":
                r = +v
            elif op == "Not":
                r = not v
            elif op == "BitInvert":
                r = ~v
            else:
                r = _FAIL
        except TypeError:
            r = _FAIL
        if r is not _FAIL:
            # ``-1`` is a literal as written; keep LITERAL for a negated literal
            prov = a.prov if (a.prov == LITERAL and a.node is not None and op in ("Minus", "Plus")) else EXPRESSION
            return Sym(SCALAR, r, node, prov, "", scale=a.scale if op in ("Minus", "Plus") else None)
    return unknown(a.why or "cannot fold", node, a.scale if op in ("Minus", "Plus") else None)


MATH_FUNCS: dict[str, Any] = {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "ceil": math.ceil,
    "floor": math.floor,
    "pow": _pow,
    "fabs": math.fabs,
    "trunc": math.trunc,
}
BUILTIN_FUNCS: dict[str, Any] = {
    "int": int,
    "float": float,
    "round": round,
    "abs": abs,
    "min": min,
    "max": max,
    "pow": _pow,
    "bool": bool,
    "str": str,
}
# exponent applied to the batch dependence of the first argument
FUNC_POWER = {
    "sqrt": 0.5,
    "int": 1.0,
    "float": 1.0,
    "round": 1.0,
    "abs": 1.0,
    "ceil": 1.0,
    "floor": 1.0,
    "trunc": 1.0,
    "fabs": 1.0,
    "min": 1.0,
    "max": 1.0,
}


def fold_call(fname: str, args: list[Sym], node: Any, func: Any) -> Sym:
    """A pure math/builtin call (``math.sqrt``, ``int()``, ``max()``) on folded arguments."""
    scale = None
    if fname in ("pow",) and len(args) == 2 and args[1].number is not None:
        scale = _power(args[0].scale, float(args[1].number))
    elif fname in FUNC_POWER and args:
        first = next((a for a in args if a.scale is not None), None)
        scale = _power(first.scale, FUNC_POWER[fname]) if first is not None else None
    if args and all(a.known for a in args):
        try:
            r = func(*[a.value for a in args])
        except (ArithmeticError, TypeError, ValueError):
            r = _FAIL
        if r is not _FAIL and _ok_number(r):
            if (
                fname in ("int", "float")
                and len(args) == 1
                and args[0].known
                and args[0].prov in (LITERAL, ARGPARSE)
                and not isinstance(args[0].value, str)
            ):
                return Sym(SCALAR, r, args[0].node, args[0].prov, args[0].why, scale=scale, origin=args[0].origin)
            return Sym(SCALAR, r, node, EXPRESSION, "", scale=scale)
    bad = next((a for a in args if not a.known), None)
    return unknown(bad.why if bad is not None and bad.why else f"cannot fold {fname}()", node, scale)


def compare(op: str, a: Sym, b: Sym) -> bool | None:
    """Fold a comparison when both sides are known (``args.lr is None``)."""
    if not (a.known and b.known):
        return None
    x, y = a.value, b.value
    try:
        if op == "Is":
            return x is y if (x is None or y is None or isinstance(x, bool)) else x == y
        if op == "IsNot":
            return not (x is y if (x is None or y is None or isinstance(x, bool)) else x == y)
        if op == "Equal":
            return x == y
        if op == "NotEqual":
            return x != y
        if op == "LessThan":
            return x < y
        if op == "LessThanEqual":
            return x <= y
        if op == "GreaterThan":
            return x > y
        if op == "GreaterThanEqual":
            return x >= y
        if op == "In":
            return x in y if isinstance(y, str) else None
        if op == "NotIn":
            return x not in y if isinstance(y, str) else None
    except TypeError:
        return None
    return None


def truth(sym: Sym) -> bool | None:
    """The truth value of a condition, or None when lrlint cannot decide it."""
    if sym.kind == SCALAR:
        return bool(sym.value)
    if sym.kind in (DICT, LIST):
        return bool(sym.items) if sym.kind == DICT else bool(sym.elems)
    return None


def _exponents(s: Scale | None) -> tuple[float, ...]:
    if s is None:
        return ()
    return s.alternatives or (s.exponent(),)


def merge(a: Sym, b: Sym, why: str) -> Sym:
    """The value of a name after an ``if`` lrlint cannot decide: equal values survive."""
    if a is b:
        return a
    if a.kind == MODULE and b.kind == MODULE:  # a class chosen by branch (``optimizer_cls = bnb...PagedAdamW``)
        if a.value == b.value:
            return a
        return Sym(UNKNOWN_KIND, None, b.node, UNKNOWN, why, extra={"classes": (a.value, b.value)})
    if (
        a.kind == SCALAR
        and b.kind == SCALAR
        and type(a.value) is type(b.value)
        and a.value == b.value
        and a.scale is None
        and b.scale is None
    ):
        return a
    sa, sb = a.scale, b.scale
    scale = None
    base = sa if sa is not None else sb
    if base is not None:
        exps = sorted({*_exponents(sa), *_exponents(sb)})
        deps = dict(base.deps)
        if sa is not None and sb is not None:
            for k, e in sb.deps.items():
                deps.setdefault(k, e)
        scale = Scale(
            deps, tuple(exps) if len(exps) > 1 else (), conditional=(sa is None or sb is None) or base.conditional
        )
    return Sym(UNKNOWN_KIND, None, b.node if b.node is not None else a.node, UNKNOWN, why, scale=scale)
