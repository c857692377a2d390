"""What the pipeline passes between its stages and what a run produces.

``Parsed``: one file read, with its documents, their recipes and the inheritance reference's recipes.
``Result``: the findings of a run, the files it checked and their sources (for code frames and fixes).
``Explanation``: why each recipe was or was not compared (``--explain``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lrlint import records
from lrlint.findings import Finding
from lrlint.inherit import Problem, Resolver
from lrlint.recipes import Recipe
from lrlint.records import Record
from lrlint.references import Reference
from lrlint.repo_scan import Around
from lrlint.sources import Source
from lrlint.values import Document


class Made(Record):
    """What a check made that --fix's re-check takes instead of making it again: its resolver (the files it
    read from disk as parsed, the merges it made) and its look at the repository around the configs."""

    resolver: Resolver
    around: Around


class Parsed(Record):
    source: Source
    docs: list[Document]
    recipes: list[list[Recipe]]  # per document
    bases: list[list[Recipe]] = records.field(default_factory=list)  # per document: the inheritance reference's recipes
    base_labels: list[str] = records.field(default_factory=list)  # per document: the nearest base, as shown
    base_names: list[list[str]] = records.field(default_factory=list)  # per document: file names of its direct bases
    # per document: the scopes it replaces (``_delete_=True``)
    replaced: list[list[str]] = records.field(default_factory=list)
    base_sources: list[Source] = records.field(default_factory=list)  # base files read (code frames)
    problems: list[Problem] = records.field(default_factory=list)  # LR906: unresolvable bases
    config_set: bool = False  # a merged config set: each value is edited and reported where it is written


def same_document(doc: Document, index: int, old: Parsed | None) -> int | None:
    """The document of ``old`` (the file at the git base) that ``doc`` (number ``index``) is compared with: the
    same branch of a script read branch by branch, else the same number; a script that was not read by
    branch at the base compares each branch with its one document."""
    if old is None:
        return None
    if doc.variant is not None:
        same = next((j for j, d in enumerate(old.docs) if d.variant == doc.variant), None)
        if same is not None:
            return same
        return 0 if len(old.docs) == 1 else None
    return index if index < len(old.recipes) else None


class ParsesSources(Protocol):
    """The part of the run's engine (``lrlint.api.Engine``) that parses a source with its bases."""

    resolver: Resolver

    def parse_source(
        self,
        src: Source,
        fs_path: Path | None = None,
        remember: bool = True,
        resolver: Resolver | None = None,
        docs: list[Document] | None = None,
    ) -> Parsed: ...


class ExplainedReference(Record):
    kind: str
    label: str
    batch: float | None
    lr: float | None


class Explanation(Record):
    """One recipe as the checks saw it, and why it was not compared when it was not."""

    filename: str
    lr_key: str
    profile: str
    effective_batch: float | None
    lr: float | None
    optimizer: str
    family: str
    reference: ExplainedReference | None
    runtime_scaling: str | None
    not_checked_because: tuple[str, ...]
    set_aside: tuple[str, ...] = ()  # references that were not a trained pair, and why
    quiet: tuple[str, ...] = ()  # rules that looked at the recipe and stayed silent, and why

    @classmethod
    def of(
        cls,
        recipe: Recipe,
        ref: Reference | None,
        set_aside: list[str] | None = None,
        candidates: list[Reference] | None = None,
        quiet: list[str] | None = None,
    ) -> Explanation:
        """``candidates``: every reference found; one whose numbers the checks cannot use says why; ``quiet``:
        the rules that stayed silent, and why (filled by the checks)."""
        why = list(recipe.unknown)
        why.extend(f"{r.label} not used: {r.why}" for r in candidates or [] if r.why)
        if ref is None and set_aside:
            why.append("no reference: each candidate was set aside")
        elif ref is None:
            why.append("no reference: no git history change, base config or declared reference")
        return cls(
            filename=recipe.doc.path,
            lr_key=recipe.lr.key,
            profile=recipe.profile.name,
            effective_batch=recipe.effective_batch,
            lr=recipe.lr_value,
            optimizer=recipe.optimizer_display,
            family=recipe.family,
            reference=None if ref is None else ExplainedReference(ref.kind, ref.label, ref.batch, ref.lr),
            runtime_scaling=None if recipe.scaling is None else recipe.scaling.description,
            not_checked_because=tuple(why),
            set_aside=tuple(set_aside or ()),
            quiet=tuple(quiet or ()),
        )


def referenced(findings: list[Finding]) -> set[str]:
    """Every file a finding points at: its own span, its related locations and its fix's edits."""
    paths: set[str] = set()
    for f in findings:
        paths.add(f.span.path)
        paths.update(r.span.path for r in f.related)
        if f.fix is not None:
            paths.update(e.span.path for e in f.fix.edits)
    return paths


@dataclass
class Result:
    """What a check run found and read: the findings, the files, their sources and comments, the recipes."""

    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # checked files, as shown
    sources: dict[str, Source] = field(default_factory=dict)  # for code frames and fixes
    notes: list[str] = field(default_factory=list)  # run-level notes (no git, ...)
    explanations: list[Explanation] = field(default_factory=list)  # every recipe, and why it was not compared
    recipes: dict[str, list[Recipe]] = field(default_factory=dict)
    comments: dict[str, dict[int, str]] = field(default_factory=dict)  # per file, for suppressions
    git_root: str | None = None  # the work tree's top level, when git was asked (repository-relative report paths)
    covered: set[str] = field(default_factory=set)  # files whose findings this result states in full
    # what the run made that --fix's re-check takes (``check_paths(keep_parsed=True)``)
    made: Made | None = field(default=None, repr=False, compare=False)
    workers: int = 0  # worker processes that checked files (0: the run was in-process)
    baseline: str | None = None  # the git base findings were compared with (pre-existing ones marked), if any

    def keep_for_report(self) -> None:
        """Keep what the report needs: the sources and comments of the files findings point at (a run over
        many files keeps its memory flat), and of the files with a suppression comment (LR100 reads them);
        the recipes are dropped."""
        from lrlint import directives

        paths = referenced(self.findings)
        paths |= {p for p, c in self.comments.items() if any(directives.suppression(t) for t in c.values())}
        self.sources = {p: s for p, s in self.sources.items() if p in paths}
        self.comments = {p: c for p, c in self.comments.items() if p in paths}
        self.recipes = {}
