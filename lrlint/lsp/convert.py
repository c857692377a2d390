"""A check's result as LSP messages: diagnostics, code actions, hover text.

Pure functions over an ``api.Result``; the server owns the state. Positions: lrlint's spans are
1-based lines and character columns; LSP's are 0-based lines and columns in the negotiated
encoding's code units (UTF-16 unless the client offers another), converted with pygls's codec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp
from pygls import uris
from pygls.workspace.position_codec import PositionCodec

from lrlint import checks, numbers, sources
from lrlint.checks.data import ScalingData
from lrlint.findings import ERROR, INFO, SAFE, UNSAFE, WARNING, Edit, Finding
from lrlint.fix import noqa
from lrlint.results import Result
from lrlint.spans import Span

SOURCE = "lrlint"
SEVERITY = {
    ERROR: lsp.DiagnosticSeverity.Error,
    WARNING: lsp.DiagnosticSeverity.Warning,
    INFO: lsp.DiagnosticSeverity.Information,
}
FIX_ALL_KIND = "source.fixAll.lrlint"


@dataclass
class View:
    """One check's result with what maps it to the editor: the directory paths are shown from, the
    open buffers' text (by resolved path) and the position codec."""

    result: Result
    cwd: Path
    texts: dict[Path, str] = field(default_factory=dict)
    codec: PositionCodec = field(default_factory=PositionCodec)
    _lines: dict[str, list[str] | None] = field(default_factory=dict)

    def fs(self, shown: str) -> Path | None:
        """The file a shown path names; None for a text at a git revision (``HEAD:configs/x.yaml``) or ``-``."""
        if shown == "-":
            return None
        p = Path(shown)
        p = (p if p.is_absolute() else self.cwd / p).resolve()
        return p if p in self.texts or p.is_file() else None

    def uri(self, shown: str) -> str | None:
        p = self.fs(shown)
        return uris.from_fs_path(str(p)) if p is not None else None

    def lines(self, shown: str) -> list[str] | None:
        if shown not in self._lines:
            text = None
            src = self.result.sources.get(shown)
            if src is not None:
                text = src.text
            elif (p := self.fs(shown)) is not None:
                text = self.texts.get(p)
                if text is None:
                    try:
                        text = p.read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        text = None
            self._lines[shown] = text.splitlines(keepends=True) if text is not None else None
        return self._lines[shown]

    def position(self, shown: str, line: int, col: int) -> lsp.Position:
        lines = self.lines(shown) or []
        return self.codec.position_to_client_units(
            lines, lsp.Position(line=max(line - 1, 0), character=max(col - 1, 0))
        )

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(
            start=self.position(span.path, span.line, span.col),
            end=self.position(span.path, span.end_line, span.end_col),
        )

    def location(self, span: Span) -> lsp.Location | None:
        uri = self.uri(span.path)
        return lsp.Location(uri=uri, range=self.range(span)) if uri is not None else None


def diagnostic(f: Finding, view: View) -> lsp.Diagnostic:
    """A finding as an LSP diagnostic: the code frame's labels become related locations."""
    rule = checks.rule(f.code)
    related = []
    for r in f.related:
        loc = view.location(r.span)
        if loc is not None:
            related.append(lsp.DiagnosticRelatedInformation(location=loc, message=r.label))
    return lsp.Diagnostic(
        range=view.range(f.span),
        message="\n".join([f.message, *(f"note: {n}" for n in f.notes)]),
        severity=SEVERITY.get(f.severity, lsp.DiagnosticSeverity.Warning),
        code=f.code,
        code_description=lsp.CodeDescription(href=rule.url) if rule is not None else None,
        source=SOURCE,
        related_information=related or None,
        data={"fix": f.fix.applicability if f.fix is not None and f.fix.edits else None},
    )


def _text_edit(e: Edit, view: View) -> tuple[str, lsp.TextEdit] | None:
    uri = view.uri(e.span.path)
    if uri is None:
        return None
    lines = view.lines(e.span.path) or []
    content = e.content
    if lines and lines[0].endswith("\r\n") and "\n" in content:  # the file's own line ending, as --fix writes
        content = content.replace("\r\n", "\n").replace("\n", "\r\n")
    return uri, lsp.TextEdit(range=view.range(e.span), new_text=content)


def workspace_edit(edits: list[Edit], view: View) -> lsp.WorkspaceEdit | None:
    changes: dict[str, list[lsp.TextEdit]] = {}
    for e in edits:
        te = _text_edit(e, view)
        if te is None:
            return None  # a fix is applied whole or not at all
        changes.setdefault(te[0], []).append(te[1])
    return lsp.WorkspaceEdit(changes=changes)


def fix_action(f: Finding, diag: lsp.Diagnostic, view: View) -> lsp.CodeAction | None:
    """The finding's fix: preferred when safe; an unsafe one says so in its title and is never preferred."""
    if f.fix is None or not f.fix.edits or f.fix.applicability not in (SAFE, UNSAFE):
        return None
    edit = workspace_edit(f.fix.edits, view)
    if edit is None:
        return None
    title = f"{f.fix.message} ({f.code})"
    if f.fix.applicability == UNSAFE:
        title += f" [unsafe: {f.fix.why}]" if f.fix.why else " [unsafe]"
    return lsp.CodeAction(
        title=title,
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diag],
        is_preferred=f.fix.applicability == SAFE,
        edit=edit,
    )


def ignore_edit(f: Finding, view: View) -> Edit | None:
    """An edit that adds ``# lrlint: ignore[CODE]`` on the finding's line (or the code to one there); None
    for JSON and where the edited text would not parse or would not suppress the finding."""
    src = view.result.sources.get(f.span.path)
    if src is None or sources.format_of(f.span.path) not in ("yaml", "python"):
        return None
    return noqa.ignore_edit(src, f.span.path, f.span.line, [f.code])


def ignore_action(f: Finding, diag: lsp.Diagnostic, view: View) -> lsp.CodeAction | None:
    e = ignore_edit(f, view)
    edit = workspace_edit([e], view) if e is not None else None
    if edit is None:
        return None
    return lsp.CodeAction(
        title=f"Ignore {f.code} on this line (# lrlint: ignore[{f.code}])",
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diag],
        is_preferred=False,
        edit=edit,
    )


def overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def hover_markdown(result, shown: str, line: int, col: int, settings, optimizers) -> str | None:
    """What lrlint knows about the lr value under (1-based) ``line``/``col``: the batch, the reference
    it is compared with and the lr that reference implies; None when no lr value is there."""
    from lrlint.scaling import factor, policy_for

    recipe = next((r for r in result.recipes.get(shown, []) if _inside(r.lr.span, shown, line, col)), None)
    if recipe is None:
        return None
    pol = policy_for(recipe.family, settings, optimizers)
    plain = numbers.plain
    lr = plain(recipe.lr_value) if recipe.lr_value is not None else "unknown"
    out = [f"**lrlint** `{recipe.lr.key}` = {lr}", ""]
    out.append(f"- optimizer: {recipe.optimizer_display or '?'} ({recipe.family} family: {pol.describe()})")
    batch = plain(recipe.effective_batch) if recipe.effective_batch is not None else "unknown"
    parts = " x ".join(f"{k} {plain(v)}" for k, v in recipe.parts.items()) if recipe.parts else ""
    out.append(f"- effective batch: {batch}" + (f" ({parts})" if parts else ""))
    expl = next((e for e in result.explanations if e.filename == shown and e.lr_key == recipe.lr.key), None)
    ref = expl.reference if expl is not None else None
    if ref is None:
        why = "; ".join(expl.not_checked_because) if expl and expl.not_checked_because else "nothing to compare"
        out.append(f"- reference: none ({why})")
        return "\n".join(out)
    ref_lr = plain(ref.lr) if ref.lr is not None else "?"
    out.append(f"- reference batch: {plain(ref.batch)}, lr {ref_lr} ({ref.label})")
    finding = next(
        (
            f
            for f in result.findings
            if f.span.path == shown and isinstance(f.data, ScalingData) and f.data.lr_key == recipe.lr.key
        ),
        None,
    )
    if recipe.scaling is not None:
        out.append(f"- expected lr: {lr}, unchanged: {recipe.scaling.description}")
    elif finding is not None and isinstance(finding.data, ScalingData):
        out.append(f"- expected lr: {plain(finding.data.expected_lr)} ({finding.code}: {pol.fix} rule)")
    elif ref.lr is not None and recipe.effective_batch is not None and ref.batch:
        k = recipe.effective_batch / ref.batch
        expected = ref.lr * factor(k, pol.fix_exponent)
        out.append(f"- expected lr: {plain(expected)} ({pol.fix} rule, batch x{plain(k)})")
    return "\n".join(out)


def _inside(span: Span | None, shown: str, line: int, col: int) -> bool:
    if span is None or span.path != shown:
        return False
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)
