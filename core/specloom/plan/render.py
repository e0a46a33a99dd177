"""The plan for people and for tools: `plan.md` (a Mermaid graph and a table of tasks
by level) and `plan.json` (the whole plan, deterministic to the byte)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from specloom.plan.model import Plan, Task

HASH_SHORT = 12
NEW_FILE_MODE = 0o644  # mkstemp makes 0o600 files; a plan is for everyone to read
_NOT_ID = re.compile(r"[^A-Za-z0-9_]+")
KIND_STYLES = {
    "model": "fill:#e3f2fd,stroke:#1565c0",
    "schemas": "fill:#e8f5e9,stroke:#2e7d32",
    "repository": "fill:#fff3e0,stroke:#ef6c00",
    "endpoint": "fill:#f3e5f5,stroke:#6a1b9a",
    "flow": "fill:#fce4ec,stroke:#ad1457",
    "rule": "fill:#fffde7,stroke:#f9a825",
    "tests": "fill:#e0f7fa,stroke:#00838f",
    "app": "fill:#eceff1,stroke:#37474f",
    "infra": "fill:#efebe9,stroke:#4e342e",
}


def plan_json(plan: Plan) -> str:
    """The plan as JSON: sorted keys, indent 2, a final newline; same plan, same bytes."""
    return (
        json.dumps(plan.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False)
        + "\n"
    )


def plan_markdown(plan: Plan) -> str:
    """A Markdown page: title, summary, Mermaid graph of the tasks, table by level."""
    lines = [f"# Plan: {plan.spec_name or 'unnamed spec'}", "", summary(plan), ""]
    if plan.cycles:
        lines += cycle_note(plan)
    lines += ["## Task graph", "", "```mermaid", *mermaid(plan), "```", ""]
    lines += ["## Tasks by level", "", *task_table(plan), ""]
    return "\n".join(lines)


def summary(plan: Plan) -> str:
    spec = f"spec `{plan.spec_hash[:HASH_SHORT]}`, " if plan.spec_hash else ""
    return (
        f"{spec}{len(plan.tasks)} tasks, {len(plan.edges)} dependencies, "
        f"{len(plan.levels)} levels (the tasks of one level can run in parallel)."
    )


def cycle_note(plan: Plan) -> list[str]:
    lines = ["> **Dependency cycles.** These tasks depend on each other, so they and the tasks"]
    lines.append("> that depend on them have no level until the cycle is broken:")
    lines += [f"> - {' -> '.join([*cycle, cycle[0]])}" for cycle in plan.cycles]
    return [*lines, ""]


def node_ids(plan: Plan) -> dict[str, str]:
    """A Mermaid-safe, unique node ID for each task."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for task in plan.tasks:
        base = "t_" + _NOT_ID.sub("_", task.id).strip("_")
        node, n = base, 2
        while node in taken:
            node, n = f"{base}_{n}", n + 1
        taken.add(node)
        ids[task.id] = node
    return ids


def label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(plan: Plan) -> list[str]:
    """`graph TD`: one subgraph per level, edges from a dependency to its dependant,
    one class (colour) per task kind."""
    ids = node_ids(plan)
    lines = ["graph TD"]
    groups = [(f"L{n}", f"Level {n}", level) for n, level in enumerate(plan.levels)]
    unlevelled = [task.id for task in plan.tasks if task.level is None]
    if unlevelled:
        groups.append(("unlevelled", "Not levelled: on or after a cycle", sorted(unlevelled)))
    for group_id, title, members in groups:
        lines.append(f"  subgraph {group_id}[{label(title)}]")
        lines += [f"    {ids[task_id]}[{label(task_id)}]" for task_id in members if task_id in ids]
        lines.append("  end")
    lines += [f"  {ids[needed]} --> {ids[task_id]}" for task_id, needed in plan.edges]
    for kind, style in KIND_STYLES.items():
        members = [ids[task.id] for task in plan.tasks if task.kind == kind]
        if members:
            lines += [f"  classDef {kind} {style}", f"  class {','.join(members)} {kind}"]
    return lines


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def task_table(plan: Plan) -> list[str]:
    lines = [
        "| level | task | kind | title | requirements | signature |",
        "|---|---|---|---|---|---|",
    ]
    by_id = {task.id: task for task in plan.tasks}
    ordered = [by_id[task_id] for level in plan.levels for task_id in level if task_id in by_id]
    ordered += sorted((task for task in plan.tasks if task.level is None), key=lambda t: t.id)
    lines += [table_row(task) for task in ordered]
    return lines


def table_row(task: Task) -> str:
    level = "-" if task.level is None else str(task.level)
    requirements = ", ".join(task.requirement_ids)
    cells = [
        level,
        f"`{task.id}`",
        task.kind,
        task.title,
        requirements,
        f"`{task.signature_hash[:HASH_SHORT]}`",
    ]
    return "| " + " | ".join(cell(text) for text in cells) + " |"


def write_plan(plan: Plan, directory: str | Path) -> tuple[Path, Path]:
    """Write `plan.md` and `plan.json` into `directory`, each atomically."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    md_path = folder / "plan.md"
    json_path = folder / "plan.json"
    write_atomically(md_path, plan_markdown(plan))
    write_atomically(json_path, plan_json(plan))
    return md_path, json_path


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then replace `path` with it in one step."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else NEW_FILE_MODE)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
