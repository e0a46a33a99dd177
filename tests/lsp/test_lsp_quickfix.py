"""Quick fixes of spec diagnostics end to end: the library spec with one mistake, the
code actions at its diagnostic, the chosen fix applied by the test as an editor would,
and the diagnostics published for the fixed text."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from lsp_helpers import LIBRARY, ROOT
from lsprotocol import types
from pytest_lsp import LanguageClient

VSCODE_ONLY = pytest.mark.parametrize("client", ["visual-studio-code"], indirect=True)
LIB = LIBRARY.read_text(encoding="utf-8")
F10 = "- F10. GET /members/{id}/loans: list the member's loans, filter by status, paginated\n"
LOAN_END = "- returned_at: datetime, optional, read-only\n"


def mutate(old: str, new: str, text: str = LIB) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    """A spec with one mistake (`code`), the fix to apply, and the text it gives."""

    code: str
    title: str
    broken: str
    fixed: str = LIB
    titles: tuple[str, ...] | None = None
    """All the titles offered for the diagnostic, in order, when the case checks them."""
    preferred: bool = True


PUBLISHER = mutate(
    "- member: Member, required\n- status",
    "- member: Member, required\n- publisher: Publisher\n- status",
)
SHELF = mutate(LOAN_END, LOAN_END + "\n### Shelf\n- label: string, required\n")
ISBN = mutate(
    "book.author and book.total_copies from", "book.author, book.isbn and book.total_copies from"
)
BOOKS = mutate(
    "- joined_at: datetime, set on create, read-only\n",
    "- joined_at: datetime, set on create, read-only\n- books: list of Book\n",
)
NICKNAME = mutate("### Loan\n", "### Member\n- nickname: string\n\n### Loan\n")

CASES = [
    Case(
        "SL204",
        "Change to 'Book'",
        mutate("- book: Book, required", "- book: Bok, required"),
        titles=("Change to 'Book'", "Add entity 'Bok' with CRUD /boks"),
    ),
    Case(
        "SL204",
        "Add entity 'Publisher' with CRUD /publishers",
        PUBLISHER,
        mutate(
            F10,
            F10 + "- F11. CRUD /publishers\n",
            mutate(LOAN_END, LOAN_END + "\n### Publisher\n- name: string, required\n", PUBLISHER),
        ),
    ),
    Case(
        "SL205",
        "Use default 'ACTIVE'",
        mutate("default ACTIVE, read-only", "default ACTIV, read-only"),
        titles=("Use default 'ACTIVE'", "Use default 'SUSPENDED'", "Add state 'ACTIV' to the enum"),
    ),
    Case("SL201", "Change to 'date'", mutate("- due_on: date,", "- due_on: dat,")),
    Case(
        "SL201",
        "Change to 'enum OPEN | RETURNED'",
        mutate("enum OPEN | RETURNED", "enum open | returned"),
    ),
    Case("SL102", "Change to 'Rules'", mutate("## Rules", "## Rulez")),
    Case("SL108", "Make it a '##' section", mutate("## Errors", "# Errors")),
    Case(
        "SL203",
        "Remove this 'author' field",
        mutate(
            "- author: string, required, max length 120\n",
            "- author: string, required, max length 120\n" * 2,
        ),
    ),
    Case(
        "SL107",
        "Change the ID to 'F11'",
        mutate("- F6. GET /members", "- F5. GET /members"),
        mutate("- F6. GET /members", "- F11. GET /members"),
    ),
    Case(
        "SL207",
        "Remove 'optional'",
        mutate("- due_on: date, required", "- due_on: date, required, optional"),
        titles=("Remove 'optional'", "Remove 'required'"),
        preferred=False,
    ),
    Case(
        "SL208",
        "Change to 'required'",
        mutate("string, required, unique", "string, requird, unique"),
    ),
    Case("SL211", "Add ':' after 'due_on'", mutate("- due_on: date", "- due_on date")),
    Case("SL213", "Rename to 'due_on'", mutate("- due_on: date", "- due-on: date")),
    Case("SL213", "Rename to 'Loan'", mutate("### Loan", "### loan")),
    Case("SL107", "Change the ID to 'R2'", mutate("- R2. A member's", "- R1. A member's")),
    Case(
        "SL216",
        "Add endpoint 'CRUD /shelves'",
        SHELF,
        mutate(F10, F10 + "- F11. CRUD /shelves\n", SHELF),
    ),
    Case(
        "SL217",
        "Add 'set on create'",
        mutate(
            "- created_at: datetime, set on create, read-only", "- created_at: datetime, read-only"
        ),
    ),
    Case("SL302", "Change to 'members'", mutate("- F5. POST /members", "- F5. POST /membrs")),
    Case("SL303", "Change to '{id}'", mutate("GET /books/{id}: get", "GET /books/:id: get")),
    Case(
        "SL304",
        "Remove this endpoint",
        mutate("- F7. POST", "- F11. GET /members/{id}: get a member\n- F7. POST"),
        preferred=False,
    ),
    Case(
        "SL305",  # a character outside the BMP before the fix: UTF-8 and UTF-16 differ
        "Change to 'author'",
        mutate("list books, filter by author", "list books 📚, filter by autor"),
        mutate("list books, filter by author", "list books 📚, filter by author"),
    ),
    Case("SL401", "Change to 'Decrease'", mutate("- Decrease book.", "- Decrese book.")),
    Case("SL402", "Change to 'due_on'", mutate("- Require due_on is", "- Require dueon is")),
    Case(
        "SL402",
        "Add 'isbn' to the Input line",
        ISBN,
        mutate("total_copies (each optional)", "total_copies, isbn (each optional)", ISBN),
        preferred=False,
    ),
    Case("SL403", "Change to 'Loan'", mutate("- Create a Loan with", "- Create a Lone with")),
    Case(
        "SL404",
        "Change to 'open_loans'",
        mutate("- Increase member.open_loans", "- Increase member.open_loan"),
    ),
    Case(
        "SL405",
        "Use 'SUSPENDED'",
        mutate("- Set member.status to SUSPENDED.", "- Set member.status to SUSPEND."),
        titles=("Use 'ACTIVE'", "Use 'SUSPENDED'"),
    ),
    Case(
        "SL406",
        "Change the ID to 'F7' (POST /members/{id}/suspend)",
        mutate("### F7. Suspend", "### F17. Suspend"),
    ),
    Case(
        "SL409",
        "Move the step before 'Respond'",
        mutate(
            "- Increase member.open_loans by 1.\n- Respond 201 with the loan.",
            "- Respond 201 with the loan.\n- Increase member.open_loans by 1.",
        ),
    ),
    Case("SL411", "Change to 'due_on'", mutate("member_id, due_on\n", "member_id, dueon\n")),
    Case(
        "SL412",
        "Add due_on after 'with'",
        mutate("with book, member and due_on.", "with book and member."),
        preferred=False,
    ),
    Case("SL502", "Change to 'member'", mutate("- R2. A member's", "- R2. A membr's")),
    Case(
        "SL503",
        "Change to 'open_loans'",
        mutate("- R2. A member's open_loans", "- R2. A member's open_loan"),
    ),
    Case(
        "SL602",
        "Remove this line (the first one counts)",
        mutate("field answers 409.\n", "field answers 409.\n- A duplicate value answers 422.\n"),
    ),
    Case(
        "SL212",
        "Add 'member: Member, required' to Book",
        BOOKS,
        mutate(
            "- created_at: datetime, set on create, read-only\n",
            "- created_at: datetime, set on create, read-only\n- member: Member, required\n",
            BOOKS,
        ),
    ),
    Case(
        "SL209",
        "Remove state 'LOST'",
        mutate("enum OPEN | RETURNED", "enum OPEN | RETURNED | LOST"),
        preferred=False,
    ),
    Case(
        "SL202",
        "Merge into the first 'Member'",
        NICKNAME,
        mutate(
            "- joined_at: datetime, set on create, read-only\n",
            "- joined_at: datetime, set on create, read-only\n- nickname: string\n",
        ),
    ),
    Case(
        "SL215",
        "Change to 'total_copies'",
        mutate("defaults to total_copies", "defaults to total_copy"),
    ),
]


# --- what an editor does with a code action ----------------------------------------


def encoding_of(client: LanguageClient) -> str:
    """The position encoding the server chose: UTF-8 when the client prefers it."""
    general = client.capabilities.general if client.capabilities else None
    encodings = general.position_encodings if general else None
    return "utf-8" if encodings and encodings[0] == "utf-8" else "utf-16"


def offset(text: str, position: types.Position, encoding: str) -> int:
    """The index in `text` of an LSP position counted in `encoding` units."""
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return start + index
        units += len(char.encode("utf-16-le")) // 2 if encoding == "utf-16" else len(char.encode())
    return start + len(line.rstrip("\r\n"))


def apply_edits(text: str, edits: Sequence[types.TextEdit], encoding: str) -> str:
    """The text with the edits applied (their ranges are all in the original text)."""
    spans = [
        (offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text)
        for e in edits
    ]
    for start, end, new_text in sorted(spans, key=lambda s: s[0], reverse=True):
        text = text[:start] + new_text + text[end:]
    return text


def edits_of(
    client: LanguageClient, action: types.CodeAction, uri: str, version: int
) -> Sequence[types.TextEdit]:
    """The edits of the action's workspace edit on `uri`, in the shape the client asked."""
    assert action.edit is not None
    workspace = client.capabilities.workspace if client.capabilities else None
    if workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes:
        assert action.edit.changes is None
        (change,) = action.edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri
        assert change.text_document.version == version
        return [e for e in change.edits if isinstance(e, types.TextEdit)]
    assert action.edit.document_changes is None
    return list((action.edit.changes or {})[uri])


async def published(
    client: LanguageClient, uri: str, before: object, timeout: float = 15
) -> Sequence[types.Diagnostic]:
    """The diagnostics of `uri` once a publish replaces `before`."""
    async with asyncio.timeout(timeout):
        while client.diagnostics.get(uri) is before:
            await asyncio.sleep(0.01)
    return client.diagnostics[uri]


async def open_spec(client: LanguageClient, uri: str, text: str) -> Sequence[types.Diagnostic]:
    before = client.diagnostics.get(uri)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="markdown", version=1, text=text
            )
        )
    )
    return await published(client, uri, before)


async def code_actions(
    client: LanguageClient,
    uri: str,
    diagnostic: types.Diagnostic,
    only: list[str] | None = None,
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic], only=only),
        )
    )
    actions = [a for a in result or [] if isinstance(a, types.CodeAction)]
    assert len(actions) == len(result or [])
    return actions


async def check(client: LanguageClient, number: int, case: Case) -> None:
    uri = (ROOT / "examples" / f"quickfix-{number}.spec.md").as_uri()  # never written
    before = await open_spec(client, uri, case.broken)
    target = next(d for d in before if d.code == case.code)
    actions = [
        a for a in await code_actions(client, uri, target) if list(a.diagnostics or []) == [target]
    ]
    titles = tuple(a.title for a in actions)
    if case.titles is not None:
        assert titles == case.titles
    action = next((a for a in actions if a.title == case.title), None)
    assert action is not None, titles
    assert action.kind == types.CodeActionKind.QuickFix
    assert list(action.diagnostics or []) == [target]
    assert bool(action.is_preferred) == case.preferred
    assert sum(bool(a.is_preferred) for a in actions) <= 1
    fixed = apply_edits(case.broken, edits_of(client, action, uri, 1), encoding_of(client))
    assert fixed == case.fixed
    current = client.diagnostics[uri]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    after = await published(client, uri, current)
    assert all(d.message != target.message for d in after if d.code == case.code)
    left = Counter(d.code for d in before)
    left[case.code] -= 1
    assert not Counter(d.code for d in after) - left, [d.message for d in after]
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


# --- the tests ---------------------------------------------------------------------


async def test_each_quick_fix_clears_its_diagnostic_and_adds_none(client: LanguageClient) -> None:
    results = await asyncio.gather(
        *(check(client, number, case) for number, case in enumerate(CASES)),
        return_exceptions=True,
    )
    failures = [
        f"{case.code} {case.title}: {type(result).__name__} {result}"
        for case, result in zip(CASES, results, strict=True)
        if isinstance(result, BaseException)
    ]
    assert not failures, "\n".join(failures)


@VSCODE_ONLY
async def test_no_quick_fixes_for_other_kinds_other_sources_or_an_older_text(
    client: LanguageClient,
) -> None:
    uri = (ROOT / "examples" / "quickfix-none.spec.md").as_uri()
    broken = mutate("- book: Book, required", "- book: Bok, required")
    (target,) = await open_spec(client, uri, broken)
    assert await code_actions(client, uri, target)
    assert not await code_actions(client, uri, target, only=[types.CodeActionKind.Source])
    other = types.Diagnostic(range=target.range, message=target.message, code="E1", source="lint")
    assert not await code_actions(client, uri, other)
    older = types.Diagnostic(
        range=target.range, message="'Bk' is not an entity", code="SL204", source="specloom"
    )
    assert not await code_actions(client, uri, older)
