"""What a check is: a code, a name, docs, examples, and a pure function to findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lrlint.findings import Finding
from lrlint.recipes import Recipe
from lrlint.records import Record, field
from lrlint.references import Reference
from lrlint.scaling import Policy
from lrlint.settings import Settings
from lrlint.sources import Source
from lrlint.vocabulary import Severity


class Example(Record):
    """A config (with inline references) and, for an invalid one, what the check must say."""

    text: str
    filename: str = "config.yaml"
    expect: tuple[str, ...] = ()  # codes expected (empty for a valid example)
    expected_fix: str | None = None  # the whole file after applying the fix, when there is one


# a recipe check: one recipe, its references and policy in; its findings out
Check = Callable[["CheckContext"], Iterable[Finding]]


class Rule(Record):
    code: str
    name: str
    summary: str  # one line
    severity: Severity  # default severity
    fix_availability: str  # "always" | "sometimes" | "none"
    doc: str  # markdown: What it does / Why is this bad? / Example / Fix safety
    valid: tuple[Example, ...] = ()
    invalid: tuple[Example, ...] = ()
    check: Check | None = None
    default_enabled: bool = True

    @property
    def url(self) -> str:
        return f"https://github.com/lrlint/lrlint/blob/main/docs/rules.md#{self.code.lower()}-{self.name}"


class CheckContext(Record):
    recipe: Recipe
    references: list[Reference]
    reference: Reference | None  # the primary one
    policy: Policy
    settings: Settings
    shared_lr: bool = False  # the lr literal also serves another recipe
    source: Source | None = None  # the checked file (an override of an inherited value is written there)
    # why a rule that looked at this recipe stayed silent (``--explain``): checks append to it
    quiet: list[str] = field(default_factory=list)
