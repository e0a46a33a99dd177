"""The server's log records: what run and request each belongs to, as JSON lines when
asked (`--log-format json`), and never a secret.

- `ContextFilter` adds `run_id` (the pipeline run the logging task works for) and
  `request_id` (the LSP request being handled, as pygls tracks it) to every record.
- `SecretsFilter` masks, in the message and its arguments, every secret value the
  server knows of: the model's API key, the server token, the passwords of the store
  URLs in its environment. Handlers get it, so no output sees the value.
- `JsonFormatter` (python-json-logger) writes one object per line: `time`, `level`,
  `logger`, `message`, `run_id`, `request_id` (and `exc_info` when there is one).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from specloom.runcontext import RUN_ID

SECRET_VARIABLES = ("ANTHROPIC_API_KEY", "SPECLOOM_SERVER_TOKEN", "SPECLOOM_VECTOR_API_KEY")
URL_VARIABLES = (
    "SPECLOOM_STORE_URL",
    "SPECLOOM_APP_DATABASE_URL",
    "SPECLOOM_CACHE_URL",
    "SPECLOOM_GRAPH_URL",
    "SPECLOOM_VECTOR_URL",
)
PASSWORD_VARIABLES = ("SPECLOOM_GRAPH_PASSWORD",)
MASK = "***"


def secrets_of(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values of the environment, longest first (8 characters or more: a
    shorter one would mask ordinary words)."""
    environ = os.environ if environ is None else environ
    found = {environ.get(name, "").strip() for name in (*SECRET_VARIABLES, *PASSWORD_VARIABLES)}
    for name in URL_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            try:
                found.add(urlsplit(value).password or "")
            except ValueError:
                continue
    return sorted((s for s in found if len(s) >= 8), key=len, reverse=True)


class SecretsFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.mask(record.getMessage())
            record.args = None
            if record.exc_text:
                record.exc_text = self.mask(record.exc_text)
        return True


class ContextFilter(logging.Filter):
    def __init__(self, request_id: Callable[[], object] | None = None) -> None:
        super().__init__()
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = RUN_ID.get()
        request = self.request_id() if self.request_id is not None else None
        record.request_id = request
        return True


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(run_id)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
