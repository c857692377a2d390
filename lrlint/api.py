"""The check pipeline: paths -> sources -> documents -> recipes -> references -> findings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lrlint import checks, directives, numbers, profiles, sources
from lrlint.checks.base import CheckContext
from lrlint.discover import Target, discover
from lrlint.findings import ERROR, INFO, Finding
from lrlint.recipes import Recipe, build, select_profile
from lrlint.references import DECLARED, HISTORY, USER, Reference, primary
from lrlint.references.git import BadRevision, GitBase, GitUnavailable
from lrlint.scaling import policy_for
from lrlint.sources import Limits, Source, SourceError
from lrlint.spans import Span
from lrlint.values import Document


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)         # checked files, as shown
    sources: dict[str, Source] = field(default_factory=dict)  # for code frames and fixes
    notes: list[str] = field(default_factory=list)         # run-level notes (no git, ...)
    explanations: list[dict] = field(default_factory=list) # recipes with nothing to compare, and why
    recipes: dict[str, list[Recipe]] = field(default_factory=dict)
    comments: dict[str, dict[int, str]] = field(default_factory=dict)  # per file, for suppressions


class UsageError(Exception):
    """Exit 2: a bad path, revision or reference file."""


def _input_finding(path: str, err: SourceError, lines=None) -> Finding:
    rule = checks.rule(err.code)
    severity = INFO if "deleted" in err.reason else ERROR
    start = end = 0
    if lines is not None:
        start = lines.byte(lines.offset(err.line, err.col))
        end = lines.byte(lines.offset(err.end_line, err.end_col))
    span = Span(path, start, end, err.line, err.col, err.end_line, err.end_col)
    return Finding(err.code, rule.name if rule else "input-problem", err.reason, severity, span, data={"reason": err.reason})


@dataclass
class Parsed:
    source: Source
    docs: list[Document]
    recipes: list[list[Recipe]]      # per document


class Engine:
    """One run's shared state: settings, profiles, the git base, parsed files."""

    def __init__(self, settings, base: str | None = None, reference: str | None = None, cwd: Path | None = None):
        self.settings = settings
        self.cwd = (cwd or Path.cwd()).resolve()
        self.limits = Limits(max_file_size=settings.max_file_size)
        self.profiles = profiles.all_profiles(tuple(settings.profiles))
        self.optimizers = profiles.optimizer_table()
        self.base_rev = base or settings.base
        self.reference_path = reference
        self.git: GitBase | None = None
        self.git_note: str | None = None
        self._git_opened = False
        self.user_reference: list[list[Recipe]] | None = None

    # -- reading ---------------------------------------------------------------------------
    def parse_source(self, src: Source) -> Parsed:
        if src.format == "python":
            from lrlint.sources import python_source
            if not python_source.mentions_training_names(src.text):
                return Parsed(src, [], [])
        docs = sources.parse(src, self.limits)
        recipes = []
        for doc in docs:
            prof = select_profile(doc, self.profiles)
            recipes.append(build(doc, prof, self.optimizers) if prof else [])
        return Parsed(src, docs, recipes)

    def read(self, target: Target) -> Parsed:
        return self.parse_source(sources.read(target.path, target.fs_path, target.format, self.limits))

    # -- references ------------------------------------------------------------------------
    def open_git(self, start: Path) -> GitBase | None:
        if self._git_opened:
            return self.git
        self._git_opened = True
        try:
            self.git = GitBase.open(start, self.base_rev or "HEAD")
        except GitUnavailable as e:
            if self.base_rev:
                self.git_note = f"--base {self.base_rev}: {e}"
            else:
                self.git_note = str(e)
        except BadRevision as e:
            raise UsageError(str(e)) from None
        return self.git

    def history(self, target: Target) -> Parsed | None:
        start = target.fs_path.resolve().parent
        git = self.open_git(start if start.exists() else self.cwd)
        if git is None:
            return None
        try:
            rel = target.fs_path.resolve().relative_to(git.root.resolve()).as_posix()
        except ValueError:
            return None
        if not git.is_changed(rel):
            return None  # identical at the base: nothing to compare
        old = git.old_path(rel)
        if old is None:
            return None  # new in this change
        data = git.read(old)
        if data is None:
            return None
        label_rev = git.rev if git.rev == "HEAD" else f"{git.rev} (merge base {git.commit[:10]})"
        try:
            src = sources.decode(f"{label_rev}:{old}", target.format, data)
            parsed = self.parse_source(src)
        except SourceError:
            return None
        parsed.source.path = label_rev + (f":{old}" if old != rel else "")
        return parsed

    def load_user_reference(self) -> list[list[Recipe]] | None:
        if self.reference_path is None:
            return None
        if self.user_reference is None:
            p = Path(self.reference_path)
            fmt = sources.format_of(p)
            if not p.is_file() or fmt is None:
                raise UsageError(f"--reference {self.reference_path}: not a YAML, JSON or Python file")
            try:
                self.user_reference = self.read(Target(self.reference_path, p, fmt, True)).recipes
            except SourceError as e:
                raise UsageError(f"--reference {self.reference_path}:{e.line}:{e.col}: {e.reason}") from None
        return self.user_reference

    def references(self, recipe: Recipe, doc_index: int, doc: Document, old: Parsed | None) -> list[Reference]:
        refs: list[Reference] = []
        lines = doc.lines
        for d in directives.declared_references(doc.comments):
            span = None
            if lines is not None:
                text = lines.line_text(d.line)
                start = lines.offset(d.line, 1)
                span = lines.span(doc.path, start, start + len(text))
            refs.append(Reference(DECLARED, f"inline reference (line {d.line})", d.batch, d.lr, span))
        user = self.load_user_reference()
        if user:
            cand = _pair(recipe, [r for docs in user for r in docs])
            if cand is not None:
                refs.append(_ref_from_recipe(USER, f"--reference {self.reference_path}", cand))
        if old is not None and doc_index < len(old.recipes):
            cand = _pair(recipe, old.recipes[doc_index])
            if cand is not None:
                refs.append(_ref_from_recipe(HISTORY, f"git {old.source.path.split(':')[0]}", cand))
        # a declared reference without an lr: the lr it was tuned with is the history's, else the current one
        hist = next((r for r in refs if r.kind == HISTORY), None)
        for r in refs:
            if r.kind == DECLARED and r.lr is None:
                r.lr = hist.lr if hist is not None else recipe.lr_value
        return refs

    # -- checking --------------------------------------------------------------------------
    def check_file(self, target: Target, result: Result) -> None:
        try:
            parsed = self.read(target)
        except SourceError as e:
            result.findings.append(_input_finding(target.path, e))
            return
        src = parsed.source
        result.sources[target.path] = src
        comments: dict[int, str] = {}
        for doc in parsed.docs:
            comments.update(doc.comments)
        result.comments[target.path] = comments
        for doc in parsed.docs:
            for prob in doc.problems:
                result.findings.append(_input_finding(target.path, prob, src.lines))
        if not any(parsed.recipes):
            return
        old = self.history(target)
        lr_spans: dict[tuple, int] = {}
        for recs in parsed.recipes:
            for r in recs:
                if r.lr.span is not None:
                    key = (r.lr.span.path, r.lr.span.start)
                    lr_spans[key] = lr_spans.get(key, 0) + 1
        for i, (doc, recs) in enumerate(zip(parsed.docs, parsed.recipes)):
            result.recipes.setdefault(target.path, []).extend(recs)
            for recipe in recs:
                refs = self.references(recipe, i, doc, old)
                ref = primary(refs)
                pol = policy_for(recipe.family, self.settings, self.optimizers)
                shared = recipe.lr.span is not None and lr_spans.get((recipe.lr.span.path, recipe.lr.span.start), 0) > 1
                ctx = CheckContext(recipe, refs, ref, pol, self.settings, shared_lr=shared)
                self._explain(recipe, ref, result)
                for rule in checks.recipe_checks():
                    for f in rule.check(ctx):
                        if recipe.profile.severity:
                            f.severity = recipe.profile.severity
                            if recipe.profile.note:
                                f.message += f" ({recipe.profile.note})"
                        result.findings.append(f)

    def _explain(self, recipe: Recipe, ref: Reference | None, result: Result) -> None:
        why = list(recipe.unknown)
        if ref is None:
            why.append("no reference: no git history change, base config or declared reference")
        result.explanations.append({
            "filename": recipe.doc.path, "lr_key": recipe.lr.key, "profile": recipe.profile.name,
            "effective_batch": recipe.effective_batch, "lr": recipe.lr_value, "optimizer": recipe.optimizer_display,
            "family": recipe.family, "reference": None if ref is None else {"kind": ref.kind, "label": ref.label, "batch": ref.batch, "lr": ref.lr},
            "runtime_scaling": None if recipe.scaling is None else recipe.scaling.description,
            "not_checked_because": why,
        })

    def close(self) -> None:
        if self.git is not None:
            self.git.close()


def _pair(recipe: Recipe, candidates: list[Recipe]) -> Recipe | None:
    for c in candidates:
        if c.lr.key == recipe.lr.key:
            return c
    return candidates[0] if len(candidates) == 1 else None


def _ref_from_recipe(kind: str, label: str, r: Recipe) -> Reference:
    batch_v = next((v for v in r.batch_values()), None)
    return Reference(kind, label, r.effective_batch if not r.unknown else None, r.lr_value,
                     span=batch_v.span if batch_v else None, lr_span=r.lr.span, recipe=r, parts=dict(r.parts))


def filter_findings(findings: list[Finding], result: Result, settings) -> list[Finding]:
    """Rule selection, per-file ignores and inline suppressions."""
    out = []
    for f in findings:
        if not settings.selected(f.code, f.span.path):
            continue
        comments = result.comments.get(f.span.path, {})
        if directives.suppressed(comments, f.span.line, f.code) or (f.span.end_line != f.span.line and directives.suppressed(comments, f.span.end_line, f.code)):
            continue
        out.append(f)
    return sorted(out, key=lambda f: f.sort_key)


def check_paths(paths: list[str], settings, base: str | None = None, reference: str | None = None, force_exclude: bool = False) -> Result:
    """Check files and directories; raises UsageError or PathError for exit-2 problems."""
    engine = Engine(settings, base=base, reference=reference)
    result = Result()
    try:
        targets = discover(paths, settings, force_exclude=force_exclude)
        for t in targets:
            result.files.append(t.path)
            engine.check_file(t, result)
    finally:
        engine.close()
    if engine.git_note and (engine.base_rev or any(result.recipes.values())):
        result.notes.append(engine.git_note)
    result.findings = filter_findings(result.findings, result, settings)
    return result
