"""The language server: open documents in, diagnostics, code actions and hovers out.

Each check is ``api.check_text`` on the buffer's text, with every other open buffer as an overlay, so
a child config is merged over its base as the editor shows it. Checks run one at a time on a worker
thread (the event loop keeps reading messages); typing is debounced; a result older than the buffer is
dropped. A check that read a file (a base config, a config-set member) is re-run when that file
changes in the editor or on disk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from lsprotocol import types as lsp
from pygls import uris
from pygls.lsp.server import LanguageServer

from lrlint import __version__, api, profiles, sources
from lrlint import settings as settings_mod
from lrlint.discover import display_path, excluded, included
from lrlint.lsp import convert
from lrlint.profiles import OptimizerTable, RulesError
from lrlint.settings import ConfigError, Settings

log = logging.getLogger("lrlint.lsp")
DEBOUNCE_S = 0.15  # typing pauses shorter than this do not start a check
FIX_ALL_COMMAND = "lrlint.applyAutofix"
CONFIG_NAMES = set(settings_mod.CONFIG_FILES)
WATCH_GLOB = "**/*.{yaml,yml,json,py,toml}"


@dataclass
class Checked:
    """The last check of one open document."""

    uri: str
    version: int | None
    shown: str  # the document's path as the result shows it
    cwd: Path
    settings: Settings
    result: api.Result
    reads: set[Path] = field(default_factory=set)  # resolved files the check read (bases, set members, itself)
    seconds: float = 0.0


class LrlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("lrlint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.debounce = DEBOUNCE_S
        self.checked: dict[str, Checked] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lrlint-check")
        self._settings: dict[Path, Settings] = {}
        self.optimizers: OptimizerTable | None = None
        self._last_error = ""

    # -- what to check ---------------------------------------------------------------------
    def root_for(self, path: Path) -> Path:
        """Paths are shown from the workspace folder holding the file (as ``lrlint check`` run there)."""
        best = None
        for folder in self.workspace.folders.values():
            root = uris.to_fs_path(folder.uri)
            if root and path.is_relative_to(Path(root).resolve()) and (best is None or len(root) > len(str(best))):
                best = Path(root).resolve()
        if best is None and self.workspace.root_path:
            top = Path(self.workspace.root_path).resolve()
            best = top if path.is_relative_to(top) else None
        return best or path.parent

    def settings_for(self, path: Path) -> Settings:
        d = path.parent
        if d not in self._settings:
            self._settings[d] = settings_mod.load(d)
        return self._settings[d]

    def open_texts(self) -> dict[Path, str]:
        out = {}
        for uri, doc in self.workspace.text_documents.items():
            p = uris.to_fs_path(uri)
            if p and sources.format_of(p) is not None:
                out[Path(p).resolve()] = doc.source
        return out

    # -- one check (on the worker thread) --------------------------------------------------
    def check(self, uri: str, version: int | None, text: str, texts: dict[Path, str]) -> Checked | None:
        """Check ``text`` (the buffer at ``version``) with the other buffers ``texts``, all taken on the event
        loop: the worker thread never reads the workspace the loop is changing."""
        fs = uris.to_fs_path(uri)
        if fs is None or sources.format_of(fs) is None:
            return None
        path = Path(fs).resolve()
        started = time.perf_counter()
        settings = self.settings_for(path)
        cwd = self.root_for(path)
        shown = display_path(path, cwd)
        if excluded(path, settings) or not included(path, settings):
            return Checked(uri, version, shown, cwd, settings, api.Result())
        overlay = {p: t.encode("utf-8") for p, t in texts.items() if p != path}
        result = api.check_text(text.encode("utf-8"), path, settings, overlay=overlay, cwd=cwd)
        reads = {path}
        for p in [*result.sources, *result.covered]:
            q = Path(p)
            if ":" not in p or (cwd / q).exists():
                reads.add((q if q.is_absolute() else cwd / q).resolve())
        return Checked(uri, version, shown, cwd, settings, result, reads, time.perf_counter() - started)

    def view(self, c: Checked) -> convert.View:
        return convert.View(c.result, c.cwd, self.open_texts(), self.workspace.position_codec)

    def publish(self, c: Checked) -> None:
        """Diagnostics for the document, and for each open config-set member the check covered in full."""
        view = self.view(c)
        targets = {c.uri: c.shown}
        for shown in c.result.covered:
            uri = view.uri(shown)
            if uri is not None and uri in self.workspace.text_documents:
                targets.setdefault(uri, shown)
        for uri, shown in targets.items():
            diags = [convert.diagnostic(f, view) for f in c.result.findings if f.span.path == shown]
            doc = self.workspace.text_documents[uri]
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=doc.version)
            )

    # -- scheduling ------------------------------------------------------------------------
    async def run_check(self, uri: str) -> Checked | None:
        loop = asyncio.get_running_loop()
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return None
        try:
            c = await loop.run_in_executor(self.worker, self.check, uri, doc.version, doc.source, self.open_texts())
        except (ConfigError, RulesError, api.UsageError) as e:  # the user's settings or base: say so once per text
            message = f"lrlint: {e}"
            if message != self._last_error:
                self._last_error = message
                self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message))
            return None
        except Exception as e:  # one document never takes the server down
            log.exception("check of %s failed", uri)
            self.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Error, message=f"lrlint: {uri}: {e}"))
            return None
        doc = self.workspace.text_documents.get(uri)
        if c is None or doc is None or doc.version != c.version:
            return None  # closed or edited meanwhile: a newer check is scheduled
        self.checked[uri] = c
        self.publish(c)
        log.debug("checked %s in %.1f ms", c.shown, c.seconds * 1000)
        return c

    def schedule(self, uri: str, delay: float) -> None:
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()

        async def later() -> None:
            if delay:
                await asyncio.sleep(delay)
            self.pending.pop(uri, None)
            await self.run_check(uri)

        self.pending[uri] = asyncio.ensure_future(later())

    def dependents(self, path: Path) -> list[str]:
        """Open documents whose last check read ``path`` (a base config, a config-set member)."""
        return [uri for uri, c in self.checked.items() if path in c.reads and uris.to_fs_path(uri) != str(path)]

    def changed(self, path: Path, delay: float) -> None:
        """``path`` changed (in the editor or on disk): re-check the open documents that read it."""
        if path.name in CONFIG_NAMES:
            self._settings.clear()
            targets = list(self.checked)
        else:
            targets = self.dependents(path)
        for uri in targets:
            if uri in self.workspace.text_documents:
                self.schedule(uri, delay)

    async def fresh(self, uri: str) -> Checked | None:
        """The document's check for its current text (checked now when the last one is older)."""
        doc = self.workspace.text_documents.get(uri)
        c = self.checked.get(uri)
        if doc is not None and c is not None and c.version == doc.version:
            return c
        return await self.run_check(uri)


def _path_of(uri: str) -> Path | None:
    p = uris.to_fs_path(uri)
    return Path(p).resolve() if p else None


def build() -> LrlintServer:
    server = LrlintServer()
    _documents(server)
    _actions(server)
    return server


def _documents(server: LrlintServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: LrlintServer, params: lsp.InitializeParams) -> None:
        opts = params.initialization_options or {}
        if isinstance(opts, dict) and isinstance(opts.get("debounce"), (int, float)):
            ls.debounce = max(0.0, float(opts["debounce"]) / 1000)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: LrlintServer, params: lsp.InitializedParams) -> None:
        caps = ls.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps is not None else None
        if watched is not None and watched.dynamic_registration:
            opts = lsp.DidChangeWatchedFilesRegistrationOptions(
                watchers=[lsp.FileSystemWatcher(glob_pattern=WATCH_GLOB)]
            )
            reg = lsp.Registration(
                id="lrlint-watch", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=opts
            )
            try:
                await ls.client_register_capability_async(lsp.RegistrationParams(registrations=[reg]))
            except Exception as e:  # a client that declines: saves in the editor still re-check dependents
                log.warning("file watcher not registered: %s", e)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LrlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LrlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.schedule(uri, ls.debounce)
        if (p := _path_of(uri)) is not None:
            ls.changed(p, ls.debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LrlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        if (p := _path_of(params.text_document.uri)) is not None:
            ls.changed(p, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LrlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.checked.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        if (p := _path_of(uri)) is not None:
            ls.changed(p, 0)  # its dependents now read the file on disk

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: LrlintServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        for ev in params.changes:
            p = _path_of(ev.uri)
            if p is not None and ev.uri not in ls.workspace.text_documents:
                ls.changed(p, 0)


def _actions(server: LrlintServer) -> None:
    kinds = [lsp.CodeActionKind.QuickFix, convert.FIX_ALL_KIND]

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=kinds))
    async def code_action(ls: LrlintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        c = await ls.fresh(params.text_document.uri)
        if c is None:
            return []
        view = ls.view(c)
        out: list[lsp.CodeAction] = []
        only = params.context.only

        def wanted(kind: str) -> bool:  # kinds are hierarchical: "source" asks for "source.fixAll.lrlint"
            return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)

        mine = [f for f in c.result.findings if f.span.path == c.shown]
        here = [(f, d) for f in mine if convert.overlaps((d := convert.diagnostic(f, view)).range, params.range)]
        if wanted(lsp.CodeActionKind.QuickFix):
            for f, diag in here:
                out.extend(a for a in (convert.fix_action(f, diag, view), convert.ignore_action(f, diag, view)) if a)
        # fix-all re-runs the fix loop: offered when asked for by kind, or beside a finding with a safe fix
        if (only and wanted(convert.FIX_ALL_KIND)) or (not only and any(_safe(f) for f, _ in here)):
            edit = fix_all_edit(ls, c)
            if edit is not None:
                out.append(lsp.CodeAction(title="Fix all safe lrlint findings", kind=convert.FIX_ALL_KIND, edit=edit))
        return out

    @server.command(FIX_ALL_COMMAND)
    async def apply_autofix(ls: LrlintServer, uri: str) -> dict:
        """Apply every safe fix (as ``lrlint check --fix``) through ``workspace/applyEdit``."""
        c = await ls.fresh(uri)
        edit = fix_all_edit(ls, c) if c is not None else None
        if edit is None:
            return {"applied": False}
        res = await ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=edit, label="lrlint: fix all"))
        return {"applied": bool(res.applied)}

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: LrlintServer, params: lsp.HoverParams) -> lsp.Hover | None:
        c = await ls.fresh(params.text_document.uri)
        if c is None:
            return None
        doc = ls.workspace.text_documents[params.text_document.uri]
        pos = ls.workspace.position_codec.position_from_client_units(doc.lines, params.position)
        if ls.optimizers is None:
            ls.optimizers = profiles.optimizer_table()
        text = convert.hover_markdown(c.result, c.shown, pos.line + 1, pos.character + 1, c.settings, ls.optimizers)
        if text is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


def _safe(f) -> bool:
    from lrlint import fix

    return fix.applicable(f, False)


def fix_all_edit(ls: LrlintServer, c: Checked) -> lsp.WorkspaceEdit | None:
    """The document's text after ``--fix`` (safe fixes, re-checked until none is left), as one edit."""
    from lrlint import fix

    if not any(f.fix is not None and fix.applicable(f, False) for f in c.result.findings if f.span.path == c.shown):
        return None
    r = c.result  # the fix loop updates the result it is given: it gets a copy
    copy = replace(
        r, findings=list(r.findings), sources=dict(r.sources), recipes=dict(r.recipes), comments=dict(r.comments)
    )
    outcome = fix.apply(copy, c.settings, unsafe=False, write=False)
    new = outcome.changed.get(c.shown)
    if new is None:
        return None
    doc = ls.workspace.text_documents[c.uri]
    end = ls.workspace.position_codec.position_to_client_units(
        doc.lines, lsp.Position(line=len(doc.lines), character=0)
    )
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=end)
    return lsp.WorkspaceEdit(
        changes={c.uri: [lsp.TextEdit(range=whole, new_text=new.decode("utf-8", "surrogateescape"))]}
    )


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="lrlint server: %(levelname)s %(message)s")
    build().start_io()
    return 0
