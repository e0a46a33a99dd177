"""The Entities section: `### Name` headings and `- field: type, constraint, ...` lines."""

from __future__ import annotations

import re

from specloom.ir.common import SourceRange
from specloom.ir.domain import Bound, DefaultValue, Entity, Field, FieldType, UniqueTogether
from specloom.ir.trusted import trusted
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.expressions import is_state_name, literal
from specloom.spec.names import IDENTIFIER, did_you_mean
from specloom.spec.patterns import FirstCharacters
from specloom.spec.source import Span

SCALAR_TYPES: dict[str, str] = {
    "string": "string",
    "str": "string",
    "text": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "boolean": "boolean",
    "bool": "boolean",
    "date": "date",
    "datetime": "datetime",
    "timestamp": "datetime",
    "uuid": "uuid",
    "email": "email",
    "url": "url",
}
DEFAULT_PRECISION, DEFAULT_SCALE = 12, 2

KNOWN_CONSTRAINTS = (
    "required, optional, unique, unique together with <field>, read-only, set on create, "
    "set on update, max length N, min length N, length N, pattern `regex`, >= N, > N, "
    "<= N, < N, between A and B, after <field>, before <field>, default <value>, "
    "defaults to <field>"
)

_DECIMAL = re.compile(r"^decimal\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$", re.IGNORECASE)
_ENUM = re.compile(r"^enum\s*(?:of\s+)?(.*)$", re.IGNORECASE)
_LIST = re.compile(r"^(?:list|set) of\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(?:via|by)\s+(\w+))?$", re.I)
_NUMBER = r"-?\d+(?:\.\d+)?"
_BOUND = re.compile(
    r"^(>=|<=|>|<|at least|at most|more than|greater than|less than|fewer than|after|before|"
    r"on or after|on or before|later than|earlier than|min|max|minimum|maximum)\s+(.+)$",
    re.IGNORECASE,
)
_BOUND_OPS = {
    ">=": ">=",
    "<=": "<=",
    ">": ">",
    "<": "<",
    "at least": ">=",
    "at most": "<=",
    "more than": ">",
    "greater than": ">",
    "less than": "<",
    "fewer than": "<",
    "after": ">",
    "before": "<",
    "on or after": ">=",
    "on or before": "<=",
    "later than": ">",
    "earlier than": "<",
    "min": ">=",
    "minimum": ">=",
    "max": "<=",
    "maximum": "<=",
}
_BETWEEN = re.compile(rf"^between\s+({_NUMBER})\s+and\s+({_NUMBER})$", re.I)
_LENGTH = re.compile(
    r"^(max(?:imum)?|min(?:imum)?)\s+length\s+(\d+)$"
    r"|^(?:at (most|least))\s+(\d+)\s+char(?:acter)?s$",
    re.I,
)
_EXACT_LENGTH = re.compile(r"^length\s+(\d+)(?:\s*(?:\.\.|to|-)\s*(\d+))?$", re.I)
_LENGTH_BETWEEN = re.compile(r"^length\s+between\s+(\d+)\s+and\s+(\d+)$", re.I)
_PATTERN = re.compile(r"^(?:pattern|matches|format)\s+(`[^`]*`|\"[^\"]*\"|/.*/)$", re.I)
_DEFAULT = re.compile(r"^(?:default(?:s)?(?:\s+to|\s+is|:)?|=)\s+(.+)$", re.I)
_UNIQUE_WITH = re.compile(
    r"^unique\s+(?:together\s+with|with|per|within|for each|in)\s+(.+)$", re.I
)
_MORE_NAMES = re.compile(r"(?:and\s+)?[a-z_][a-z0-9_]*(?:\s+and\s+[a-z_][a-z0-9_]*)*")
_KEYWORDS = frozenset({"required", "optional", "unique", "positive", "readonly"})
_SET_ON = re.compile(r"^set on (create|update)(?: and (create|update))?$", re.I)
_FLAGS = {
    "required": "required",
    "optional": "optional",
    "unique": "unique",
    "read-only": "read_only",
    "read only": "read_only",
    "readonly": "read_only",
}
# what each constraint pattern's matches start with (see FirstCharacters)
_CONSTRAINTS = FirstCharacters(
    {
        "set on": "s",
        "unique with": "u",
        "length": "ma",
        "length between": "l",
        "exact length": "l",
        "pattern": "pmf",
        "between": "b",
        "bound": "<>amglfboe",
        "default": "d=",
    }
)
_TYPES = FirstCharacters({"decimal": "d", "enum": "e", "list": "ls"})


_TOP_LEVEL_COMMA = re.compile(r"\((?:[^()]|\([^()]*\))*\)|`[^`]*`|\"[^\"]*\"|,")
_INTEGER = re.compile(r"-?\d+")
_NUMBER_VALUE = re.compile(_NUMBER)
_STATE = re.compile(r"[A-Z][A-Z0-9_]*")
_ENTITY_TYPE = re.compile(r"[A-Z][A-Za-z0-9]*")
_ENUM_SEPARATOR = re.compile(r"[|/]")
_SPACES = re.compile(r"\s+")
_NAMES_SEPARATOR = re.compile(r",|\band\b")
_UNIQUE_TOGETHER = re.compile(r"^\s*unique together\s*:?\s*(.+?)\.?\s*$", re.I)


def split_top_level(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Offsets (in `text`) of the comma-separated parts of `text[start:]`; commas inside
    parentheses (two levels), backticks and double quotes do not split."""
    parts: list[tuple[int, int]] = []
    rest = text[start:] if start else text
    if "(" not in rest and "`" not in rest and '"' not in rest:
        # nothing that can hold a comma: every comma splits (the usual field line)
        for piece in rest.split(","):
            parts.append((start, start + len(piece)))
            start += len(piece) + 1
        return parts
    for match in _TOP_LEVEL_COMMA.finditer(text, start):
        if match.group() == ",":
            parts.append((start, match.start()))
            start = match.end()
    parts.append((start, len(text)))
    return parts


def _value_of(text: str) -> tuple[str, str] | None:
    """(kind, canonical text) of a literal, or None when `text` is not one."""
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped):
        return "integer", str(int(stripped))
    if _NUMBER_VALUE.fullmatch(stripped):
        return "decimal", stripped
    if stripped.lower() in ("true", "false", "yes", "no"):
        return "boolean", "true" if stripped.lower() in ("true", "yes") else "false"
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"`'":
        return "string", stripped[1:-1]
    if is_state_name(stripped):
        return "enum", stripped
    return None


class EntityParser:
    """Compiles one `### Entity` subsection."""

    def __init__(self, sink: DiagnosticSink, entity_names: list[str] | None = None) -> None:
        self.sink = sink
        self.entity_names = entity_names or []
        self.by_lower = {name.lower(): name for name in self.entity_names}

    def field(self, span: Span, entity: str) -> Field | None:
        text = span.text
        colon = text.find(":")
        if colon < 0:
            self.sink.add(
                "SL211",
                "a field line reads 'name: type, constraints', for example "
                "'title: string, required, max length 200'",
                span.range(),
            )
            return None
        name = text[:colon].strip()
        if not (name.isascii() and name.isidentifier()):  # IDENTIFIER, without a match
            name_start = text.find(name) if name else 0
            self.sink.add(
                "SL213",
                f"'{name}' is not a valid field name: use letters, digits and underscores, "
                "starting with a letter (for example 'due_on')",
                span.range(name_start, name_start + len(name)),
            )
            return None
        parts = split_top_level(text, colon + 1)
        type_start, type_end = _trim(text, *parts[0])
        field_type = self.field_type(span, type_start, type_end)
        if field_type is None:
            return None
        result = trusted[Field](name=name, type=field_type, range=span.range())
        # A flag (required, unique, read-only...) is set here, as `constraint` and
        # pydantic's `__setattr__` would set it, without either call: most constraints
        # are flags, and a spec has thousands.
        values, fields_set = result.__dict__, result.__pydantic_fields_set__
        listing = False
        for start, end in parts[1:]:
            start, end = _trim(text, start, end)
            if start == end:
                continue
            piece = text[start:end]
            if listing and _MORE_NAMES.fullmatch(piece) and piece.lower() not in _KEYWORDS:
                # 'unique together with order_no, batch': the list goes on
                result.unique_with.extend(n for n in _SPACES.split(piece) if n != "and")
                continue
            flag = _FLAGS.get(piece.lower())  # as `constraint` finds it: no blanks to join
            if flag is not None:
                values[flag] = True
                fields_set.add(flag)
                listing = False
                continue
            listing = self.constraint(result, span, start, end, entity)
        return result

    def field_type(self, span: Span, start: int, end: int) -> FieldType | None:
        text = span.text[start:end]
        where = span.range(start, end)
        lower = text.lower()
        if not text:
            self.sink.add("SL201", "the field has no type: write one after the colon", where)
            return None
        if lower in SCALAR_TYPES:
            kind = SCALAR_TYPES[lower]
            if kind == "decimal":
                return trusted[FieldType](
                    kind="decimal",
                    precision=DEFAULT_PRECISION,
                    scale=DEFAULT_SCALE,
                    range=where,
                )
            return trusted[FieldType](kind=kind, range=where)
        tried = _TYPES.of(text)
        decimal = _DECIMAL.match(text) if "decimal" in tried else None
        if decimal:
            precision = int(decimal.group(1) or DEFAULT_PRECISION)
            # decimal(5) has no fraction digits, as in SQL; plain decimal is (12,2)
            scale = int(decimal.group(2) or (0 if decimal.group(1) else DEFAULT_SCALE))
            if not 0 < precision <= 38 or scale > precision:
                self.sink.add(
                    "SL206",
                    f"decimal({precision},{scale}) is not a decimal type: precision is 1 to 38 "
                    "digits and the scale is at most the precision",
                    where,
                )
                return None
            return trusted[FieldType](kind="decimal", precision=precision, scale=scale, range=where)
        enum = _ENUM.match(text) if "enum" in tried else None
        if enum:
            raw = [value.strip() for value in _ENUM_SEPARATOR.split(enum.group(1))]
            values = [value for value in raw if value]
            bad = [value for value in values if not _STATE.fullmatch(value)]
            if not values or bad:
                self.sink.add(
                    "SL201",
                    "an enum lists its states in capitals separated by '|', for example "
                    "'enum ACTIVE | SUSPENDED'",
                    where,
                )
                return None
            return trusted[FieldType](kind="enum", values=values, range=where)
        collection = _LIST.match(text) if "list" in tried else None
        if collection:
            return trusted[FieldType](
                kind="collection",
                entity=collection.group(1),
                via=collection.group(2),
                range=where,
            )
        if _ENTITY_TYPE.fullmatch(text):
            return trusted[FieldType](kind="reference", entity=text, range=where)
        by_lower = self.by_lower
        hint = (
            f"; did you mean '{by_lower[lower.replace('_', '')]}', the entity?"
            if lower.replace("_", "") in by_lower
            else did_you_mean(lower, [*SCALAR_TYPES, *self.entity_names])
        )
        self.sink.add(
            "SL201",
            f"unknown type '{text}'{hint}; the types are string, "
            "text, integer, decimal(p,s), boolean, date, datetime, uuid, email, url, "
            "enum A | B, an entity name, or 'list of Entity'",
            where,
        )
        return None

    def constraint(self, field: Field, span: Span, start: int, end: int, entity: str) -> bool:
        """Apply one constraint; True when it takes a list of fields that may go on."""
        raw = span.text[start:end]
        text = " ".join(raw.split())  # runs of whitespace as one space, as `\s+` -> " "
        lower = text.lower()
        flag = _FLAGS.get(lower)
        if flag is not None:  # required, optional, unique, read-only
            setattr(field, flag, True)
            return False
        tried = _CONSTRAINTS.of(text)
        if "set on" in tried and (match := _SET_ON.match(text)):
            for moment in match.groups():
                if moment and moment.lower() == "create":
                    field.set_on_create = True
                elif moment:
                    field.set_on_update = True
        elif "unique with" in tried and (match := _UNIQUE_WITH.match(text)):
            names = [n.strip() for n in _NAMES_SEPARATOR.split(match.group(1)) if n.strip()]
            field.unique_with.extend(names)
            return True
        elif "length" in tried and (match := _LENGTH.match(text)):
            kind = (match.group(1) or match.group(3) or "").lower()
            number = int(match.group(2) or match.group(4))
            if kind.startswith("max") or kind == "most":
                field.max_length = number
            else:
                field.min_length = number
        elif "length between" in tried and (match := _LENGTH_BETWEEN.match(text)):
            field.min_length, field.max_length = int(match.group(1)), int(match.group(2))
        elif "exact length" in tried and (match := _EXACT_LENGTH.match(text)):
            low = int(match.group(1))
            field.min_length = low
            field.max_length = int(match.group(2)) if match.group(2) else low
        elif "pattern" in tried and (match := _PATTERN.match(text)):
            pattern = match.group(1)[1:-1]
            field.pattern = pattern
            try:
                re.compile(pattern)
            except re.error as error:
                self.sink.add(
                    "SL210",
                    f"the pattern is not a valid regular expression ({error}); "
                    "write it in Python's syntax between backticks",
                    span.range(start, end),
                )
        elif "between" in tried and (match := _BETWEEN.match(text)):
            where = span.range(start, end)
            low_text, high_text = match.group(1), match.group(2)
            for op, bound_text in ((">=", low_text), ("<=", high_text)):
                kind, canonical = _value_of(bound_text) or ("integer", bound_text)
                field.bounds.append(
                    trusted[Bound](op=op, value=literal(kind, canonical), range=where)
                )
        elif "bound" in tried and (match := _BOUND.match(text)):
            where = span.range(start, end)
            op = _BOUND_OPS[match.group(1).lower()]
            operand = match.group(2).strip()
            value = _value_of(operand)
            if value is not None and value[0] in ("integer", "decimal"):
                bound = trusted[Bound](op=op, value=literal(*value), range=where)
            elif operand.lower() in ("now", "today"):
                bound = trusted[Bound](op=op, clock=operand.lower(), range=where)
            elif IDENTIFIER.match(operand):
                bound = trusted[Bound](op=op, field=operand, range=where)
            else:
                self.sink.add(
                    "SL208",
                    f"'{text}': a bound compares with a number, another field or the clock, "
                    "as in '>= 1', 'after starts_at' or 'after now'",
                    where,
                )
                return False
            field.bounds.append(bound)
        elif lower in ("positive",):
            where = span.range(start, end)
            field.bounds.append(trusted[Bound](op=">", value=literal("integer", "0"), range=where))
        elif lower in ("non-negative", "not negative", "nonnegative"):
            where = span.range(start, end)
            field.bounds.append(trusted[Bound](op=">=", value=literal("integer", "0"), range=where))
        elif "default" in tried and (match := _DEFAULT.match(text)):
            field.default = self.default(match.group(1).strip(), span.range(start, end))
        else:
            self.sink.add(
                "SL208",
                f"'{text}' is not a constraint the compiler knows; the constraints are: "
                f"{KNOWN_CONSTRAINTS}",
                span.range(start, end),
            )
        return False

    def default(self, text: str, where: SourceRange) -> DefaultValue:
        lower = text.lower()
        if lower in ("now", "today"):
            return trusted[DefaultValue](kind=lower, range=where)
        value = _value_of(text)
        if value is not None:
            return trusted[DefaultValue](kind="literal", value=literal(*value), range=where)
        if IDENTIFIER.match(text):
            return trusted[DefaultValue](kind="field", field=text, range=where)
        return trusted[DefaultValue](kind="literal", value=literal("string", text), range=where)

    def unique_together(self, span: Span) -> UniqueTogether | None:
        text = span.text.lstrip()
        if text.isascii() and text[:1] not in ("u", "U"):
            return None  # what `_UNIQUE_TOGETHER` finds first, after spaces
        match = _UNIQUE_TOGETHER.match(span.text)
        if not match:
            return None
        names = [n.strip() for n in _NAMES_SEPARATOR.split(match.group(1)) if n.strip()]
        return trusted[UniqueTogether](fields=names, range=span.range())

    def entity(self, heading: Span, description: str) -> Entity:
        return trusted[Entity](
            name=heading.text.strip(), description=description, range=heading.range()
        )


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """`start` and `end` moved past the blanks around `text[start:end]`, and past a full
    stop that ends `text` (then past the blanks before it)."""
    stripped = text[start:end].lstrip()
    start = end - len(stripped)
    if stripped:
        if end == len(text) and stripped[-1] == ".":
            stripped = stripped[:-1]
        end = start + len(stripped.rstrip())
    return start, end
