"""Plain Python config files, read with the standard library's ``ast`` instead of libcst.

A plain file holds only docstrings and module-level ``NAME = <expr>`` assignments, where ``<expr>`` is
made of literals, names, unary and binary operators, lists, tuples, dicts, ``dict(...)`` and MMEngine's
``{{_base_.x}}``: most MMEngine configs. CPython's parser reads such a file about 9x faster than libcst's.
:func:`read` builds the same Syms the libcst walk (:mod:`py_analyze`) builds for it, with the same
folding (:mod:`py_fold`), scope (:mod:`py_scope`) and keys (:mod:`py_keys`), and the spans and comments
libcst's code generation gives (:mod:`py_positions`). It returns None for any other file, and for any
file in which it meets something it does not handle; :mod:`python_source` then runs the libcst walk, so
errors and limits stay the walk's. ``tests/test_py_plain.py`` checks that both give the same Documents.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from lrlint.python_rules import PythonTable
from lrlint.sources import Source
from lrlint.sources import py_fold as F
from lrlint.sources.py_fold import DICT, LIST, SCALAR, Sym
from lrlint.sources.py_keys import Keys
from lrlint.sources.py_scope import Scope
from lrlint.values import LITERAL

# a string literal whose text is longer than its value by more may be many literals joined: libcst nests
# them one level each, so the walk may reach its depth limit (py_fold.MAX_EVAL_DEPTH) inside one
MAX_QUOTES = 90
# a string deeper than this that may be joined goes to the walk (joined, it could reach the limit)
JOINED_DEPTH = F.MAX_EVAL_DEPTH - MAX_QUOTES // 2 - 5

BINARY = {
    ast.Add: "Add",
    ast.Sub: "Subtract",
    ast.Mult: "Multiply",
    ast.Div: "Divide",
    ast.FloorDiv: "FloorDivide",
    ast.Mod: "Modulo",
    ast.Pow: "Power",
    ast.LShift: "LeftShift",
    ast.RShift: "RightShift",
    ast.BitAnd: "BitAnd",
    ast.BitOr: "BitOr",
    ast.BitXor: "BitXor",
    ast.MatMult: "MatrixMultiply",
}
UNARY = {ast.USub: "Minus", ast.UAdd: "Plus", ast.Not: "Not", ast.Invert: "BitInvert"}

# a string literal (any prefix but f) or a comment, whichever starts first: comments outside strings
_STRING_OR_COMMENT = re.compile(
    r"""(?:[rRbBuU]|[rR][bB]|[bB][rR])?(?:'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\""""
    r"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|(\#[^\n]*)""",
    re.S,
)


_COMMENT = re.compile(r"#[^\n]*")
_BLANK = " \t\n\f"


class Unhandled(Exception):
    """Something this reader does not read as the walk does: the file goes to the walk."""


def read(source: Source, tree: ast.Module | None, table: PythonTable, limits: Any) -> tuple[dict, dict, list] | None:
    """(key -> Sym, id(node) -> (start, end) character offsets, [(offset, comment)]) as the walk and
    :func:`py_positions.locate` give them, or None when the file is not plain (``tree``: CPython's parse of
    the source's text when the caller has one)."""
    text = source.text
    if "\r" in text:
        return None
    try:
        if tree is None:
            tree = ast.parse(text)
        return _Reader(text, source.lines.line_starts, table, limits).run(tree)
    except (Unhandled, SyntaxError, ValueError, RecursionError, OverflowError, MemoryError):
        return None


class _Reader:
    def __init__(self, text: str, line_starts: list[int], table: PythonTable, limits: Any) -> None:
        self.text = text
        self.table = table
        self.keys = Keys(table, limits.max_values)
        self.scope = Scope("", {"__name__": F.const("__main__", None)})
        self.lines = _Columns(text, line_starts)

    def run(self, tree: ast.Module) -> tuple[dict, dict, list]:
        if self.table.calls_kind("dict") is not None:
            raise Unhandled
        for st in tree.body:
            if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
                self.eval(st.value, 0)
                continue
            if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
                raise Unhandled
            name = st.targets[0].id
            if name == "dict":
                raise Unhandled  # ``dict(...)`` would call the file's own value
            val = self.eval(st.value, 0)
            self.scope.env[name] = val
            if val.kind == DICT and val.prefix is not None:
                continue  # bound again: already keyed under its first name
            self.keys.emit(self.keys.name_key(name, ""), val)
        values = self.keys.values
        targets = {id(s.node): s.node for s in values.values() if s.node is not None}
        spans = {k: self._span(node) for k, node in targets.items()}
        return values, spans, self._comments() if values else []

    # -- expressions: what py_eval.Evaluator and py_callsite.CallSites give for the same code ------------------
    def eval(self, node: ast.AST, depth: int) -> Sym:
        if depth > F.MAX_EVAL_DEPTH:
            return F.too_deep(node)
        d = depth + 1
        t = type(node)
        if t is ast.Constant:
            return self._constant(node, depth)  # type: ignore[arg-type]
        if t is ast.Name:
            return self._name(node)  # type: ignore[arg-type]
        if t is ast.BinOp:
            op = BINARY[type(node.op)]  # type: ignore[attr-defined]
            left = self.eval(node.left, d)  # type: ignore[attr-defined]
            right = self.eval(node.right, d)  # type: ignore[attr-defined]
            return F.fold_binary(op, left, right, node)
        if t is ast.UnaryOp:
            return F.fold_unary(UNARY[type(node.op)], self.eval(node.operand, d), node)  # type: ignore[attr-defined]
        if t is ast.List or t is ast.Tuple:
            elems = []
            for e in node.elts:  # type: ignore[attr-defined]
                if isinstance(e, ast.Starred):
                    raise Unhandled
                elems.append(self.eval(e, d))
            if t is ast.Tuple and not elems:
                raise Unhandled  # ``()``: libcst spans it empty
            return Sym(LIST, None, node, LITERAL, elems=elems)
        if t is ast.Dict:
            return self._dict(node, d)  # type: ignore[arg-type]
        if t is ast.Call:
            return self._call(node, d)  # type: ignore[arg-type]
        if t is ast.Set:
            return self._set(node)  # type: ignore[arg-type]
        raise Unhandled

    def _constant(self, node: ast.Constant, depth: int) -> Sym:
        v = node.value
        if v is None:
            return Sym(SCALAR, None, node, LITERAL)
        if v is Ellipsis:
            return F.unknown("...", node)
        if isinstance(v, str) and len(v) + (MAX_QUOTES if depth <= JOINED_DEPTH else 2) < self._length(node):
            raise Unhandled  # maybe many strings joined, which the walk reads one nesting level each
        if isinstance(v, (bool, int, float, str)):
            return F.const(v, node)
        raise Unhandled  # bytes, complex

    def _name(self, node: ast.Name) -> Sym:
        name = node.id
        sym = self.scope.lookup(name)
        if sym is None:
            return F.read_through(F.unknown(f"{name} is not defined in this file", node), name, self.table)
        return F.read_through(sym, name, self.table)

    def _dict(self, node: ast.Dict, d: int) -> Sym:
        items: dict[str, Sym] = {}
        for k_node, v_node in zip(node.keys, node.values, strict=True):
            if k_node is None:  # ``**other``
                base = self.eval(v_node, d)
                if base.kind == DICT and base.items:
                    items.update(base.items)
                continue
            k = self.eval(k_node, d)
            v = self.eval(v_node, d)
            if k.kind == SCALAR and isinstance(k.value, (str, int)) and not isinstance(k.value, bool):
                items[str(k.value)] = v
        return Sym(DICT, None, node, LITERAL, items=items)

    def _call(self, node: ast.Call, d: int) -> Sym:
        if not (isinstance(node.func, ast.Name) and node.func.id == "dict"):
            raise Unhandled
        items: dict[str, Sym] = {}
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise Unhandled
            v = self.eval(a, d)
            if v.kind == DICT and v.items:
                items.update(v.items)
        for kw in node.keywords:
            v = self.eval(kw.value, d)
            if kw.arg is not None:
                items[kw.arg] = v
            elif v.kind == DICT and v.items:
                items.update(v.items)
        return Sym(DICT, None, node, LITERAL, items=items)

    def _set(self, node: ast.Set) -> Sym:
        if any(isinstance(n, ast.JoinedStr) for n in ast.walk(node)):
            raise Unhandled  # an f-string may hold quotes and '#' the comment scan does not read
        # MMEngine's {{_base_.x}} substitution is a set of a set
        inner = node.elts[0] if len(node.elts) == 1 else None
        if isinstance(inner, ast.Set) and len(inner.elts) == 1:
            ref = _dotted(inner.elts[0]) or "a base config value"
            return F.unknown(f"substituted from the base config at load time ({{{{{ref}}}}})", node)
        return F.unknown("a set", node)

    def _length(self, node: Any) -> int:
        if node.lineno == node.end_lineno:
            return node.end_col_offset - node.col_offset  # bytes: at least the characters
        return self.lines.offset(node.end_lineno, node.end_col_offset) - self.lines.offset(node.lineno, node.col_offset)

    # -- positions ---------------------------------------------------------------------------------------------
    def _span(self, node: Any) -> tuple[int, int]:
        start = self.lines.offset(node.lineno, node.col_offset)
        end = self.lines.offset(node.end_lineno, node.end_col_offset)
        if isinstance(node, ast.Tuple) and self._own_parens(node, start):
            return self._inside_parens(node, start, end)
        return start, end

    def _inside_parens(self, node: ast.Tuple, start: int, end: int) -> tuple[int, int]:
        """libcst's span of a parenthesized tuple: from its first item to its last item or that item's comma;
        the whitespace and comments next to the parentheses are theirs."""
        text = self.text
        a = start + 1
        while text[a] in _BLANK:
            a += 1
        last = node.elts[-1]
        b = self.lines.offset(last.end_lineno, last.end_col_offset)  # type: ignore[arg-type]
        close = end - 1
        i = b
        while i < close and text[i] in " \t\f)":  # the last item's own closing parentheses
            if text[i] == ")":
                b = i + 1
            i += 1
        if i < close and text[i] == ",":
            b, i = i + 1, i + 1
        if _COMMENT.sub("", text[i:close]).strip(_BLANK):
            raise Unhandled  # a parenthesis or comma after a line break
        return a, b

    def _own_parens(self, node: ast.Tuple, start: int) -> bool:
        """Whether CPython's span of the tuple starts with the tuple's own parenthesis (libcst's excludes it);
        ``(a), b`` starts with its first item's."""
        text = self.text
        first = node.elts[0]
        a = self.lines.offset(first.lineno, first.col_offset)
        b = self.lines.offset(first.end_lineno, first.end_col_offset)  # type: ignore[arg-type]
        comma = text.find(",", b)
        before, after = text[start:a], text[b:comma]
        if comma < 0 or before.strip("( \t\n") or after.strip(") \t\n"):
            raise Unhandled  # a comment or a line continuation between the parentheses
        return before.count("(") > after.count(")")

    def _comments(self) -> list[tuple[int, str]]:
        return [(m.start(1), m.group(1)) for m in _STRING_OR_COMMENT.finditer(self.text) if m.group(1)]


class _Columns:
    """CPython's (line, UTF-8 byte column) as character offsets of the text (``starts``: the first character
    of each line, :attr:`LineIndex.line_starts`)."""

    def __init__(self, text: str, starts: list[int]) -> None:
        self.text = text
        self.ascii = text.isascii()
        self.starts = starts

    def offset(self, line: int, col: int) -> int:
        start = self.starts[line - 1]
        if self.ascii:
            return start + col
        return start + len(self.text[start : start + col].encode("utf-8")[:col].decode("utf-8"))


def _dotted(node: Any) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None (:func:`py_scope.dotted` for ``ast``)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None
