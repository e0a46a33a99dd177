"""Configuration: initializationOptions, workspace/configuration, bad values; and the
server core's isolation of failing features (in process)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_helpers import LIBRARY, ROOT, initialize_params, open_document
from lsprotocol import types
from pytest_lsp import LanguageClient
from specloom_lsp.config import Settings, parse_settings
from specloom_lsp.server import FEATURES, create_server


async def test_initialization_options_set_the_glob(bare_client: LanguageClient) -> None:
    options = {"specloom": {"specGlob": "examples/todo.spec.md", "debounceMs": 20}}
    await bare_client.initialize_session(initialize_params("neovim", options, configuration=False))
    todo = ROOT / "examples" / "todo.spec.md"
    published = await open_document(bare_client, todo)
    assert list(published.diagnostics) == []
    # library.spec.md no longer matches: no diagnostics, no symbols
    bare_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=LIBRARY.as_uri(), language_id="markdown", version=1, text="# x\n"
            )
        )
    )
    symbols = await bare_client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=LIBRARY.as_uri()))
    )
    assert symbols is None


async def test_workspace_configuration_is_read_and_bad_values_are_reported(
    bare_client: LanguageClient,
) -> None:
    bare_client.set_configuration(
        {"debounceMs": "soon", "trust": True, "specGlob": "**/*.spec.md"}, section="specloom"
    )
    shown = bare_client.protocol.wait_for_notification_async(types.WINDOW_SHOW_MESSAGE)
    await bare_client.initialize_session(initialize_params("visual-studio-code"))
    message = await asyncio.wait_for(shown, 10)
    assert message.type == types.MessageType.Warning
    assert "specloom.debounceMs" in message.message
    # the server lives on with the default debounce, and changes of configuration apply
    published = await open_document(bare_client, LIBRARY)
    assert list(published.diagnostics) == []
    bare_client.set_configuration({"specGlob": "nothing/*.md"}, section="specloom")
    cleared = bare_client.protocol.wait_for_notification_async(
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
    )
    bare_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=None)
    )
    published = await asyncio.wait_for(cleared, 10)
    assert published.uri == LIBRARY.as_uri()
    assert list(published.diagnostics) == []


def test_settings_defaults_and_invalid_values() -> None:
    settings, problems = parse_settings(None)
    assert settings == Settings()
    assert problems == []
    assert settings.debounce_ms == 150
    assert settings.repair_attempts == 3
    assert settings.trust is None  # not said: the server asks
    assert settings.spec_glob == "**/*.spec.md"
    settings, problems = parse_settings(
        {"specloom": {"repairAttempts": -1, "trust": True, "storeUrl": "sqlite:///x.db", "x": 1}}
    )
    assert settings.repair_attempts == 3
    assert settings.trust is True
    assert settings.store_url == "sqlite:///x.db"
    assert len(problems) == 2
    settings, problems = parse_settings(["not", "an", "object"])
    assert settings == Settings()
    assert problems


def test_spec_glob_and_output_directory() -> None:
    settings = Settings()
    root = str(ROOT)
    assert settings.is_spec(str(LIBRARY), root)
    assert not settings.is_spec(str(ROOT / "README.md"), root)
    assert settings.output_dir_for(str(LIBRARY), root) == ROOT / "examples" / "library-app"
    mapped, _ = parse_settings({"outputDirectory": {"examples/*.spec.md": "build/{stem}"}})
    assert mapped.output_dir_for(str(LIBRARY), root) == ROOT / "build" / "library"


def test_a_failing_feature_is_logged_and_the_others_set_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = create_server(("specloom_lsp.features.nothing_here", *FEATURES))
    assert server.features["specloom_lsp.features.nothing_here"].startswith("failed")
    assert all(server.features[name] == "ok" for name in FEATURES)
    assert "nothing_here failed to set up" in caplog.text
    features = server.protocol.fm.features
    assert types.TEXT_DOCUMENT_HOVER in features
    assert types.TEXT_DOCUMENT_COMPLETION in features


async def test_a_failing_handler_is_logged_and_the_others_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = create_server(())

    @server.on("specloom/test")
    def broken(params: object) -> list[int]:
        raise RuntimeError("boom")

    @server.on("specloom/test")
    def working(params: object) -> list[int]:
        return [1]

    dispatch = server.protocol.fm.features["specloom/test"]
    assert await dispatch(None) == [1]
    assert "boom" in caplog.text

    @server.on("specloom/alone")
    def alone(params: object) -> None:
        raise RuntimeError("alone")

    with pytest.raises(RuntimeError):  # pygls turns this into an error reply
        await server.protocol.fm.features["specloom/alone"](None)


def test_paths_are_not_specs_outside_the_glob(tmp_path: Path) -> None:
    settings, _ = parse_settings({"specGlob": "specs/**/*.md"})
    assert settings.is_spec(str(tmp_path / "specs" / "a" / "b.md"), str(tmp_path))
    assert not settings.is_spec(str(tmp_path / "other" / "b.md"), str(tmp_path))
