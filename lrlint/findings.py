"""What checks produce: findings with their numbers and optional fixes."""

from __future__ import annotations

from collections.abc import KeysView
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lrlint.records import Record, fields
from lrlint.spans import Span
from lrlint.vocabulary import DISPLAY_ONLY, ERROR, INFO, SAFE, UNSAFE, WARNING, Applicability, Severity

__all__ = [
    "DISPLAY_ONLY",
    "ERROR",
    "INFO",
    "SAFE",
    "UNSAFE",
    "WARNING",
    "Edit",
    "Finding",
    "FindingData",
    "Fix",
    "Related",
]


class FindingData(Record):
    """The numbers and names behind a finding, as a record of its rule (``lrlint.checks.data``).

    ``to_json`` is the one serialisation (JSON ``data``, SARIF ``properties.data``): the fields in their
    declared order, nested records as objects, tuples as lists; a field named in ``__omit_none__`` is left
    out while it is None.
    """

    __omit_none__: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {k: _json(v) for k, v in fields(self) if not (v is None and k in self.__omit_none__)}

    def about(self) -> str:
        """The config keys the finding is about, for fingerprints: its own key (a schedule length, a batch
        key) and the lr key it concerns; "" when it names none."""
        keys = [getattr(self, name, None) for name in ("key", "total_key", "batch_key", "ignored", "lr_key")]
        return " ".join(str(k) for k in keys if k)

    def note(self) -> str:
        """Why the finding's advice holds, when the rule states it (the policy's note); "" otherwise."""
        return ""

    # Reading as a mapping of the JSON keys (``dict(finding.data)``, ``finding.data["k"]``) is kept for
    # readers not yet on the typed fields.
    def keys(self) -> KeysView[str]:
        return self.to_json().keys()

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]


def _json(v: Any) -> Any:
    if isinstance(v, Record):
        return {k: _json(x) for k, x in fields(v)}
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    return v


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes ``span.start:span.end`` of ``span.path`` with ``content``."""

    span: Span
    content: str


@dataclass(slots=True)
class Fix:
    """A finding's fix: how safe it is to apply, its title, the edits, and why it is not safe."""

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
    """One finding: the rule, its message and severity, where it is, the numbers behind it and its fix."""

    code: str
    name: str
    message: str
    severity: Severity
    span: Span
    data: FindingData | None = None
    fix: Fix | None = None
    related: list[Related] = field(default_factory=list)
    # where the compared numbers come from and what was assumed, one sentence each, naming the file
    # each refers to (the message is the headline: what changed, what is expected)
    notes: list[str] = field(default_factory=list)
    # in a run with a git base: the same finding was there at the base (lrlint.baseline); never fails the run
    pre_existing: bool = False

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.path, self.span.line, self.span.col, self.code)

    @property
    def fails(self) -> bool:
        """Whether this finding makes ``lrlint check`` exit 1 (a pre-existing one never does)."""
        return self.severity in (ERROR, WARNING) and not self.pre_existing
