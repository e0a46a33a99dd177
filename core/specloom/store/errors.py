"""Turning a database that cannot be reached into one clear line: `StoreUnavailable`.

The message names the URL with its password masked and says why, without the driver's
traceback or SQL.
"""

from __future__ import annotations

import re
import socket

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from specloom.store.base import StoreUnavailable

# Errors that mean "the database is not there" during any operation. Anything else
# (an integrity error, a bug) is not a connectivity problem and propagates as is.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    OperationalError,
    InterfaceError,
)

# Shorter passwords are not scrubbed from driver messages, where they would mangle words.
_MIN_SCRUBBED_PASSWORD = 4
_USERINFO_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@")
_DRIVER_CLASS_PREFIX = re.compile(r"^<class '[\w.]+'>:\s*")


def is_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached (rather than that a statement
    failed): a network or timeout error, an operational or interface error, a lost
    connection, or any driver error met while connecting (it has no statement)."""
    if isinstance(error, _UNREACHABLE):
        return True
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or error.statement is None
    )


def mask_url(url: str) -> str:
    """The URL with any password replaced by `***`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _USERINFO_PASSWORD.sub(r"\1:***@", url)


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None


def describe(error: BaseException) -> str:
    """A short, one-line reason for an error from a driver or SQLAlchemy."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig else error
    if isinstance(original, ConnectionRefusedError):
        return "connection refused"
    if isinstance(original, socket.gaierror):
        return f"host not found ({original.strerror or original})"
    if isinstance(original, TimeoutError):
        return "timed out"
    text = " ".join(str(original).split())
    text = _DRIVER_CLASS_PREFIX.sub("", text)
    if "Connect call failed" in text or "Errno 111" in text:
        return "connection refused"
    return text or type(original).__name__


def unavailable(url: str, error: BaseException, *, doing: str = "") -> StoreUnavailable:
    """The `StoreUnavailable` to raise for `error` met while using the store at `url`."""
    reason = describe(error).replace(url, mask_url(url))
    password = _password(url)
    if password and len(password) >= _MIN_SCRUBBED_PASSWORD:
        reason = reason.replace(password, "***")
    where = f" ({doing})" if doing else ""
    return StoreUnavailable(f"run store unavailable at {mask_url(url)}{where}: {reason}")
