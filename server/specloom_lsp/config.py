"""The server's settings: from `initializationOptions` and `workspace/configuration`.

Every setting has a default; a value that does not fit is reported and replaced by
its default, never a crash. Keys are camelCase, as editors write them (snake_case is
accepted too).
"""

from __future__ import annotations

import contextlib
import os
import re
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

SECTION = "specloom"
SPEC_SUFFIX = ".spec.md"


class Settings(BaseModel):
    """The `specloom` configuration section."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, alias_generator=to_camel, frozen=True
    )

    spec_glob: str = Field(default="**/*.spec.md", min_length=1)
    """Which documents are specs: a glob on the path relative to the workspace root."""
    output_directory: str | dict[str, str] = "{stem}-app"
    """Where a spec's app goes: a template relative to the spec's folder (`{stem}` is
    the spec's name without `.spec.md`), or a mapping from a spec's path (or glob)
    relative to the workspace root to a directory relative to the workspace root."""
    store_url: str | None = Field(default_factory=lambda: _env("SPECLOOM_STORE_URL"))
    """The run store (`sqlite:///...` or `postgresql://...`); default: the server's
    `SPECLOOM_STORE_URL`, else the workspace's own SQLite file."""
    database_url: str | None = Field(default_factory=lambda: _env("SPECLOOM_APP_DATABASE_URL"))
    """The PostgreSQL server for the generated app's database; default: the server's
    `SPECLOOM_APP_DATABASE_URL`, else SQLite."""
    trust: bool | None = None
    """Whether generated code may run (phases 7 to 10): true, false (never, and never
    asked), or not said (None: the server asks the client once per workspace)."""
    repair_attempts: int = Field(default=3, ge=0, le=20)
    debounce_ms: int = Field(default=150, ge=0, le=10_000)

    def is_spec(self, path: str, root: str | None) -> bool:
        """Whether the file at `path` (absolute) is a spec under this glob."""
        posix = PurePosixPath(Path(path).as_posix())
        candidates = []
        if root:
            with contextlib.suppress(ValueError):
                candidates.append(
                    posix.relative_to(PurePosixPath(Path(root).as_posix())).as_posix()
                )
        candidates.append(posix.as_posix().lstrip("/"))
        pattern = glob_regex(self.spec_glob)
        return any(pattern.fullmatch(candidate) for candidate in candidates)

    def output_dir_for(self, spec_path: str, root: str | None) -> Path:
        """The output directory of the spec at `spec_path`."""
        spec = Path(spec_path)
        name = spec.name
        stem = name[: -len(SPEC_SUFFIX)] if name.endswith(SPEC_SUFFIX) else spec.stem
        if isinstance(self.output_directory, dict):
            base = Path(root) if root else spec.parent
            relative = spec.name
            if root:
                try:
                    relative = spec.relative_to(root).as_posix()
                except ValueError:
                    relative = spec.as_posix()
            for key, target in self.output_directory.items():
                if key == relative or glob_regex(key).fullmatch(relative):
                    return (base / target.format(stem=stem)).resolve()
            return (spec.parent / f"{stem}-app").resolve()
        return (spec.parent / self.output_directory.format(stem=stem)).resolve()


def _env(name: str) -> str | None:
    """A server-side default from the environment (a team server's compose file sets
    them); a client's setting takes precedence."""
    return os.environ.get(name, "").strip() or None


@lru_cache(maxsize=64)
def glob_regex(glob: str) -> re.Pattern[str]:
    """A regular expression for a path glob: `**/` any folders (or none), `*` and `?`
    within one path segment, `{a,b}` alternatives."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{" and "}" in glob[i:]:
            end = glob.index("}", i)
            out.append("(?:" + "|".join(re.escape(p) for p in glob[i + 1 : end].split(",")) + ")")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


def _unwrap(raw: Any) -> Any:
    """`{"specloom": {...}}` and `{...}` both name the section."""
    if isinstance(raw, dict) and isinstance(raw.get(SECTION), dict):
        return raw[SECTION]
    return raw


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from a client's JSON value over `base` (default: the defaults), and the
    problems found: each invalid value is named and left at its base value."""
    base = base or Settings()
    raw = _unwrap(raw)
    if raw is None:
        return base, []
    if not isinstance(raw, dict):
        return base, [f"the '{SECTION}' settings must be an object, not {type(raw).__name__}"]
    values: dict[str, Any] = base.model_dump()
    fields = Settings.model_fields
    by_alias = {(info.alias or name): name for name, info in fields.items()}
    problems: list[str] = []
    for key, value in raw.items():
        name = by_alias.get(key, key if key in fields else None)
        if name is None:
            problems.append(f"unknown setting '{SECTION}.{key}' ignored")
            continue
        if value is None and fields[name].default is not None:
            continue
        candidate = {**values, name: value}
        try:
            Settings.model_validate(candidate)
        except ValidationError as error:
            first = error.errors()[0]
            problems.append(
                f"invalid value for '{SECTION}.{key}': {value!r} ({first['msg']}); "
                f"using {getattr(base, name)!r}"
            )
            continue
        values[name] = value
    return Settings.model_validate(values), problems
