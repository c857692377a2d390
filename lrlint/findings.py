"""What checks produce: findings with their numbers and optional fixes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lrlint.spans import Span
from lrlint.vocabulary import DISPLAY_ONLY, ERROR, INFO, SAFE, UNSAFE, WARNING, Applicability, Severity

__all__ = ["DISPLAY_ONLY", "ERROR", "INFO", "SAFE", "UNSAFE", "WARNING", "Edit", "Finding", "Fix", "Related"]


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes ``span.start:span.end`` of ``span.path`` with ``content``."""

    span: Span
    content: str


@dataclass(slots=True)
class Fix:
    applicability: Applicability
    message: str  # e.g. "Set learning_rate to 4e-5"
    edits: list[Edit] = field(default_factory=list)
    why: str = ""  # why a fix is unsafe or display-only


@dataclass(slots=True)
class Related:
    """A secondary location shown in the code frame (the lr line, the base file's line)."""

    span: Span
    label: str


@dataclass(slots=True)
class Finding:
    code: str
    name: str
    message: str
    severity: Severity
    span: Span
    data: dict[str, Any] = field(default_factory=dict)
    fix: Fix | None = None
    related: list[Related] = field(default_factory=list)

    @property
    def sort_key(self) -> tuple:
        return (self.span.path, self.span.line, self.span.col, self.code)

    @property
    def fails(self) -> bool:
        """Whether this finding makes ``lrlint check`` exit 1."""
        return self.severity in (ERROR, WARNING)
