"""The language server: one pygls `LanguageServer` that owns the settings and the
document store, and dispatches each LSP method to the features that handle it.

Features (`specloom_lsp.features.*`) never register with pygls themselves: each has
a `setup(server)` that calls `server.on(method)` for the methods it handles. The
server registers one pygls handler per method and calls every feature's handler in
turn, so a feature whose setup or handler raises is logged (`window/logMessage` and
the log file) and the others go on; a request whose only handler raises gets an LSP
error reply and the server lives on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from specloom import __version__

from specloom_lsp import SERVER_NAME
from specloom_lsp.documents import DocumentStore

if TYPE_CHECKING:  # pydantic and the engine load after the initialize reply (WARM_UP)
    from specloom_lsp.config import Settings
    from specloom_lsp.documents import Compiled

logger = logging.getLogger("specloom_lsp")

FEATURES: tuple[str, ...] = (
    "specloom_lsp.features.diagnostics",
    "specloom_lsp.features.symbols",
    "specloom_lsp.features.hover",
    "specloom_lsp.features.completion",
    "specloom_lsp.features.folding",
    "specloom_lsp.features.codelens",
    "specloom_lsp.features.quickfix",
    "specloom_lsp.features.navigation",
    "specloom_lsp.features.commands",
    "specloom_lsp.features.repair_actions",
    "specloom_lsp.features.conflicts",
    "specloom_lsp.features.formalize",
)
SPEC_LANGUAGES = frozenset({"markdown", "specloom"})
WARM_UP: tuple[str, ...] = ("specloom_lsp.config", "specloom.spec.compiler", "specloom_lsp.model")
"""Imported right after the initialize reply, before the next message is read: the
settings (pydantic) and the engine every spec needs (the compiler, the IR). Nothing
imports them before, so initialize is answered about as fast as pygls allows. The
commands' engine (orchestrator, run store) is imported by the first command."""

Handler = Callable[[Any], Any]
F = TypeVar("F", bound=Handler)

# Notifications: every handler runs. Requests: the results of all handlers are merged
# (lists concatenated, otherwise the first result that is not None).
_NOTIFICATIONS = frozenset(
    {
        types.INITIALIZED,
        types.TEXT_DOCUMENT_DID_OPEN,
        types.TEXT_DOCUMENT_DID_CHANGE,
        types.TEXT_DOCUMENT_DID_CLOSE,
        types.TEXT_DOCUMENT_DID_SAVE,
        types.WORKSPACE_DID_CHANGE_CONFIGURATION,
        types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
    }
)


class _Rejected:
    """A request that could not be read; it has had its error reply already."""

    jsonrpc = "rejected"


def current_metrics() -> Any:
    from specloom_lsp.metrics import current

    return current()


class SpecloomProtocol(LanguageServerProtocol):
    """pygls' protocol, with an error reply for a request whose params do not fit its
    method (pygls would only log it, and the client would wait for ever)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as error:
            msg_id = data.get("id")
            method = data.get("method")
            if isinstance(method, str) and isinstance(msg_id, int | str):
                cause = error.__cause__
                detail = str(cause).splitlines()[0] if cause else ""
                self._send_response(
                    msg_id,
                    error=types.ResponseError(
                        code=JsonRpcInvalidParams.CODE,
                        message=f"invalid params for {method}" + (f": {detail}" if detail else ""),
                    ),
                )
                logger.warning("rejected a %s request: invalid params", method)
                return _Rejected()
            raise

    per_connection = False
    """One of several connections of a WebSocket server (`remote.start_ws`): `exit` ends
    this connection, not the process."""

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Any:
        if not self.per_connection:
            yield from super().lsp_exit(*args)
            return
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        stop = self._server._stop_event
        if stop is not None:
            stop.set()  # this connection's loop ends; the listener goes on
        if self.writer is not None:
            closed = self.writer.close()
            if inspect.isawaitable(closed):
                self._closing = asyncio.ensure_future(closed)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Rejected):
            return
        metrics = current_metrics()
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if metrics is not None and isinstance(method, str) and msg_id is not None:
            metrics.request_started(msg_id, method)
        super().handle_message(message)

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        metrics = current_metrics()
        if metrics is not None:
            metrics.request_answered(msg_id, error is not None)
        super()._send_response(msg_id, result, error)


class LspLogHandler(logging.Handler):
    """Sends log records to the client as `window/logMessage`."""

    LEVELS = (
        (logging.ERROR, types.MessageType.Error),
        (logging.WARNING, types.MessageType.Warning),
        (logging.INFO, types.MessageType.Info),
    )

    def __init__(self, server: SpecloomLanguageServer) -> None:
        super().__init__(logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.server.loop
        if loop is None or loop.is_closed() or self.server.protocol.writer is None:
            return
        kind = next((t for level, t in self.LEVELS if record.levelno >= level), None)
        params = types.LogMessageParams(
            type=kind or types.MessageType.Log, message=self.format(record)
        )
        with contextlib.suppress(RuntimeError):  # the loop has stopped
            loop.call_soon_threadsafe(self._send, params)

    def _send(self, params: types.LogMessageParams) -> None:
        with contextlib.suppress(Exception):  # a dead client must not break logging
            self.server.window_log_message(params)


def uri_to_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return unquote(parsed.path)


class SpecloomLanguageServer(LanguageServer):
    """The Specloom language server."""

    def __init__(self) -> None:
        super().__init__(
            SERVER_NAME,
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=SpecloomProtocol,
        )
        self._settings: Settings | None = None
        self.documents = DocumentStore()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.features: dict[str, str] = {}
        """Each feature module and how its setup went: "ok" or the error."""
        self._handlers: dict[str, list[Handler]] = {}
        self._options: dict[str, Any] = {}  # method -> the options it was registered with
        self._settings_listeners: list[Callable[[Settings], Any]] = []
        self._initialization_options: Any = None
        self.run_diagnostics: dict[str, list[types.Diagnostic]] = {}
        """Diagnostics of a document that come from runs (findings on a spec's lines):
        sent with every publish of its compile diagnostics."""
        self.test_status: dict[str, Any] = {}
        """spec URI -> the `TestStatus` of its latest run (the lenses above its flows)."""
        self._setup_core()

    @property
    def settings(self) -> Settings:
        """The settings in force: the defaults, under the initialization options once
        initialize has come, under workspace/configuration once it has answered."""
        if self._settings is None:
            from specloom_lsp.config import Settings

            self._settings = Settings()
            if self._initialization_options is not None:
                self._apply_settings(self._initialization_options, source="initializationOptions")
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self._settings = settings

    def publish_diagnostics(
        self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None
    ) -> None:
        """Publish a document's diagnostics, with those its runs left on it."""
        extra = self.run_diagnostics.get(uri, [])
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=[*diagnostics, *extra], version=version
            )
        )

    def show_test_status(self, uri: str, out_dir: Any, run: Any, findings: list[Any]) -> None:
        """Keep what a run says of the spec's tests and have the client ask for its code
        lenses again."""
        from specloom_lsp.teststatus import status_of

        try:
            self.test_status[uri] = status_of(out_dir, run, findings)
        except Exception:
            logger.exception("the test status of %s could not be read", uri)
            return
        workspace = self.client_capabilities.workspace
        lens = workspace.code_lens if workspace else None
        if lens is not None and lens.refresh_support:
            future = self.workspace_code_lens_refresh(None)
            future.add_done_callback(_quietly)

    # --- dispatch ----------------------------------------------------------

    def on(self, method: str, options: Any | None = None) -> Callable[[F], F]:
        """Register a feature's handler for an LSP method (its options, when the method
        has any, are those of the first handler registered; the code action kinds of
        every handler are advertised)."""

        def register(handler: F) -> F:
            handlers = self._handlers.get(method)
            if handlers is None:
                handlers = self._handlers[method] = []
                self._options[method] = options
                self.feature(method, options)(self._dispatcher(method, handlers))
            else:
                _add_kinds(self._options.get(method), options)
            handlers.append(handler)
            return handler

        return register

    def _dispatcher(self, method: str, handlers: list[Handler]) -> Callable[[Any], Any]:
        if method in _NOTIFICATIONS:

            async def notify(params: Any) -> None:
                for handler in list(handlers):
                    try:
                        await _call(handler, params)
                    except Exception:
                        logger.exception("%s failed in %s", method, _name(handler))

            return notify

        async def request(params: Any) -> Any:
            results: list[Any] = []
            failures: list[BaseException] = []
            for handler in list(handlers):
                try:
                    results.append(await _call(handler, params))
                except Exception as error:
                    logger.exception("%s failed in %s", method, _name(handler))
                    failures.append(error)
            if failures and len(failures) == len(handlers):
                raise failures[0]
            return _merge(results)

        return request

    def setup_features(self, modules: Sequence[str] = FEATURES) -> None:
        """Import each feature module and call its `setup(server)`; one that fails is
        logged and left out."""
        for name in modules:
            try:
                module = importlib.import_module(name)
                module.setup(self)
            except Exception as error:
                logger.exception("feature %s failed to set up; the others go on", name)
                self.features[name] = f"failed: {error}"
            else:
                self.features[name] = "ok"

    def on_settings(self, listener: Callable[[Settings], Any]) -> None:
        """Call `listener` with the new settings whenever they change."""
        self._settings_listeners.append(listener)

    def report_server_error(self, error: Exception, source: Any) -> None:
        if (
            isinstance(error, ValueError | UnicodeDecodeError)
            and source is not None
            and (getattr(source, "__name__", "") == "JsonRpcException")
        ):
            # the body of a message was not JSON: a parse error, which has no id
            logger.warning("a message that is not JSON was ignored: %s", error)
            self.protocol._send_data(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32700, "message": f"parse error: {error}"},
                }
            )
            return
        kind = getattr(source, "__name__", str(source))
        if kind == "FeatureRequestError":  # the client has its error reply
            logger.warning("request failed: %s", error)
        else:
            logger.error("server error (%s): %s", kind, error)

    # --- documents ---------------------------------------------------------

    def spec_path(self, uri: str, language_id: str | None = None) -> str | None:
        """The path of the document at `uri` when it is a spec, else None."""
        if language_id is not None and language_id not in SPEC_LANGUAGES:
            return None
        path = uri_to_path(uri)
        if path is None:
            return uri if language_id == "specloom" else None
        root = self.workspace_root()
        if language_id == "specloom" or self.settings.is_spec(path, root):
            return path
        return None

    def workspace_root(self) -> str | None:
        try:
            root = self.workspace.root_path
        except RuntimeError:
            return None
        return str(root) if root else None

    async def compiled(self, uri: str) -> Compiled | None:
        """The compile of the document's current text, compiling it now if needed; None
        when the document is not an open spec."""
        document = self.documents.get(uri)
        if document is None:
            return None
        text_document = self.workspace.get_text_document(uri)
        latest = document.latest
        if latest is not None and latest.version == text_document.version:
            return latest
        compiled = await self.documents.compile(uri, text_document.source, text_document.version)
        return compiled or document.latest

    def to_client_range(self, lines: Sequence[str], range_: Any) -> types.Range:
        """An engine `SourceRange` (code points) as an LSP range in the client's units."""
        codec = self.workspace.position_codec
        start = types.Position(range_.start.line, range_.start.column)
        end = types.Position(range_.end.line, range_.end.column)
        return types.Range(
            start=codec.position_to_client_units(lines, start),
            end=codec.position_to_client_units(lines, end),
        )

    def from_client_position(
        self, lines: Sequence[str], position: types.Position
    ) -> tuple[int, int]:
        """A client position as (line, code point column)."""
        codec = self.workspace.position_codec
        server = codec.position_from_client_units(
            lines, types.Position(position.line, position.character)
        )
        return server.line, server.character

    # --- the core: lifecycle, settings and the document store --------------

    def _setup_core(self) -> None:
        @self.feature(types.INITIALIZE)
        def initialize(params: types.InitializeParams) -> None:
            self.loop = asyncio.get_running_loop()
            self._initialization_options = params.initialization_options
            self._settings = None  # read from the options on first use
            # the reply goes out when this returns; the settings and the engine after it
            self.loop.call_soon(self._warm_up)

        @self.on(types.INITIALIZED)
        async def initialized(params: types.InitializedParams) -> None:
            self.loop = asyncio.get_running_loop()
            await self._pull_settings()

        @self.on(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
        async def changed(params: types.DidChangeConfigurationParams) -> None:
            if self._supports_configuration():
                await self._pull_settings()
            elif params.settings is not None:
                self._apply_settings(params.settings, source="didChangeConfiguration")

        @self.on(types.TEXT_DOCUMENT_DID_OPEN)
        def did_open(params: types.DidOpenTextDocumentParams) -> None:
            document = params.text_document
            path = self.spec_path(document.uri, document.language_id)
            if path is not None:
                self.documents.open(document.uri, path, document.version)

        @self.on(types.TEXT_DOCUMENT_DID_CHANGE)
        def did_change(params: types.DidChangeTextDocumentParams) -> None:
            self.documents.changed(params.text_document.uri, params.text_document.version)

        @self.on(types.TEXT_DOCUMENT_DID_CLOSE)
        def did_close(params: types.DidCloseTextDocumentParams) -> None:
            self.documents.close(params.text_document.uri)

        def reclassify(_settings: Settings) -> None:
            # the spec glob may have changed: which open documents are specs?
            for uri, document in list(self.workspace.text_documents.items()):
                path = self.spec_path(uri, document.language_id)
                if path is None:
                    self.documents.close(uri)
                elif uri not in self.documents:
                    self.documents.open(uri, path, document.version)

        self.on_settings(reclassify)

    def _warm_up(self) -> None:
        """The settings from the initialization options, then the modules of `WARM_UP`,
        in the event loop's thread: compiles run in worker threads, and two threads
        importing one package at once can deadlock."""
        started = time.perf_counter()
        for name in WARM_UP:
            try:
                importlib.import_module(name)
            except Exception:
                logger.exception("importing %s failed", name)
        try:
            _ = self.settings
        except Exception:
            logger.exception("reading the initialization options failed")
        logger.debug("warm-up after initialize: %.0f ms", (time.perf_counter() - started) * 1000)

    def _supports_configuration(self) -> bool:
        workspace = self.client_capabilities.workspace
        return bool(workspace and workspace.configuration)

    async def _pull_settings(self) -> None:
        if not self._supports_configuration():
            return
        from specloom_lsp.config import SECTION, parse_settings

        try:
            values = await asyncio.wait_for(
                self.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
                ),
                timeout=10,
            )
        except Exception as error:
            logger.warning("workspace/configuration failed: %s", error)
            return
        value = values[0] if values else None
        # the section from the client is laid over the initialization options
        base, _ = parse_settings(self._initialization_options)
        self._apply_settings(value, source="workspace/configuration", base=base)

    def _apply_settings(self, raw: Any, *, source: str, base: Settings | None = None) -> None:
        from specloom_lsp.config import parse_settings

        settings, problems = parse_settings(raw, base)
        for problem in problems:
            logger.warning("%s: %s", source, problem)
        if problems:
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message="Specloom settings: " + "; ".join(problems),
                )
            )
        if settings != self.settings:
            self.settings = settings
            logger.info("settings from %s: %s", source, settings.model_dump(by_alias=True))
            for listener in list(self._settings_listeners):
                try:
                    listener(settings)
                except Exception:
                    logger.exception("a settings listener failed")


async def _call(handler: Handler, params: Any) -> Any:
    result = handler(params)
    if inspect.isawaitable(result):
        return await result
    return result


def _merge(results: list[Any]) -> Any:
    lists = [r for r in results if isinstance(r, list)]
    if lists:
        return [item for r in lists for item in r]
    return next((r for r in results if r is not None), None)


def _quietly(future: Any) -> None:
    """A reply nobody waits for: a client's error reply is logged, not raised."""
    if not future.cancelled() and future.exception() is not None:
        logger.info("the client refused a request: %s", future.exception())


def _name(handler: Handler) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"


def create_server(features: Sequence[str] = FEATURES) -> SpecloomLanguageServer:
    server = SpecloomLanguageServer()
    server.setup_features(features)
    return server


def _add_kinds(first: Any, more: Any) -> None:
    """Advertise the code action kinds of a later handler with the first one's options
    (the object the server's capabilities are built from)."""
    kinds = getattr(first, "code_action_kinds", None)
    for kind in getattr(more, "code_action_kinds", None) or []:
        if kinds is not None and kind not in kinds:
            kinds.append(kind)
