"""Scopes of the Python reader's walk, and small helpers on libcst nodes."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from lrlint.sources.py_fold import Sym


@dataclass
class ClassCtx:
    """A class being read: ``self.x`` assignments, saved hyperparameters and config fields."""

    name: str
    self_env: dict[str, Sym] = field(default_factory=dict)
    hparams: dict[str, Sym] = field(default_factory=dict)
    fields: dict[str, Sym] = field(default_factory=dict)


@dataclass
class Scope:
    """Names bound in the module or one function (``name`` is "" for the module)."""

    name: str
    env: dict[str, Sym]
    parent: Scope | None = None
    cls: ClassCtx | None = None
    params: dict[str, Sym] = field(default_factory=dict)
    loop: int = 0

    def lookup(self, name: str) -> Sym | None:
        s: Scope | None = self
        while s is not None:
            v = s.env.get(name)
            if v is not None:
                return v
            s = s.parent
        return None

    def rebind(self, name: str, sym: Sym) -> None:
        """Bind ``name`` where it is already bound (an enclosing scope), else here."""
        s: Scope | None = self
        while s is not None:
            if name in s.env:
                s.env[name] = sym
                return
            s = s.parent
        self.env[name] = sym


def dotted(node: Any) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def last_name(node: Any) -> str:
    """The last part of a dotted callee (``Option`` for ``typer.Option``), "" when it is not one."""
    return (dotted(node) or "").rsplit(".", 1)[-1]


def str_of(node: Any) -> str | None:
    """The value of a plain string literal, else None."""
    if isinstance(node, cst.SimpleString):
        try:
            v = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return v if isinstance(v, str) else None
    return None


def op_name(op: Any) -> str:
    return type(op).__name__


def body_of(node: Any) -> Any:
    """The statements of a compound statement's block."""
    b = node.body
    if isinstance(b, cst.IndentedBlock):
        return b.body
    return b.body if isinstance(b, cst.SimpleStatementSuite) else ()


def keyword_args(call: cst.Call) -> dict[str, Any]:
    return {a.keyword.value: a.value for a in call.args if a.keyword is not None}


def first_positional(call: cst.Call) -> Any:
    return next((a.value for a in call.args if a.keyword is None), None)
