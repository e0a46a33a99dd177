"""Generated files reach the editor as one `workspace/applyEdit` when the client can
take it, else they are written; a generated file the user edited is not overwritten
but reported as a conflict, with quick fixes to keep it, take the generated version or
see the diff. Untrusted runs (phases 7 to 10 skipped) on the todo example."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import pytest_lsp
from lsp_helpers import EXAMPLES, SERVER_COMMAND, apply_to_disk, path_of
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

RECORD = ".specloom-generated.json"
SPEC = "todo.spec.md"
ESTIMATE = "- completed_at: datetime, optional, read-only\n- estimate: integer, optional\n"


def workspace_of(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(EXAMPLES / SPEC, root / SPEC)
    return root


async def start(
    client: LanguageClient, root: Path, capabilities: types.ClientCapabilities
) -> list[types.ApplyWorkspaceEditParams]:
    """Initialize untrusted; returns the list the applyEdit requests go to (the test
    client applies each to disk and answers applied=True: `lsp_helpers.apply_edit`)."""
    requests: list[types.ApplyWorkspaceEditParams] = client.__dict__.setdefault("applied_edits", [])

    @client.feature("specloom/runEvent")
    def run_event(_params: Any) -> None:
        return None

    client.set_configuration({"specloom": {"trust": False}})
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options={"trust": False},
        )
    )
    return requests


async def execute(client: LanguageClient, command: str, *args: Any, timeout: float = 90) -> Any:
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(args))
        ),
        timeout,
    )


async def diagnostics_of(
    client: LanguageClient, uri: str, condition: Any, timeout: float = 15
) -> Sequence[types.Diagnostic]:
    async with asyncio.timeout(timeout):
        while not condition(client.diagnostics.get(uri)):
            await asyncio.sleep(0.01)
    return client.diagnostics[uri]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / RECORD).read_text())
    return data


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def client(lsp_client: LanguageClient) -> Any:
    # lsprotocol's union hook reads a CodeAction that carries a command as a Command
    converter = lsp_client.protocol._converter

    def command_or_action(obj: Any, _type: Any) -> Any:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007 - the hook is keyed by this very type
    yield
    await lsp_client.shutdown_session()


async def test_a_generate_reaches_vs_code_as_one_apply_edit_touching_only_changed_files(
    client: LanguageClient, tmp_path: Path
) -> None:
    root = workspace_of(tmp_path)
    requests = await start(client, root, client_capabilities("visual-studio-code"))
    spec = root / SPEC
    out = root / "todo-app"

    first = await execute(client, "specloom.generate", spec.as_uri())
    assert first["status"] == "incomplete", first
    assert first["output"]["applied"] == "applyEdit"
    assert len(requests) == 1
    changes = requests[0].edit.document_changes or []
    created = [c.uri for c in changes if isinstance(c, types.CreateFile)]
    edited = [c.text_document.uri for c in changes if isinstance(c, types.TextDocumentEdit)]
    creates = [c for c in changes if isinstance(c, types.CreateFile)]
    assert all(c.options is not None and c.options.ignore_if_exists for c in creates)
    assert sorted(created) == sorted(edited)  # a new file: created, then given its text
    assert (out / "app" / "main.py").as_uri() in created
    assert sorted(first["output"]["written"]) == sorted(
        path_of(uri).relative_to(out).as_posix() for uri in created
    )
    record = record_of(out)["files"]
    assert record["app/main.py"] == sha(out / "app" / "main.py")  # the edit reached the disk

    spec.write_text(spec.read_text().replace(ESTIMATE.splitlines()[0] + "\n", ESTIMATE))
    second = await execute(client, "specloom.generate", spec.as_uri())
    assert second["output"]["applied"] == "applyEdit"
    assert len(requests) == 2
    changed = requests[1].edit.document_changes or []
    assert not any(isinstance(c, types.CreateFile) for c in changed)
    touched = sorted(
        path_of(c.text_document.uri).relative_to(out).as_posix()
        for c in changed
        if isinstance(c, types.TextDocumentEdit)
    )
    assert touched == sorted(second["output"]["written"])
    assert len(touched) < len(second["output"]["unchanged"])  # only what the spec changed
    assert any("estimate" in (out / path).read_text() for path in touched)

    third = await execute(client, "specloom.generate", spec.as_uri())
    assert third["output"]["applied"] == "none"  # nothing changed: no edit at all
    assert third["output"]["written"] == []
    assert len(requests) == 2


async def test_a_client_without_document_changes_gets_the_files_written(
    client: LanguageClient, tmp_path: Path
) -> None:
    root = workspace_of(tmp_path)
    capabilities = client_capabilities("visual-studio-code")
    assert capabilities.workspace is not None
    assert capabilities.workspace.workspace_edit
    capabilities.workspace.workspace_edit.document_changes = False
    requests = await start(client, root, capabilities)
    result = await execute(client, "specloom.generate", (root / SPEC).as_uri())
    output = result["output"]
    assert output["applied"] == "written"
    assert "documentChanges" in output["written_because"]
    assert requests == []
    main = root / "todo-app" / "app" / "main.py"
    assert "app/main.py" in output["written"]
    assert record_of(root / "todo-app")["files"]["app/main.py"] == sha(main)


async def test_an_edited_file_is_a_conflict_with_keep_take_and_diff_actions(
    client: LanguageClient, tmp_path: Path
) -> None:
    root = workspace_of(tmp_path)
    await start(client, root, client_capabilities("visual-studio-code"))
    spec, out = root / SPEC, root / "todo-app"
    await execute(client, "specloom.generate", spec.as_uri())
    main, readme = out / "app" / "main.py", out / "README.md"
    generated_main = main.read_text()
    main.write_text(generated_main + "# my tweak\n")
    readme.write_text(readme.read_text().replace("#", "# Mine:", 1))
    mine = main.read_text()

    spec.write_text(spec.read_text().replace(ESTIMATE.splitlines()[0] + "\n", ESTIMATE))
    result = await execute(client, "specloom.generate", spec.as_uri())
    assert sorted(c["path"] for c in result["output"]["conflicts"]) == ["README.md", "app/main.py"]
    assert main.read_text() == mine  # not overwritten
    cleared = lambda found: found is not None and len(found) == 0  # noqa: E731
    conflicted = lambda found: bool(found) and any(d.code == "conflict" for d in found)  # noqa: E731
    [diagnostic] = await diagnostics_of(client, main.as_uri(), conflicted)
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.source == "specloom"
    kept_main = Path(
        next(c for c in result["output"]["conflicts"] if c["path"] == "app/main.py")["generated"]
    )
    first_difference = next(
        i
        for i, (a, b) in enumerate(
            zip([*mine.splitlines(), ""], [*kept_main.read_text().splitlines(), ""], strict=False)
        )
        if a != b
    )
    assert diagnostic.range.start.line == first_difference

    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=main.as_uri()),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    by_title = {a.title.split(" of ")[0].split(" version")[0]: a for a in actions or []}
    assert all(isinstance(a, types.CodeAction) for a in actions or [])
    assert set(by_title) == {"Keep my", "Take the generated", "Show the diff"}
    assert all(a.kind == types.CodeActionKind.QuickFix for a in by_title.values())

    # show the diff: a unified diff next to the kept version, opened in the editor
    diff_action = by_title["Show the diff"]
    assert diff_action.command is not None
    shown_diff = await execute(
        client, diff_action.command.command, *diff_action.command.arguments or []
    )
    diff = Path(shown_diff["diff"])
    assert diff == kept_main.with_name("main.py.diff")
    assert "+++ app/main.py (generated)" in diff.read_text()
    assert "-# my tweak" in diff.read_text()
    assert [p.uri for p in client.shown_documents] == [diff.as_uri()]  # answered success

    # keep my version: the conflict clears, my bytes are the baseline
    keep = by_title["Keep my"]
    assert keep.command is not None
    await execute(client, keep.command.command, *keep.command.arguments or [])
    await diagnostics_of(client, main.as_uri(), cleared)
    assert main.read_text() == mine
    assert record_of(out)["files"]["app/main.py"] == sha(main)

    # take the generated version of the README: its edit, then its command
    [readme_diagnostic] = await diagnostics_of(client, readme.as_uri(), conflicted)
    readme_actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=readme.as_uri()),
            range=readme_diagnostic.range,
            context=types.CodeActionContext(diagnostics=[readme_diagnostic]),
        )
    )
    take = next(a for a in readme_actions or [] if a.title.startswith("Take the generated"))
    assert take.edit is not None
    assert take.command is not None
    apply_to_disk(take.edit)
    await execute(client, take.command.command, *take.command.arguments or [])
    await diagnostics_of(client, readme.as_uri(), cleared)
    kept_readme = next(c for c in result["output"]["conflicts"] if c["path"] == "README.md")
    assert readme.read_text() == Path(kept_readme["generated"]).read_text()
    assert record_of(out)["files"]["README.md"] == sha(readme)

    # the next run: my main.py stays, silently; nothing is in conflict
    again = await execute(client, "specloom.generate", spec.as_uri())
    assert again["output"]["conflicts"] == []
    assert again["output"]["kept"] == ["app/main.py"]
    assert main.read_text() == mine
