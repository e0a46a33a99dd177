"""Formalize with Claude through the real server over stdio: the server is started with
ANTHROPIC_BASE_URL at the Messages API stand-in (tests/llm/messages_api.py), so the
real SDK in the server streams the recorded answer; the edit comes back as one
workspace/applyEdit. Without a key the code action is disabled with the plain reason
and the command answers an error; a cancel aborts the stream in flight."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_asyncio
from lsp_helpers import EXAMPLES, SERVER_COMMAND, open_document
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from specloom.llm.errors import NO_KEY
from specloom.llm.formalize import FormalSpec
from specloom.llm.structured import tool_name
from specloom.spec.compiler import compile_spec

from tests.llm.cassettes import load_cassette
from tests.llm.messages_api import API_KEY, MessagesAPI, running, tool_use

PROSE = (EXAMPLES / "prose.spec.md").read_text(encoding="utf-8")
COMMAND = "specloom.formalize"


@pytest.fixture
def api() -> Iterator[MessagesAPI]:
    with running() as stand_in:
        yield stand_in


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(EXAMPLES / "prose.spec.md", root / "rooms.spec.md")
    return root


async def start(workspace: Path, api: MessagesAPI | None) -> LanguageClient:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SPECLOOM_"))}
    if api is not None:
        env |= {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": api.base_url}
    client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=env).start()
    assert isinstance(client, LanguageClient)
    read_code_actions_whole(client)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        )
    )
    return client


def read_code_actions_whole(client: LanguageClient) -> None:
    """lsprotocol reads any code action with a `command` as a `Command` (its command
    then the action's command object as a string); tell them apart by that field."""
    converter = client.protocol._converter

    def command_or_action(data: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(data.get("command"), str):
            return converter.structure(data, types.Command)
        return converter.structure(data, types.CodeAction)

    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007  # the type lsprotocol registers
        command_or_action,
    )


async def stop(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


@pytest_asyncio.fixture
async def keyed(workspace: Path, api: MessagesAPI) -> AsyncIterator[LanguageClient]:
    """A server whose environment has a key and the stand-in's address."""
    client = await start(workspace, api)
    yield client
    await stop(client)


@pytest_asyncio.fixture
async def keyless(workspace: Path) -> AsyncIterator[LanguageClient]:
    """A server whose environment has no key."""
    client = await start(workspace, None)
    yield client
    await stop(client)


async def execute(client: LanguageClient, *args: Any, timeout: float = 60) -> Any:
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=COMMAND, arguments=list(args))
        ),
        timeout,
    )


async def actions_on_title(
    client: LanguageClient, uri: str, diagnostics: Sequence[types.Diagnostic]
) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(0, 2), types.Position(0, 2)),
            context=types.CodeActionContext(diagnostics=list(diagnostics)),
        )
    )
    return [
        action
        for action in found or []
        if isinstance(action, types.CodeAction) and action.title == "Formalize with Claude"
    ]


async def until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def test_formalize_applies_the_structured_spec_as_one_edit(
    keyed: LanguageClient, api: MessagesAPI, workspace: Path
) -> None:
    cassette = load_cassette("formalize_rooms")
    api.script(cassette.reply())
    spec = workspace / "rooms.spec.md"
    published = await open_document(keyed, spec)
    assert {d.code for d in published.diagnostics} >= {"SL101", "SL105"}

    (action,) = await actions_on_title(keyed, spec.as_uri(), published.diagnostics)
    assert action.kind == types.CodeActionKind.RefactorRewrite
    assert action.disabled is None
    assert action.command is not None
    assert action.command.command == COMMAND
    assert list(action.command.arguments or []) == [spec.as_uri()]
    result = await execute(keyed, *action.command.arguments)

    cassette.check(api.requests[0].body)
    assert result["applied"] is True
    (applied,) = keyed.applied_edits  # type: ignore[attr-defined]
    assert applied.label == "Formalize with Claude"
    (change,) = applied.edit.document_changes
    assert change.text_document.version == 1
    (edit,) = change.edits
    assert edit.range.start == types.Position(0, 0)
    assert edit.range.end.line == len(PROSE.split("\n")) - 1
    new_text = edit.new_text
    assert compile_spec(new_text).diagnostics == []
    assert spec.read_text(encoding="utf-8") == new_text  # the test client saves edits
    assert result["lines"] == new_text.count("\n")
    lines = new_text.splitlines()
    traced = [item["line"] for item in result["trace"]]
    assert traced == [
        n for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("## ")
    ]
    assert result["trace"][0]["from"] == "L1, L3"
    (values,) = keyed.progress_reports.values()
    assert isinstance(values[0], types.WorkDoneProgressBegin)
    assert values[0].cancellable
    assert isinstance(values[-1], types.WorkDoneProgressEnd)
    assert "lines" in (values[-1].message or "")


async def test_cancelling_aborts_the_stream_in_flight(
    keyed: LanguageClient, api: MessagesAPI, workspace: Path
) -> None:
    spec = workspace / "rooms.spec.md"
    await open_document(keyed, spec)
    answer = load_cassette("formalize_rooms").reply()
    answer.delay_s = 1.0  # eight seconds in all
    slow_again = tool_use(tool_name(FormalSpec), {})
    slow_again.delay_s = 1.0
    api.script(answer, slow_again)

    # the editor's cancel button: window/workDoneProgress/cancel of the progress token
    running = asyncio.ensure_future(execute(keyed, spec.as_uri()))
    await until(lambda: api.requests and keyed.progress_reports)
    token = next(iter(keyed.progress_reports))
    keyed.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    with pytest.raises(JsonRpcException, match="cancelled"):
        await asyncio.wait_for(running, 10)
    assert api.requests[0].disconnected.wait(5)
    assert not api.requests[0].completed

    # $/cancelRequest of the executeCommand request
    request = asyncio.ensure_future(
        keyed.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command=COMMAND, arguments=[spec.as_uri()]),
            msg_id="formalize-to-cancel",
        )
    )
    await until(lambda: len(api.requests) == 2)
    keyed.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="formalize-to-cancel"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(request, 10)
    assert api.requests[1].disconnected.wait(5)
    assert not api.requests[1].completed
    assert spec.read_text(encoding="utf-8") == PROSE
    assert not getattr(keyed, "applied_edits", [])


async def test_without_a_key_the_action_is_disabled_and_the_command_says_why(
    keyless: LanguageClient, workspace: Path
) -> None:
    spec = workspace / "rooms.spec.md"
    published = await open_document(keyless, spec)

    (action,) = await actions_on_title(keyless, spec.as_uri(), published.diagnostics)
    assert action.disabled == types.CodeActionDisabled(reason=NO_KEY)
    assert action.command is None
    assert action.edit is None

    with pytest.raises(JsonRpcException, match="no Anthropic API key"):
        await execute(keyless, spec.as_uri())
    await until(lambda: keyless.messages)
    (shown,) = keyless.messages
    assert shown.type == types.MessageType.Error
    assert shown.message == f"Specloom: {NO_KEY}"
    assert spec.read_text(encoding="utf-8") == PROSE
    assert not getattr(keyless, "applied_edits", [])
