"""How the spec's English names map to entities and fields.

`TimeEntry` is written `time entry`, `time entries`, `entries` or `entry` in
sentences and paths. The few English plural rules needed here are kept small on
purpose: a full inflection library costs more than a second to import, which the
language server cannot afford at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_IRREGULAR_PLURALS = {
    "person": "people",
    "child": "children",
    "man": "men",
    "woman": "women",
    "criterion": "criteria",
    "datum": "data",
}
_IRREGULAR_SINGULARS = {plural: singular for singular, plural in _IRREGULAR_PLURALS.items()}
_PLAIN_F = {"chief", "roof", "proof", "belief", "chef", "cafe", "safe", "reef", "brief", "cliff"}
_UNCOUNTABLE = {"series", "species", "news", "status", "staff", "info", "data", "metadata"}

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENTITY_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@lru_cache(maxsize=4096)
def snake(name: str) -> str:
    """`TimeEntry` -> `time_entry`."""
    return _CAMEL.sub("_", name).replace(" ", "_").replace("-", "_").lower()


def words_of(name: str) -> list[str]:
    return [word for word in snake(name).split("_") if word]


@lru_cache(maxsize=4096)
def plural(word: str) -> str:
    lower = word.lower()
    if lower in _UNCOUNTABLE:
        return word
    if lower in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[lower]
    if re.search(r"[^aeiou]y$", lower):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return word + "es"
    if re.search(r"(?:[^f]f|[^f]fe)$", lower) and lower not in _PLAIN_F:
        return re.sub(r"fe?$", "ves", word)
    return word + "s"


@lru_cache(maxsize=4096)
def singular(word: str) -> str:
    lower = word.lower()
    if lower in _UNCOUNTABLE:
        return word
    if lower in _IRREGULAR_SINGULARS:
        return _IRREGULAR_SINGULARS[lower]
    if lower.endswith("ies") and len(lower) > 3:
        return word[:-3] + "y"
    if re.search(r"(ss|x|z|ch|sh)es$", lower):
        return word[:-2]
    if lower.endswith("ses") and len(lower) > 4:
        return word[:-1]
    if lower.endswith("s") and not lower.endswith("ss") and len(lower) > 1:
        return word[:-1]
    return word


@lru_cache(maxsize=1024)
def entity_aliases(entity: str) -> frozenset[str]:
    """Every snake-case name a record of `entity` may go by in a sentence or path."""
    parts = words_of(entity)
    if not parts:
        return frozenset()
    full = "_".join(parts)
    aliases = {
        full,
        plural(full) if len(parts) == 1 else "_".join([*parts[:-1], plural(parts[-1])]),
    }
    aliases.add(parts[-1])
    aliases.add(plural(parts[-1]))
    return frozenset(aliases)


@lru_cache(maxsize=4096)
def phrase_key(phrase: str) -> str:
    """Normalize `time entries`, `Time-Entries`, `TimeEntry` to `time_entry`."""
    parts = [word for word in re.split(r"[\s_\-]+", snake(phrase.strip())) if word]
    if not parts:
        return ""
    parts[-1] = singular(parts[-1])
    return "_".join(parts)


class EntityNames:
    """The entity names of one spec, indexed once, for lookups by phrase: a spec with
    thousands of entities must not pay for each lookup with a scan."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(names)
        self._exact = set(self.names)
        self._by_snake: dict[str, str] = {}
        self._by_last_word: dict[str, list[str]] = {}
        for name in self.names:
            self._by_snake.setdefault(snake(name), name)
            words = words_of(name)
            if words:
                self._by_last_word.setdefault(words[-1], []).append(name)
        self._aliases: list[str] | None = None

    def find(self, phrase: str) -> str | None:
        """The entity a phrase names: exact, then full snake name, then its last word
        (when only one entity ends with that word)."""
        if phrase in self._exact:
            return phrase
        for key in _keys(phrase):
            if key in self._by_snake:
                return self._by_snake[key]
            tail = self._by_last_word.get(key, [])
            if len(tail) == 1:
                return tail[0]
        return None

    def aliases(self) -> list[str]:
        """Every name a record may go by, for 'did you mean' hints."""
        if self._aliases is None:
            self._aliases = sorted({a for name in self.names for a in entity_aliases(name)})
        return self._aliases


def find_entity(phrase: str, entities: EntityNames | Iterable[str]) -> str | None:
    index = entities if isinstance(entities, EntityNames) else EntityNames(entities)
    return index.find(phrase)


def listing(names: Iterable[str], limit: int = 12) -> str:
    """'a, b, c' for a message, cut short after `limit` names."""
    items = list(names)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _keys(phrase: str) -> list[str]:
    """phrase_key, then the other singulars English allows: shelves -> shelf, knives -> knife."""
    key = phrase_key(phrase)
    keys = [key]
    lower = snake(phrase.strip().replace(" ", "_"))
    if lower.endswith("ves"):
        keys.extend([lower[:-3] + "f", lower[:-3] + "fe"])
    return keys


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option a typo most likely meant, for 'did you mean' hints. Among many
    options only those of about the same length are compared, to stay cheap."""
    import difflib

    candidates = list(options)
    if len(candidates) > 200:
        candidates = [c for c in candidates if abs(len(c) - len(word)) <= 2][:2000]
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.7)
    return matches[0] if matches else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    guess = closest(word, options)
    return f"; did you mean '{guess}'?" if guess else ""
