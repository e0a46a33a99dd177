"""The API part of the IR: endpoints, their paths, filters, paging and order."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as PydanticField
from pydantic import PrivateAttr

from specloom.ir.common import KeyedList, Node, private_attributes

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
EndpointKind = Literal[
    "create",  # POST /books, or POST /projects/{id}/tasks under a parent
    "list",  # GET /books, or GET /members/{id}/loans under a parent
    "get",  # GET /books/{id}
    "update",  # PATCH or PUT /books/{id}
    "delete",  # DELETE /books/{id}
    "delete_children",  # DELETE /invoices/{id}/lines
    "action",  # POST /members/{id}/suspend: a flow acting on one record
]


class PathParameter(Node):
    """A `{name}` segment and the entity whose id it carries."""

    name: str
    entity: str


class Ordering(Node):
    """`ordered by code` or `ordered by created_at descending`."""

    field: str
    descending: bool = False


class Endpoint(Node):
    """One HTTP operation of the generated API.

    `entity` is the resource the operation reads or writes; `parent` and
    `parent_field` are set for nested paths such as `/members/{id}/loans`
    (`parent_field` is the child's reference to the parent, or the parent's
    collection field for `/invoices/{id}/lines`); `target` is the entity whose
    id is the last path parameter, which a flow acts on.
    """

    id: str
    explicit_id: bool = True
    method: HttpMethod
    path: str
    kind: EndpointKind
    summary: str = ""
    entity: str
    target: str | None = None
    parent: str | None = None
    parent_field: str | None = None
    parameters: list[PathParameter] = PydanticField(default_factory=list)
    filters: list[str] = PydanticField(default_factory=list)
    paginated: bool = False
    page_size: int = 20
    ordering: list[Ordering] = PydanticField(default_factory=list)
    updatable: list[str] = PydanticField(default_factory=list)
    flow: str | None = None
    crud_group: str | None = None


class ApiModel(Node):
    """Every endpoint, in spec order, CRUD shorthands expanded."""

    endpoints: list[Endpoint] = PydanticField(default_factory=list)
    _by_id: KeyedList = PrivateAttr(default_factory=KeyedList)

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        # the private index read without pydantic's (slow) attribute hook: hot path
        index: KeyedList = private_attributes(self)["_by_id"]
        found: Endpoint | None = index.get(self.endpoints, "id", endpoint_id)
        return found

    def __eq__(self, other: object) -> bool:
        # The id index is a cache, not part of the value.
        if not isinstance(other, ApiModel):
            return NotImplemented
        return self.range == other.range and self.endpoints == other.endpoints

    __hash__ = None  # type: ignore[assignment]  # mutable model, like BaseModel itself
