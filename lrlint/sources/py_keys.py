"""The Python reader's output: flattened ``key -> Sym`` entries, as the YAML reader's keys are.

``NAME = dict(a=1)`` gives ``NAME.a``; a list gives ``NAME.0``... plus ``NAME`` itself as ``"[]"``;
an unknown value is kept only under keys the rules call relevant (it says why a role is unknown).
"""

from __future__ import annotations

from lrlint.python_rules import PythonTable
from lrlint.sources.py_fold import DICT, LIST, MODULE, SCALAR, UNKNOWN_KIND, Sym
from lrlint.values import LITERAL

MAX_LIST_ITEMS = 256


class Keys:
    """The emitted values, which scope owns each plain name, and numbering of repeated constructors."""

    def __init__(self, table: PythonTable, max_values: int) -> None:
        self.table = table
        self.max_values = max_values
        self.values: dict[str, Sym] = {}
        self.owner: dict[str, str] = {}
        self.counters: dict[str, int] = {}

    def emit(self, key: str, sym: Sym, ctor: bool = False) -> None:
        """Store ``sym`` under ``key`` (a dict or list as its nested keys); ``ctor``: keep unknowns too."""
        values = self.values
        if sym.kind in (SCALAR, UNKNOWN_KIND):
            if sym.kind == UNKNOWN_KIND and not ctor and not self.table.relevant_key(key):
                values.pop(key, None)
                return
            if sym.origin is None:
                sym.origin = key
            values[key] = sym
        elif sym.kind == DICT:
            if sym.prefix is None:
                sym.prefix = key
            for k, v in (sym.items or {}).items():
                self.emit(f"{key}.{k}", v, ctor)
        elif sym.kind == LIST:
            values[key] = Sym(SCALAR, "[]", sym.node, LITERAL, origin=key)
            if len(sym.elems or ()) > MAX_LIST_ITEMS:
                return  # a data table, not a setting: the list itself only
            for i, e in enumerate(sym.elems or ()):
                self.emit(f"{key}.{i}", e, ctor)
        elif sym.kind == MODULE and sym.node is not None:
            values[key] = Sym(SCALAR, str(sym.value), sym.node, LITERAL, origin=key)
        if len(values) > self.max_values:
            raise OverflowError(f"more than {self.max_values} values")

    def name_key(self, name: str, scope_name: str) -> str:
        """``NAME``, or ``<function>.NAME`` when another scope already owns ``NAME``."""
        owner = self.owner.setdefault(name, scope_name)
        return name if owner == scope_name else f"{scope_name}.{name}"

    def alloc(self, base: str) -> str:
        """``base`` for the first constructor of a kind, then ``base_1``, ``base_2``..."""
        n = self.counters.get(base, 0)
        self.counters[base] = n + 1
        return base if n == 0 else f"{base}_{n}"
