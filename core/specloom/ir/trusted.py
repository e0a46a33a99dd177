"""Building IR nodes without validation, for the compiler's hot paths.

Validating a node costs pydantic a few microseconds (more with tagged unions), and a
large spec makes thousands of nodes from values the parser has already checked.
`trusted[PathExpr](parts=parts, range=where)` builds the same node as
`PathExpr(parts=parts, range=where)` (fields in declaration order, defaults,
`model_fields_set`, no extra or private values) at a fraction of the cost: like a
dataclass's `__init__`, each class's builder is generated once, with a keyword-only
parameter per field, so a missing or unknown field is still a TypeError.

The caller vouches for the values: each one has its field's type. Lists are not copied
(validation would copy them), so pass lists that nothing else changes.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from pydantic import BaseModel

from specloom.ir.common import Node, Position, SourceRange

NodeT = TypeVar("NodeT", bound=Node)

_IMMUTABLE_DEFAULTS = (str, int, float, bool, type(None), Position, SourceRange)
_SHARED_DEFAULTS_FOR_A_TEMPLATE = 2  # from this many on, a template is the cheaper start


class _Builders(dict[type[Node], Callable[..., Any]]):
    """Each class's builder, made when first asked for: `trusted[PathExpr]`."""

    def __missing__(self, cls: type[Node]) -> Callable[..., Any]:
        builder = self[cls] = _make_builder(cls)
        return builder


class _BuilderTable(Protocol):
    def __getitem__(self, cls: type[NodeT], /) -> Callable[..., NodeT]: ...


# A dict, not a function: `trusted[cls]` is the cheapest lookup there is. Typed as a
# table whose builders return the class they are asked for.
trusted = cast(_BuilderTable, _Builders())


def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    setter: Callable[[Any, Any], None] = BaseModel.__dict__[name].__set__
    return setter


def _make_builder(cls: type[Node]) -> Callable[..., Any]:
    config = cls.model_config
    if cls.__private_attributes__ or cls.__pydantic_post_init__ or config.get("frozen"):
        raise TypeError(f"{cls.__name__} has state that a trusted builder does not set up")
    # A new instance gets what BaseModel.model_construct sets, set the same way. These
    # names start with '_', as no pydantic field name does.
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_UNSET": object(),  # a field not given
        "_set_dict": _slot_setter("__dict__"),
        "_set_fields_set": _slot_setter("__pydantic_fields_set__"),
        "_set_extra": _slot_setter("__pydantic_extra__"),
        "_set_private": _slot_setter("__pydantic_private__"),
    }
    parameters: list[str] = []
    assumed: list[str] = []  # in `model_fields_set` from the start
    # Two ways to make the values, both written out below, one kept. Built in one go,
    # each value given or its default (`defaulting`); or, for a node with several shared
    # defaults (a Field has ten), copied from a template that holds them, with only what
    # is given and the new lists written over it (`writing`): a dict copy costs less
    # than building the dict key by key.
    template: dict[str, Any] = {}
    shared_defaults = 0
    defaulting: list[str] = []
    writing: list[str] = []
    for name, info in cls.model_fields.items():
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise TypeError(f"{cls.__name__}.{name} cannot be a parameter")
        template[name] = None  # a place, in declaration order
        if info.is_required():
            parameters.append(name)
            assumed.append(repr(name))
            writing.append(f"    _values[{name!r}] = {name}\n")
            continue
        parameters.append(f"{name}=_UNSET")
        shared = False
        if info.default_factory is list:
            default = "[]"  # a new empty list, without calling `list`
        elif info.default_factory is not None:
            if info.default_factory_takes_validated_data:
                raise TypeError(f"{cls.__name__}.{name}: a default factory that takes data")
            namespace[f"_default_{name}"] = info.default_factory
            default = f"_default_{name}()"
        elif isinstance(info.default, _IMMUTABLE_DEFAULTS):
            namespace[f"_default_{name}"] = info.default  # shared, as validation shares it
            default = f"_default_{name}"
            template[name] = info.default
            shared = True
        else:
            raise TypeError(f"{cls.__name__}.{name}: a mutable default")
        # the template's own value, when it holds the default; a new one otherwise
        fill = "" if shared else f"        _values[{name!r}] = {default}\n"
        if name == "range":  # given to nearly every node: assumed given, dropped if not
            assumed.append(repr(name))
            defaulting.append(
                f"    if {name} is _UNSET:\n"
                f"        {name} = {default}\n"
                f"        _fields_set.discard({name!r})\n"
            )
            writing.append(
                f"    if {name} is _UNSET:\n{fill}"
                f"        _fields_set.discard({name!r})\n"
                f"    else:\n"
                f"        _values[{name!r}] = {name}\n"
            )
            continue
        shared_defaults += shared
        defaulting.append(
            f"    if {name} is _UNSET:\n"
            f"        {name} = {default}\n"
            f"    else:\n"
            f"        _fields_set.add({name!r})\n"
        )
        given = f"        _values[{name!r}] = {name}\n        _fields_set.add({name!r})\n"
        if shared:
            writing.append(f"    if {name} is not _UNSET:\n{given}")
        else:
            writing.append(f"    if {name} is _UNSET:\n{fill}    else:\n{given}")
    fields_set = "{" + ", ".join(assumed) + "}" if assumed else "set()"
    if shared_defaults >= _SHARED_DEFAULTS_FOR_A_TEMPLATE:
        namespace["_template"] = template
        body = ["    _values = _template.copy()\n", *writing]
    else:
        values = "{" + ", ".join(f"{name!r}: {name}" for name in cls.model_fields) + "}"
        body = [*defaulting, f"    _values = {values}\n"]
    source = "".join(
        [
            f"def build(*, {', '.join(parameters)}):\n",
            f"    _fields_set = {fields_set}\n",
            *body,
            "    _node = _new(_cls)\n",
            "    _set_dict(_node, _values)\n",
            "    _set_fields_set(_node, _fields_set)\n",
            "    _set_extra(_node, None)\n",
            "    _set_private(_node, None)\n",
            "    return _node\n",
        ]
    )
    exec(compile(source, f"<trusted {cls.__name__}>", "exec"), namespace)  # field names only
    builder: Callable[..., Any] = namespace["build"]
    builder.__qualname__ = f"trusted({cls.__name__})"
    return builder
