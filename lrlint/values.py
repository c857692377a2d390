"""What a parsed file is reduced to: dotted key path -> Value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from lrlint.spans import LineIndex, Span

Scalar = Union[int, float, str, bool, None]

# How a Value was obtained.
LITERAL = "literal"  # a number/bool/null literal in the file
STRING = "string"  # a quoted or plain string scalar (a numeric string still reads as a number)
EXPRESSION = "expression"  # folded from constants (Python)
ARGPARSE = "argparse-default"  # default of a command-line option (Python)
INHERITED = "inherited"  # from a base config (issue 4)
INTERPOLATED = "interpolated"  # resolved ${...} interpolation
DEFAULT = "framework-default"  # the framework's documented default, not in the file
UNKNOWN = "unknown"  # lrlint cannot know it statically (env, file, "auto", call)


@dataclass(slots=True)
class Value:
    """One config value: the parsed scalar, where it is, and how it was obtained."""

    key: str
    value: Scalar
    span: Span | None
    provenance: str = LITERAL
    raw: str = ""  # the literal's source text, e.g. ``1e-5`` or ``"0.1"``
    why: str = ""  # for UNKNOWN/EXPRESSION: a short human reason
    extra: dict = field(default_factory=dict)  # source-specific facts (e.g. expression scaling)

    @property
    def number(self) -> float | None:
        """The value as a number, reading numeric strings like PyYAML's ``1e-5`` too."""
        v = self.value
        if isinstance(v, bool) or v is None:
            return None
        if isinstance(v, (int, float)):
            return float(v)
        try:
            return float(v.strip().replace("_", "")) if isinstance(v, str) and v.strip() else None
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
    problems: list = field(default_factory=list)  # non-fatal SourceErrors (e.g. an unsafe tag in one node)

    def get(self, key: str) -> Value | None:
        return self.values.get(key)
