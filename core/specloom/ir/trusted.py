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
    defaulting: list[str] = []
    for name, info in cls.model_fields.items():
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise TypeError(f"{cls.__name__}.{name} cannot be a parameter")
        if info.is_required():
            parameters.append(name)
            assumed.append(repr(name))
            continue
        parameters.append(f"{name}=_UNSET")
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
        else:
            raise TypeError(f"{cls.__name__}.{name}: a mutable default")
        if name == "range":  # given to nearly every node: assumed given, dropped if not
            assumed.append(repr(name))
            defaulting.append(
                f"    if {name} is _UNSET:\n"
                f"        {name} = {default}\n"
                f"        _fields_set.discard({name!r})\n"
            )
        else:
            defaulting.append(
                f"    if {name} is _UNSET:\n"
                f"        {name} = {default}\n"
                f"    else:\n"
                f"        _fields_set.add({name!r})\n"
            )
    fields_set = "{" + ", ".join(assumed) + "}" if assumed else "set()"
    values = "{" + ", ".join(f"{name!r}: {name}" for name in cls.model_fields) + "}"
    source = "".join(
        [
            f"def build(*, {', '.join(parameters)}):\n",
            f"    _fields_set = {fields_set}\n",
            *defaulting,
            "    _node = _new(_cls)\n",
            f"    _set_dict(_node, {values})\n",
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
