"""The spec-document features end to end: the real server over stdio, driven like
VS Code and like Neovim."""

from __future__ import annotations

import asyncio

import pytest
from lsp_helpers import CLIENTS, LIBRARY, ROOT, initialize_params, open_document
from lsprotocol import types
from pytest_lsp import LanguageClient
from specloom.spec.compiler import compile_spec

VSCODE_ONLY = pytest.mark.parametrize("client", ["visual-studio-code"], indirect=True)
NEOVIM_ONLY = pytest.mark.parametrize("client", ["neovim"], indirect=True)

BROKEN = (
    LIBRARY.read_text(encoding="utf-8")
    .replace("- due_on: date, required", "- due_on: dat, required")
    .replace("- book: Book, required", "- book: Bok, required")
)
BROKEN_PATH = ROOT / "examples" / "broken.spec.md"  # never written: the text is sent


def doc(path: object = LIBRARY) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=LIBRARY.as_uri() if path is LIBRARY else str(path))


@pytest.mark.parametrize("name", CLIENTS)
async def test_initialize_advertises_the_spec_features(
    bare_client: LanguageClient, name: str
) -> None:
    result = await bare_client.initialize_session(initialize_params(name))
    capabilities = result.capabilities
    assert result.server_info is not None
    assert result.server_info.name == "specloom"
    sync = capabilities.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert sync.open_close
    assert capabilities.document_symbol_provider
    assert capabilities.hover_provider
    assert capabilities.folding_range_provider
    assert capabilities.code_lens_provider is not None
    assert capabilities.completion_provider is not None
    assert set(capabilities.completion_provider.trigger_characters or []) == {".", ":", " ", "#"}
    commands = capabilities.execute_command_provider
    assert commands is not None
    assert set(commands.commands) == {
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
    actions = capabilities.code_action_provider
    assert isinstance(actions, types.CodeActionOptions)
    assert set(actions.code_action_kinds or []) >= {
        types.CodeActionKind.QuickFix,
        types.CodeActionKind.RefactorRewrite,
    }


async def test_library_has_no_diagnostics(client: LanguageClient) -> None:
    published = await open_document(client, LIBRARY)
    assert list(published.diagnostics) == []
    assert published.version == 1


@VSCODE_ONLY
async def test_broken_spec_gets_its_diagnostics_with_ranges(client: LanguageClient) -> None:
    published = await open_document(client, BROKEN_PATH, BROKEN)
    expected = compile_spec(BROKEN).diagnostics
    got = [
        (d.code, d.range.start.line, d.range.start.character, d.range.end.character)
        for d in published.diagnostics
    ]
    want = [
        (d.code, d.range.start.line, d.range.start.column, d.range.end.column) for d in expected
    ]
    assert got == want
    unknown_type = next(d for d in published.diagnostics if d.code == "SL201")
    assert unknown_type.range == types.Range(types.Position(26, 10), types.Position(26, 13))
    assert unknown_type.severity == types.DiagnosticSeverity.Error
    assert unknown_type.source == "specloom"
    assert "did you mean 'date'" in unknown_type.message
    dangling = next(d for d in published.diagnostics if d.code == "SL204")
    assert dangling.range == types.Range(types.Position(23, 8), types.Position(23, 11))


@NEOVIM_ONLY
async def test_a_burst_of_changes_publishes_once_for_the_last_version(
    client: LanguageClient,
) -> None:
    await open_document(client, LIBRARY)
    uri = LIBRARY.as_uri()
    waiting = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    for version in range(2, 8):  # 6 changes well inside the 150 ms debounce
        line = 26 if version % 2 == 0 else 23
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(line, 2), types.Position(line, 2)),
                        text="x",
                    )
                ],
            )
        )
    published = await asyncio.wait_for(waiting, 10)
    assert published.version == 7
    codes = sorted(d.code for d in published.diagnostics)
    assert codes, "the edited field names break the flows"
    again = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(again), 0.6)


@VSCODE_ONLY
async def test_close_clears_the_diagnostics(client: LanguageClient) -> None:
    await open_document(client, BROKEN_PATH, BROKEN)
    waiting = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=BROKEN_PATH.as_uri())
        )
    )
    published = await asyncio.wait_for(waiting, 10)
    assert published.uri == BROKEN_PATH.as_uri()
    assert list(published.diagnostics) == []


async def test_document_symbols(client: LanguageClient) -> None:
    await open_document(client, LIBRARY)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc())
    )
    assert symbols is not None
    by_name = {s.name: s for s in symbols if isinstance(s, types.DocumentSymbol)}
    book = by_name["Book"]
    assert book.kind == types.SymbolKind.Class
    assert book.selection_range == types.Range(types.Position(7, 4), types.Position(7, 8))
    assert book.range.start == types.Position(7, 0)
    assert book.range.end.line == 13
    assert [f.name for f in book.children or []] == [
        "title", "isbn", "author", "total_copies", "available_copies", "created_at",
    ]  # fmt: skip
    assert (book.children or [])[0].detail == "string"
    assert "F1. POST /books" in by_name
    assert by_name["F1. POST /books"].kind == types.SymbolKind.Method
    flow = by_name["F8. Borrow a book"]
    assert flow.kind == types.SymbolKind.Function
    assert flow.range.start.line == 55
    assert flow.range.end.line == 64
    assert {"R1", "R2"} <= set(by_name)
    names = [s.name for s in symbols]
    assert names.index("Loan") < names.index("F1. POST /books") < names.index("F4. Update a book")


async def test_hover_on_an_entity_and_a_field(client: LanguageClient) -> None:
    await open_document(client, LIBRARY)
    entity = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(), position=types.Position(7, 5))
    )
    assert entity is not None
    assert isinstance(entity.contents, types.MarkupContent)
    assert entity.contents.kind == types.MarkupKind.Markdown
    assert "**entity** `Book`" in entity.contents.value
    assert "| `isbn` | string | required, unique, pattern" in entity.contents.value
    field = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(), position=types.Position(11, 5))
    )
    assert field is not None
    assert isinstance(field.contents, types.MarkupContent)
    text = field.contents.value
    assert "`Book.total_copies`: `integer`" in text
    assert "required, >= 1" in text
    assert "`Book.total_copies.min`" in text
    assert field.range == types.Range(types.Position(11, 2), types.Position(11, 39))
    flow = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(), position=types.Position(55, 6))
    )
    assert flow is not None
    assert isinstance(flow.contents, types.MarkupContent)
    assert "`POST /loans`" in flow.contents.value
    assert "1. require member.status = ACTIVE, else 403" in flow.contents.value
    nothing = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(), position=types.Position(2, 0))
    )
    assert nothing is None


async def _complete(
    client: LanguageClient, uri: str, line: int, character: int
) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line, character),
        )
    )
    assert isinstance(result, types.CompletionList)
    return list(result.items)


async def _insert(client: LanguageClient, uri: str, version: int, line: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(line, 0), types.Position(line, 0)),
                    text=text,
                )
            ],
        )
    )


async def test_completion_of_types_entities_fields_states_and_statuses(
    client: LanguageClient,
) -> None:
    await open_document(client, LIBRARY)
    uri = LIBRARY.as_uri()
    # a new field line under Book (line 14 is blank): its type
    await _insert(client, uri, 2, 14, "- pages: \n")
    items = await _complete(client, uri, 14, 9)
    labels = {i.label: i for i in items}
    assert {"string", "integer", "date", "Member"} <= set(labels)
    assert labels["integer"].kind == types.CompletionItemKind.TypeParameter
    assert labels["Member"].kind == types.CompletionItemKind.Class
    # a collection: entity names after `list of `
    await _insert(client, uri, 3, 14, "- loans: list of \n")
    items = await _complete(client, uri, 14, 17)
    assert [i.label for i in items] == ["Book", "Member", "Loan"]
    # field names after `loan.` in a flow step (F9 starts at line 68 now)
    lines = await _lines(client, uri)
    step = next(n for n, text in enumerate(lines) if text.startswith("- Require loan.status"))
    items = await _complete(client, uri, step, len("- Require loan."))
    assert "returned_at" in {i.label for i in items}
    assert all(i.kind == types.CompletionItemKind.Field for i in items)
    # enum states after `is `
    items = await _complete(client, uri, step, len("- Require loan.status is "))
    assert [i.label for i in items] == ["OPEN", "RETURNED"]
    # status codes after `else `
    column = lines[step].index("else ") + len("else ")
    items = await _complete(client, uri, step, column)
    assert {"404", "409", "422"} <= {i.label for i in items}
    # section headings at a line start
    items = await _complete(client, uri, len(lines) - 1, 0)
    assert "## Entities" in {i.label for i in items}


async def _lines(client: LanguageClient, uri: str) -> list[str]:
    # the client keeps no copy: ask for the folding ranges to sync, then read our own
    from lsp_helpers import LIBRARY as path

    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[14:14] = ["- loans: list of ", "- pages: "]
    return lines


@VSCODE_ONLY
async def test_folding_ranges(client: LanguageClient) -> None:
    await open_document(client, LIBRARY)
    ranges = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc())
    )
    assert ranges is not None
    spans = {(r.start_line, r.end_line) for r in ranges}
    assert (5, 28) in spans  # ## Entities
    assert (7, 13) in spans  # ### Book
    assert (30, 40) in spans  # ## Endpoints
    assert (42, 71) in spans  # ## Flows
    assert (55, 64) in spans  # ### F8. Borrow a book
    assert (77, 80) in spans  # ## Errors


@VSCODE_ONLY
async def test_code_lenses_above_the_title(client: LanguageClient) -> None:
    await open_document(client, LIBRARY)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc()))
    assert lenses is not None
    assert [(lens.command.title, lens.command.command) for lens in lenses if lens.command] == [
        ("Plan", "specloom.plan"),
        ("Generate", "specloom.generate"),
        ("Validate", "specloom.validate"),
    ]
    for lens in lenses:
        assert lens.range.start.line == 0
        assert lens.command is not None
        assert list(lens.command.arguments or []) == [LIBRARY.as_uri()]


@VSCODE_ONLY
async def test_a_markdown_file_that_is_no_spec_is_left_alone(client: LanguageClient) -> None:
    readme = ROOT / "README.md"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=readme.as_uri(), language_id="markdown", version=1, text="# Hello\n"
            )
        )
    )
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=readme.as_uri()))
    )
    assert symbols is None
    assert readme.as_uri() not in client.diagnostics
