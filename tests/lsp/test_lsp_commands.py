"""The commands end to end: plan, generate, validate, status and cancel through the
real server over stdio, driven like VS Code, on the todo example in a temporary
workspace."""

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
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

TODO = EXAMPLES / "todo.spec.md"


def _initialize(root: Path, options: dict[str, Any]) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options=options,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(TODO, root / "todo.spec.md")
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def client(lsp_client: LanguageClient, workspace: Path) -> Any:
    events: list[dict[str, Any]] = []
    lsp_client.run_events = events  # type: ignore[attr-defined]

    @lsp_client.feature("specloom/runEvent")
    def run_event(params: Any) -> None:
        events.append(params if isinstance(params, dict) else params._asdict())

    lsp_client.set_configuration({"specloom": {"trust": False}})
    await lsp_client.initialize_session(_initialize(workspace, {"trust": False}))
    yield
    await lsp_client.shutdown_session()


def spec_of(workspace: Path) -> Path:
    return workspace / "todo.spec.md"


async def execute(client: LanguageClient, command: str, *args: Any, timeout: float = 60) -> Any:
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(args))
        ),
        timeout,
    )


async def until(condition: Any, timeout: float = 30) -> None:
    """Wait until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


def progress_of(client: LanguageClient) -> list[Any]:
    assert len(client.progress_reports) == 1, list(client.progress_reports)
    return next(iter(client.progress_reports.values()))


def check_progress(values: list[Any]) -> list[types.WorkDoneProgressReport]:
    assert isinstance(values[0], types.WorkDoneProgressBegin)
    assert values[0].cancellable
    assert isinstance(values[-1], types.WorkDoneProgressEnd)
    assert values[-1].message
    assert sum(isinstance(v, types.WorkDoneProgressBegin) for v in values) == 1
    assert sum(isinstance(v, types.WorkDoneProgressEnd) for v in values) == 1
    reports = [v for v in values if isinstance(v, types.WorkDoneProgressReport)]
    percents = [r.percentage for r in reports]
    assert all(p is not None and 0 <= p <= 100 for p in percents)
    assert percents == sorted(percents), percents  # never decreasing
    return reports


async def test_generate_untrusted_with_progress_events_status_and_hover(
    client: LanguageClient, workspace: Path
) -> None:
    spec = spec_of(workspace)
    await open_document(client, spec)
    uri = spec.as_uri()
    assert await execute(client, "specloom.status", uri) is None

    started = time.perf_counter()
    running = asyncio.ensure_future(execute(client, "specloom.generate", uri))
    # the server answers a hover while the run goes on
    while not client.progress_reports and not running.done():
        await asyncio.sleep(0.01)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=2),
        )
    )
    hovered_before_the_end = not running.done()
    result = await running
    elapsed = time.perf_counter() - started
    assert hovered_before_the_end, "the hover waited for generate"
    del hover  # any answer will do (the title may have none)

    assert result["status"] == "incomplete", result
    out = workspace / "todo-app"
    assert Path(result["output_dir"]) == out.resolve()
    assert (out / "app" / "main.py").is_file()
    assert "app/main.py" in result["files"]
    assert [p["number"] for p in result["phases"]] == list(range(1, 12))
    assert {p["number"]: p["status"] for p in result["phases"]}[7] == "skipped"
    assert result["findings"] == []

    values = progress_of(client)
    reports = check_progress(values)
    assert len(reports) >= 3
    messages = [r.message or "" for r in reports]
    assert any(m.startswith("phase 1/11 ") for m in messages)
    assert any(m.startswith("phase 6/11 code generation · ") for m in messages), messages[:20]
    assert "incomplete" in (values[-1].message or "")

    events: list[dict[str, Any]] = client.run_events  # type: ignore[attr-defined]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run_started"
    assert kinds[-1] == "run_finished"
    assert "phase_started" in kinds
    assert "task_finished" in kinds
    assert all(e["run_id"] == result["id"] for e in events)

    status = await execute(client, "specloom.status", uri)
    assert status["id"] == result["id"]
    assert status["status"] == "incomplete"
    assert status["files"] == result["files"]
    assert status["in_flight"] is False
    assert await execute(client, "specloom.cancel", uri) is False

    planned = await execute(client, "specloom.plan", uri)
    assert planned["tasks"] > 0
    assert planned["levels"] > 0
    assert (out / "plan.md").is_file()
    assert (out / "plan.json").is_file()
    print(f"generate through LSP: {elapsed:.2f} s")


async def test_cancel_during_generate_leaves_no_output(
    client: LanguageClient, workspace: Path
) -> None:
    spec = spec_of(workspace)
    await open_document(client, spec)
    uri = spec.as_uri()
    running = asyncio.ensure_future(execute(client, "specloom.generate", uri))
    while not any(
        isinstance(v, types.WorkDoneProgressReport)
        for values in client.progress_reports.values()
        for v in values
    ):
        assert not running.done(), running.result()
        await asyncio.sleep(0.005)
    # one run per spec at a time
    with pytest.raises(JsonRpcException, match="a run is already in flight for this spec"):
        await execute(client, "specloom.generate", uri)
    assert await execute(client, "specloom.cancel", uri) is True
    result = await running
    assert result["status"] == "cancelled", result
    assert not (workspace / "todo-app").exists()
    values = progress_of(client)
    check_progress(values)
    assert "cancelled" in (values[-1].message or "")

    # the editor's cancel button: window/workDoneProgress/cancel of the token
    client.progress_reports.clear()
    running = asyncio.ensure_future(execute(client, "specloom.generate", uri))
    await until(lambda: client.progress_reports)
    token = next(iter(client.progress_reports))
    await until(lambda: len(client.progress_reports[token]) >= 2)
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await running
    assert result["status"] == "cancelled", result
    assert not (workspace / "todo-app").exists()
    check_progress(client.progress_reports[token])

    # $/cancelRequest of the executeCommand request
    client.progress_reports.clear()
    request = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="specloom.generate", arguments=[uri]),
            msg_id="generate-to-cancel",
        )
    )
    await until(lambda: client.progress_reports or request.done())
    assert not request.done(), request.result()
    token = next(iter(client.progress_reports))
    await until(lambda: len(client.progress_reports[token]) >= 2)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="generate-to-cancel"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(request, 30)
    await until(lambda: isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd))
    check_progress(client.progress_reports[token])
    status = await execute(client, "specloom.status", uri)
    assert status["status"] == "cancelled", status
    assert status["in_flight"] is False
    assert not (workspace / "todo-app").exists()


async def test_errors_get_replies_and_the_server_goes_on(
    client: LanguageClient, workspace: Path
) -> None:
    spec = spec_of(workspace)
    await open_document(client, spec)
    with pytest.raises(JsonRpcException, match="first argument"):
        await execute(client, "specloom.generate")
    with pytest.raises(JsonRpcException, match="first argument"):
        await execute(client, "specloom.status", 42)
    with pytest.raises(JsonRpcException, match="not a spec"):
        await execute(client, "specloom.plan", (workspace / "notes.md").as_uri())
    with pytest.raises(JsonRpcException, match="no spec"):
        await execute(client, "specloom.generate", (workspace / "gone.spec.md").as_uri())
    with pytest.raises(JsonRpcException, match=r"no app/main\.py"):
        await execute(client, "specloom.validate", spec.as_uri())
    with pytest.raises(JsonRpcException):
        await execute(client, "specloom.nonsense", spec.as_uri())
    assert await execute(client, "specloom.status", spec.as_uri()) is None
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=spec.as_uri()))
    )
    assert symbols


async def test_initialize_advertises_the_commands(
    bare_client: LanguageClient, workspace: Path
) -> None:
    result = await bare_client.initialize_session(_initialize(workspace, None))
    provider = result.capabilities.execute_command_provider
    assert provider is not None
    assert set(provider.commands) == {
        "specloom.plan",
        "specloom.generate",
        "specloom.validate",
        "specloom.status",
        "specloom.cancel",
        "specloom.repair",
        "specloom.keepMine",
        "specloom.takeGenerated",
        "specloom.showDiff",
        "specloom.formalize",
    }


async def test_trusted_generate_then_findings_and_repair(
    client: LanguageClient, workspace: Path
) -> None:
    spec = spec_of(workspace)
    await open_document(client, spec)
    uri = spec.as_uri()
    client.set_configuration({"specloom": {"trust": True, "repairAttempts": 0}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.3)

    result = await execute(client, "specloom.generate", uri, timeout=90)
    assert result["status"] == "passed", result
    statuses = {p["number"]: p["status"] for p in result["phases"]}
    assert (statuses[7], statuses[9], statuses[10]) == ("passed", "passed", "passed"), statuses
    # the test status of each flow shows above it
    assert client.__dict__.get("code_lens_refreshes", 0) >= 1
    spec_lines = spec.read_text(encoding="utf-8").splitlines()
    shown = await flow_lenses(client, uri)
    assert shown, "no test status above the flows"
    for line, title in shown.items():
        assert title.startswith("✓ "), title
        assert title.endswith(" tests pass"), title
        assert spec_lines[line].startswith("### F"), spec_lines[line]

    router = workspace / "todo-app" / "app" / "routers" / "task.py"
    original = router.read_text(encoding="utf-8")
    assert "from app.models.task import Task\n" in original
    router.write_text(original.replace("from app.models.task import Task\n", ""), "utf-8")

    # repairAttempts 0: the findings become diagnostics on the file and on the spec
    result = await execute(client, "specloom.validate", uri, timeout=90)
    assert result["status"] == "failed", result
    assert any(f["file"] == "app/routers/task.py" for f in result["findings"])
    on_file = client.diagnostics.get(router.resolve().as_uri(), [])
    assert on_file, list(client.diagnostics)
    assert all(d.source == "specloom" for d in on_file)
    assert any(d.code == "ruff:F821" and d.range.start.line == 39 for d in on_file)
    on_spec = [d for d in client.diagnostics.get(uri, []) if d.code == "ruff:F821"]
    assert on_spec
    lines = spec.read_text(encoding="utf-8").splitlines()
    assert all(d.message.startswith("app/routers/task.py: ") for d in on_spec)
    assert "F2" in lines[on_spec[0].range.start.line]
    # an edit of the spec republishes its diagnostics: the findings stay until the next run
    waiting = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    end = types.Position(len(lines), 0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(end, end), text="\n")
            ],
        )
    )
    republished = await asyncio.wait_for(waiting, 10)
    assert republished.uri == uri
    assert republished.version == 2
    assert [d for d in republished.diagnostics if d.code == "ruff:F821"] == on_spec

    # with repair, the run repairs the file and the findings clear
    client.set_configuration({"specloom": {"trust": True}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.3)
    result = await execute(client, "specloom.validate", uri, timeout=90)
    assert result["status"] == "passed", result
    assert router.read_text(encoding="utf-8") == original
    assert list(client.diagnostics.get(router.resolve().as_uri(), [None])) == []
    assert not [d for d in client.diagnostics.get(uri, []) if d.code == "ruff:F821"]

    # a one-field edit regenerates incrementally: only the files whose text changed are
    # touched, only the affected test modules run again
    out = workspace / "todo-app"
    before = snapshot(out)
    spec.write_text(spec.read_text(encoding="utf-8").replace(FIELD, EDITED), "utf-8")
    result = await execute(client, "specloom.generate", uri, timeout=90)
    generation = next(p for p in result["phases"] if p["number"] == 6)
    assert "incremental:" in generation["message"], generation
    validation = next(p for p in result["phases"] if p["number"] == 9)
    assert validation["status"] == "passed", result
    assert "affected modules passed" in validation["message"], validation
    after = snapshot(out)
    touched = {path for path in after if before.get(path, (0, b""))[0] != after[path][0]}
    changed = {path for path in after if before.get(path, (0, b""))[1] != after[path][1]}
    assert touched == changed, (touched, changed)
    assert changed
    assert len(changed) < len(after) / 2, changed
    assert "tests/test_task.py" not in touched


FIELD = "- name: string, required, unique, max length 80"
EDITED = "- name: string, required, unique, max length 100"


def snapshot(directory: Path) -> dict[str, tuple[int, bytes]]:
    """Each file of a directory: its mtime and its bytes."""
    return {
        path.relative_to(directory).as_posix(): (path.stat().st_mtime_ns, path.read_bytes())
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and ".specloom" not in path.parts
    }


async def flow_lenses(client: LanguageClient, uri: str) -> dict[int, str]:
    """The code lenses of a spec that show a test status: line -> title."""
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return {
        lens.range.start.line: lens.command.title
        for lens in found or []
        if lens.command and lens.command.command == "specloom.status"
    }
