"""The language-model repair strategy, end to end through the real SDK against the local
stand-in of the Messages API: a generator bug (the generated code itself fails, so the
deterministic strategies have nothing to restore) is repaired by the model's patch,
which is kept because the app then passes; a patch that does not make the app pass is
rolled back; edits outside the files sent, or that do not compile, are refused; and
without a key the run says the model was not tried."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from specloom.codegen.phase import CodeGeneration
from specloom.llm.structured import tool_name
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import PhaseOutcome, PipelineSettings, RunContext
from specloom.pipeline.phases import default_phases
from specloom.pipeline.records import RunRecord
from specloom.store.urls import open_store
from specloom.verify.model_repair import RepairAnswer

from tests.llm.messages_api import API_KEY, MessagesAPI, Tokens, running, tool_use

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROUTER = "app/routers/project.py"
GOOD = '@router.post("/projects", status_code=201,'
BAD = '@router.post("/projects", status_code=200,'
TOOL = tool_name(RepairAnswer)


class BuggyGeneration(CodeGeneration):
    """Phase 6 with a bug of the generator's own: the create endpoint answers 200, so
    its tests fail, and the reference tree (what repair restores) has the bug too."""

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        outcome = await super().run(ctx)
        text = ctx.generated[ROUTER]
        assert GOOD in text
        ctx.generated[ROUTER] = text.replace(GOOD, BAD)
        ctx.staging.write(ROUTER, ctx.generated[ROUTER])
        return outcome


@pytest.fixture
def api() -> Iterator[MessagesAPI]:
    with running() as stand_in:
        yield stand_in


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(EXAMPLES / "todo.spec.md", tmp_path / "todo.spec.md")
    monkeypatch.setenv("SPECLOOM_LEARNING", "0")
    return tmp_path


def with_key(monkeypatch: pytest.MonkeyPatch, api: MessagesAPI) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)


async def generate(workspace: Path) -> tuple[RunRecord, list[Any]]:
    settings = PipelineSettings()
    settings.verify.trusted = True
    settings.verify.repair_attempts = 2
    store = await open_store(None, workspace)
    try:
        run = await Orchestrator(
            store, phases=default_phases(BuggyGeneration()), settings=settings
        ).run(workspace / "todo.spec.md", workspace / "out", workspace)
        usage = await store.list_llm_usage(run.id)
    finally:
        await store.close()
    return run, usage


def sent_router(request: dict[str, Any]) -> str:
    """The router's text as the request sent it to the model."""
    files: str = request["messages"][0]["content"]
    start = files.index(f'<file path="{ROUTER}">\n') + len(f'<file path="{ROUTER}">\n')
    return files[start : files.index("\n</file>", start)]


async def test_the_models_patch_is_kept_when_the_app_then_passes(
    workspace: Path, api: MessagesAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_key(monkeypatch, api)

    # the answer is built when the request comes: it needs the router's text
    def answer(request: dict[str, Any]) -> Any:
        text = sent_router(request)
        edits = [
            {"path": ROUTER, "text": text.replace(BAD, GOOD), "reason": "create answers 201"},
            {"path": "app/main.py", "text": "print('hi')\n", "reason": "not sent"},
        ]
        return tool_use(TOOL, {"edits": edits, "explanation": "the status of create"},
                        tokens=Tokens(input=900, output=120))  # fmt: skip

    api.script(answer)
    run, usage = await generate(workspace)

    assert run.status == "passed", run.error
    repair = run.phase(8)
    assert repair is not None
    attempts = repair.detail["attempts"]
    assert [list(a["strategies"]) for a in attempts] == [["model"]]
    assert attempts[0]["effect"].startswith("improved")
    model = attempts[0]["model"]
    assert model["sent"][0].startswith("app/")  # the app's code before the tests
    assert ROUTER in model["sent"]
    assert model["edited"] == [ROUTER]
    assert model["refused"] == ["app/main.py: not a file that was sent"]
    assert GOOD in (workspace / "out" / ROUTER).read_text(encoding="utf-8")
    # what the SDK sent: the data-not-instructions system prompt, cached, the forced tool
    request = api.requests[0].body
    assert "do not follow it" in request["system"][0]["text"]
    assert request["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert request["tool_choice"] == {"type": "tool", "name": TOOL}
    assert "<findings>" in request["messages"][0]["content"]
    assert [(u.purpose, u.input_tokens, u.output_tokens) for u in usage] == [("repair", 900, 120)]


async def test_a_patch_that_does_not_make_the_app_pass_is_rolled_back(
    workspace: Path, api: MessagesAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_key(monkeypatch, api)

    def harmless(request: dict[str, Any]) -> Any:
        edit = {"path": ROUTER, "text": sent_router(request) + "\n# looked at\n", "reason": "note"}
        return tool_use(TOOL, {"edits": [edit], "explanation": "not the bug"})

    api.script(harmless)
    run, _usage = await generate(workspace)
    assert run.status == "failed"
    repair = run.phase(8)
    assert repair is not None
    attempt = repair.detail["attempts"][0]
    assert attempt["effect"].startswith("not kept")
    assert "# looked at" not in (workspace / ".specloom" / "runs").joinpath(
        run.id, "staging", ROUTER
    ).read_text(encoding="utf-8")  # rolled back
    assert not (workspace / "out").exists()  # a failed run commits nothing


async def test_edits_that_do_not_compile_or_name_other_files_are_refused(
    workspace: Path, api: MessagesAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_key(monkeypatch, api)
    edits = [
        {"path": ROUTER, "text": "def broken(:\n", "reason": "does not compile"},
        {"path": "tests/test_project.py", "text": "x = 1\n", "reason": "no more tests"},
    ]
    api.script(tool_use(TOOL, {"edits": edits, "explanation": "bad"}))
    run, _usage = await generate(workspace)
    assert run.status == "failed"
    repair = run.phase(8)
    assert repair is not None
    assert "out of reach of the repair strategies" in repair.message
    model = repair.detail["model"]
    assert model["edited"] == []
    assert model["refused"][0].startswith(f"{ROUTER}: does not compile")
    assert model["refused"][1] == "tests/test_project.py: not a file that was sent"


async def test_without_a_key_the_model_is_not_tried_and_it_says_so(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    run, usage = await generate(workspace)
    assert run.status == "failed"
    repair = run.phase(8)
    assert repair is not None
    assert repair.message.endswith(
        "; the language model: not tried: no Anthropic API key (ANTHROPIC_API_KEY)"
    )
    assert usage == []


def test_a_rewritten_module_never_meets_its_old_bytecode(tmp_path: Path) -> None:
    """A repair within the second the module was compiled, keeping its size, must not
    run the cached bytecode (Python checks only size and whole-second mtime)."""
    import subprocess
    import sys

    from specloom.verify.repair import Patch, apply
    from specloom.verify.state import VerifyState

    app = tmp_path / "app"
    app.mkdir()
    (app / "answer.py").write_text("VALUE = 200\n", encoding="utf-8")
    state = VerifyState(app_dir=app, pycache=tmp_path / "pycache")
    env = {"PYTHONPYCACHEPREFIX": str(state.pycache), "PATH": "/usr/bin:/bin"}

    def value() -> str:
        done = subprocess.run(
            [sys.executable, "-c", "import answer; print(answer.VALUE)"],
            cwd=app, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    assert value() == "200"  # compiled and cached
    patch = Patch()
    patch.add("model", "answer.py", "VALUE = 201\n")  # the same size, the same second
    apply(state, patch)
    assert value() == "201"
