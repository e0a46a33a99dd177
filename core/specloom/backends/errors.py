"""One error for every store behind an interface: `BackendUnavailable`.

Like the run store's `StoreUnavailable`, its message is one line: which store, the URL
with its password masked, and why, without the driver's traceback.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_USERINFO_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@")


class BackendUnavailable(Exception):
    """A store (vectors, graph, cache) cannot be reached or opened."""


def mask_url(url: str) -> str:
    """The URL with any password replaced by `***` (the run store's `mask_url` without
    SQLAlchemy, which these stores do not otherwise need)."""
    return _USERINFO_PASSWORD.sub(r"\1:***@", url)


def reason(error: BaseException) -> str:
    """A short, one-line reason for a driver's error."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    text = " ".join(str(error).split())
    if "Connection refused" in text or "Errno 111" in text or "Connect call failed" in text:
        return "connection refused"
    return text or type(error).__name__


def scrub(text: str, url: str) -> str:
    """`text` with `url` masked, and its password, wherever else it appears, as `***`."""
    text = text.replace(url, mask_url(url))
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def unavailable(role: str, url: str, error: BaseException) -> BackendUnavailable:
    """The `BackendUnavailable` to raise for `error` met while opening `role` at `url`."""
    return BackendUnavailable(f"{role} unavailable at {mask_url(url)}: {scrub(reason(error), url)}")
