"""Emitter of the repositories: `app/repositories/<entity>.py`, data access for one
entity's records (get or 404, pages, add with uniqueness checks, delete)."""

from __future__ import annotations

from specloom.codegen import messages
from specloom.codegen.fieldtypes import is_nullable
from specloom.codegen.flowcode import NEGATED
from specloom.codegen.pycode import Imports, docstring, module_text, py_string
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Bound, Entity, Field
from specloom.plan import naming


def render_repository(ir: ApplicationIR, entity: Entity, requirement_ids: list[str]) -> str:
    name = entity.name
    imports = Imports()
    imports.add("collections.abc", "Sequence")
    imports.add("typing", "Any")
    imports.add("sqlalchemy", "func", "select")
    imports.add("sqlalchemy.orm", "Session")
    imports.add("app.errors", "AppError")
    imports.add(naming.model_module(name), name)
    not_found = messages.not_found(name, "{record_id}")
    lines = [
        f"class {name}Repository:",
        docstring(f"Data access for {name} records", requirement_ids),
        "    def __init__(self, session: Session) -> None:",
        "        self.session = session",
        "",
        f"    def find(self, record_id: int) -> {name} | None:",
        f"        return self.session.get({name}, record_id)",
        "",
        f"    def get(self, record_id: int) -> {name}:",
        f'        """The record, or 404 "{messages.not_found(name, "<id>")}"."""',
        "        record = self.session.get(" + name + ", record_id)",
        "        if record is None:",
        f'            raise AppError(NOT_FOUND_STATUS, f"{not_found}")',
        "        return record",
        "",
        "    def page(",
        "        self,",
        "        conditions: Sequence[Any],",
        "        order: Sequence[Any],",
        "        page: int,",
        "        page_size: int,",
        f"    ) -> tuple[list[{name}], int]:",
        '        """One page of the records that meet every condition, and how many there are."""',
        f"        query = select({name}).where(*conditions)",
        "        total = self.session.scalar(select(func.count()).select_from(query.subquery()))",
        "        rows = self.session.scalars(",
        f"            query.order_by(*order, {name}.id)",
        "            .offset((page - 1) * page_size)",
        "            .limit(page_size)",
        "        )",
        "        return list(rows), total or 0",
        "",
        f"    def where(self, *conditions: Any) -> list[{name}]:",
        '        """Every record that meets every condition, by id."""',
        f"        query = select({name}).where(*conditions).order_by({name}.id)",
        "        return list(self.session.scalars(query))",
        "",
        f"    def add(self, record: {name}) -> {name}:",
        '        """Check the unique fields, store the record; defaults are filled on flush."""',
        "        self.ensure_unique(record)",
        "        self.session.add(record)",
        "        self.session.flush()",
        "        return record",
        "",
        f"    def ensure_unique(self, record: {name}) -> None:",
        f'        """409 when another {name} has the same value of a unique field."""',
    ]
    imports.add("app.errors", "NOT_FOUND_STATUS")
    unique = _unique_checks(entity, imports)
    lines += unique or ["        return None"]
    lines += ["", *_delete(ir, entity, imports)]
    blocks = ["\n".join(lines)]
    bounds = field_bounds_check(entity, imports)
    if bounds:
        blocks.append(bounds)
    module = naming.repository_module(name)
    return module_text(f"Data access for {name} records.", imports, blocks, module)


def relative_bounds(entity: Entity) -> list[tuple[Field, Bound, Field]]:
    """(field, bound, other field) for every bound of a field against another field."""
    found = []
    for field in entity.fields:
        for bound in field.bounds:
            other = entity.field(bound.field) if bound.field else None
            if other is not None:
                found.append((field, bound, other))
    return found


def field_bounds_check(entity: Entity, imports: Imports) -> str:
    """`check_bounds`: the bounds between fields, run on every write by `app.rules.commit`."""
    bounds = relative_bounds(entity)
    if not bounds:
        return ""
    imports.add("app.errors", "AppError", "VALIDATION_STATUS")
    imports.add("sqlalchemy.orm", "Session")
    ids = [req for field, _, _ in bounds for req in field.requirement_ids if "." in req]
    lines = [
        f"def check_bounds(session: Session, record: {entity.name}) -> None:",
        docstring("Bounds between fields, checked on every write", _bound_ids(ids)).rstrip("\n"),
    ]
    for field, bound, other in bounds:
        broken = NEGATED[bound.op]
        temporal = field.type.kind in ("date", "datetime")
        message = messages.bound_message(field.name, bound.op, other.name, temporal)
        a, b = f"record.{field.json_name}", f"record.{other.json_name}"
        lines += [
            f"    if {a} is not None and {b} is not None and {a} {broken} {b}:",
            f"        raise AppError(VALIDATION_STATUS, {py_string(message)})",
        ]
    return "\n".join(lines)


def _bound_ids(ids: list[str]) -> list[str]:
    return [req for req in ids if req.rsplit(".", 1)[-1] in ("min", "max", "after", "before")]


def _unique_checks(entity: Entity, imports: Imports) -> list[str]:
    lines: list[str] = []
    groups: list[list[str]] = [[f.name] for f in entity.fields if f.unique]
    groups += [[f.name, *f.unique_with] for f in entity.fields if f.unique_with]
    groups += [list(item.fields) for item in entity.unique_together]
    if not groups:
        return []
    imports.add("app.errors", "DUPLICATE_STATUS")
    # before a flush a reference set as a record has no id in its column yet
    values: dict[str, str] = {}
    for name in dict.fromkeys(name for group in groups for name in group):
        field = entity.field(name)
        if field is not None and field.type.kind == "reference":
            column = field.json_name
            values[column] = column
            lines.append(
                f"        {column} = record.{field.name}.id "
                f"if record.{field.name} is not None else record.{column}"
            )
    lines.append("        with self.session.no_autoflush:")
    for group in groups:
        columns = [_json(entity, name) for name in group]
        value_of = {c: values.get(c, f"record.{c}") for c in columns}
        conditions = ", ".join(f"{entity.name}.{c} == {value_of[c]}" for c in columns)
        message = messages.duplicate_group(
            entity.name, [(c, "{" + value_of[c] + "}") for c in columns]
        )
        pieces = message.split(" and ")
        if len(pieces) > 1:
            quoted = [f'f"{pieces[0]}"'] + [f'f" and {piece}"' for piece in pieces[1:]]
            fstring = "(" + " ".join(quoted) + ")"
        else:
            fstring = f'f"{message}"'
        check = [
            "clash = self.session.scalar(",
            f"    select({entity.name}.id).where({conditions}, "
            f"{entity.name}.id != (record.id or 0))",
            ")",
            "if clash is not None:",
            f"    raise AppError(DUPLICATE_STATUS, {fstring})",
        ]
        # a missing value clashes with nothing (the database allows many nulls)
        optional = [
            value_of[_json(entity, name)]
            for name in group
            if (found := entity.field(name)) is not None and is_nullable(found)
        ]
        if optional:
            present = " and ".join(f"{value} is not None" for value in optional)
            lines.append(f"            if {present}:")
            lines += ["                " + line for line in check]
        else:
            lines += ["            " + line for line in check]
    return lines


def _json(entity: Entity, name: str) -> str:
    field = entity.field(name)
    return field.json_name if field else name


def _delete(ir: ApplicationIR, entity: Entity, imports: Imports) -> list[str]:
    """Delete records: their collections go with them; a plain reference to one refuses."""
    name = entity.name
    lines = [
        f"    def delete(self, record: {name}) -> None:",
        '        """Delete it and its collections; 409 while another record refers to it."""',
        "        self.delete_all([record])",
        "",
        f"    def delete_all(self, records: Sequence[{name}]) -> None:",
        '        """Delete them and their collections; 409 while another record refers to one."""',
    ]
    owned = {
        (str(f.type.entity), str(f.type.via)) for f in entity.fields if f.type.kind == "collection"
    }
    checks: list[tuple[str, str]] = []
    for candidate in ir.domain.entities:
        for field in candidate.fields:
            if field.type.kind != "reference" or field.type.entity != name:
                continue
            if (candidate.name, field.name) in owned:
                continue
            checks.append((candidate.name, field.json_name))
    if checks:
        imports.add("app.errors", "CONFLICT_STATUS")
        lines += [
            "        ids = [record.id for record in records]",
            "        with self.session.no_autoflush:",
        ]
    for other, column in checks:
        if other != name:
            imports.add(naming.model_module(other), other)
        message = messages.still_referenced(name, "{referred}", other)
        # a record of the same entity being deleted too does not hold the others back
        itself = f", {other}.id.not_in(ids)" if other == name else ""
        lines += [
            "            referred = self.session.scalar(",
            f"                select({other}.{column})",
            f"                .where({other}.{column}.in_(ids){itself})",
            f"                .order_by({other}.{column})",
            "                .limit(1)",
            "            )",
            "            if referred is not None:",
            f'                raise AppError(CONFLICT_STATUS, f"{message}")',
        ]
    lines += [
        "        for record in records:",
        "            self.session.delete(record)",
        "        # the collections in memory forget the records only once they are read again",
        "        self.session.flush()",
        "        self.session.expire_all()",
    ]
    return lines


def quoted(text: str) -> str:
    return py_string(text)
