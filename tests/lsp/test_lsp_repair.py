"""Repair code actions, `specloom.repair` and the trust question, end to end through the
real server over stdio, on the todo example in a temporary workspace.

The verify loop is the slow part (the generated suite runs in every validation), so the
app is rendered once per module (phase 6's generator, as the server renders its
reference) and written into each test's workspace; only one test runs it: the broken app
is validated once, repaired through the checked code action and `specloom.repair`.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_helpers import EXAMPLES, SERVER_COMMAND, open_document
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from specloom_lsp.repairs import render_reference

TODO = EXAMPLES / "todo.spec.md"
TRUST, NOT_NOW = "Trust this workspace", "Not now"
QUESTION = "Specloom runs the generated app's tests and starts it on this machine."
TASK_IMPORT = "from app.models.task import Task\n"
PROJECT_IMPORT = "from app.models.project import Project\n"


@pytest.fixture(scope="module")
def todo_tree() -> dict[str, str]:
    return render_reference(TODO.read_bytes(), TODO.name)


@pytest.fixture
def workspace(tmp_path: Path, todo_tree: dict[str, str]) -> Path:
    """A workspace with the todo spec and its app, as generated."""
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(TODO, root / TODO.name)
    for path, text in todo_tree.items():
        target = root / "todo-app" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


async def start(
    client: LanguageClient, root: Path, settings: dict[str, Any], answer: str | None = None
) -> list[types.ShowMessageRequestParams]:
    """Initialize like VS Code (without `window.showMessage` when `answer` is None), with
    `settings` as the workspace configuration; the trust questions the client is asked."""
    asked: list[types.ShowMessageRequestParams] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def ask(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        asked.append(params)
        return types.MessageActionItem(title=answer) if answer else None

    capabilities = client_capabilities("visual-studio-code")
    if answer is None and capabilities.window is not None:
        capabilities.window.show_message = None
    client.set_configuration({"specloom": settings})
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        )
    )
    await open_document(client, root / TODO.name)
    return asked


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def client(lsp_client: LanguageClient) -> Any:
    # workspace/applyEdit and workspace/codeLens/refresh: the defaults of
    # tests/lsp/conftest.py (applied to disk; counted)
    yield
    await lsp_client.shutdown_session()


async def execute(client: LanguageClient, command: str, *args: Any, timeout: float = 120) -> Any:
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(args))
        ),
        timeout,
    )


async def code_actions(
    client: LanguageClient, uri: str, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def apply_on_disk(edit: types.WorkspaceEdit) -> list[Path]:
    """Apply a WorkspaceEdit of text edits to the files on disk (as an editor would);
    the files changed."""
    by_uri: dict[str, list[types.TextEdit]] = {}
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit), change
        by_uri.setdefault(change.text_document.uri, []).extend(
            e for e in change.edits if isinstance(e, types.TextEdit)
        )
    for uri, edits in (edit.changes or {}).items():
        by_uri.setdefault(uri, []).extend(edits)
    changed = []
    for uri, edits in by_uri.items():
        path = Path(uri.removeprefix("file://"))
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for text_edit in sorted(edits, key=lambda e: e.range.start.line, reverse=True):
            start, end = text_edit.range.start, text_edit.range.end
            assert (start.character, end.character) == (0, 0), text_edit
            lines[start.line : end.line] = text_edit.new_text.splitlines(keepends=True)
        path.write_text("".join(lines), encoding="utf-8")
        changed.append(path)
    return changed


def remove(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert line in text
    path.write_text(text.replace(line, ""), encoding="utf-8")


def statuses(result: dict[str, Any]) -> dict[int, str]:
    return {p["number"]: p["status"] for p in result["phases"]}


async def test_a_broken_app_gets_checked_repair_actions_and_repair_fixes_the_rest(
    client: LanguageClient, workspace: Path, todo_tree: dict[str, str]
) -> None:
    asked = await start(client, workspace, {"repairAttempts": 0}, answer=TRUST)
    spec_uri = (workspace / TODO.name).as_uri()
    app = workspace / "todo-app"
    task_router, project_router = app / "app/routers/task.py", app / "app/routers/project.py"
    remove(task_router, TASK_IMPORT)

    # the trust question, answered "Trust this workspace": the run is verified
    clock = time.perf_counter()
    result = await execute(client, "specloom.validate", spec_uri)
    validated = time.perf_counter() - clock
    assert len(asked) == 1
    assert asked[0].message.startswith(QUESTION)
    assert [a.title for a in asked[0].actions or []] == [TRUST, NOT_NOW]
    assert result["trust"]["trusted"] is True
    assert statuses(result)[7] == "passed"
    assert result["status"] == "failed", result["error"]
    uri = task_router.resolve().as_uri()
    diagnostic = next(d for d in client.diagnostics.get(uri, []) if d.code == "ruff:F821")

    # the action is offered at once, checked in the background, then preferred
    clock = time.perf_counter()
    actions = await code_actions(client, uri, diagnostic)
    answered = time.perf_counter() - clock
    assert actions, "no repair action"
    first = actions[0]
    assert first.kind == types.CodeActionKind.QuickFix
    assert first.title.startswith("Repair: restore the generated imports of app/routers/task.py")
    assert not first.is_preferred
    assert first.title.endswith("(not checked)"), first.title
    deadline = time.monotonic() + 90
    while not first.is_preferred:
        assert time.monotonic() < deadline, f"never checked: {first.title}"
        await asyncio.sleep(0.5)
        first = (await code_actions(client, uri, diagnostic))[0]
    checked = time.perf_counter() - clock
    assert first.title.endswith("tests pass)"), first.title
    assert "(checked: " in first.title
    assert [d.code for d in first.diagnostics or []] == ["ruff:F821"]

    # the editor applies it: the file is as generated again
    assert first.edit is not None
    assert apply_on_disk(first.edit) == [task_router.resolve()]
    assert task_router.read_text(encoding="utf-8") == todo_tree["app/routers/task.py"]
    assert await code_actions(client, uri, diagnostic) == []  # the file changed: no longer

    # specloom.repair repairs another break by itself (repairAttempts 0 notwithstanding),
    # and no finding is left on either file
    remove(project_router, PROJECT_IMPORT)
    clock = time.perf_counter()
    result = await execute(client, "specloom.repair", spec_uri)
    repaired = time.perf_counter() - clock
    assert len(asked) == 1  # the answer is remembered
    assert result["status"] in ("passed", "incomplete"), result["error"]
    assert project_router.read_text(encoding="utf-8") == todo_tree["app/routers/project.py"]
    attempts = result["repairs"]
    assert len(attempts) == 1
    assert list(attempts[0]["files"]) == ["app/routers/project.py"]
    assert attempts[0]["effect"].startswith("improved")
    assert list(client.diagnostics[uri]) == []
    assert not client.diagnostics.get(project_router.resolve().as_uri())
    print(
        f"validate {validated:.1f} s, code action {answered * 1000:.0f} ms, "
        f"checked after {checked:.1f} s, repair {repaired:.1f} s"
    )


@pytest.mark.parametrize(
    ("settings", "answer", "asked_times", "reason"),
    [
        ({"trust": False}, NOT_NOW, 0, "the trust setting is false"),
        ({}, NOT_NOW, 1, f"answered '{NOT_NOW}' for this workspace"),
        ({}, None, 0, "the client cannot be asked"),
    ],
    ids=["trust-false-never-asks", "not-now", "client-without-showMessage"],
)
async def test_an_untrusted_workspace_gets_a_run_not_verified(
    client: LanguageClient,
    workspace: Path,
    settings: dict[str, Any],
    answer: str | None,
    asked_times: int,
    reason: str,
) -> None:
    asked = await start(client, workspace, settings, answer=answer)
    spec_uri = (workspace / TODO.name).as_uri()
    for _ in range(2 if asked_times else 1):  # a second run asks no more
        result = await execute(client, "specloom.validate", spec_uri)
        assert len(asked) == asked_times
        assert result["trust"]["trusted"] is False
        assert reason in result["trust"]["reason"]
        assert result["status"] == "incomplete"
        assert result["error"].startswith("not verified: the workspace is not trusted")
        assert statuses(result)[7] == "skipped"
