"""The app's OpenAPI document, dumped by the app's interpreter in a sandboxed process, and
what the compliance check reads of it: operations and the properties of request bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specloom.pipeline.cancel import CancelToken
from specloom.verify import sandbox
from specloom.verify.checks.common import last_json_line, reason
from specloom.verify.sandbox import Completed, Limits

DUMP = "import json; from app.main import app; print(json.dumps(app.openapi()))"


@dataclass
class Dump:
    document: dict[str, Any] | None
    completed: Completed
    error: str = ""


async def dump_openapi(
    app_dir: Path,
    python: str,
    database_url: str = "",
    *,
    limits: Limits | None = None,
    cancel: CancelToken | None = None,
) -> Dump:
    """Import the app and print `app.openapi()` (with the app's DATABASE_URL, so importing
    it touches no database file in the app's directory)."""
    env = {"DATABASE_URL": database_url} if database_url else {}
    completed = await sandbox.run(
        [python, "-c", DUMP], app_dir, env=env, limits=limits, cancel=cancel, warm=True
    )
    if not completed.ok:
        return Dump(None, completed, reason(completed))
    try:
        document = last_json_line(completed.stdout)
    except ValueError:
        return Dump(None, completed, "the app printed no OpenAPI document")
    if not isinstance(document, dict):
        return Dump(None, completed, "the app's OpenAPI document is not an object")
    return Dump(document, completed)


def path_shape(path: str) -> str:
    """A path with its parameters unnamed: `/books/{id}` and `/books/{book_id}` match."""
    return re.sub(r"\{[^}/]*\}", "{}", path.rstrip("/") or "/")


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path shape) -> operation object."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return found
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if isinstance(operation, dict):
                found[(method.upper(), path_shape(str(path)))] = operation
    return found


def resolve(document: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    """A schema with `$ref`s followed (local references only)."""
    while isinstance(schema, dict) and "$ref" in schema and depth < 20:
        reference = str(schema["$ref"])
        if not reference.startswith("#/"):
            return {}
        target: Any = document
        for part in reference[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        schema = target
        depth += 1
    return schema if isinstance(schema, dict) else {}


def body_properties(document: dict[str, Any], operation: dict[str, Any]) -> set[str] | None:
    """The property names of an operation's JSON request body (None: it has no body)."""
    body = operation.get("requestBody")
    if not isinstance(body, dict):
        return None
    content = body.get("content")
    if not isinstance(content, dict):
        return None
    media = content.get("application/json") or next(iter(content.values()), None)
    if not isinstance(media, dict):
        return None
    return _properties(document, media.get("schema"), 0)


def _properties(document: dict[str, Any], schema: Any, depth: int) -> set[str]:
    schema = resolve(document, schema)
    names = set(schema.get("properties", {}) or {})
    if depth < 5:
        for combinator in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(combinator, []) or []:
                names |= _properties(document, part, depth + 1)
    return names
