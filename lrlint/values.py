"""What a parsed file is reduced to: dotted key path -> Value."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from lrlint.problems import SourceError
from lrlint.spans import LineIndex, Span
from lrlint.vocabulary import (
    ARGPARSE,
    DEFAULT,
    EXPRESSION,
    INHERITED,
    INTERPOLATED,
    LITERAL,
    STRING,
    UNKNOWN,
    Provenance,
)

Scalar = int | float | str | bool | None

# How a Value was obtained (the provenance words, defined in lrlint.vocabulary).
__all__ = [
    "ARGPARSE",
    "DEFAULT",
    "EXPRESSION",
    "INHERITED",
    "INTERPOLATED",
    "LITERAL",
    "STRING",
    "UNKNOWN",
    "Document",
    "ExprScaling",
    "Scalar",
    "Value",
]


ROOT_PREFIX = "configs-root:"  # a base named by a path under the tree's config root (``model_zoo.get_config``)


@dataclass(frozen=True, slots=True)
class ExprScaling:
    """An lr computed from batch-like names (``lr = base_lr * args.batch_size / 256``)."""

    exponent: float  # the batch exponent the expression scales with (the largest of the alternatives)
    batch_keys: tuple[str, ...] = ()  # the config keys of the batch values it reads
    factors: tuple[str, ...] = ()  # every batch-like factor, as written (``misc.get_world_size()``)
    text: str = ""  # the expression's source text
    alternatives: tuple[float, ...] = ()  # exponents the script picks between at run time
    conditional: bool = False  # only some branch scales


@dataclass(slots=True)
class Value:
    """One config value: the parsed scalar, where it is, and how it was obtained."""

    key: str
    value: Scalar
    span: Span | None
    provenance: Provenance = LITERAL
    raw: str = ""  # the literal's source text, e.g. ``1e-5`` or ``"0.1"``
    why: str = ""  # for UNKNOWN/EXPRESSION: a short human reason
    # facts some sources and stages add
    scaling: ExprScaling | None = None  # Python: the value is computed from the batch
    alias_of: str | None = None  # Python: the key it was read through (``optimizer.lr`` from ``args.lr``)
    names: tuple[str, ...] | None = None  # Python: the names ``from .x import a, b`` takes from a base
    from_tag: str | None = None  # a device count read from the file-name tag (``8xb2``)
    target: str | None = None  # an interpolation: the key it read

    def with_span(self, span: Span | None) -> Value:
        """A copy at another span (``dataclasses.replace`` costs several times more per call)."""
        return self._copy(span, self.provenance)

    def with_provenance(self, provenance: Provenance) -> Value:
        """A copy with another provenance (``dataclasses.replace`` costs several times more per call)."""
        return self._copy(self.span, provenance)

    def _copy(self, span: Span | None, provenance: Provenance) -> Value:
        return Value(
            self.key,
            self.value,
            span,
            provenance,
            self.raw,
            self.why,
            self.scaling,
            self.alias_of,
            self.names,
            self.from_tag,
            self.target,
        )

    @property
    def number(self) -> float | None:
        """The value as a finite number, reading numeric strings like PyYAML's ``1e-5`` too; None for a
        value that is no number, NaN, or infinite (``.inf``, ``1e999``, an integer past a float)."""
        x = self.float_value
        return x if x is not None and math.isfinite(x) else None

    @property
    def float_value(self) -> float | None:
        """The value as a float, NaN and infinities included (an integer past a float is infinite)."""
        v = self.value
        if isinstance(v, bool) or v is None:
            return None
        if isinstance(v, int):
            return float(v) if abs(v) < 1e308 else (math.inf if v > 0 else -math.inf)
        if isinstance(v, float):
            return v
        if not isinstance(v, str) or not v.strip():
            return None
        try:
            return float(v.strip().replace("_", ""))
        except ValueError:
            return None

    @property
    def known(self) -> bool:
        return self.provenance != UNKNOWN


@dataclass(slots=True)
class Document:
    """One document of a source (a YAML file may hold several)."""

    path: str
    format: str  # "yaml" | "json" | "python"
    values: dict[str, Value]
    index: int = 0  # document number within a multi-document file
    lines: LineIndex | None = None
    comments: dict[int, str] = field(default_factory=dict)  # 1-based line -> comment text (without '#')
    problems: list[SourceError] = field(default_factory=list)  # non-fatal problems (an unsafe tag in one node)
    # one branch of a script whose branches set the batch or lr differently (``ddp``, ``not ddp``)
    variant: str | None = None

    def get(self, key: str) -> Value | None:
        return self.values.get(key)
