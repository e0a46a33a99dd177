"""The command line of the language server: `python -m specloom_lsp [--tcp|--ws HOST:PORT]`."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from collections.abc import Sequence

from specloom_lsp.logs import ContextFilter, SecretsFilter, json_formatter, secrets_of

DEFAULT_HOST = "127.0.0.1"


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or PORT, got {value!r}")
    return host.strip("[]") or DEFAULT_HOST, int(port)


def parser() -> argparse.ArgumentParser:
    args = argparse.ArgumentParser(
        prog="specloom lsp", description="The Specloom language server (stdio by default)."
    )
    transport = args.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout")
    transport.add_argument(
        "--tcp", type=_address, metavar="HOST:PORT", help=f"listen on TCP (host {DEFAULT_HOST})"
    )
    transport.add_argument(
        "--ws", type=_address, metavar="HOST:PORT", help="listen for a WebSocket client"
    )
    args.add_argument("--log-file", metavar="PATH", help="also write the log to this file")
    args.add_argument(
        "--metrics",
        type=_address,
        metavar="HOST:PORT",
        help=f"serve Prometheus metrics at http://HOST:PORT/metrics (host {DEFAULT_HOST})",
    )
    args.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="lines of text, or JSON objects with run_id and request_id (default text)",
    )
    args.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the level of the log (default INFO)",
    )
    return args


def configure_logging(log_file: str | None, level: str, log_format: str = "text") -> ContextFilter:
    """Handlers on stderr and the log file, every record with its run and request and
    no secret of the environment; the context filter, to be told the protocol."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    context = ContextFilter()
    secrets = SecretsFilter(secrets_of())
    formatter = (
        json_formatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    # stderr is free on every transport (stdout carries the protocol on stdio)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.WARNING)
    stderr.setFormatter(formatter)
    handlers: list[logging.Handler] = [stderr]
    if log_file:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setLevel(getattr(logging, level))
        file_handler.setFormatter(formatter)
        handlers.append(file_handler)
    for handler in handlers:
        handler.addFilter(context)
        handler.addFilter(secrets)
        root.addHandler(handler)
    # pygls logs every message it sends at INFO: keep that for DEBUG only
    logging.getLogger("pygls").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.getLogger("specloom_lsp").setLevel(getattr(logging, level))
    return context


def main(argv: Sequence[str] | None = None) -> None:
    options = parser().parse_args(argv)
    context = configure_logging(options.log_file, options.log_level, options.log_format)

    from specloom_lsp.server import LspLogHandler, create_server

    server = create_server()
    context.request_id = lambda: server.protocol._ctx_msg_id.get(None)
    lsp_handler = LspLogHandler(server)
    lsp_handler.addFilter(SecretsFilter(secrets_of()))
    lsp_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("specloom_lsp").addHandler(lsp_handler)
    from specloom_lsp import remote

    try:
        token = remote.token_from()
        if options.tcp:
            remote.check_tcp(options.tcp[0])
        elif options.ws:
            remote.check_ws(options.ws[0], token)
    except remote.RemoteRefused as refused:
        sys.stderr.write(f"specloom lsp: {refused}\n")
        raise SystemExit(2) from None
    if options.metrics:
        from specloom_lsp import metrics

        metrics_host, metrics_port = options.metrics
        if not remote.is_loopback(metrics_host):
            sys.stderr.write(
                f"specloom lsp: --metrics {metrics_host}: metrics are not authenticated, so "
                "they listen on loopback only\n"
            )
            raise SystemExit(2)
        metrics.start(metrics_host, metrics_port)
    if options.tcp:
        server.start_tcp(*options.tcp)
    elif options.ws:
        if importlib.util.find_spec("websockets") is None:
            sys.stderr.write(
                "specloom lsp: --ws needs the 'websockets' package (pip install 'pygls[ws]')\n"
            )
            raise SystemExit(2) from None
        host, port = options.ws
        remote.start_ws(server, host, port, token)
    else:
        server.start_io()
