"""The check pipeline: paths -> sources -> documents -> recipes -> references -> findings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lrlint import bigstack, checks, config_sets, directives, interpolate, profiles, sources, stated_devices
from lrlint.base_recipes import build_once
from lrlint.base_recipes import document as base_document
from lrlint.baseline import Baseline, group_missing, summary_note
from lrlint.checks import lr100_unused_suppression as unused_suppression
from lrlint.checks.base import CheckContext
from lrlint.checks.lr9xx_input import input_finding
from lrlint.discover import Target, discover, display_path, resolved, resolving
from lrlint.findings import Finding, Related
from lrlint.guard import per_file
from lrlint.inherit import AtRevision, Resolver, inherit_keys, inherit_profile
from lrlint.keypaths import KeyIndex
from lrlint.progress import Progress
from lrlint.recipes import Recipe, build, inherited_tag, name_tag, select_profile
from lrlint.references import Reference, primary
from lrlint.references.choose import choose
from lrlint.references.collect import collect as collect_references
from lrlint.references.git import GitBase, GitError, GitUnavailable, Started
from lrlint.references.git import started as git_started
from lrlint.repo_scan import Around
from lrlint.results import Explanation, Made, Parsed, Result, same_document
from lrlint.scaling import policy_for
from lrlint.settings import Settings
from lrlint.sources import Limits, Source, SourceError
from lrlint.spans import LineIndex
from lrlint.values import Document
from lrlint.world_size import RunHardware, for_run

__all__ = ["Engine", "Parsed", "Result", "UsageError", "check_paths", "check_targets", "filter_findings"]


KEEP_FILES = 1000  # a lean run drops the parsed files when the engine holds more (parsed again when needed)
LEAN_EVERY = 200  # a lean run drops what the report does not need every this many files


class UsageError(Exception):
    """Exit 2: a bad path, revision or reference file."""


class Engine:
    """One run's shared state: settings, profiles, the git base, parsed files."""

    def __init__(
        self,
        settings: Settings,
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
        self.run_hardware = RunHardware.of(settings.devices, settings.nodes)
        self.around = Around(self)  # the repository around the configs: launch commands, scripts
        self.reference_path = reference
        self.git: GitBase | None = None
        self.git_note: str | None = None
        self._git_opened = False
        self._early: Started | None = None  # git's first calls, started by start_git
        self.pathspec: list[Path] | None = None  # the checked files (limits the git diff when few)
        self.user_reference: list[list[Recipe]] | None = None
        self.resolver = Resolver(self.profiles, self.limits, self.cwd)
        # files whose text is given, not read from disk (stdin, an editor's unsaved buffers), by resolved path
        self.overlay = {resolved(self.cwd / p): data for p, data in (overlay or {}).items()}
        self.resolver.overlay = self.overlay
        self._at_base: AtRevision | None = None  # the resolver of the git reference (bases at the base revision)
        # an explicit base (--base, the base setting): findings already there at the base are pre-existing
        self.baseline = Baseline(self) if self.base_rev else None
        self._reported: set[tuple] = set()  # input problems already reported (bases shared by children)
        self.problems_reported: list[tuple[Finding, tuple]] = []  # those findings and their keys, in order
        self.keeps_merges = False  # a run that fixes: keep the merges of a file with a fix (merged again)

    def made(self) -> Made:
        """What this engine made that --fix's re-check takes (``Result.made``)."""
        return Made(self.resolver, self.around)

    def forget(self) -> None:
        """Drop the files parsed so far (a long run's memory stays flat; they are parsed again when needed)."""
        self.resolver = Resolver(self.profiles, self.limits, self.cwd)
        self.resolver.overlay = self.overlay
        self._at_base = None
        if self.baseline is not None:
            self.baseline.forget()

    # -- reading ---------------------------------------------------------------------------
    def parse_source(
        self,
        src: Source,
        fs_path: Path | None = None,
        remember: bool = True,
        resolver: Resolver | None = None,
        docs: list[Document] | None = None,
    ) -> Parsed:
        """Parse ``src`` (``docs``: its documents, when they are already parsed); with ``fs_path`` (where it
        lives), resolve its bases and build the reference recipes."""
        if docs is None:
            if src.format == "python":
                from lrlint.sources import python_source

                if not python_source.mentions_training_names(src.text):
                    return Parsed(src, [], [])
            docs = sources.parse(src, self.limits)
        elif not docs:
            return Parsed(src, [], [])
        if fs_path is not None and remember:
            self.resolver.remember(fs_path, src, docs)
        parsed = Parsed(src, [], [])
        for doc in docs:
            merged, base_recs, label, names = doc, [], "", []
            iprof = inherit_profile(doc, self.profiles) if fs_path is not None else None
            res = None
            if fs_path is not None and iprof is not None:
                res = (resolver or self.resolver).resolve(doc, src, fs_path, iprof)
            if res is not None:
                merged = res.doc
                parsed.problems.extend(res.problems)
                parsed.base_sources.extend(res.sources)
            merged = interpolate.resolve_document(merged) if merged.format == "yaml" else merged
            index = KeyIndex(merged.values)
            prof = select_profile(merged, self.profiles, index)
            recs = build(merged, prof, self.optimizers, index=index) if prof else []
            if res is not None and res.base is not None and prof is not None:
                memo = (resolver or self.resolver).base_recipes
                bdoc, bindex, bprof_of_base = base_document(memo, res.base, self.profiles)
                bprof = bprof_of_base or prof
                tag = next((t for n in reversed(res.base_names) if (t := name_tag(bprof, n)) is not None), None)
                if recs and recs[0].tag is None:
                    inherited = inherited_tag(recs[0], tag, res.base_names)
                    if inherited is not None:  # no tag of its own: the devices of the base it gets the batch from
                        recs = build(merged, prof, self.optimizers, tag=inherited, index=index)
                if tag is None and recs and recs[0].tag is not None:  # the base has no tag: devices assumed unchanged
                    own = recs[0].tag
                    tag = own if own.inherited_from is not None else replace(own, inherited_from=merged.path)
                base_recs = build_once(memo, bdoc, bindex, bprof, self.optimizers, tag or False)
                label, names = res.base_label, res.base_names
            parsed.docs.append(merged)
            parsed.recipes.append(stated_devices.apply(self, recs))
            parsed.bases.append(stated_devices.apply(self, base_recs))
            parsed.base_labels.append(label)
            parsed.base_names.append(names)
            parsed.replaced.append(_replaced_scopes(doc, iprof) if res is not None else [])
        return parsed

    def read_source(self, target: Target) -> Source:
        """The file's bytes as a Source: the overlay's when it has the file, else the disk's."""
        data = self.overlay.get(resolved(self.cwd / target.fs_path)) if self.overlay else None
        if data is not None:
            return sources.from_bytes(target.path, target.format, data, self.limits)
        return sources.read(target.path, target.fs_path, target.format, self.limits)

    def recipes_of(self, doc: Document) -> list[Recipe]:
        """The recipes of a document (a merged config set), through the profile that claims it."""
        profile = select_profile(doc, self.profiles)
        return build(doc, profile, self.optimizers) if profile else []

    def read(self, target: Target) -> Parsed:
        """The target parsed: once per run, also when it was read before as another file's base."""
        known = self.resolver.parsed(target.fs_path)
        if known is not None and known.source.path == target.path:
            return self.parse_source(known.source, target.fs_path, docs=known.docs)
        return self.parse_source(self.read_source(target), target.fs_path)

    # -- references ------------------------------------------------------------------------
    def repo_git(self) -> GitBase | None:
        """The git work tree of the checked files (opened from the first one's folder, as ``history`` does)."""
        return self.open_git(self._repo_start())

    def _repo_start(self) -> Path:
        first = self.pathspec[0].parent if self.pathspec else self.cwd
        return first if first.exists() else self.cwd

    def start_git(self) -> None:
        """Start git's first calls for ``repo_git`` now (every run asks for git, at the latest for the
        dependents): they run while the first file is read."""
        if not self._git_opened and self._early is None:
            self._early = git_started(self._repo_start(), self.base_rev or "HEAD")

    def git_refused(self) -> bool:
        """Whether git refuses the repository: what only looks for more to report (dependents) then stops."""
        try:
            self.repo_git()
        except UsageError:
            return True
        return False

    def open_git(self, start: Path) -> GitBase | None:
        if self._git_opened:
            return self.git
        self._git_opened = True
        try:
            early, self._early = self._early, None
            self.git = GitBase.open(
                start, self.base_rev or "HEAD", self.pathspec, on_root=self.around.started, early=early
            )
        except GitUnavailable as e:
            if self.base_rev:
                self.git_note = f"--base {self.base_rev}: {e}"
            else:
                self.git_note = str(e)
        except GitError as e:
            raise UsageError(str(e)) from None
        return self.git

    def history(self, target: Target) -> Parsed | None:
        """The target as it was at the git base; None without git, or when it is unchanged or new since then."""
        start = resolved(target.fs_path).parent
        git = self.open_git(start if start.exists() else self.cwd)
        if git is None:
            return None
        rel = git.relative(target.fs_path)
        if rel is None:
            return None  # outside the repository
        if resolved(target.fs_path) not in self.overlay and not git.is_changed(rel):
            return None  # identical at the base: nothing to compare (given text is compared with the blob)
        try:
            src = git.read_at_base(target.fs_path, target.format)
            if src is None:
                return None  # new in this change
            parsed = self.parse_source(src, target.fs_path, remember=False, resolver=self.at_base(git))
        except SourceError:
            return None
        if parsed.source.path == f"{git.label}:{rel}":  # not renamed: shown as the revision alone
            parsed.source.path = git.label
        return parsed

    def at_base(self, git: GitBase) -> AtRevision:
        """The resolver of the git reference: bases as they were at the base revision."""
        if self._at_base is None:
            self._at_base = AtRevision(self.resolver, git)
        return self._at_base

    def load_user_reference(self) -> list[list[Recipe]] | None:
        if self.reference_path is None:
            return None
        if self.user_reference is None:
            p = Path(self.reference_path)
            fmt = sources.format_of(p)
            if not p.is_file() or fmt is None:
                raise UsageError(f"--reference {self.reference_path}: not a YAML, JSON or Python file")
            try:
                self.user_reference = self.read(Target(self.reference_path, p, fmt)).recipes
            except SourceError as e:
                raise UsageError(f"--reference {self.reference_path}:{e.line}:{e.col}: {e.reason}") from None
        return self.user_reference

    def references(
        self, recipe: Recipe, doc_index: int, doc: Document, parsed: Parsed, old: Parsed | None
    ) -> list[Reference]:
        """Every reference of ``recipe`` (document ``doc_index`` of ``parsed``; ``old``: the same at the git base)."""
        user = self.load_user_reference()
        j = same_document(doc, doc_index, old)
        return collect_references(
            recipe,
            doc,
            base=(parsed.bases[doc_index], parsed.base_labels[doc_index]),
            reference=([r for recs in user for r in recs], str(self.reference_path)) if user else None,
            old=(old.recipes[j], old.source.path.split(":")[0]) if old is not None and j is not None else None,
        )

    # -- checking --------------------------------------------------------------------------
    def report_problem(self, result: Result, path: str, err: SourceError, lines: LineIndex | None = None) -> None:
        """An input problem as an LR9xx finding, once per run (a base shared by children is read for each)."""
        key = (path, err.line, err.col, err.reason)
        if key in self._reported:
            return
        self._reported.add(key)
        finding = input_finding(path, err, lines)
        result.findings.append(finding)
        self.problems_reported.append((finding, key))

    def check_file(self, target: Target, result: Result) -> None:
        start = len(result.findings)
        parsed = self._check_file(target, result)
        if self.baseline is not None:
            self.baseline.mark_file(target, parsed, result.findings[start:])

    def _check_file(self, target: Target, result: Result) -> Parsed | None:
        try:
            parsed = self.read(target)
        except SourceError as e:
            result.findings.append(input_finding(target.path, e))
            return None
        src = parsed.source
        result.sources[target.path] = src
        comments: dict[int, str] = {}
        for doc in parsed.docs:
            comments.update(doc.comments)
        result.comments[target.path] = comments
        for doc in parsed.docs:
            for prob in doc.problems:
                result.findings.append(input_finding(target.path, prob, src.lines))
        for bsrc in parsed.base_sources:
            result.sources.setdefault(bsrc.path, bsrc)
        for bprob in parsed.problems:
            path = bprob.path or target.path
            psrc = result.sources.get(path)
            self.report_problem(result, path, bprob.error, psrc.lines if psrc is not None else None)
        if any(parsed.recipes):
            start = len(result.findings)
            self.check_parsed(target.path, parsed, self.history(target), result)
            if self.keeps_merges and any(f.fix is not None for f in result.findings[start:]):
                self.resolver.keep_recent(target.fs_path)
        return parsed

    def check_parsed(self, path: str, parsed: Parsed, old: Parsed | None, result: Result) -> None:
        """Run every recipe check over ``parsed`` (shown as ``path``) against its references (``old``: the
        same file, or config set, at the git base). A finding about a value inherited from a base file is
        reported at the line of ``path`` that names its bases (not in a config set: a member's value is
        reported where it is written)."""
        relocate = None if parsed.config_set else inherit_keys(self.profiles)
        src = parsed.source
        lr_spans: dict[tuple, int] = {}
        for recs in parsed.recipes:
            for r in recs:
                if r.lr.span is not None:  # the branches of a script read branch by branch are apart
                    key = (r.doc.variant, r.lr.span.path, r.lr.span.start)
                    lr_spans[key] = lr_spans.get(key, 0) + 1
        for i, (doc, recs) in enumerate(zip(parsed.docs, parsed.recipes, strict=True)):
            result.recipes.setdefault(path, []).extend(recs)
            for recipe in recs:
                pol = policy_for(recipe.family, self.settings, self.optimizers)
                direct = parsed.base_names[i] if i < len(parsed.base_names) else []
                replaced = parsed.replaced[i] if i < len(parsed.replaced) else []
                candidates = self.references(recipe, i, doc, parsed, old)
                refs, aside = choose(candidates, recipe, doc.path, pol, self.settings.thresholds, direct, replaced)
                if self.run_hardware is not None:
                    recipe, refs = for_run(recipe, refs, self.run_hardware)
                recipe = self.around.consumed(recipe, path)
                ref = primary(refs)
                span = recipe.lr.span
                shared = span is not None and lr_spans.get((doc.variant, span.path, span.start), 0) > 1
                ctx = CheckContext(recipe, refs, ref, pol, self.settings, shared_lr=shared, source=src)
                for check in checks.recipe_checks():
                    for f in check(ctx):
                        if relocate is not None and f.span.path != path:
                            _relocate(f, doc, path, relocate)
                        if doc.variant is not None:
                            f.message += f" (in the branch where `{doc.variant}`)"
                        if recipe.profile.severity:
                            f.severity = recipe.profile.severity
                            if recipe.profile.note:
                                f.notes.append(recipe.profile.note)
                        result.findings.append(f)
                result.explanations.append(Explanation.of(recipe, ref, aside, candidates, ctx.quiet))

    def close(self) -> None:
        if self._early is not None:
            self._early.stop()
        self.around.close()
        if self.git is not None:
            self.git.close()


def _replaced_scopes(doc: Document, iprof) -> list[str]:
    """The scopes a child replaces instead of merging (its profile's delete key set true: ``_delete_=True``)."""
    key = iprof.inherit.delete_key if iprof is not None and iprof.inherit is not None else None
    if not key:
        return []
    return [
        k.removesuffix(key).rstrip(".")
        for k, v in doc.values.items()
        if (k == key or k.endswith("." + key)) and v.value not in (False, None, 0) and str(v.value).lower() != "false"
    ]


def _relocate(f: Finding, doc: Document, path: str, keys: frozenset[str]) -> None:
    """A finding about a value from a base file is reported in the checked child, at the line that names
    its bases (under one of ``keys``, the profiles' inherit keys); the base file's line is kept as a related
    location."""
    at_path = (v for v in doc.values.values() if v.span is not None and v.span.path == path)
    names = next((v.span for v in at_path if v.key.split(".")[0] in keys), None)
    if names is None:
        return
    f.related.insert(0, Related(f.span, "inherited from here"))
    f.span = names


def filter_findings(findings: list[Finding], result: Result, settings: Settings) -> list[Finding]:
    """Rule selection, per-file ignores and inline suppressions; then LR100 for suppressions that hid nothing."""
    out = []
    seen: set[tuple] = set()
    used: dict[str, dict[int, set[str]]] = {}  # path -> line -> the codes its suppression hid
    for f in findings:
        if not settings.selected(f.code, f.span.path):
            continue
        key = (f.code, f.span.path, f.span.start, f.span.end, f.message)
        if key in seen:  # two recipes of one file (two lr keys) reach the same schedule value
            continue
        seen.add(key)
        line = directives.suppressed_at(f, result.comments.get(f.span.path, {}))
        if line is not None:
            used.setdefault(f.span.path, {}).setdefault(line, set()).add(f.code)
            continue
        out.append(f)
    if any(settings.selected(unused_suppression.RULE.code, p) for p in result.files):
        stale = unused_suppression.unused(result, settings, used)
        out += [f for f in stale if settings.selected(f.code, f.span.path)]
    return sorted(out, key=lambda f: f.sort_key)


def set_members(settings: Settings) -> tuple[list[list[Path]], dict[Path, int]]:
    """The configured config sets and the set of each member (resolved paths)."""
    sets = config_sets.sets_of(settings)
    return sets, {m: i for i, group in enumerate(sets) for m in group}


def pathspec_of(settings: Settings, targets: list[Target]) -> list[Path]:
    """The files a run reads as checked files: the targets and the other members of their config sets."""
    sets, member_of = set_members(settings)
    spec = [resolved(t.fs_path) for t in targets]
    wanted = sorted({member_of[p] for p in spec if p in member_of})
    return spec + [m for i in wanted for m in sets[i] if m not in spec]


def check_targets(
    engine: Engine,
    targets: list[Target],
    result: Result,
    pathspec: list[Path] | None = None,
    sets_done: frozenset[int] = frozenset(),
    lean: bool = False,
    progress: Progress | None = None,
) -> None:
    """Check each target (a config set's member: its whole set, once). ``pathspec``: every file of the run when
    ``targets`` are a part of it; ``sets_done``: sets another part checked; ``lean``: keep only what the report
    needs, at most about KEEP_FILES parsed files (flat memory); ``progress``: told of each target checked."""
    engine.pathspec = pathspec if pathspec is not None else pathspec_of(engine.settings, targets)
    engine.start_git()
    sets, member_of = set_members(engine.settings)
    done: set[int] = set(sets_done)
    for n, t in enumerate(targets, 1):
        if lean and n % LEAN_EVERY == 0:
            result.keep_for_report()
            if engine.resolver.size() > KEEP_FILES:
                engine.forget()
        result.files.append(t.path)
        result.covered.add(t.path)
        i = member_of.get(resolved(t.fs_path))
        with per_file(t.path, result.findings, passthrough=(UsageError,)):
            if i is None:
                engine.check_file(t, result)
            elif i not in done:
                done.add(i)
                config_sets.check_set(engine, sets[i], result)
        if progress is not None:
            progress.advance()
    git = None if engine.git_refused() else engine.repo_git()
    changed = git.changed_targets(targets) if git is not None else []
    if git is not None and changed:  # the dependents' module is imported only when a checked file changed
        from lrlint import dependents

        dependents.report(engine, git, changed, result)


def check_paths(
    paths: list[str],
    settings: Settings,
    base: str | None = None,
    reference: str | None = None,
    force_exclude: bool = False,
    keep_parsed: bool = False,
) -> Result:
    """Check files and directories; raises UsageError or PathError for exit-2 problems. ``keep_parsed``: the
    result keeps what the run made (``Result.made``, for --fix's re-check)."""
    return bigstack.run(lambda: _check_paths(paths, settings, base, reference, force_exclude, keep_parsed))


def _check_paths(
    paths: list[str],
    settings: Settings,
    base: str | None,
    reference: str | None,
    force_exclude: bool,
    keep_parsed: bool = False,
) -> Result:
    with resolving():
        notes: list[str] = []
        targets = discover(paths, settings, force_exclude=force_exclude, notes=notes)
        return _check_found(targets, notes, settings, base, reference, keep_parsed)


def check_found(
    targets: list[Target],
    notes: list[str],
    settings: Settings,
    base: str | None = None,
    reference: str | None = None,
    keep_parsed: bool = False,
    lean: bool = False,
    progress: Progress | None = None,
) -> Result:
    """``check_paths`` on files already discovered (``notes``: what the discovery said; ``lean`` and
    ``progress``: see ``check_targets``)."""
    return bigstack.run(lambda: _check_found(targets, notes, settings, base, reference, keep_parsed, lean, progress))


def _check_found(
    targets: list[Target],
    notes: list[str],
    settings: Settings,
    base: str | None,
    reference: str | None,
    keep_parsed: bool,
    lean: bool = False,
    progress: Progress | None = None,
) -> Result:
    engine = Engine(settings, base=base, reference=reference)
    engine.keeps_merges = keep_parsed
    result = Result(notes=notes)
    try:
        with resolving():
            check_targets(engine, targets, result, lean=lean, progress=progress)
    finally:
        engine.close()
    if keep_parsed:
        result.made = engine.made()
    if lean:
        result.keep_for_report()
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
    return bigstack.run(lambda: _check_one(engine, Target(shown, fs, fmt), settings))


def _check_one(engine: Engine, target: Target, settings: Settings) -> Result:
    result = Result()
    try:
        with resolving():
            check_targets(engine, [target], result)
    finally:
        engine.close()
    return _finish(engine, result, settings)


def _finish(engine: Engine, result: Result, settings: Settings) -> Result:
    git_root = str(engine.git.root) if engine.git is not None else None
    return finish(result, settings, git_root, engine.git_note, engine.base_rev)


def finish(
    result: Result, settings: Settings, git_root: str | None, git_note: str | None, base_rev: str | None
) -> Result:
    """A run's last step: the git root and note, rule selection and suppressions."""
    if git_root is not None:
        result.git_root = git_root
    # no git matters when --base asked for it, or when a recipe was left without any reference
    if git_note and (base_rev or any(e.reference is None for e in result.explanations)):
        result.notes.append(git_note)
    findings = group_missing(filter_findings(result.findings, result, settings))
    if base_rev:
        result.baseline = base_rev
        note = summary_note(findings, settings.show_existing, base_rev)
        if note is not None:
            result.notes.append(note)
    result.findings = reported(findings, settings)
    return result


def reported(findings: list[Finding], settings: Settings) -> list[Finding]:
    """The findings a report lists: pre-existing ones only with ``show-existing``."""
    return findings if settings.show_existing else [f for f in findings if not f.pre_existing]
