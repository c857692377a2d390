"""``lrlint server`` end to end: a real LSP client (pytest-lsp) drives the server over stdio.

Each test starts the server as an editor would (``python -m lrlint server``), opens documents in a
temporary git repository, edits them, and reads what the server sends: diagnostics, code actions,
the edits a client applies, hovers, and the re-check of a child when its base changes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

try:
    import pytest_lsp
except ImportError:  # the test extra has it; CI must run these tests, not skip them
    if os.environ.get("CI"):
        raise
    pytest.skip("pytest-lsp is not installed (pip install -e '.[test]')", allow_module_level=True)
from conftest import ROOT, GitRepo
from lsprotocol import types as lsp
from pygls import uris
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SGD = "train:\n  batch_size: {bs}\n  warmup_epochs: 5\n  optimizer:\n    name: sgd\n    lr: {lr}\n"
LION = "# lrlint: reference batch=256 lr=0.0001\nbatch_size: {bs}\nlr: 0.0001\noptimizer: lion\nwarmup_epochs: 5\n"
BASE = "SOLVER:\n  IMS_PER_BATCH: {bs}\n  BASE_LR: 0.02\n"
CHILD = '_BASE_: "base.yaml"\nSOLVER:\n  IMS_PER_BATCH: 64\n  BASE_LR: 0.08\n'
RULES = "https://github.com/lrlint/lrlint/blob/main/docs/rules.md"
PUBLISH = lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS

SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "lrlint", "server"],
    server_env={**os.environ, "PYTHONPATH": str(ROOT), "LRLINT_CACHE_DIR": ""},
)


@pytest.fixture
def project(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "project")
    repo.write("configs/train.yaml", SGD.format(bs=256, lr=0.1))
    repo.write("configs/lion.yaml", LION.format(bs=256))
    repo.write("configs/base.yaml", BASE.format(bs=16))
    repo.write("configs/child.yaml", CHILD)
    repo.write("legacy/pyproject.toml", '[tool.lrlint]\nignore = ["LR001"]\n')
    repo.write("legacy/old.yaml", SGD.format(bs=256, lr=0.1))
    repo.commit("tuned")
    return repo


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: GitRepo):
    lsp_client.applied: list[lsp.WorkspaceEdit] = []  # what the server asked the editor to apply

    @lsp_client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        lsp_client.applied.append(params.edit)
        return lsp.ApplyWorkspaceEditResult(applied=True)

    lsp_client.registered: list[lsp.Registration] = []

    @lsp_client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(params: lsp.RegistrationParams) -> None:
        lsp_client.registered.extend(params.registrations)

    root = uris.from_fs_path(str(project.path))
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root,
            workspace_folders=[lsp.WorkspaceFolder(uri=root, name="project")],
            initialization_options={"debounce": 20},
        )
    )
    yield
    await lsp_client.shutdown_session()


class Editor:
    """The client side of the tests: open buffers, their versions, edits applied as an editor does."""

    def __init__(self, client: LanguageClient, root: Path):
        self.client, self.root = client, root
        self.text: dict[str, str] = {}
        self.version: dict[str, int] = {}

    def uri(self, rel: str) -> str:
        return uris.from_fs_path(str(self.root / rel))

    async def open(self, rel: str, text: str | None = None) -> list[lsp.Diagnostic]:
        uri = self.uri(rel)
        self.text[uri] = text if text is not None else (self.root / rel).read_text()
        self.version[uri] = 1
        item = lsp.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=self.text[uri])
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
        return await self.diagnostics(rel)

    async def diagnostics(self, rel: str, timeout: float = 20) -> list[lsp.Diagnostic]:
        """The next diagnostics published for ``rel`` at its current version."""
        uri = self.uri(rel)
        async with asyncio.timeout(timeout):
            while True:
                p = await self.client.wait_for_notification(PUBLISH)
                if p.uri == uri and p.version == self.version[uri]:
                    return list(p.diagnostics)

    def change(self, rel: str, old: str, new: str) -> None:
        """An incremental change: the first ``old`` in the buffer becomes ``new``."""
        uri = self.uri(rel)
        text = self.text[uri]
        at = text.index(old)
        line = text.count("\n", 0, at)
        col = at - (text.rfind("\n", 0, at) + 1)
        rng = lsp.Range(
            start=lsp.Position(line=line, character=col), end=lsp.Position(line=line, character=col + len(old))
        )
        self._send(
            uri, text[:at] + new + text[at + len(old) :], [lsp.TextDocumentContentChangePartial(range=rng, text=new)]
        )

    def apply(self, edit: lsp.WorkspaceEdit) -> None:
        for uri, edits in (edit.changes or {}).items():
            lines = self.text[uri].splitlines(keepends=True) + [""]
            offset = [sum(len(ln) for ln in lines[:i]) for i in range(len(lines) + 1)]
            text = self.text[uri]
            for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
                s = offset[e.range.start.line] + e.range.start.character
                t = offset[e.range.end.line] + e.range.end.character
                text = text[:s] + e.new_text + text[t:]
            self._send(uri, text, [lsp.TextDocumentContentChangeWholeDocument(text=text)])

    def _send(self, uri: str, text: str, changes: list) -> None:
        self.text[uri] = text
        self.version[uri] += 1
        ident = lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.version[uri])
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(text_document=ident, content_changes=changes)
        )

    async def actions(self, rel: str, rng: lsp.Range, diags: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
        params = lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=self.uri(rel)),
            range=rng,
            context=lsp.CodeActionContext(diagnostics=diags),
        )
        return list(await self.client.text_document_code_action_async(params) or [])


def _range(l1: int, c1: int, l2: int, c2: int) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=l1, character=c1), end=lsp.Position(line=l2, character=c2))


async def test_open_change_publishes_the_check_diagnostics(client, project):
    ed = Editor(client, project.path)
    assert await ed.open("configs/train.yaml") == []  # unchanged since HEAD: nothing to compare
    ed.change("configs/train.yaml", "256", "1024")  # typed, not saved: the buffer is compared with HEAD
    [d] = await ed.diagnostics("configs/train.yaml")
    assert d.code == "LR001" and d.source == "lrlint"
    assert d.severity == lsp.DiagnosticSeverity.Error
    assert d.range == _range(1, 14, 1, 18)
    assert d.message == (
        "effective batch 256 -> 1024 (x4) but train.optimizer.lr stays 0.1; expected 0.4 (linear rule)\n"
        "note: policy for SGD (SGD family): linear rule\n"
        "note: compared with git HEAD (batch 256, lr 0.1)\n"
        "note: devices not in the file: assumed unchanged"
    )
    assert d.code_description.href == f"{RULES}#lr001-unscaled-lr"
    assert [(r.location.uri, r.location.range, r.message) for r in d.related_information] == [
        (ed.uri("configs/train.yaml"), _range(5, 8, 5, 11), "tuned for batch 256")
    ]
    assert (project.path / "configs/train.yaml").read_text() == SGD.format(bs=256, lr=0.1)


async def test_code_actions_fix_and_ignore_then_apply(client, project):
    ed = Editor(client, project.path)
    await ed.open("configs/train.yaml")
    ed.change("configs/train.yaml", "256", "1024")
    diags = await ed.diagnostics("configs/train.yaml")
    actions = await ed.actions("configs/train.yaml", diags[0].range, diags)
    by_title = {a.title: a for a in actions}
    assert list(by_title) == [
        "Set train.optimizer.lr to 0.4 (LR001)",
        "Ignore LR001 on this line (# lrlint: ignore[LR001])",
        "Fix all safe lrlint findings",
    ]
    fix = by_title["Set train.optimizer.lr to 0.4 (LR001)"]
    assert (fix.kind, fix.is_preferred) == (lsp.CodeActionKind.QuickFix, True)
    assert fix.diagnostics[0].code == "LR001"
    uri = ed.uri("configs/train.yaml")
    assert fix.edit.changes == {uri: (lsp.TextEdit(range=_range(5, 8, 5, 11), new_text="0.4"),)}
    ignore = by_title["Ignore LR001 on this line (# lrlint: ignore[LR001])"]
    assert ignore.edit.changes == {
        uri: (lsp.TextEdit(range=_range(1, 18, 1, 18), new_text="  # lrlint: ignore[LR001]"),)
    }

    ed.apply(fix.edit)  # the editor applies the preferred fix: the finding is gone
    assert ed.text[uri] == SGD.format(bs=1024, lr=0.4)
    assert await ed.diagnostics("configs/train.yaml") == []

    ed.change("configs/train.yaml", "0.4", "0.1")
    diags = await ed.diagnostics("configs/train.yaml")
    [ignore] = [
        a for a in await ed.actions("configs/train.yaml", diags[0].range, diags) if a.title.startswith("Ignore")
    ]
    ed.apply(ignore.edit)
    assert ed.text[uri].splitlines()[1] == "  batch_size: 1024  # lrlint: ignore[LR001]"
    assert await ed.diagnostics("configs/train.yaml") == []


async def test_unsafe_fix_is_marked_and_not_preferred(client, project):
    ed = Editor(client, project.path)
    await ed.open("configs/lion.yaml")
    ed.change("configs/lion.yaml", "batch_size: 256", "batch_size: 1024")
    [d] = await ed.diagnostics("configs/lion.yaml")
    assert d.code == "LR001" and d.data == {"fix": "unsafe"}
    [fix] = [a for a in await ed.actions("configs/lion.yaml", d.range, [d]) if "(LR001)" in a.title]
    assert fix.title == (
        "Set lr to 0.0002 (LR001) [unsafe: no established rule for this optimizer: check the suggestion with "
        "`lrlint verify`]"
    )
    assert fix.is_preferred is False
    assert not [a for a in await ed.actions("configs/lion.yaml", d.range, [d]) if a.title.startswith("Fix all")]


async def test_fix_all_command_applies_through_workspace_apply_edit(client, project):
    ed = Editor(client, project.path)
    await ed.open("configs/train.yaml")
    ed.change("configs/train.yaml", "256", "1024")
    await ed.diagnostics("configs/train.yaml")
    uri = ed.uri("configs/train.yaml")
    source = lsp.CodeActionParams(  # asked for by kind, away from the finding: the editor's "fix all on save"
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=_range(0, 0, 0, 0),
        context=lsp.CodeActionContext(diagnostics=[], only=[lsp.CodeActionKind.Source]),
    )
    [fix_all] = await client.text_document_code_action_async(source)
    assert (fix_all.kind, fix_all.title) == ("source.fixAll.lrlint", "Fix all safe lrlint findings")
    source.context.only = [lsp.CodeActionKind.QuickFix]
    assert not await client.text_document_code_action_async(source)
    res = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="lrlint.applyAutofix", arguments=[uri])
    )
    assert res == {"applied": True}
    [edit] = client.applied
    ed.apply(edit)
    assert ed.text[uri] == SGD.format(bs=1024, lr=0.4)
    assert await ed.diagnostics("configs/train.yaml") == []


async def test_hover_on_the_lr_shows_reference_and_expected_lr(client, project):
    ed = Editor(client, project.path)
    await ed.open("configs/train.yaml")
    ed.change("configs/train.yaml", "256", "1024")
    await ed.diagnostics("configs/train.yaml")
    params = lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=ed.uri("configs/train.yaml")),
        position=lsp.Position(line=5, character=9),
    )
    hover = await client.text_document_hover_async(params)
    assert hover.contents.kind == lsp.MarkupKind.Markdown
    assert hover.contents.value.splitlines() == [
        "**lrlint** `train.optimizer.lr` = 0.1",
        "",
        "- optimizer: SGD (sgd family: linear rule)",
        "- effective batch: 1024 (per_device 1024 x accum 1 x devices 1 x nodes 1)",
        "- reference batch: 256, lr 0.1 (git HEAD)",
        "- expected lr: 0.4 (LR001: linear rule)",
    ]
    params.position = lsp.Position(line=1, character=3)  # on a key, not an lr value
    assert await client.text_document_hover_async(params) is None


async def test_child_is_rechecked_when_its_open_base_changes(client, project):
    ed = Editor(client, project.path)
    assert await ed.open("configs/child.yaml") == []  # x4 batch with x4 lr over the base: fine
    await ed.open("configs/base.yaml")
    ed.change("configs/base.yaml", "16", "32")  # unsaved edit of the base: the child is now x2 with x4 lr
    [d] = await ed.diagnostics("configs/child.yaml")
    assert d.code == "LR002" and d.range == _range(3, 11, 3, 15)
    assert d.message.startswith("effective batch 32 -> 64 (x2) and SOLVER.BASE_LR 0.02 -> 0.08 (x4); expected 0.04")
    assert d.message.endswith(
        "\nnote: compared with the base config configs/base.yaml (batch 32, lr 0.02)"
        "\nnote: git HEAD had batch 64; the inheritance reference wins"
    )
    assert [(r.location.uri, r.message) for r in d.related_information][-1] == (
        ed.uri("configs/base.yaml"),
        "inheritance reference",
    )
    base_uri = ed.uri("configs/base.yaml")
    client.text_document_did_close(
        lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=base_uri))
    )
    assert await ed.diagnostics("configs/child.yaml") == []  # closed unsaved: the base on disk again


async def test_settings_excludes_and_bad_input(client, project):
    ed = Editor(client, project.path)
    assert await ed.open("legacy/old.yaml", SGD.format(bs=1024, lr=0.1)) == []  # LR001 ignored in legacy/
    [d] = await ed.open("configs/broken.yaml", "a: [1, 2\nb: 3\n")
    assert (d.code, d.severity) == ("LR901", lsp.DiagnosticSeverity.Error)
    [d] = await ed.open("configs/train.yaml", SGD.format(bs=1024, lr=0.1))  # the server is still answering
    assert d.code == "LR001"
    (project.path / "bad").mkdir()
    (project.path / "bad" / "pyproject.toml").write_text("[tool.lrlint]\nselect = 3\n")
    (project.path / "bad" / "x.yaml").write_text(SGD.format(bs=256, lr=0.1))
    uri = ed.uri("bad/x.yaml")
    item = lsp.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=SGD.format(bs=256, lr=0.1))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
    async with asyncio.timeout(20):  # a bad [tool.lrlint] is shown to the user, naming the key
        while not client.messages:
            await asyncio.sleep(0.05)
    [m] = client.messages
    assert m.type == lsp.MessageType.Error and m.message.startswith("lrlint: ") and "select" in m.message
