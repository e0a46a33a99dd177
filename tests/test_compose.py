"""The team deployment as files: `docker-compose.yml` and the `Dockerfile` (no Docker
engine runs here, so they are checked as data): every service, port, volume and health
check, and the configuration names the server actually reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from specloom_lsp import remote
from specloom_lsp.cli import parser
from specloom_lsp.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"specloom", "postgres", "redis", "neo4j", "qdrant"}
SOURCES = "\n".join(
    path.read_text(encoding="utf-8")
    for folder in ("core", "server")
    for path in (ROOT / folder).rglob("*.py")
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data


def published(service: dict[str, Any]) -> dict[int, str]:
    """container port -> the host address it is published on."""
    found = {}
    for entry in service.get("ports", []):
        host, host_port, container = str(entry).rsplit(":", 2)
        assert host_port == container, entry
        found[int(container)] = host
    return found


def test_every_service_is_there_with_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        check = service.get("healthcheck", {}).get("test")
        assert check, name
        assert check[0] in ("CMD", "CMD-SHELL"), name
        assert service.get("restart") == "unless-stopped", name
    depends = services["specloom"]["depends_on"]
    assert set(depends) == SERVICES - {"specloom"}
    assert all(d["condition"] == "service_healthy" for d in depends.values())


def test_every_port_is_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        ports = published(service)
        assert ports, name
        assert set(ports.values()) == {"127.0.0.1"}, name


def test_every_named_volume_is_declared_and_used(compose: dict[str, Any]) -> None:
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            name, _, target = str(volume).partition(":")
            assert target.startswith("/"), volume
            assert not name.startswith(("/", ".")), f"{volume}: a bind mount, not a named volume"
            used.add(name)
    assert used == set(compose["volumes"])


def test_the_server_reads_every_variable_the_compose_file_sets(compose: dict[str, Any]) -> None:
    environment = compose["services"]["specloom"]["environment"]
    for variable in environment:
        assert f'"{variable}"' in SOURCES, f"{variable} is read nowhere in core/ or server/"
    token = environment[remote.TOKEN_VARIABLE]
    assert token.startswith(f"${{{remote.TOKEN_VARIABLE}:?"), "the token must be required"


def test_the_store_urls_name_the_services_and_their_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    environment = services["specloom"]["environment"]
    expected = {
        "SPECLOOM_STORE_URL": ("postgresql", "postgres", 5432),
        "SPECLOOM_APP_DATABASE_URL": ("postgresql", "postgres", 5432),
        "SPECLOOM_CACHE_URL": ("redis", "redis", 6379),
        "SPECLOOM_GRAPH_URL": ("bolt", "neo4j", 7687),
        "SPECLOOM_VECTOR_URL": ("http", "qdrant", 6333),
    }
    for variable, (scheme, service, port) in expected.items():
        url = urlsplit(re.sub(r"\$\{[^}]*\}", "x", environment[variable]))
        assert (url.scheme, url.hostname, url.port) == (scheme, service, port), variable
        assert port in published(services[service]), variable
    password = environment["SPECLOOM_GRAPH_PASSWORD"]
    assert services["neo4j"]["environment"]["NEO4J_AUTH"] == f"neo4j/{password}"


def test_the_server_command_is_the_servers_own(compose: dict[str, Any]) -> None:
    command = compose["services"]["specloom"]["command"]
    assert command[:2] == ["specloom", "lsp"]
    options = parser().parse_args(command[2:])
    assert options.ws == ("0.0.0.0", 8765)
    assert 8765 in published(compose["services"]["specloom"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11" in dockerfile
    assert "EXPOSE 8765" in dockerfile
    assert f"CMD {str(command).replace(chr(39), chr(34))}" in dockerfile
    assert "pip install '.[app]'" in dockerfile
    assert "USER specloom" in dockerfile


def test_the_servers_settings_default_to_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPECLOOM_STORE_URL", "postgresql://u@postgres:5432/specloom")
    monkeypatch.setenv("SPECLOOM_APP_DATABASE_URL", "postgresql://u@postgres:5432/postgres")
    settings = Settings()
    assert settings.store_url == "postgresql://u@postgres:5432/specloom"
    assert settings.database_url == "postgresql://u@postgres:5432/postgres"
    assert Settings(storeUrl="sqlite:///x.db").store_url == "sqlite:///x.db"  # the client's
    monkeypatch.delenv("SPECLOOM_STORE_URL")
    assert Settings().store_url is None
