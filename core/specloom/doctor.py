"""`specloom doctor`: can Specloom reach every store it is configured to use, and the
language model?

One check per role: the run store (`SPECLOOM_STORE_URL` or `--store`, else the
workspace's SQLite file), vectors, graph, cache (`specloom.backends.config`) and the
model key (`ANTHROPIC_API_KEY`, at `ANTHROPIC_BASE_URL`). Each opens the store as a run
would, asks it one small question, and closes it; it reports the implementation, where
(URL with its password masked), whether it answered or the one-line reason, and how
long it took. The key itself is never printed: with a key, the check lists the API's
models, which says whether the key is accepted. A missing key is not a failure (the
deterministic engine needs none); anything configured and not reachable is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from specloom.backends.config import BackendSettings, open_graph, open_live, open_vectors
from specloom.backends.errors import BackendUnavailable
from specloom.backends.errors import mask_url as mask_backend_url
from specloom.llm.settings import LLMSettings

CHECK_TIMEOUT_S = 10.0
ANTHROPIC_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Check:
    """What one check found."""

    role: str
    """`run store`, `vectors`, `graph`, `cache` or `model`."""
    implementation: str
    where: str
    """The URL (password masked) or path."""
    status: str
    """`reachable`, `unreachable` or `not configured`."""
    detail: str
    """What it answered, or why it could not be reached."""
    latency_ms: float | None = None

    @property
    def failed(self) -> bool:
        return self.status == "unreachable"

    def line(self) -> str:
        latency = "" if self.latency_ms is None else f"{self.latency_ms:.0f} ms"
        return (
            f"{self.role:<10} {self.implementation:<12} {self.status:<15} {latency:>8}  "
            f"{self.where}: {self.detail}"
        )


Probe = Callable[[], Awaitable[tuple[str, str, str]]]
"""Opens a store, asks it something, closes it: (implementation, where, detail)."""


async def _timed(role: str, implementation: str, where: str, probe: Probe) -> Check:
    started = time.perf_counter()
    try:
        implementation, where, detail = await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
        status = "reachable"
    except TimeoutError:
        status, detail = "unreachable", f"no answer in {CHECK_TIMEOUT_S:.0f} s"
    except (BackendUnavailable, OSError) as error:
        status, detail = "unreachable", _reason(str(error))
    except Exception as error:  # a store's own error, such as StoreUnavailable
        status, detail = "unreachable", _reason(str(error) or type(error).__name__)
    latency = (time.perf_counter() - started) * 1000
    return Check(role, implementation, where, status, detail, latency)


def _reason(message: str) -> str:
    """The reason part of a `... unavailable at URL: reason` message."""
    head, separator, tail = message.partition(": ")
    return tail if separator and "unavailable" in head else message


async def check_run_store(workspace: Path, url: str | None) -> Check:
    from specloom.store.errors import mask_url
    from specloom.store.urls import default_store_url, normalize_url

    full = normalize_url(url) if url else default_store_url(workspace)
    implementation = "postgresql" if full.startswith("postgresql") else full.partition(":")[0]
    implementation = implementation.partition("+")[0]
    where = mask_url(full) if url else full.partition(":///")[2]

    async def probe() -> tuple[str, str, str]:
        from specloom.store import migrate
        from specloom.store.sql import SqlRunStore

        if full.startswith("sqlite") and not Path(full.partition(":///")[2]).exists():
            return implementation, where, "not created yet (the first run creates it)"
        store = SqlRunStore(full)
        await store.connect()  # read only: the doctor never migrates
        try:
            revision = await store.schema_revision()
        finally:
            await store.close()
        head = migrate.head_revision()
        if revision is None:
            return implementation, where, f"reachable, no schema yet (the first run makes {head})"
        if revision != head:
            return (
                implementation,
                where,
                f"schema at migration {revision} (the next run migrates it to {head})",
            )
        return implementation, where, f"schema at migration {revision}"

    return await _timed("run store", implementation, where, probe)


async def check_vectors(workspace: Path, settings: BackendSettings) -> Check:
    where = mask_backend_url(settings.vector_url) if settings.vector_url else "embedded"

    async def probe() -> tuple[str, str, str]:
        store = await open_vectors(workspace, settings)
        try:
            names = await store.collections()
        finally:
            await store.close()
        return store.name, _where(store, where), f"{len(names)} collection(s)"

    return await _timed("vectors", "qdrant" if settings.vector_url else "embedded", where, probe)


async def check_graph(workspace: Path, settings: BackendSettings) -> Check:
    where = mask_backend_url(settings.graph_url) if settings.graph_url else "embedded"

    async def probe() -> tuple[str, str, str]:
        store = await open_graph(workspace, settings)
        try:
            nodes = await store.count()
        finally:
            await store.close()
        return store.name, _where(store, where), f"{nodes} node(s)"

    return await _timed("graph", "neo4j" if settings.graph_url else "networkx", where, probe)


async def check_cache(settings: BackendSettings) -> Check:
    where = mask_backend_url(settings.cache_url) if settings.cache_url else "in-process"

    async def probe() -> tuple[str, str, str]:
        live = await open_live(settings)
        try:
            await live.cache.get("doctor")
        finally:
            await live.close()
        detail = (
            "answered"
            if settings.cache_url
            else "in-process: locks and run state are this process's"
        )
        return live.name, where, detail

    return await _timed("cache", "redis" if settings.cache_url else "memory", where, probe)


async def check_model(settings: LLMSettings) -> Check:
    base = (settings.base_url or ANTHROPIC_URL).rstrip("/")
    where = mask_backend_url(base)
    if not settings.has_key or settings.api_key is None:
        return Check(
            "model",
            "anthropic",
            where,
            "not configured",
            "no ANTHROPIC_API_KEY: the features that need Claude say so",
        )
    key = settings.api_key.get_secret_value()

    async def probe() -> tuple[str, str, str]:
        import httpx

        headers = {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S / 2) as client:
            try:
                answer = await client.get(f"{base}/v1/models", headers=headers)
            except httpx.HTTPError as error:
                reason = " ".join(str(error).split()) or type(error).__name__
                raise BackendUnavailable(reason.replace(key, "***")) from None
        if answer.status_code in (401, 403):
            raise BackendUnavailable(f"the key was refused (HTTP {answer.status_code})")
        if answer.status_code >= 400:
            raise BackendUnavailable(f"the API answered HTTP {answer.status_code}")
        return "anthropic", where, "the key is accepted"

    return await _timed("model", "anthropic", where, probe)


def _where(store: object, fallback: str) -> str:
    """Where an opened store is: its URL or directory, as its repr names it."""
    for attribute in ("where", "directory", "path"):
        value = getattr(store, attribute, None)
        if value is not None:
            return str(value)
    return fallback


def _import_drivers(settings: BackendSettings) -> None:
    """Import what the checks will use first, so their latencies are the stores'."""
    import httpx  # noqa: F401

    import specloom.store.sql  # noqa: F401
    from specloom.backends import config

    if settings.vector_url:
        import qdrant_client  # noqa: F401
    elif config.edge_available():
        import qdrant_edge  # noqa: F401
    if settings.graph_url:
        import neo4j  # noqa: F401
    if settings.cache_url:
        import redis.asyncio  # noqa: F401


def _secrets(settings: BackendSettings, llm: LLMSettings, store_url: str | None) -> list[str]:
    """What must never be printed: passwords and keys."""
    found = [settings.vector_api_key, settings.graph_password]
    if llm.api_key is not None:
        found.append(llm.api_key.get_secret_value())
    for url in (store_url, settings.vector_url, settings.graph_url, settings.cache_url):
        if url:
            try:
                found.append(urlsplit(url).password)
            except ValueError:
                continue
    return [secret for secret in found if secret]


def _scrubbed(check: Check, secrets: list[str]) -> Check:
    detail, where = check.detail, check.where
    for secret in secrets:
        detail, where = detail.replace(secret, "***"), where.replace(secret, "***")
    return replace(check, detail=detail, where=where)


async def run_checks(
    workspace: Path,
    store_url: str | None = None,
    settings: BackendSettings | None = None,
    llm: LLMSettings | None = None,
) -> list[Check]:
    """Every check, one after the other (so each latency is its own), in the order
    they are printed."""
    settings = settings or BackendSettings.from_env()
    llm = llm or LLMSettings.from_env()
    _import_drivers(settings)
    checks = [
        await check_run_store(workspace, store_url),
        await check_vectors(workspace, settings),
        await check_graph(workspace, settings),
        await check_cache(settings),
        await check_model(llm),
    ]
    secrets = _secrets(settings, llm, store_url)
    return [_scrubbed(check, secrets) for check in checks]


def report(checks: list[Check]) -> dict[str, Any]:
    """The checks as one JSON object."""
    return {
        "ok": not any(c.failed for c in checks),
        "checks": [{**asdict(c), "failed": c.failed} for c in checks],
    }
