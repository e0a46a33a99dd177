"""Navigation between a spec and its generated app, both ways: `textDocument/definition`
and `textDocument/references`, read from the app's trace map (`specloom-trace.json`).

From a spec document, the requirement ID, entity, field, endpoint, flow or rule under
the cursor goes to the generated code that implements it, then to the tests that
check it. From a generated file (under the output directory whose trace map lists
it), the traced class or function under the cursor, or a requirement ID written
there, goes to the spec line of each of its requirements. References are the spec
lines (the declaration), the code and the tests of the same requirements. Before an
app is generated there is nothing to go to: the answer is null.

A trace map is read once per output directory and read again when the file changes
(its mtime or size); a spec that is not open in the editor is compiled from disk,
once per change, so the spec lines are those of its current text.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer, uri_to_path

if TYPE_CHECKING:
    from specloom.ir.application import ApplicationIR
    from specloom.ir.common import SourceRange
    from specloom.ir.domain import Entity
    from specloom.verify.traceindex import Located, TraceIndex

TRACE_FILE = "specloom-trace.json"  # specloom.verify.traceindex.TRACE_FILE, not imported
SEARCH_LIMIT = 5000
"""At most this many folders are searched for the spec of an app found nowhere else."""
_SKIPPED = frozenset({"node_modules", "__pycache__", "site-packages"})
_TOKEN = re.compile(r"[\w.\-]+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Stamp = tuple[int, int]


@dataclass(slots=True)
class Trace:
    """One app's trace map as read at `stamp` (mtime and size of the file)."""

    stamp: Stamp
    index: TraceIndex
    spec_name: str
    spec: Path | None = None
    searched: bool = False
    """Whether the workspace has been searched for the spec (once per trace map)."""


@dataclass(slots=True)
class Aim:
    """What the cursor is on: requirement IDs of one app, and the text they came from."""

    out_dir: Path
    trace: Trace
    ids: list[str]
    origin: types.Range
    prefer: str = ""
    """A symbol to list first (an entity's model class)."""


@dataclass(slots=True)
class Specimen:
    """A spec's text and compiled model."""

    lines: list[str]
    ir: ApplicationIR


@dataclass(slots=True)
class Target:
    """Where a link lands: the whole symbol and its name."""

    uri: str
    whole: types.Range
    name: types.Range


def token_at(text: str, column: int) -> tuple[str, int, int] | None:
    """The requirement-ID-like token at `column` (`F8`, `Book.isbn.unique`) without the
    punctuation around it, and its columns."""
    for match in _TOKEN.finditer(text):
        if match.start() <= column <= match.end():
            word = match.group()
            start = match.start() + len(word) - len(word.lstrip(".-"))
            word = word.strip(".-")
            if word:
                return word, start, start + len(word)
    return None


def _entity_ids(ir: ApplicationIR, entity: Entity) -> list[str]:
    prefix = entity.name + "."
    return [
        r.id for r in ir.validation.requirements if any(s.startswith(prefix) for s in r.subjects)
    ]


def requirements_at(
    ir: ApplicationIR, text: str, line: int, column: int, known: set[str]
) -> tuple[list[str], SourceRange, str] | None:
    """The requirement IDs at a position of a spec (with the range of what names them,
    and a symbol to list first): an ID written there, else the element of the model."""
    from specloom.ir.common import SourceRange
    from specloom.spec.names import EntityNames

    from specloom_lsp.model import element_at

    token = token_at(text, column)
    if token is not None and (token[0] in known or ir.validation.requirement(token[0])):
        return [token[0]], SourceRange.of(line, token[1], line, token[2]), ""
    found = element_at(ir, line, column)
    if found is not None and found.kind == "field" and found.entity and found.field:
        target = ir.domain.entity(found.field.type.entity or "")
        if target is not None and found.field.type.range.contains(line, column):
            return _entity_ids(ir, target), found.field.type.range, target.name
        subject = f"{found.entity.name}.{found.field.name}"
        ids = list(found.field.requirement_ids)
        ids += [r.id for r in ir.validation.requirements if subject in r.subjects]
        return list(dict.fromkeys(ids)), found.range, ""
    if found is not None and found.kind == "entity" and found.entity:
        return _entity_ids(ir, found.entity), found.range, found.entity.name
    if found is not None and found.kind == "endpoint" and found.endpoints:
        return [e.id for e in found.endpoints], found.range, ""
    if found is not None and found.kind == "rule" and found.rule:
        return [found.rule.id], found.range, ""
    if found is not None and found.flow and found.flow.range.start.line == line:
        return [found.flow.id], found.range, ""
    for match in _WORD.finditer(text):
        if match.start() <= column <= match.end():
            name = EntityNames([e.name for e in ir.domain.entities]).find(match.group())
            entity = ir.domain.entity(name) if name else None
            if entity is not None:
                where = SourceRange.of(line, match.start(), line, match.end())
                return _entity_ids(ir, entity), where, entity.name
    if found is not None and found.flow:
        return [found.flow.id], found.range, ""
    covering = [r for r in ir.validation.requirements if r.range.contains(line, column)]
    if covering:
        return [r.id for r in covering], covering[0].range, ""
    return None


def output_dir_of(path: Path) -> Path | None:
    """The output directory a generated file is in: the nearest folder above it that
    holds a trace map."""
    for folder in path.parents:
        if (folder / TRACE_FILE).is_file():
            return folder
    return None


def definition_line(lines: list[str], place: Located) -> tuple[int, int, int]:
    """Where the name of a traced symbol is (line, first and last column): on its `def`
    or `class` line, after any decorators; the first line of its range otherwise."""
    start = min(place.span.start.line, max(len(lines) - 1, 0))
    if place.symbol:
        header = re.compile(rf"\s*(?:async\s+)?(?:def|class)\s+({re.escape(place.symbol)})\b")
        for number in range(start, min(place.span.end.line + 1, len(lines))):
            match = header.match(lines[number])
            if match is not None:
                return number, match.start(1), match.end(1)
    text = lines[start] if start < len(lines) else ""
    return start, len(text) - len(text.lstrip()), len(text)


def _read_lines(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None


def _stamp(path: Path) -> Stamp | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _search(folder: Path, name: str) -> list[Path]:
    """Files called `name` under `folder` (hidden folders skipped; bounded)."""
    found: list[Path] = []
    for visited, (here, folders, files) in enumerate(os.walk(folder)):
        if visited >= SEARCH_LIMIT:
            break
        folders[:] = [f for f in folders if not f.startswith(".") and f not in _SKIPPED]
        if name in files:
            found.append(Path(here) / name)
    return found


class Navigation:
    """Definition and references for one server, with its caches."""

    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.traces: dict[Path, Trace] = {}
        self.specs: dict[Path, tuple[Stamp, Specimen]] = {}

    # --- where things are -------------------------------------------------------

    def workspace_folders(self) -> list[Path]:
        folders: list[Path] = []
        try:
            uris = [folder.uri for folder in self.server.workspace.folders.values()]
        except RuntimeError:
            uris = []
        for uri in uris:
            path = uri_to_path(uri)
            if path:
                folders.append(Path(path).resolve())
        root = self.server.workspace_root()
        if root and Path(root).resolve() not in folders:
            folders.append(Path(root).resolve())
        return folders

    def output_dir(self, spec: Path) -> Path:
        """The spec's output directory under the current settings (its workspace is the
        innermost workspace folder it is in, as for the commands)."""
        spec = spec.resolve()
        inside = [folder for folder in self.workspace_folders() if spec.is_relative_to(folder)]
        workspace = max(inside, key=lambda p: len(p.parts)) if inside else spec.parent
        return self.server.settings.output_dir_for(str(spec), str(workspace))

    def trace(self, out_dir: Path) -> Trace | None:
        """The trace map of the app in `out_dir`, from the cache while the file is the
        same; None when there is none (nothing generated yet)."""
        from specloom.verify.traceindex import TraceIndex

        stamp = _stamp(out_dir / TRACE_FILE)
        cached = self.traces.get(out_dir)
        if stamp is None:
            self.traces.pop(out_dir, None)
            return None
        if cached is not None and cached.stamp == stamp:
            return cached
        try:
            data = json.loads((out_dir / TRACE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        trace = Trace(stamp, TraceIndex.of(data), str(data.get("spec") or ""))
        self.traces[out_dir] = trace
        return trace

    def spec_of(self, out_dir: Path, trace: Trace) -> Path | None:
        """The spec an app was generated from: a spec of that name whose output
        directory (under the current settings) is `out_dir`."""
        name = trace.spec_name
        if not name:
            return None
        if (
            trace.spec is not None
            and trace.spec.is_file()
            and self.output_dir(trace.spec) == out_dir
        ):
            return trace.spec
        candidates = []
        for uri in self.server.documents.uris():
            document = self.server.documents.get(uri)
            if document is not None and Path(document.path).name == name:
                candidates.append(Path(document.path))
        candidates.append(out_dir.parent / name)
        for candidate in candidates:
            if candidate.is_file() and self.output_dir(candidate) == out_dir:
                trace.spec = candidate.resolve()
                return trace.spec
        if trace.searched:
            return None
        trace.searched = True
        for folder in self.workspace_folders():
            for candidate in _search(folder, name):
                if self.output_dir(candidate) == out_dir:
                    trace.spec = candidate.resolve()
                    return trace.spec
        return None

    async def specimen(self, spec: Path) -> Specimen | None:
        """The spec's text and model: the editor's when it is open, else from disk."""
        for uri in self.server.documents.uris():
            document = self.server.documents.get(uri)
            if document is not None and Path(document.path).resolve() == spec:
                compiled = await self.server.compiled(uri)
                if compiled is not None:
                    return Specimen(compiled.lines, compiled.result.ir)
        stamp = _stamp(spec)
        if stamp is None:
            return None
        cached = self.specs.get(spec)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        from specloom.spec.compiler import compile_spec

        text = await asyncio.to_thread(spec.read_text, encoding="utf-8")
        result = await asyncio.to_thread(compile_spec, text, str(spec))
        specimen = Specimen(text.splitlines(), result.ir)
        self.specs[spec] = (stamp, specimen)
        return specimen

    def lines_of(self, path: Path) -> list[str] | None:
        """The lines of a generated file: the editor's when it is open, else on disk."""
        document = self.server.workspace.text_documents.get(unquote(path.as_uri()))
        if document is not None:
            return [line.rstrip("\r\n") for line in document.lines]
        return _read_lines(path)

    # --- what the cursor is on --------------------------------------------------

    async def aim_in_spec(self, uri: str, position: types.Position) -> Aim | None:
        document = self.server.documents.get(uri)
        compiled = await self.server.compiled(uri)
        if document is None or compiled is None or position.line >= len(compiled.lines):
            return None
        out_dir = self.output_dir(Path(document.path))
        trace = self.trace(out_dir)
        if trace is None:
            return None
        lines = compiled.lines
        line, column = self.server.from_client_position(lines, position)
        ir = compiled.result.ir
        found = requirements_at(ir, lines[line], line, column, set(trace.index.requirements))
        if found is None or not found[0]:
            return None
        ids, where, prefer = found
        return Aim(out_dir, trace, ids, self.server.to_client_range(lines, where), prefer)

    async def aim_in_code(self, uri: str, position: types.Position) -> Aim | None:
        path_text = uri_to_path(uri)
        if path_text is None:
            return None
        path = Path(path_text)
        found_dir = output_dir_of(path)
        if found_dir is None:
            return None
        out_dir = found_dir.resolve()
        trace = self.trace(out_dir)
        relative = path.relative_to(found_dir).as_posix()
        if trace is None or relative not in trace.index.by_path:
            return None
        lines = self.lines_of(path)
        if not lines or position.line >= len(lines):
            return None
        line, column = self.server.from_client_position(lines, position)
        from specloom.ir.common import SourceRange

        token = token_at(lines[line], column)
        if token is not None and token[0] in trace.index.requirements:
            where = SourceRange.of(line, token[1], line, token[2])
            return Aim(out_dir, trace, [token[0]], self.server.to_client_range(lines, where))
        places = trace.index.at(relative, line)
        if not places:
            return None
        inner = places[0]
        ids = [p.requirement_id for p in places if (p.symbol, p.span) == (inner.symbol, inner.span)]
        name_line, first, last = definition_line(lines, inner)
        where = SourceRange.of(name_line, first, name_line, last)
        return Aim(
            out_dir, trace, list(dict.fromkeys(ids)), self.server.to_client_range(lines, where)
        )

    async def aim(self, uri: str, position: types.Position) -> Aim | None:
        if uri in self.server.documents:
            return await self.aim_in_spec(uri, position)
        return await self.aim_in_code(uri, position)

    # --- where it goes ----------------------------------------------------------

    def code_targets(self, aim: Aim) -> list[Target]:
        """The generated code of the aim's requirements, then their tests (each symbol
        once; `aim.prefer` first among the code)."""
        from specloom.ir.common import SourceRange

        wanted = {rid: n for n, rid in enumerate(aim.ids)}
        places = [
            place
            for listed in aim.trace.index.by_path.values()
            for place in listed
            if place.requirement_id in wanted
        ]
        places.sort(key=lambda p: (p.test, p.symbol != aim.prefer, wanted[p.requirement_id]))
        files: dict[str, list[str] | None] = {}
        targets: list[Target] = []
        seen: set[tuple[str, str, int]] = set()
        for place in places:
            key = (place.path, place.symbol, place.span.start.line)
            if key in seen:
                continue
            seen.add(key)
            path = aim.out_dir / place.path
            if place.path not in files:
                files[place.path] = self.lines_of(path)
            lines = files[place.path]
            if lines is None:
                continue
            line, first, last = definition_line(lines, place)
            start = min(place.span.start.line, line)
            end = max(place.span.end.line, line + 1)
            whole = SourceRange.of(start, 0, end, 0)
            if end >= len(lines):  # to the end of the file
                whole = SourceRange.of(start, 0, len(lines) - 1, len(lines[-1]) if lines else 0)
            name = SourceRange.of(line, first, line, last)
            targets.append(
                Target(
                    uri=path.as_uri(),
                    whole=self.server.to_client_range(lines, whole),
                    name=self.server.to_client_range(lines, name),
                )
            )
        return targets

    async def spec_targets(self, aim: Aim) -> list[Target]:
        """The spec lines of the aim's requirements, in the spec's current text."""
        spec = self.spec_of(aim.out_dir, aim.trace)
        specimen = await self.specimen(spec) if spec is not None else None
        if spec is None or specimen is None:
            return []
        targets: list[Target] = []
        seen: set[tuple[int, int]] = set()
        for rid in aim.ids:
            requirement = specimen.ir.validation.requirement(rid)
            if requirement is None:
                continue
            where = requirement.range
            if (where.start.line, where.start.column) in seen:
                continue
            seen.add((where.start.line, where.start.column))
            found = self.server.to_client_range(specimen.lines, where)
            targets.append(Target(uri=spec.as_uri(), whole=found, name=found))
        targets.sort(key=lambda t: (t.name.start.line, t.name.start.character))
        return targets

    # --- the requests -----------------------------------------------------------

    async def definition(self, uri: str, position: types.Position) -> Any:
        aim = await self.aim(uri, position)
        if aim is None:
            return None
        if uri in self.server.documents:
            targets = self.code_targets(aim)
        else:
            targets = await self.spec_targets(aim)
        if not targets:
            return None
        if self._link_support():
            return [
                types.LocationLink(
                    target_uri=t.uri,
                    target_range=t.whole,
                    target_selection_range=t.name,
                    origin_selection_range=aim.origin,
                )
                for t in targets
            ]
        return [types.Location(uri=t.uri, range=t.name) for t in targets]

    async def references(
        self, uri: str, position: types.Position, declaration: bool
    ) -> list[types.Location] | None:
        aim = await self.aim(uri, position)
        if aim is None:
            return None
        targets = await self.spec_targets(aim) if declaration else []
        targets += self.code_targets(aim)
        return [types.Location(uri=t.uri, range=t.name) for t in targets] or None

    def _link_support(self) -> bool:
        text_document = self.server.client_capabilities.text_document
        definition = text_document.definition if text_document else None
        return bool(definition and definition.link_support)


def setup(server: SpecloomLanguageServer) -> None:
    navigation = Navigation(server)

    @server.on(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(params: types.DefinitionParams) -> Any:
        return await navigation.definition(params.text_document.uri, params.position)

    @server.on(types.TEXT_DOCUMENT_REFERENCES)
    async def references(params: types.ReferenceParams) -> list[types.Location] | None:
        return await navigation.references(
            params.text_document.uri, params.position, params.context.include_declaration
        )
