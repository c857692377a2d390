"""The check pipeline: paths -> sources -> documents -> recipes -> references -> findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lrlint import checks, config_sets, directives, interpolate, numbers, profiles, sources
from lrlint.checks.base import CheckContext
from lrlint.discover import Target, discover, display_path, resolved
from lrlint.findings import ERROR, INFO, Finding, Related
from lrlint.inherit import AtRevision, Problem, Resolver, inherit_keys, inherit_profile
from lrlint.recipes import Recipe, build, name_tag, select_profile
from lrlint.references import DECLARED, HISTORY, INHERITANCE, USER, Reference, primary
from lrlint.references.git import GitBase, GitError, GitUnavailable
from lrlint.scaling import policy_for
from lrlint.sources import Limits, Source, SourceError
from lrlint.spans import Span
from lrlint.values import Document


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # checked files, as shown
    sources: dict[str, Source] = field(default_factory=dict)  # for code frames and fixes
    notes: list[str] = field(default_factory=list)  # run-level notes (no git, ...)
    explanations: list[dict] = field(default_factory=list)  # recipes with nothing to compare, and why
    recipes: dict[str, list[Recipe]] = field(default_factory=dict)
    comments: dict[str, dict[int, str]] = field(default_factory=dict)  # per file, for suppressions
    git_root: str | None = None  # the work tree's top level, when git was asked (repository-relative report paths)
    covered: set[str] = field(
        default_factory=set
    )  # files whose findings this result states in full (targets, set members)


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
    return Finding(
        err.code, rule.name if rule else "input-problem", err.reason, severity, span, data={"reason": err.reason}
    )


@dataclass
class Parsed:
    source: Source
    docs: list[Document]
    recipes: list[list[Recipe]]  # per document
    bases: list[list[Recipe]] = field(default_factory=list)  # per document: the inheritance reference's recipes
    base_labels: list[str] = field(default_factory=list)  # per document: the nearest base, as shown
    base_sources: list[Source] = field(default_factory=list)  # base files read (code frames)
    problems: list[Problem] = field(default_factory=list)  # LR906: unresolvable bases


class Engine:
    """One run's shared state: settings, profiles, the git base, parsed files."""

    def __init__(
        self,
        settings,
        base: str | None = None,
        reference: str | None = None,
        cwd: Path | None = None,
        overlay: dict[Path, bytes] | None = None,
    ):
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
        self.pathspec: list[Path] | None = None  # the checked files (limits the git diff when few)
        self.user_reference: list[list[Recipe]] | None = None
        self.resolver = Resolver(self.profiles, self.limits, self.cwd)
        # files whose text is given, not read from disk (stdin, an editor's unsaved buffers), by resolved path
        self.overlay = {(self.cwd / p).resolve(): data for p, data in (overlay or {}).items()}
        self.resolver.overlay = self.overlay
        self._at_base: AtRevision | None = None  # the resolver of the git reference (bases at the base revision)
        self._reported: set[tuple] = set()  # LR906 problems already reported (bases shared by children)

    # -- reading ---------------------------------------------------------------------------
    def parse_source(
        self, src: Source, fs_path: Path | None = None, remember: bool = True, resolver: Resolver | None = None
    ) -> Parsed:
        """Parse ``src``; with ``fs_path`` (where it lives), resolve its bases and build the reference recipes."""
        if src.format == "python":
            from lrlint.sources import python_source

            if not python_source.mentions_training_names(src.text):
                return Parsed(src, [], [])
        docs = sources.parse(src, self.limits)
        if fs_path is not None and remember:
            self.resolver.remember(fs_path, src, docs)
        parsed = Parsed(src, [], [])
        for doc in docs:
            merged, base_recs, label = doc, [], ""
            iprof = inherit_profile(doc, self.profiles) if fs_path is not None else None
            res = (resolver or self.resolver).resolve(doc, src, fs_path, iprof) if iprof is not None else None
            if res is not None:
                merged = res.doc
                parsed.problems.extend(res.problems)
                parsed.base_sources.extend(res.sources)
            if merged.format == "yaml":
                merged = interpolate.resolve_document(merged)
            prof = select_profile(merged, self.profiles)
            recs = build(merged, prof, self.optimizers) if prof else []
            if res is not None and res.base is not None and prof is not None:
                bdoc = interpolate.resolve_document(res.base) if res.base.format == "yaml" else res.base
                bprof = select_profile(bdoc, self.profiles) or prof
                tag = next((t for n in reversed(res.base_names) if (t := name_tag(bprof, n)) is not None), None)
                if tag is None and recs:
                    tag = recs[0].tag  # no tag of its own: the devices are assumed unchanged
                base_recs = build(bdoc, bprof, self.optimizers, tag=tag or False)
                label = res.base_label
            parsed.docs.append(merged)
            parsed.recipes.append(recs)
            parsed.bases.append(base_recs)
            parsed.base_labels.append(label)
        return parsed

    def read_source(self, target: Target) -> Source:
        """The file's bytes as a Source: the overlay's when it has the file, else the disk's."""
        data = self.overlay.get((self.cwd / target.fs_path).resolve()) if self.overlay else None
        if data is not None:
            return sources.from_bytes(target.path, target.format, data, self.limits)
        return sources.read(target.path, target.fs_path, target.format, self.limits)

    def read(self, target: Target) -> Parsed:
        return self.parse_source(self.read_source(target), target.fs_path)

    # -- references ------------------------------------------------------------------------
    def open_git(self, start: Path) -> GitBase | None:
        if self._git_opened:
            return self.git
        self._git_opened = True
        try:
            self.git = GitBase.open(start, self.base_rev or "HEAD", self.pathspec)
        except GitUnavailable as e:
            if self.base_rev:
                self.git_note = f"--base {self.base_rev}: {e}"
            else:
                self.git_note = str(e)
        except GitError as e:
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
        if target.fs_path.resolve() not in self.overlay and not git.is_changed(rel):
            return None  # identical at the base: nothing to compare (given text is compared with the blob)
        old = git.old_path(rel)
        if old is None:
            return None  # new in this change
        data = git.read(old)
        if data is None:
            return None
        label_rev = git.label
        if self._at_base is None:  # the child's bases as they were at the base revision too
            self._at_base = AtRevision(self.resolver, git)
        try:
            src = sources.decode(f"{label_rev}:{old}", target.format, data)
            parsed = self.parse_source(src, target.fs_path, remember=False, resolver=self._at_base)
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

    def references(
        self,
        recipe: Recipe,
        doc_index: int,
        doc: Document,
        old: Parsed | None,
        base: list[Recipe] | None = None,
        base_label: str = "",
    ) -> list[Reference]:
        refs: list[Reference] = []
        lines = doc.lines
        for d in directives.declared_references(doc.comments):
            span = None
            if lines is not None:
                text = lines.line_text(d.line)
                start = lines.offset(d.line, 1)
                span = lines.span(doc.path, start, start + len(text))
            stated = {}
            for a in directives._ARG.finditer(d.text.split("reference", 1)[-1]):
                if a["k"].lower() not in ("batch", "lr"):
                    try:
                        stated[a["k"]] = float(a["v"])
                    except ValueError:
                        pass
            refs.append(
                Reference(DECLARED, f"inline reference (line {d.line})", d.batch, d.lr, span, values=stated or None)
            )
        devices_known = recipe.roles.get("batch_per_device") is None or recipe.roles.get("devices") is not None
        for key in recipe.profile.declared_batch:
            v = recipe.doc.values.get(key)
            n = v.number if v is not None and v.known else None
            if n and devices_known:  # a declared global batch says nothing about a per-device batch on unknown devices
                where = "" if v.span is None or v.span.path == doc.path else f" in {v.span.path}"
                refs.append(Reference(DECLARED, f"{key} = {numbers.plain(n)}{where}", n, None, v.span))
        if base:
            cand = _pair(recipe, base)
            if cand is not None:
                refs.append(_ref_from_recipe(INHERITANCE, f"base {base_label}", cand))
        user = self.load_user_reference()
        if user:
            cand = _pair(recipe, [r for docs in user for r in docs])
            if cand is not None:
                refs.append(_ref_from_recipe(USER, f"--reference {self.reference_path}", cand))
        if old is not None and doc_index < len(old.recipes):
            cand = _pair(recipe, old.recipes[doc_index])
            if cand is not None:
                refs.append(_ref_from_recipe(HISTORY, f"git {old.source.path.split(':')[0]}", cand))
        # a declared reference without an lr: the lr it was tuned with is the base's when it is stated in a
        # base file, else the history's, else the current one
        hist = next((r for r in refs if r.kind == HISTORY), None)
        inh = next((r for r in refs if r.kind == INHERITANCE), None)
        for r in refs:
            if r.kind == DECLARED and r.lr is None:
                if inh is not None and r.span is not None and r.span.path != doc.path:
                    r.lr = inh.lr
                else:  # not stable: once the lr is fixed, git and the file hold the new one (the fix records it)
                    r.lr = hist.lr if hist is not None else recipe.lr_value
                    r.lr_recorded = False
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
        for bsrc in parsed.base_sources:
            result.sources.setdefault(bsrc.path, bsrc)
        for prob in parsed.problems:
            path = prob.path or target.path
            key = (path, prob.error.line, prob.error.col, prob.error.reason)
            if key in self._reported:
                continue
            self._reported.add(key)
            psrc = result.sources.get(path)
            result.findings.append(_input_finding(path, prob.error, psrc.lines if psrc is not None else None))
        if not any(parsed.recipes):
            return
        self._check_parsed(target.path, parsed, self.history(target), result)

    def _check_parsed(
        self, path: str, parsed: Parsed, old: Parsed | None, result: Result, relocate: bool = True
    ) -> None:
        """Run every recipe check over ``parsed`` (shown as ``path``) against its references."""
        src = parsed.source
        lr_spans: dict[tuple, int] = {}
        for recs in parsed.recipes:
            for r in recs:
                if r.lr.span is not None:
                    key = (r.lr.span.path, r.lr.span.start)
                    lr_spans[key] = lr_spans.get(key, 0) + 1
        for i, (doc, recs) in enumerate(zip(parsed.docs, parsed.recipes)):
            result.recipes.setdefault(path, []).extend(recs)
            for recipe in recs:
                refs = self.references(recipe, i, doc, old, parsed.bases[i], parsed.base_labels[i])
                ref = primary(refs)
                pol = policy_for(recipe.family, self.settings, self.optimizers)
                shared = recipe.lr.span is not None and lr_spans.get((recipe.lr.span.path, recipe.lr.span.start), 0) > 1
                ctx = CheckContext(recipe, refs, ref, pol, self.settings, shared_lr=shared, source=src)
                self._explain(recipe, ref, result)
                for rule in checks.recipe_checks():
                    for f in rule.check(ctx):
                        if relocate and f.span.path != path:
                            _relocate(f, doc, path, inherit_keys(self.profiles))
                        if recipe.profile.severity:
                            f.severity = recipe.profile.severity
                            if recipe.profile.note:
                                f.message += f" ({recipe.profile.note})"
                        result.findings.append(f)

    def _explain(self, recipe: Recipe, ref: Reference | None, result: Result) -> None:
        why = list(recipe.unknown)
        if ref is None:
            why.append("no reference: no git history change, base config or declared reference")
        result.explanations.append(
            {
                "filename": recipe.doc.path,
                "lr_key": recipe.lr.key,
                "profile": recipe.profile.name,
                "effective_batch": recipe.effective_batch,
                "lr": recipe.lr_value,
                "optimizer": recipe.optimizer_display,
                "family": recipe.family,
                "reference": None
                if ref is None
                else {"kind": ref.kind, "label": ref.label, "batch": ref.batch, "lr": ref.lr},
                "runtime_scaling": None if recipe.scaling is None else recipe.scaling.description,
                "not_checked_because": why,
            }
        )

    def close(self) -> None:
        if self.git is not None:
            self.git.close()


def _relocate(f: Finding, doc: Document, path: str, keys: frozenset[str]) -> None:
    """A finding about a value from a base file is reported in the checked child, at the line that names
    its bases; the base file's line is kept as a related location."""
    names = next(
        (v for v in doc.values.values() if v.span is not None and v.span.path == path and v.key.split(".")[0] in keys),
        None,
    )
    if names is None:
        return
    f.related.insert(0, Related(f.span, "inherited from here"))
    f.span = names.span


def _pair(recipe: Recipe, candidates: list[Recipe]) -> Recipe | None:
    for c in candidates:
        if c.lr.key == recipe.lr.key:
            return c
    return candidates[0] if len(candidates) == 1 else None


def _ref_from_recipe(kind: str, label: str, r: Recipe) -> Reference:
    batch_v = next((v for v in r.batch_values() if v.span is not None), None)
    return Reference(
        kind,
        label,
        r.effective_batch if not r.unknown else None,
        r.lr_value,
        span=batch_v.span if batch_v else None,
        lr_span=r.lr.span,
        recipe=r,
        parts=dict(r.parts),
    )


def filter_findings(findings: list[Finding], result: Result, settings) -> list[Finding]:
    """Rule selection, per-file ignores and inline suppressions."""
    out = []
    seen: set[tuple] = set()
    for f in findings:
        if not settings.selected(f.code, f.span.path):
            continue
        key = (f.code, f.span.path, f.span.start, f.span.end, f.message)
        if key in seen:  # two recipes of one file (two lr keys) reach the same schedule value
            continue
        seen.add(key)
        comments = result.comments.get(f.span.path, {})
        if directives.suppressed(comments, f.span.line, f.code) or (
            f.span.end_line != f.span.line and directives.suppressed(comments, f.span.end_line, f.code)
        ):
            continue
        out.append(f)
    return sorted(out, key=lambda f: f.sort_key)


def check_targets(engine: Engine, targets: list[Target], result: Result) -> None:
    """Check each target; a member of a config set checks its whole set, once."""
    engine.pathspec = [resolved(t.fs_path) for t in targets]
    sets = config_sets.sets_of(engine.settings)
    member_of = {m: i for i, group in enumerate(sets) for m in group}
    wanted = sorted({member_of[p] for p in engine.pathspec if p in member_of})
    engine.pathspec += [m for i in wanted for m in sets[i] if m not in engine.pathspec]
    done: set[int] = set()
    for t in targets:
        result.files.append(t.path)
        result.covered.add(t.path)
        i = member_of.get(resolved(t.fs_path))
        if i is None:
            engine.check_file(t, result)
        elif i not in done:
            done.add(i)
            config_sets.check_set(engine, sets[i], result)


def check_paths(
    paths: list[str], settings, base: str | None = None, reference: str | None = None, force_exclude: bool = False
) -> Result:
    """Check files and directories; raises UsageError or PathError for exit-2 problems."""
    engine = Engine(settings, base=base, reference=reference)
    result = Result()
    try:
        check_targets(engine, discover(paths, settings, force_exclude=force_exclude, notes=result.notes), result)
    finally:
        engine.close()
    return _finish(engine, result, settings)


STDIN_NAME = "-"  # the name a text read from stdin without --stdin-filename is shown as
STDIN_FORMAT = "yaml"  # and the format it is parsed as (YAML reads JSON too)


def check_text(
    data: bytes | str,
    path: str | Path,
    settings,
    base: str | None = None,
    reference: str | None = None,
    overlay: dict[Path, bytes] | None = None,
    cwd: Path | None = None,
) -> Result:
    """Check ``data`` as the file at ``path`` (which need not exist), exactly as ``check_paths`` checks that
    file on disk: its git reference, its bases and its config set are found from ``path``.

    ``overlay`` gives other files' text (an editor's unsaved buffers: a base config being edited). The
    findings carry their fixes; ``result.sources[shown path]`` is the checked text. ``path`` ``-`` is a
    text without a file: shown as ``-``, parsed as YAML, with no git reference.
    """
    cwd = (cwd or Path.cwd()).resolve()
    fs = (cwd / path).resolve()
    fmt = STDIN_FORMAT if str(path) == STDIN_NAME else sources.format_of(fs)
    if fmt is None:
        raise UsageError(f"{path}: not a YAML, JSON or Python file name")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    engine = Engine(settings, base=base, reference=reference, cwd=cwd, overlay={**(overlay or {}), fs: raw})
    shown = STDIN_NAME if str(path) == STDIN_NAME else display_path(fs, cwd)
    result = Result()
    try:
        check_targets(engine, [Target(shown, fs, fmt, True)], result)
    finally:
        engine.close()
    return _finish(engine, result, settings)


def _finish(engine: Engine, result: Result, settings) -> Result:
    if engine.git is not None:
        result.git_root = str(engine.git.root)
    if engine.git_note and (engine.base_rev or any(result.recipes.values())):
        result.notes.append(engine.git_note)
    result.findings = filter_findings(result.findings, result, settings)
    return result
