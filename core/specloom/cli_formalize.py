"""`specloom formalize`: a prose spec rewritten in the structured language by Claude.

The structured spec goes to standard output (or, with `--diff`, a unified diff of the
file), and the trace (each new line and the prose lines it comes from) and the
compiler's warnings to standard error; `--json` prints one object with all of them.
`--write` replaces the spec with the structured one (atomically) and keeps the prose
next to it as `SPEC.bak`. Nothing is written without `--write`, and nothing the model
answers is run.

Exit status: 0 formalized, 1 the model's answers did not make a spec that compiles
(or the budget ran out, or the API failed), 2 no API key or an unreadable file, 130
interrupted (Ctrl-C aborts the request in flight).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from specloom.llm.formalize import Formalized

EXIT_FAILED, EXIT_UNAVAILABLE, EXIT_CANCELLED = 1, 2, 130


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"specloom: {message}", err=True)
    return typer.Exit(code)


def formalize(
    spec: Annotated[Path, typer.Argument(help="The prose spec file (Markdown).")],
    write: Annotated[
        bool,
        typer.Option("--write", help="Replace the spec with the structured one (keeps SPEC.bak)."),
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff instead of the new spec.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: text, trace, warnings.")
    ] = False,
) -> None:
    """Formalize a prose spec with Claude (needs ANTHROPIC_API_KEY): print the structured
    spec and where each of its lines comes from in the prose.

    Exit status: 0 done, 1 the answer did not make a spec that compiles (or the budget
    ran out, or the API failed), 2 no API key or unreadable file, 130 interrupted.
    """
    from specloom.llm.errors import LLMError, LLMUnavailable
    from specloom.llm.formalize import unified_diff
    from specloom.pipeline.cancel import Cancelled

    try:
        prose = spec.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise _fail(f"cannot read {spec}: {reason}", EXIT_UNAVAILABLE) from None
    try:
        result = asyncio.run(_formalize(prose, str(spec), quiet=as_json))
    except LLMUnavailable as error:
        raise _fail(str(error), EXIT_UNAVAILABLE) from None
    except Cancelled as error:
        raise _fail(f"formalize cancelled: {error}", EXIT_CANCELLED) from None
    except LLMError as error:
        raise _fail(str(error), EXIT_FAILED) from None
    written = None
    if write:
        from specloom.pipeline.staging import atomic_write

        backup = spec.with_name(f"{spec.name}.bak")
        atomic_write(backup, prose.encode("utf-8"))
        atomic_write(spec, result.text.encode("utf-8"))
        written = str(spec)
    if as_json:
        data = {"file": str(spec), "written": written, **result.as_json()}
        if written:
            data["backup"] = f"{spec}.bak"
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if diff:
        sys.stdout.write(unified_diff(prose, result.text, spec.name))
    elif not write:
        sys.stdout.write(result.text)
    _report(result, spec, written)


async def _formalize(prose: str, source: str, *, quiet: bool) -> Formalized:
    """Formalize with the settings of the environment; SIGINT and SIGTERM cancel."""
    from specloom.llm.formalize import formalize_text
    from specloom.pipeline.cancel import CancelToken

    cancel = CancelToken()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, cancel.cancel, "interrupted (Ctrl-C)")
    loop.add_signal_handler(signal.SIGTERM, cancel.cancel, "terminated")

    def progress(message: str) -> None:
        if not quiet:
            typer.echo(f"formalize: {message}", err=True)

    return await formalize_text(prose, cancel=cancel, on_progress=progress, source=source)


def _report(result: Formalized, spec: Path, written: str | None) -> None:
    """The trace and the warnings, on standard error."""
    from specloom.llm.formalize import describe_lines

    def echo(text: str) -> None:
        typer.echo(text, err=True)

    echo("")
    echo(f"trace (line of the new spec <- lines of the prose in {spec.name}):")
    for item in result.trace:
        echo(f"  {item.line:>4} <- {describe_lines(item.prose):<14} {item.text[:70]}")
    for warning in result.warnings:
        echo(warning.format(str(spec)))
    lines = result.text.count("\n")
    rounds = "answer" if result.rounds == 1 else "answers"
    echo(f"{lines} lines from {result.rounds} {rounds}; {result.spent}")
    if written:
        echo(f"wrote {written}; the prose is in {spec.name}.bak")
    else:
        echo("nothing written: review it, and keep it with --write (or redirect the output)")


def register(app: typer.Typer) -> None:
    app.command()(formalize)
