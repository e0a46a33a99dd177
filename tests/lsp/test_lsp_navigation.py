"""Navigation end to end: go to definition and find references between a spec and the
app generated from it (`specloom generate`, untrusted), through the real server over
stdio, driven like VS Code and like Neovim.

One app is generated per module, into a folder of its own outside the workspace,
named to the server by the `outputDirectory` setting."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import pytest_lsp
from lsp_helpers import CLIENTS, EXAMPLES, SERVER_COMMAND, open_document
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SPECLOOM = str(Path(sys.executable).parent / "specloom")


@dataclass(frozen=True)
class Generated:
    workspace: Path
    spec: Path
    app: Path

    @property
    def options(self) -> dict[str, Any]:
        return {"outputDirectory": str(self.app.parent / "{stem}")}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The library example in a workspace, its app generated (untrusted) elsewhere; the
    todo example beside it, not generated."""
    root = tmp_path_factory.mktemp("navigation")
    workspace = root / "ws"
    workspace.mkdir()
    spec = workspace / "library.spec.md"
    shutil.copy(EXAMPLES / "library.spec.md", spec)
    shutil.copy(EXAMPLES / "todo.spec.md", workspace / "todo.spec.md")  # never generated
    app = root / "apps" / "library"
    result = subprocess.run(
        [SPECLOOM, "generate", str(spec), "--out", str(app), "--workspace", str(workspace)],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (app / "specloom-trace.json").is_file(), result.stderr[-2000:]
    return Generated(workspace.resolve(), spec.resolve(), app.resolve())


def initialize(name: str, generated: Generated, *, links: bool = True) -> types.InitializeParams:
    capabilities = client_capabilities(name)
    if not links and capabilities.text_document and capabilities.text_document.definition:
        capabilities.text_document.definition.link_support = False
    return types.InitializeParams(
        capabilities=capabilities,
        root_uri=generated.workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=generated.workspace.as_uri(), name="ws")],
        initialization_options=generated.options,
    )


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND), params=CLIENTS, scope="module"
)
async def client(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, generated: Generated
) -> Any:
    """One server per client for the module (tests open the spec with `spec_open`)."""
    lsp_client.opened = set()  # type: ignore[attr-defined]
    result = await lsp_client.initialize_session(initialize(request.param, generated))
    lsp_client.encoding = result.capabilities.position_encoding or "utf-16"  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


SHARED = pytest.mark.asyncio(loop_scope="module")


# --- helpers ------------------------------------------------------------------------


def position_of(path: Path, line_text: str, word: str) -> types.Position:
    """The position of `word` on the first line of `path` that starts with
    `line_text` (stripped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines) if line.strip().startswith(line_text))
    return types.Position(line=number, character=lines[number].index(word) + 1)


def spec_line(generated: Generated, start: str) -> int:
    lines = generated.spec.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines) if line.startswith(start))


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def line_at(uri: str, line: int) -> str:
    return path_of(uri).read_text(encoding="utf-8").splitlines()[line]


async def definition(client: LanguageClient, path: Path, position: types.Position) -> Any:
    return await asyncio.wait_for(
        client.text_document_definition_async(
            types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=position
            )
        ),
        10,
    )


def links_of(result: Any) -> list[types.LocationLink]:
    assert isinstance(result, list), result
    assert result
    assert all(isinstance(link, types.LocationLink) for link in result), result
    return result


def selected(uri: str, range_: types.Range) -> str:
    return line_at(uri, range_.start.line)[range_.start.character : range_.end.character]


def targets(result: Any, app: Path) -> list[tuple[str, str]]:
    """(path relative to the app, the name the link selects) of each link, after
    checking that the name is that of a class or function defined on its line."""
    found = []
    for link in links_of(result):
        name = selected(link.target_uri, link.target_selection_range)
        line = line_at(link.target_uri, link.target_selection_range.start.line)
        assert re.match(rf"\s*(async )?(def|class) {name}\b", line), line
        found.append((path_of(link.target_uri).relative_to(app).as_posix(), name))
    return found


async def spec_open(client: LanguageClient, spec: Path) -> None:
    """Open the spec in the module's server, once."""
    opened: set[Path] = client.opened  # type: ignore[attr-defined]
    if spec not in opened:
        await open_document(client, spec)
        opened.add(spec)


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    """Replace the whole text of an open document."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def open_file(client: LanguageClient, path: Path, language_id: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(),
                language_id=language_id,
                version=1,
                text=path.read_text(encoding="utf-8"),
            )
        )
    )


# --- first, before any test opens the spec -----------------------------------------


@SHARED
async def test_definition_in_generated_code_finds_a_spec_that_is_not_open(
    client: LanguageClient, generated: Generated
) -> None:
    # first in the module: the server has never seen the spec, and finds it on disk
    assert generated.spec not in client.opened  # type: ignore[attr-defined]
    rules = generated.app / "app" / "rules" / "book.py"
    open_file(client, rules)
    inside = position_of(rules, "def check_r1(", "check_r1")
    links = links_of(await definition(client, rules, inside))
    assert [link.target_uri for link in links] == [generated.spec.as_uri()]
    assert links[0].target_selection_range.start.line == spec_line(generated, "- R1.")


# --- from the spec to the code ------------------------------------------------------


@SHARED
async def test_definition_of_a_requirement_id_goes_to_its_code_then_its_tests(
    client: LanguageClient, generated: Generated
) -> None:
    await spec_open(client, generated.spec)
    position = position_of(generated.spec, "- F8. POST /loans", "F8")
    found = await definition(client, generated.spec, position)
    places = targets(found, generated.app)
    assert places[:2] == [
        ("app/routers/loan.py", "f8_borrow_a_book"),
        ("app/services/f8_borrow_a_book.py", "borrow_a_book"),
    ]
    tests = places[2:]
    assert tests, places
    assert all(path == "tests/test_f8_borrow_a_book.py" for path, _ in tests), tests
    assert all(name.startswith("test_f8_") for _, name in tests), tests
    origin = links_of(found)[0].origin_selection_range
    assert origin is not None
    assert (origin.start.character, origin.end.character) == (2, 4)  # "F8"

    # the flow's heading goes to the same places
    heading = position_of(generated.spec, "### F8. Borrow a book", "Borrow")
    assert targets(await definition(client, generated.spec, heading), generated.app) == places


@SHARED
async def test_definition_of_an_entity_goes_to_its_model_class_first(
    client: LanguageClient, generated: Generated
) -> None:
    await spec_open(client, generated.spec)
    heading = position_of(generated.spec, "### Loan", "Loan")
    places = targets(await definition(client, generated.spec, heading), generated.app)
    assert places[0] == ("app/models/loan.py", "Loan")
    assert ("app/schemas/loan.py", "LoanCreate") in places
    assert any(path.startswith("tests/") for path, _ in places)
    # the type of a reference field names an entity too
    field_type = position_of(generated.spec, "- book: Book", "Book")
    places = targets(await definition(client, generated.spec, field_type), generated.app)
    assert places[0] == ("app/models/book.py", "Book")


@SHARED
async def test_references_of_a_rule_are_its_spec_line_code_and_tests(
    client: LanguageClient, generated: Generated
) -> None:
    await spec_open(client, generated.spec)
    position = position_of(generated.spec, "- R1.", "R1")
    found = await asyncio.wait_for(
        client.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=generated.spec.as_uri()),
                position=position,
                context=types.ReferenceContext(include_declaration=True),
            )
        ),
        10,
    )
    assert found, found
    assert found[0].uri == generated.spec.as_uri()
    assert found[0].range.start.line == position.line
    rest = [
        (path_of(loc.uri).relative_to(generated.app).as_posix(), selected(loc.uri, loc.range))
        for loc in found[1:]
    ]
    assert rest[0] == ("app/rules/book.py", "check_r1")
    tests = rest[1:]
    assert tests, rest
    assert all(path.startswith("tests/") and "_r1_" in name for path, name in tests), tests


@SHARED
async def test_positions_are_in_the_client_encoding(
    client: LanguageClient, generated: Generated
) -> None:
    await spec_open(client, generated.spec)
    uri = generated.spec.as_uri()
    text = generated.spec.read_text(encoding="utf-8")
    before = "A lending service for a community library: "
    prefix = "Für Bücher 📚 & co: "  # wider in UTF-8 and in UTF-16 than in code points
    number = next(n for n, line in enumerate(text.splitlines()) if line.startswith(before))
    change(client, uri, 10, text.replace(before, prefix))
    try:
        encoding: str = client.encoding  # type: ignore[attr-defined]
        width = (
            len(prefix.encode("utf-16-le")) // 2
            if encoding == "utf-16"
            else len(prefix.encode("utf-8"))
        )
        assert encoding in ("utf-8", "utf-16")
        assert width != len(prefix)
        on_members = types.Position(line=number, character=width + 2)
        links = links_of(await definition(client, generated.spec, on_members))
        assert path_of(links[0].target_uri) == generated.app / "app" / "models" / "member.py"
        origin = links[0].origin_selection_range
        assert origin == types.Range(
            start=types.Position(line=number, character=width),
            end=types.Position(line=number, character=width + len("members")),
        )
    finally:
        change(client, uri, 11, text)


# --- from the code to the spec ------------------------------------------------------


@SHARED
async def test_definition_in_generated_code_goes_to_the_spec_line_of_its_requirement(
    client: LanguageClient, generated: Generated
) -> None:
    await spec_open(client, generated.spec)
    router = generated.app / "app" / "routers" / "loan.py"
    open_file(client, router)
    inside = position_of(router, "return borrow_a_book(session, data)", "borrow")
    links = links_of(await definition(client, router, inside))
    assert [link.target_uri for link in links] == [generated.spec.as_uri()]
    assert links[0].target_selection_range.start.line == spec_line(generated, "- F8. POST /loans")
    origin = links[0].origin_selection_range
    assert origin is not None
    assert selected(router.as_uri(), origin) == "f8_borrow_a_book"

    # a requirement ID written in a docstring goes to that requirement
    suite = generated.app / "tests" / "test_f8_borrow_a_book.py"
    open_file(client, suite)
    named = position_of(suite, "Requirements: F8.", "F8")
    links = links_of(await definition(client, suite, named))
    assert links[0].target_selection_range.start.line == spec_line(generated, "- F8. POST /loans")


@SHARED
async def test_definition_in_generated_code_follows_the_spec_as_edited(
    client: LanguageClient, generated: Generated
) -> None:
    await spec_open(client, generated.spec)
    uri = generated.spec.as_uri()
    text = generated.spec.read_text(encoding="utf-8")
    router = generated.app / "app" / "routers" / "loan.py"
    open_file(client, router)
    inside = position_of(router, "return borrow_a_book(session, data)", "borrow")
    change(client, uri, 20, "<!-- draft -->\n\n" + text)
    try:
        links = links_of(await definition(client, router, inside))
        assert links[0].target_selection_range.start.line == (
            spec_line(generated, "- F8. POST /loans") + 2
        )
    finally:
        change(client, uri, 21, text)


@SHARED
async def test_definition_before_anything_is_generated_is_null(
    client: LanguageClient, generated: Generated
) -> None:
    todo = generated.workspace / "todo.spec.md"
    await open_document(client, todo)
    position = position_of(todo, "- F1.", "F1")
    assert await definition(client, todo, position) is None


async def test_a_client_without_link_support_gets_locations(
    bare_client: LanguageClient, generated: Generated
) -> None:
    await bare_client.initialize_session(initialize("neovim", generated, links=False))
    await open_document(bare_client, generated.spec)
    position = position_of(generated.spec, "- F1. POST /books", "F1")
    found = await definition(bare_client, generated.spec, position)
    assert isinstance(found, list), found
    assert found
    assert all(isinstance(location, types.Location) for location in found), found
    assert path_of(found[0].uri) == generated.app / "app" / "routers" / "book.py"
    assert selected(found[0].uri, found[0].range) == "f1_create_a_book"

    router = generated.app / "app" / "routers" / "book.py"
    open_file(bare_client, router)
    back = await definition(bare_client, router, found[0].range.start)
    assert isinstance(back, list), back
    assert len(back) == 1
    assert isinstance(back[0], types.Location)
    assert back[0].uri == generated.spec.as_uri()
    assert back[0].range.start == types.Position(position.line, 2)  # "F1. POST /books..."
