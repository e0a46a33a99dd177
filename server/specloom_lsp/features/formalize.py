"""Formalize with Claude: the command `specloom.formalize` (argument: the spec's URI)
and the code action that runs it.

The command sends the document's text to the language model
(`specloom.llm.formalize`), and applies the structured spec it renders as ONE
`workspace/applyEdit` (a `TextDocumentEdit` of the document's version replacing all
its text): the user reviews it in the editor and undoes it there. It answers a summary
(`applied`, `lines`, the `trace` of each new line to the prose lines it comes from,
the compiler's `warnings`, `rounds`, `spent`). A document edited while the model was
answering is left alone (the edit would not fit it).

While the model works there is a cancellable work-done progress;
`window/workDoneProgress/cancel` of its token and `$/cancelRequest` of the command both
abort the request in flight (its HTTP stream is closed). One formalize per document at
a time.

The code action "Formalize with Claude" (kind `refactor.rewrite`) is offered on a spec
the compiler finds prose in (SL101, SL104, SL105) and on its title line. Without an API
key it is still listed, disabled with the plain reason (`CodeAction.disabled`, LSP
3.16; a client without `disabledSupport` gets it enabled, and the command says why it
cannot run), and the command answers an error and shows it (`window/showMessage`).
Nothing pretends to work.

The settings are the server's environment (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`,
`SPECLOOM_LLM_*`). The engine and the `anthropic` SDK are imported by the first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from specloom_lsp.progress import cancel_with_request
from specloom_lsp.server import SpecloomLanguageServer, uri_to_path

if TYPE_CHECKING:
    from specloom.llm.formalize import Formalized
    from specloom.llm.settings import LLMSettings
    from specloom.pipeline.cancel import CancelToken

logger = logging.getLogger(__name__)

COMMAND = "specloom.formalize"
TITLE = "Formalize with Claude"
KIND = types.CodeActionKind.RefactorRewrite
PROSE_CODES = frozenset({"SL101", "SL104", "SL105"})
"""The compiler's codes for prose it did not compile."""
TICK = 1.0  # seconds between progress reports while the model answers


class FormalizeFailed(JsonRpcException):
    """The command could not formalize: LSP's RequestFailed."""

    CODE = -32803
    MESSAGE = "Request Failed"


def wants_refactors(only: Sequence[str] | None) -> bool:
    """Whether a request limited to the kinds `only` takes a `refactor.rewrite`."""
    if not only:
        return True
    return any(kind in ("", KIND) or KIND.startswith(f"{kind}.") for kind in only)


class Formalizer:
    """The command and the code action of one server."""

    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.in_flight: dict[str, CancelToken] = {}

    # --- the language model's settings ---------------------------------------------

    def settings(self) -> tuple[LLMSettings | None, str]:
        """The settings from the environment and, when the model cannot be used, why."""
        from pydantic import ValidationError
        from specloom.llm.errors import NO_KEY
        from specloom.llm.settings import LLMSettings

        try:
            settings = LLMSettings.from_env()
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()
            )
            return None, f"the language model settings are not valid: {problems}"
        if not settings.has_key:
            return None, NO_KEY
        return settings, ""

    # --- the code action ------------------------------------------------------------

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        if uri not in self.server.documents or not wants_refactors(params.context.only):
            return None
        prose = [d for d in params.context.diagnostics if str(d.code) in PROSE_CODES]
        offered = bool(prose) or self._on_title(uri, params.range)
        if not offered:
            compiled = await self.server.compiled(uri)
            offered = compiled is not None and any(
                d.code in PROSE_CODES for d in compiled.result.diagnostics
            )
        if not offered:
            return None
        _, reason = self.settings()
        action = types.CodeAction(title=TITLE, kind=KIND, diagnostics=prose or None)
        if reason and self._disabled_support():
            action.disabled = types.CodeActionDisabled(reason=reason)
        else:
            action.command = types.Command(title=TITLE, command=COMMAND, arguments=[uri])
        return [action]

    def _on_title(self, uri: str, where: types.Range) -> bool:
        document = self.server.workspace.text_documents.get(uri)
        if document is None:
            return False
        for number, line in enumerate(document.lines):
            if line.startswith("# "):
                return where.start.line <= number <= where.end.line
        return where.start.line == 0

    def _disabled_support(self) -> bool:
        text = self.server.client_capabilities.text_document
        action = text.code_action if text else None
        return bool(action and action.disabled_support)

    # --- the command ----------------------------------------------------------------

    async def formalize(self, *args: Any) -> dict[str, Any]:
        from specloom.pipeline.cancel import CancelToken

        if not args or not isinstance(args[0], str) or not args[0]:
            raise JsonRpcInvalidParams(f"{COMMAND} needs the spec document's URI as its argument")
        uri = args[0]
        cancel = CancelToken()
        cancel_with_request(self.server, cancel)
        settings, reason = self.settings()
        if settings is None:
            raise self.failed(reason)
        text, version, path = self._text_of(uri)
        if uri in self.in_flight:
            raise self.failed(f"a formalize of {Path(path).name} is already in flight")
        self.in_flight[uri] = cancel
        try:
            result = await self._formalize(text, path, settings, cancel)
        finally:
            self.in_flight.pop(uri, None)
        document = self.server.workspace.text_documents.get(uri)
        if document is not None and document.version != version:
            raise self.failed(
                f"{Path(path).name} changed while it was formalized: nothing was applied; "
                "run Formalize again",
                types.MessageType.Warning,
            )
        applied, why = await self._apply(uri, version, text, result.text)
        if not applied:
            self._show(f"Specloom: the formalized spec was not applied: {why}")
        summary = result.as_json()
        summary.update(uri=uri, applied=applied)
        if not applied:
            summary["reason"] = why
        else:
            del summary["text"]
        return summary

    async def _formalize(
        self, text: str, path: str, settings: LLMSettings, cancel: CancelToken
    ) -> Formalized:
        from specloom.llm.client import LanguageModel
        from specloom.llm.errors import LLMError
        from specloom.llm.formalize import formalize
        from specloom.pipeline.cancel import Cancelled

        from specloom_lsp.progress import WorkDone

        progress = WorkDone(self.server, f"Specloom: formalize {Path(path).name}", cancel)
        final = "failed"
        model = LanguageModel(settings)
        await progress.begin("asking the language model")
        step: list[Any] = ["asking the language model", time.monotonic()]

        def report(message: str) -> None:
            step[:] = [message, time.monotonic()]
            progress.report(message)

        async def tick() -> None:  # the model answers in one piece: show that it works
            while True:
                await asyncio.sleep(TICK)
                progress.report(f"{step[0]} ({time.monotonic() - step[1]:.0f} s)")

        ticker = asyncio.ensure_future(tick())
        try:
            result = await formalize(text, model, cancel=cancel, on_progress=report, source=path)
            final = f"{result.text.count(chr(10))} lines; {result.spent}"
        except asyncio.CancelledError:
            final = "cancelled: the request was cancelled"
            raise
        except Cancelled as error:
            final = f"cancelled: {error}"
            raise FormalizeFailed(f"{COMMAND} cancelled: {error}") from None
        except LLMError as error:
            final = f"failed: {error}"
            raise self.failed(f"formalize failed: {error}") from None
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            progress.end(final)
            await model.aclose()
        return result

    def _text_of(self, uri: str) -> tuple[str, int | None, str]:
        """The document's text and version (the editor's when it is open), and its path."""
        document = self.server.workspace.text_documents.get(uri)
        path = uri_to_path(uri) or uri
        if document is not None:
            return document.source, document.version, path
        if uri_to_path(uri) is None or self.server.spec_path(uri) is None:
            raise JsonRpcInvalidParams(f"{COMMAND}: {uri} is not a spec document")
        try:
            return Path(path).read_text(encoding="utf-8"), None, path
        except (OSError, UnicodeDecodeError) as error:
            raise JsonRpcInvalidParams(f"{COMMAND}: cannot read {path}: {error}") from None

    async def _apply(self, uri: str, version: int | None, old: str, new: str) -> tuple[bool, str]:
        from specloom_lsp.apply import send_edit, whole_text_range

        workspace = self.server.client_capabilities.workspace
        if workspace is None or not workspace.apply_edit:
            return False, "the client does not support workspace/applyEdit"
        edit = types.TextEdit(range=whole_text_range(self.server, old), new_text=new)
        capability = workspace.workspace_edit
        if capability is not None and capability.document_changes:
            document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
            changes = types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(text_document=document, edits=[edit])]
            )
        else:
            changes = types.WorkspaceEdit(changes={uri: [edit]})
        return await send_edit(self.server, changes, TITLE)

    def failed(
        self, message: str, kind: types.MessageType = types.MessageType.Error
    ) -> FormalizeFailed:
        """The error the command answers, shown to the user too."""
        self._show(f"Specloom: {message}", kind)
        return FormalizeFailed(message)

    def _show(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        logger.info("%s", message)
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))


def setup(server: SpecloomLanguageServer) -> None:
    formalizer = Formalizer(server)

    async def command(*args: Any) -> Any:
        return await formalizer.formalize(*args)

    server.command(COMMAND)(command)

    @server.on(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=False),
    )
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return await formalizer.code_actions(params)

    @server.on(types.SHUTDOWN)
    async def shutdown(_params: Any) -> None:
        for cancel in list(formalizer.in_flight.values()):
            cancel.cancel("the server is shutting down")
