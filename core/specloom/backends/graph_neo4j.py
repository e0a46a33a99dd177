"""The graph on a Neo4j server, through the official async driver (`neo4j`).

`Neo4jGraph.open(url, user, password)` connects (`bolt://`, `neo4j://`, and their `+s`
variants; the credentials may also come in the URL, `bolt://user:password@host`), checks
that the server answers, and creates the schema's uniqueness constraints (`graph.py`)
when missing. Every write is one `MERGE` statement in its own transaction, durable when
it returns. Labels and relation types cannot be query parameters in Cypher: they are
written into the statement, and only after `graph.py` has checked them against the
schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from specloom.backends.errors import mask_url, unavailable
from specloom.backends.graph import (
    LABELS,
    RELATIONS,
    Direction,
    Neighbour,
    NodeRef,
    Properties,
    check_depth,
    check_node_properties,
    check_properties,
    check_relation,
)

if TYPE_CHECKING:
    from neo4j import AsyncDriver

CONNECT_TIMEOUT_S = 5.0

SCHEMA = [
    f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
    for label in LABELS
]
"""The statements that make the schema's constraints (one unique `id` per label)."""


class Neo4jGraph:
    """The graph on the Neo4j server behind `driver`."""

    name = "neo4j"

    def __init__(self, driver: AsyncDriver, where: str, database: str | None = None) -> None:
        self.driver = driver
        self.where = where
        self.database = database

    @classmethod
    async def open(
        cls,
        url: str,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
    ) -> Neo4jGraph:
        """The server at `url`, connected and with the schema's constraints. Raises
        `BackendUnavailable` when it cannot be reached or refuses the credentials."""
        from neo4j import AsyncGraphDatabase

        address, url_user, url_password = _split_credentials(url)
        user, password = user or url_user, password or url_password
        auth = (user or "neo4j", password or "") if user or password else None
        try:
            driver = AsyncGraphDatabase.driver(
                address, auth=auth, connection_timeout=CONNECT_TIMEOUT_S
            )
        except Exception as error:  # a malformed URL, an unknown scheme
            raise unavailable("graph store", url, error) from None
        graph = cls(driver, mask_url(url), database)
        try:
            await driver.verify_connectivity()
            for statement in SCHEMA:
                await graph._write(statement)
        except Exception as error:  # the driver's errors have no common base with OSError
            await driver.close()
            raise unavailable("graph store", url, error) from None
        return graph

    def __repr__(self) -> str:
        return f"Neo4jGraph({self.where!r})"

    async def merge_node(self, node: NodeRef, properties: Properties | None = None) -> None:
        checked = check_node_properties(properties)
        await self._write(
            f"MERGE (n:{node.label} {{id: $id}}) SET n += $properties",
            id=node.id,
            properties=checked,
        )

    async def merge_relation(
        self,
        source: NodeRef,
        relation: str,
        target: NodeRef,
        properties: Properties | None = None,
    ) -> None:
        check_relation(source, relation, target)
        checked = check_properties(properties)
        await self._write(
            f"MERGE (a:{source.label} {{id: $source}}) "
            f"MERGE (b:{target.label} {{id: $target}}) "
            f"MERGE (a)-[r:{relation}]->(b) SET r += $properties",
            source=source.id,
            target=target.id,
            properties=checked,
        )

    async def get_node(self, node: NodeRef) -> dict[str, Any] | None:
        records = await self._read(
            f"MATCH (n:{node.label} {{id: $id}}) RETURN properties(n) AS p", id=node.id
        )
        return _without_id(records[0]["p"]) if records else None

    async def relation(
        self, source: NodeRef, relation: str, target: NodeRef
    ) -> dict[str, Any] | None:
        check_relation(source, relation, target)
        records = await self._read(
            f"MATCH (:{source.label} {{id: $source}})-[r:{relation}]->"
            f"(:{target.label} {{id: $target}}) RETURN properties(r) AS p",
            source=source.id,
            target=target.id,
        )
        return dict(records[0]["p"]) if records else None

    async def neighbours(
        self,
        node: NodeRef,
        depth: int = 1,
        relations: Sequence[str] | None = None,
        direction: Direction = "both",
    ) -> list[Neighbour]:
        check_depth(depth)
        types = ""
        if relations is not None:
            unknown = sorted(set(relations) - set(RELATIONS))
            if unknown:
                raise ValueError(f"unknown relation {unknown[0]!r}")
            if not relations:
                return []
            types = ":" + "|".join(sorted(set(relations)))
        left, right = {"out": ("-", "->"), "in": ("<-", "-"), "both": ("-", "-")}[direction]
        records = await self._read(
            f"MATCH (start:{node.label} {{id: $id}}) "
            f"MATCH path = (start){left}[{types}*1..{depth}]{right}(n) "
            "WHERE n <> start "
            "RETURN labels(n) AS labels, properties(n) AS p, min(length(path)) AS distance",
            id=node.id,
        )
        found = []
        for record in records:
            label = next((x for x in LABELS if x in record["labels"]), None)
            properties = dict(record["p"])
            if label is None or "id" not in properties:
                continue  # a node outside the schema
            ref = NodeRef(label, str(properties["id"]))
            found.append(Neighbour(ref, int(record["distance"]), _without_id(properties)))
        return sorted(found, key=lambda n: (n.distance, n.node))

    async def delete_node(self, node: NodeRef) -> None:
        await self._write(f"MATCH (n:{node.label} {{id: $id}}) DETACH DELETE n", id=node.id)

    async def count(self, label: str | None = None) -> int:
        if label is not None and label not in LABELS:
            raise ValueError(f"unknown node label {label!r}")
        match = " OR ".join(f"n:{x}" for x in ([label] if label else LABELS))
        records = await self._read(f"MATCH (n) WHERE {match} RETURN count(n) AS c")
        return int(records[0]["c"])

    async def flush(self) -> None:
        """Nothing to do: every write is committed when it returns."""

    async def close(self) -> None:
        await self.driver.close()

    async def _write(self, statement: str, **parameters: Any) -> None:
        from neo4j import RoutingControl

        await self.driver.execute_query(
            statement,  # built only from checked labels and relation types
            parameters,
            database_=self.database,
            routing_=RoutingControl.WRITE,
        )

    async def _read(self, statement: str, **parameters: Any) -> list[Any]:
        from neo4j import RoutingControl

        result = await self.driver.execute_query(
            statement,  # built only from checked labels and relation types
            parameters,
            database_=self.database,
            routing_=RoutingControl.READ,
        )
        return list(result.records)


def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """The URL without `user:password@` (the driver refuses it), and those two."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.netloc.rpartition("@")[2]
    address = urlunsplit(parts._replace(netloc=host))
    return address, unquote(parts.username or "") or None, unquote(parts.password or "") or None


def _without_id(properties: Any) -> dict[str, Any]:
    found = dict(properties)
    found.pop("id", None)
    return found
