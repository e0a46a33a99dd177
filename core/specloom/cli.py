"""The `specloom` command line."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from specloom import __version__
from specloom.spec.compiler import CompileResult, compile_spec

app = typer.Typer(
    name="specloom",
    help="Turn specification documents into working, tested applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specloom {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Specloom: specs in, working and tested applications out."""


def summary(result: CompileResult) -> dict[str, Any]:
    ir = result.ir
    severities = Counter(d.severity for d in result.diagnostics)
    categories = Counter(r.category for r in ir.validation.requirements)
    return {
        "name": ir.name,
        "entities": [{"name": e.name, "fields": len(e.fields)} for e in ir.domain.entities],
        "endpoints": len(ir.api.endpoints),
        "flows": [f.id for f in ir.behaviour.flows],
        "rules": [r.id for r in ir.behaviour.rules],
        "requirements": dict(sorted(categories.items())),
        "errors": severities.get("error", 0),
        "warnings": severities.get("warning", 0),
        "information": severities.get("information", 0) + severities.get("hint", 0),
    }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def print_text(path: str, result: CompileResult) -> None:
    for diagnostic in result.diagnostics:
        typer.echo(diagnostic.format(path))
    facts = summary(result)
    entities = ", ".join(f"{e['name']} ({e['fields']})" for e in facts["entities"])
    flows = ", ".join(facts["flows"])
    rules = ", ".join(facts["rules"])
    requirements = ", ".join(
        f"{count} {category.replace('_', ' ')}" for category, count in facts["requirements"].items()
    )
    if result.diagnostics:
        typer.echo("")
    typer.echo(f"{facts['name'] or '(untitled spec)'} — {path}")
    typer.echo(f"  entities      {len(facts['entities']):>3}  {entities}")
    typer.echo(f"  endpoints     {facts['endpoints']:>3}")
    typer.echo(f"  flows         {len(facts['flows']):>3}  {flows}")
    typer.echo(f"  rules         {len(facts['rules']):>3}  {rules}")
    total = sum(facts["requirements"].values())
    typer.echo(f"  requirements  {total:>3}  {requirements}")
    typer.echo(
        f"{_plural(facts['errors'], 'error')}, {_plural(facts['warnings'], 'warning')}"
        + (f", {facts['information']} information" if facts["information"] else "")
    )


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="The spec file (Markdown).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of text.")
    ] = False,
    with_ir: Annotated[
        bool, typer.Option("--ir", help="With --json: include the compiled ApplicationIR.")
    ] = False,
) -> None:
    """Compile a spec (phases 1 and 2) and print its diagnostics and a model summary.

    Exit status: 0 without errors, 1 with errors, 2 when the file cannot be read.
    """
    try:
        data = spec.read_bytes()
    except OSError as error:
        typer.echo(f"specloom: cannot read {spec}: {error.strerror or error}", err=True)
        raise typer.Exit(2) from None
    result = compile_spec(data, source=str(spec))
    if as_json:
        payload: dict[str, Any] = {
            "file": str(spec),
            "ok": result.ok,
            "diagnostics": [d.model_dump(mode="json") for d in result.diagnostics],
            "summary": summary(result),
        }
        if with_ir:
            payload["ir"] = result.ir.model_dump(mode="json")
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        print_text(str(spec), result)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def doctor(
    workspace: Annotated[
        Path, typer.Option("--workspace", help="The workspace whose stores to check.")
    ] = Path("."),
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="SPECLOOM_STORE_URL",
            help="Run store URL (default: SQLite under WORKSPACE/.specloom/).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of text.")
    ] = False,
) -> None:
    """Check every configured store and the model key, and print what is reachable.

    Exit status: 0 when everything configured answers, 1 otherwise.
    """
    import asyncio

    from specloom.doctor import report, run_checks

    checks = asyncio.run(run_checks(workspace, store))
    if as_json:
        sys.stdout.write(json.dumps(report(checks), indent=2) + "\n")
    else:
        for found in checks:
            typer.echo(found.line())
    raise typer.Exit(1 if any(c.failed for c in checks) else 0)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def lsp(ctx: typer.Context) -> None:
    """Start the language server: stdio, or --tcp HOST:PORT / --ws HOST:PORT; --log-file PATH.

    The server runs in its own interpreter (`python -m specloom_lsp`): the engine never
    imports it.
    """
    os.execv(sys.executable, [sys.executable, "-m", "specloom_lsp", *ctx.args])


def main() -> None:
    from specloom.cli_formalize import register as register_formalize
    from specloom.cli_pipeline import register

    register(app)
    register_formalize(app)
    app()
