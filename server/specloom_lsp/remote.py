"""Remote mode: who may connect to a server listening on the network.

- A server bound to anything but loopback needs a token: `SPECLOOM_SERVER_TOKEN` (at
  least 16 characters), read from the environment, never from the command line (where
  `ps` shows it). Without one it refuses to start and says why.
- Over WebSocket, a client presents it as `Authorization: Bearer <token>`; a request
  without it, or with another, is answered 401 before any LSP message is read. With a
  token set, loopback connections must present it too.
- Raw TCP carries no headers, so it cannot present a token: `--tcp` is refused on
  anything but loopback (use `--ws` for remote clients).
- With `SPECLOOM_WORKSPACES` set (a team server), a connection's commands run only on
  specs inside its workspace root, which must lie inside that directory, and write
  only inside it (`Commands.confined`).

The token is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "SPECLOOM_SERVER_TOKEN"
MIN_TOKEN_CHARS = 16


class RemoteRefused(Exception):
    """The server must not start as asked; the message says why and what to do."""


WORKSPACES_VARIABLE = "SPECLOOM_WORKSPACES"


def workspaces_root(environ: Mapping[str, str] | None = None) -> Path | None:
    """The directory a shared server's workspaces must lie in (`SPECLOOM_WORKSPACES`),
    or None: any (a server of one user)."""
    environ = os.environ if environ is None else environ
    value = (environ.get(WORKSPACES_VARIABLE) or "").strip()
    return Path(value).resolve() if value else None


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_from(environ: Mapping[str, str] | None = None) -> str | None:
    """The token of the environment, or None; one too short is refused."""
    environ = os.environ if environ is None else environ
    token = (environ.get(TOKEN_VARIABLE) or "").strip()
    if not token:
        return None
    if len(token) < MIN_TOKEN_CHARS:
        raise RemoteRefused(
            f"{TOKEN_VARIABLE} is too short: use at least {MIN_TOKEN_CHARS} characters"
        )
    return token


def check_tcp(host: str) -> None:
    if not is_loopback(host):
        raise RemoteRefused(
            f"--tcp {host}: raw TCP cannot carry a token, so it listens on loopback only; "
            f"for remote clients use --ws with {TOKEN_VARIABLE} set"
        )


def check_ws(host: str, token: str | None) -> None:
    if token is None and not is_loopback(host):
        raise RemoteRefused(
            f"--ws {host}: a server reachable from the network needs a token; set "
            f"{TOKEN_VARIABLE} (at least {MIN_TOKEN_CHARS} characters) in its environment"
        )


def presented(headers: Any) -> str | None:
    """The bearer token of a request's headers, or None."""
    value = headers.get("Authorization") or ""
    scheme, _, credential = value.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


def authorized(headers: Any, token: str) -> bool:
    given = presented(headers)
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def start_ws(server: LanguageServer, host: str, port: int, token: str | None) -> None:
    """pygls's WebSocket server, with each upgrade request checked for the token."""
    import asyncio

    from pygls.io_ import run_websocket
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.http11 import Request, Response

    def check(connection: ServerConnection, request: Request) -> Response | None:
        if token is None or authorized(request.headers, token):
            return None
        log.warning("refused a connection from %s: no valid token", connection.remote_address)
        return connection.respond(HTTPStatus.UNAUTHORIZED, "a valid bearer token is needed\n")

    from specloom_lsp.server import create_server

    async def lsp_connection(websocket: ServerConnection) -> None:
        """Each connection gets a server of its own (its documents, settings, runs):
        editors on one server do not share state, and one leaving stops no other."""
        own = server if not served else create_server()
        served.append(own)
        own.protocol.per_connection = True  # type: ignore[attr-defined]
        own._stop_event = stop = threading.Event()
        log.info("connection %d from %s", len(served), websocket.remote_address)
        try:
            await run_websocket(
                stop_event=stop,
                websocket=websocket,
                protocol=own.protocol,
                logger=log,
                error_handler=own.report_server_error,
            )
        finally:
            stop.set()

    served: list[LanguageServer] = []

    async def main() -> None:
        listening = await serve(lsp_connection, host, port, process_request=check)
        server._server = listening
        addresses = ", ".join(str(sock.getsockname()) for sock in listening.sockets)
        log.info("serving WebSocket on %s%s", addresses, " (token required)" if token else "")
        async with listening:
            await listening.serve_forever()

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        log.debug("the WebSocket server was cancelled")
