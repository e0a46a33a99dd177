"""Templates of the generated application's fixed files, filled with `string.Template`
(`$name` placeholders). Each file here is the one place to change what it writes."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def template(name: str) -> str:
    """The text of `<name>.tmpl`."""
    return files(__package__).joinpath(f"{name}.tmpl").read_text(encoding="utf-8")
