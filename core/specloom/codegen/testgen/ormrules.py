"""A rule's write made through the ORM: change a stored record (or add one through its
repository), then `app.rules.commit(db)`: it commits when the rule holds and raises
AppError with the rule's status and message when it does not."""

from __future__ import annotations

from specloom.codegen.testgen.emit import Case, CaseWriter, attribute, short
from specloom.codegen.testgen.pysrc import Module, py_string, py_value, string_source
from specloom.codegen.testgen.world import Ref
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Field
from specloom.plan import naming
from specloom.spec.names import snake


class OrmRuleWriter(CaseWriter):
    def __init__(self, ir: ApplicationIR, module: Module, case: Case) -> None:
        super().__init__(ir, module, case)
        module.need("app.rules", "commit")

    def field(self, key: str) -> Field:
        entity = self.entity(self.endpoint.entity)
        return next(f for f in entity.fields if key in (f.json_name, f.name))

    def value_source(self, item: Field, value: object) -> str:
        if isinstance(value, Ref):
            return self.names[value]
        return py_value(value, self.clock)

    def write(self) -> tuple[list[str], str]:
        """The lines making the write, and the name of the record written."""
        case: Case = self.case
        if self.endpoint.kind == "update":
            name = self.names[case.params[0]]
            lines = []
            for key, value in case.body.items():
                item = self.field(key)
                lines.append(f"{name}.{item.name} = {self.value_source(item, value)}")
            return lines, name
        entity = self.endpoint.entity
        model = self.module.model(entity)
        repository = f"{entity}Repository"
        self.module.need(naming.repository_module(entity), repository)
        arguments = [
            f"{self.field(key).name}={self.value_source(self.field(key), value)}"
            for key, value in case.body.items()
            if value is not None
        ]
        return [
            f"record = {model}({', '.join(arguments)})",
            f"{repository}(db).add(record)",
        ], "record"

    def write_lines(self) -> list[str]:
        """The test: arrange, write, then commit (kept) or fail to commit (refused)."""
        outcome = self.case.outcome
        arrange = self.arrange()
        moving = self.moving()
        capture = [] if outcome.ok else self.capture(moving)
        write, name = self.write()
        if outcome.ok:
            checks = ["commit(db)", "db.expire_all()", *self.kept(name)]
        else:
            checks = self.refused_write(moving)
        return self.assemble(arrange + capture, write, checks)

    def kept(self, name: str) -> list[str]:
        outcome = self.case.outcome
        lines: list[str] = []
        for ref in [*outcome.created, *outcome.changed]:
            record = outcome.world.deref(ref)
            target = name if ref in outcome.created else self.names.get(ref)
            if target is None:
                continue
            before = self.case.world.get(ref.entity, ref.id)
            for item in self.entity(ref.entity).fields:
                if not item.is_stored:
                    continue
                value = record.values.get(item.name)
                if before is not None and before.values.get(item.name) == value:
                    continue
                line = self.stored(f"{target}.{attribute(item)}", item, record)
                old = before.values.get(item.name) if before is not None else None
                lines.append(f"{line}  # was {short(old)}" if before is not None else line)
        return lines

    def refused_write(self, moving: list[str]) -> list[str]:
        self.module.need("pytest")
        self.module.need("app.errors", "AppError")
        outcome = self.case.outcome
        lines = [
            "with pytest.raises(AppError) as caught:",
            "    commit(db)",
            f"assert caught.value.status == {outcome.status}",
        ]
        if len(outcome.broken_messages) > 1:
            shown = ", ".join(string_source(m) for m in dict.fromkeys(outcome.broken_messages))
            lines.append(f"assert caught.value.message in {{{shown}}}")
        elif outcome.message is not None:
            lines.append(f"assert caught.value.message == {py_string(outcome.message)}")
        lines.append("db.expire_all()")
        world = self.case.world
        for entity in moving:
            self.module.need("sqlalchemy", "select")
            model = self.module.model(entity)
            ids = f"{snake(entity)}_ids"
            lines.append(f"assert sorted(db.scalars(select({model}.id)).all()) == sorted({ids})")
        for key in self.case.body:
            item = self.field(key)
            if self.endpoint.kind == "update":
                ref = self.case.params[0]
                name = self.names[ref]
                lines.append(self.stored(f"{name}.{attribute(item)}", item, world.deref(ref)))
        return lines
