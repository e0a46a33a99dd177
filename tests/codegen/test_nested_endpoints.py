"""Plain nested endpoints as a client sees them, in the app generated from
`specs/shelves.spec.md`: `POST /shelves/{id}/items` takes the shelf from the path (the
body has no `shelf_id`), and `DELETE /shelves/{id}/items` deletes the shelf's items
although `Shelf` holds no collection of them, refusing (409) while one is referenced.
`/boxes/{id}/parts` is the same pair through a collection (`Box.parts`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from generated_apps import app_env, generate_tree, run_app_suite, run_tool, write_tree

SPEC = Path(__file__).parent / "specs" / "shelves.spec.md"

# Run inside the generated app (`python -m nested_probe`): each request and what it
# answered, and what the list endpoints show afterwards, as JSON on stdout.
PROBE = """
import json
import os
import sys
import tempfile

os.environ.setdefault(
    "DATABASE_URL", "sqlite:///" + os.path.join(tempfile.mkdtemp(), "probe.db")
)

from fastapi.testclient import TestClient

from app.main import app

seen = {}


def answer(response):
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return {"status": response.status_code, "body": body}


def items(client, shelf):
    return sorted(item["id"] for item in client.get(f"/shelves/{shelf}/items").json()["items"])


with TestClient(app) as client:
    shelf = client.post("/shelves", json={"name": "left"}).json()["id"]
    other = client.post("/shelves", json={"name": "right"}).json()["id"]
    owner = client.post("/owners", json={"name": "Ann"}).json()["id"]
    seen["shelf"], seen["other"], seen["owner"] = shelf, other, owner
    seen["openapi"] = client.get("/openapi.json").json()

    seen["create"] = answer(client.post(f"/shelves/{shelf}/items", json={"title": "a"}))
    seen["create_full"] = answer(
        client.post(
            f"/shelves/{shelf}/items", json={"title": "b", "note": "n", "owner_id": owner}
        )
    )
    seen["create_sends_link"] = answer(
        client.post(f"/shelves/{shelf}/items", json={"title": "c", "shelf_id": other})
    )
    seen["create_elsewhere"] = answer(client.post(f"/shelves/{other}/items", json={"title": "d"}))
    before = items(client, shelf) + items(client, other)
    seen["create_unknown_parent"] = answer(
        client.post("/shelves/999999/items", json={"title": "e", "owner_id": 999998})
    )
    seen["create_unknown_owner"] = answer(
        client.post(f"/shelves/{shelf}/items", json={"title": "e", "owner_id": 999998})
    )
    seen["create_without_title"] = answer(client.post(f"/shelves/{shelf}/items", json={}))
    seen["items_unchanged_by_refused_creates"] = (
        items(client, shelf) + items(client, other) == before
    )

    # an item of the shelf replaced by another of the same shelf goes with it
    first, second = seen["create"]["body"]["id"], seen["create_full"]["body"]["id"]
    replacing = client.post(f"/shelves/{shelf}/items", json={"title": "f", "replaces_id": first})
    seen["replacing"] = answer(replacing)
    # an item of the shelf on loan holds the whole delete back
    loan = client.post("/loans", json={"item_id": second, "borrower": "Bo"}).json()["id"]
    seen["items_before_delete"] = {"shelf": items(client, shelf), "other": items(client, other)}
    seen["delete_referenced"] = answer(client.delete(f"/shelves/{shelf}/items"))
    seen["items_after_refused_delete"] = {
        "shelf": items(client, shelf),
        "other": items(client, other),
    }
    seen["delete_unknown_parent"] = answer(client.delete("/shelves/999999/items"))
    client.delete(f"/loans/{loan}")
    seen["delete"] = answer(client.delete(f"/shelves/{shelf}/items"))
    seen["items_after_delete"] = {"shelf": items(client, shelf), "other": items(client, other)}
    seen["delete_again"] = answer(client.delete(f"/shelves/{shelf}/items"))
    seen["shelves_left"] = sorted(s["id"] for s in client.get("/shelves").json()["items"])
    # an item of another shelf replacing one of this shelf: 409, nothing deleted
    kept = client.post(f"/shelves/{shelf}/items", json={"title": "g"}).json()["id"]
    client.post(f"/shelves/{other}/items", json={"title": "h", "replaces_id": kept})
    seen["delete_replaced"] = answer(client.delete(f"/shelves/{shelf}/items"))
    seen["kept"] = kept
    seen["items_after_replaced"] = items(client, shelf)

    # the same through a collection: Box.parts
    box = client.post("/boxes", json={"label": "x"}).json()["id"]
    spare = client.post("/boxes", json={"label": "y"}).json()["id"]
    seen["box"], seen["spare"] = box, spare
    seen["part"] = answer(client.post(f"/boxes/{box}/parts", json={"name": "p", "box_id": spare}))
    client.post(f"/boxes/{box}/parts", json={"name": "q"})
    client.post(f"/boxes/{spare}/parts", json={"name": "r"})
    seen["part_unknown_box"] = answer(client.post("/boxes/999999/parts", json={"name": "s"}))
    part = seen["part"]["body"]["id"]
    item = client.post(f"/shelves/{other}/items", json={"title": "i"}).json()["id"]
    loan = client.post(
        "/loans", json={"item_id": item, "part_id": part, "borrower": "Cy"}
    ).json()["id"]
    seen["delete_parts_referenced"] = answer(client.delete(f"/boxes/{box}/parts"))
    seen["parts_after_refused_delete"] = [
        len(client.get(f"/boxes/{b}").json()["parts"]) for b in (box, spare)
    ]
    client.delete(f"/loans/{loan}")
    seen["delete_parts"] = answer(client.delete(f"/boxes/{box}/parts"))
    seen["parts_after_delete"] = [
        [p["name"] for p in client.get(f"/boxes/{b}").json()["parts"]] for b in (box, spare)
    ]

json.dump(seen, sys.stdout)
"""


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = generate_tree(SPEC.read_text(encoding="utf-8"), SPEC.name)
    return write_tree(tree, tmp_path_factory.mktemp("shelves"))


def probe(root: Path, database_url: str | None = None) -> dict[str, Any]:
    """What the generated app answered to the probe's requests."""
    (root / "nested_probe.py").write_text(PROBE, encoding="utf-8")
    result = run_tool("nested_probe", cwd=root, env=app_env(database_url), timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    found: dict[str, Any] = json.loads(result.stdout)
    return found


@pytest.fixture(scope="module")
def seen(app_root: Path) -> dict[str, Any]:
    """The probe's answers on SQLite."""
    return probe(app_root)


def _request_schema(openapi: dict[str, Any], path: str) -> dict[str, Any]:
    body = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = openapi["components"]["schemas"][name]
    return schema


def test_the_nested_create_takes_a_body_without_the_parent_id(seen: dict[str, Any]) -> None:
    schema = _request_schema(seen["openapi"], "/shelves/{id}/items")
    assert "shelf_id" not in schema["properties"]
    assert schema["required"] == ["title"]
    assert {"owner_id", "replaces_id", "title", "note"} <= set(schema["properties"])
    assert "box_id" not in _request_schema(seen["openapi"], "/boxes/{id}/parts")["properties"]


def test_the_nested_create_sets_the_parent_from_the_path(seen: dict[str, Any]) -> None:
    created = seen["create"]
    assert created["status"] == 201, created
    assert created["body"]["shelf_id"] == seen["shelf"]
    assert created["body"]["title"] == "a"
    full = seen["create_full"]
    assert full["status"] == 201, full
    assert full["body"]["shelf_id"] == seen["shelf"]
    assert full["body"]["owner_id"] == seen["owner"]
    assert full["body"]["note"] == "n"
    assert seen["create_elsewhere"]["body"]["shelf_id"] == seen["other"]
    assert seen["part"]["status"] == 201, seen["part"]
    assert seen["part"]["body"]["box_id"] == seen["box"]


def test_a_parent_id_sent_in_the_body_is_ignored(seen: dict[str, Any]) -> None:
    sent = seen["create_sends_link"]
    assert sent["status"] == 201, sent
    assert sent["body"]["shelf_id"] == seen["shelf"]
    assert seen["part"]["body"]["box_id"] == seen["box"]  # `box_id: spare` was sent


def test_the_nested_create_answers_404_for_an_unknown_parent(seen: dict[str, Any]) -> None:
    # the path's parent is checked first, before the ids in the body
    assert seen["create_unknown_parent"] == {
        "status": 404,
        "body": {"detail": "Shelf 999999 not found"},
    }
    assert seen["create_unknown_owner"] == {
        "status": 404,
        "body": {"detail": "Owner 999998 not found"},
    }
    assert seen["part_unknown_box"] == {"status": 404, "body": {"detail": "Box 999999 not found"}}
    assert seen["create_without_title"]["status"] == 422
    assert seen["items_unchanged_by_refused_creates"] is True


def test_delete_children_removes_exactly_the_parents_children(seen: dict[str, Any]) -> None:
    assert seen["replacing"]["status"] == 201, seen["replacing"]
    before = seen["items_before_delete"]
    assert len(before["shelf"]) == 4  # a, b, c and f, which replaces a
    assert len(before["other"]) == 1
    assert seen["delete"] == {"status": 204, "body": ""}
    assert seen["items_after_delete"] == {"shelf": [], "other": before["other"]}
    assert seen["shelves_left"] == sorted([seen["shelf"], seen["other"]])
    assert seen["delete_again"] == {"status": 204, "body": ""}
    assert seen["delete_parts"] == {"status": 204, "body": ""}
    assert seen["parts_after_delete"] == [[], ["r"]]


def test_delete_children_answers_404_for_an_unknown_parent(seen: dict[str, Any]) -> None:
    assert seen["delete_unknown_parent"] == {
        "status": 404,
        "body": {"detail": "Shelf 999999 not found"},
    }


def test_delete_children_refuses_while_a_child_is_still_referenced(
    seen: dict[str, Any],
) -> None:
    on_loan = seen["create_full"]["body"]["id"]
    assert seen["delete_referenced"] == {
        "status": 409,
        "body": {"detail": f"Item {on_loan} is still referenced by Loan records"},
    }
    assert seen["items_after_refused_delete"] == seen["items_before_delete"]
    kept = seen["kept"]
    assert seen["delete_replaced"] == {
        "status": 409,
        "body": {"detail": f"Item {kept} is still referenced by Item records"},
    }
    assert seen["items_after_replaced"] == [kept]
    part = seen["part"]["body"]["id"]
    assert seen["delete_parts_referenced"] == {
        "status": 409,
        "body": {"detail": f"Part {part} is still referenced by Loan records"},
    }
    assert seen["parts_after_refused_delete"] == [2, 1]


def test_the_generated_code_passes_ruff(app_root: Path) -> None:
    result = run_tool("ruff", "check", "--no-cache", "app", "tests", cwd=app_root)
    assert result.returncode == 0, result.stdout


def run_suite(root: Path, report: Path, database_url: str | None = None) -> None:
    """Run the app's own generated suite; every test passes."""
    tests, bad, output = run_app_suite(root, report, database_url)
    assert tests > 0, output
    assert bad == 0, output


def test_the_generated_suite_passes(app_root: Path, tmp_path: Path) -> None:
    tests = (app_root / "tests" / "test_item.py").read_text()
    assert "def test_f4_" in tests
    assert "def test_f5_" in tests
    run_suite(app_root, tmp_path / "report.xml")


def test_the_generated_suite_passes_on_postgresql(
    app_root: Path, tmp_path: Path, postgres_database: str
) -> None:
    run_suite(app_root, tmp_path / "report.xml", postgres_database)


def test_postgresql_answers_as_sqlite_does(
    app_root: Path, seen: dict[str, Any], postgres_database: str
) -> None:
    there = probe(app_root, postgres_database)
    # SQLite hands out a deleted row's id again, PostgreSQL does not
    reused = ("kept", "delete_replaced", "items_after_replaced")
    assert {k: v for k, v in there.items() if k not in reused} == {
        k: v for k, v in seen.items() if k not in reused
    }
    kept = there["kept"]
    assert there["delete_replaced"] == {
        "status": 409,
        "body": {"detail": f"Item {kept} is still referenced by Item records"},
    }
    assert there["items_after_replaced"] == [kept]
