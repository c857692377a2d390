"""Editing MMEngine-style Python configs: set a dotted key in ``name = dict(...)`` assignments.

The file is read with ``ast`` (nothing is executed); the edit is a byte replacement (``Edit``) applied
by ``--fix``.
"""

from __future__ import annotations

import ast

from lrlint.findings import Edit
from lrlint.sources import Source
from lrlint.spans import Span


def _span_at(src: Source, char: int) -> Span:
    return src.lines.span(src.path, char, char)


def _calls_read_base(node) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id == "read_base") or (isinstance(f, ast.Attribute) and f.attr == "read_base")


def override(src: Source, dotted: str, content: str) -> Edit | None:
    """An edit that sets ``dotted`` in an MMEngine-style Python config (``name = dict(...)``).

    ``optim_wrapper.optimizer.lr`` in a child without ``optim_wrapper`` appends
    ``optim_wrapper = dict(optimizer=dict(lr=...))`` (MMEngine merges it into the base's dict), or, in a
    pure-Python config whose bases come from ``with read_base():`` (where an assignment would replace
    the inherited dict), ``optim_wrapper.optimizer.lr = ...``; an existing ``dict(...)`` gets the missing
    keyword added in place, an existing ``lr=`` is replaced.
    Nothing is executed: the file is read with ``ast``. None where the shape is not plain dict calls.
    """
    try:
        tree = ast.parse(src.text)
    except SyntaxError:
        return None
    parts = dotted.split(".")
    target = None
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == parts[0]
        ):
            target = stmt
    if target is None:
        return _append(src, tree, parts, content)
    return _set_in_dict(src, target.value, parts, content)


def _append(src: Source, tree: ast.Module, parts: list[str], content: str) -> Edit:
    """A new statement at the end of the file: an attribute assignment under ``read_base()`` bases, else
    ``name = dict(...)``."""
    text = src.text
    prefix = "" if not text or text.endswith("\n") else "\n"
    if any(isinstance(st, ast.With) and any(_calls_read_base(i.context_expr) for i in st.items) for st in tree.body):
        return Edit(_span_at(src, len(text)), f"{prefix}{'.'.join(parts)} = {content}\n")
    value = content
    for p in reversed(parts[1:]):
        value = f"dict({p}={value})"
    return Edit(_span_at(src, len(text)), f"{prefix}{parts[0]} = {value}\n")


def prepend(src: Source, name: str, item: str) -> list[Edit] | None:
    """Put ``item`` first in the list of the file's last top-level ``name = [...]`` (one line of its own,
    indented like the list's first item, in a list written over several lines); a single ``name = dict(...)``
    becomes ``[item, dict(...)]``. None where the file does not assign ``name`` a list or a ``dict(...)``."""
    try:
        tree = ast.parse(src.text)
    except SyntaxError:
        return None
    value = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and [getattr(t, "id", None) for t in stmt.targets] == [name]:
            value = stmt.value
    if isinstance(value, ast.List):
        start = _char_of(src, value.lineno, value.col_offset) + 1  # after "["
        if not value.elts:
            return [Edit(_span_at(src, start), item)]
        first = value.elts[0]
        if first.lineno != value.lineno:  # one item per line: a line of its own, same indentation
            line_start = src.lines.line_starts[first.lineno - 1]
            indent = src.text[line_start : _char_of(src, first.lineno, first.col_offset)]
            if indent.strip():
                return None
            return [Edit(_span_at(src, line_start), f"{indent}{item},\n")]
        return [Edit(_span_at(src, start), f"{item}, ")]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        s, e = _char_of(src, value.lineno, value.col_offset), _char_of(src, value.end_lineno, value.end_col_offset)
        return [Edit(_span_at(src, s), f"[{item}, "), Edit(_span_at(src, e), "]")]
    return None


def _set_in_dict(src: Source, node: ast.expr, parts: list[str], content: str) -> Edit | None:
    """Replace the keyword's value, or add the missing keyword (nested ``dict(...)`` calls) before ``)``."""
    text = src.text
    for i, part in enumerate(parts[1:], start=1):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"):
            return None
        if node.args:
            return None
        kw = next((k for k in node.keywords if k.arg == part), None)
        if kw is None:
            close = _char_of(src, node.end_lineno, node.end_col_offset) - 1  # the closing parenthesis
            if text[close] != ")":
                return None
            before = text[:close].rstrip()
            if before.endswith("("):
                sep = ""
            elif before.endswith(","):
                sep = "" if text[close - 1].isspace() else " "
            else:
                sep = ", "
            return Edit(_span_at(src, close), sep + _nested_keyword(parts[i:], content))
        if i == len(parts) - 1:
            v = kw.value
            s, e = _char_of(src, v.lineno, v.col_offset), _char_of(src, v.end_lineno, v.end_col_offset)
            return Edit(src.lines.span(src.path, s, e), content)
        node = kw.value
    return None


def _char_of(src: Source, lineno: int | None, col: int | None) -> int:
    """The character offset of an ``ast`` position (a line and a UTF-8 byte column)."""
    assert lineno is not None and col is not None
    line = src.lines.line_text(lineno) if lineno <= len(src.lines.line_starts) else ""
    return src.lines.line_starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))


def _nested_keyword(rest: list[str], content: str) -> str:
    out = content
    for p in reversed(rest[1:]):
        out = f"dict({p}={out})"
    return f"{rest[0]}={out}"
