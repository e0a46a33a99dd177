"""Which of several anchored, case-insensitive patterns can match a text.

Sections try their patterns in turn until one matches (`filter by ...`, `paginated`,
`ordered by ...`). A failing `match` costs about as much as a dozen lines of Python, so
a text is only matched against the patterns that can start with its first character.
"""

from __future__ import annotations


class FirstCharacters:
    """The patterns worth trying on a text, told by the text's first character.

    Built from each pattern's name and the characters its matches can start with (in
    either case). Outside ASCII every pattern is worth trying: there, case-insensitive
    matching reaches beyond `str.lower` (the long s, U+017F, matches 's').
    """

    def __init__(self, starts: dict[str, str]) -> None:
        self.every = frozenset(starts)
        by_first: dict[str, set[str]] = {}
        for name, characters in starts.items():
            for character in characters.lower() + characters.upper():
                by_first.setdefault(character, set()).add(name)
        self.by_first = {character: frozenset(names) for character, names in by_first.items()}
        self.none: frozenset[str] = frozenset()

    def of(self, text: str) -> frozenset[str]:
        """The names of the patterns that can match `text`."""
        if not text.isascii():
            return self.every
        return self.by_first.get(text[:1], self.none)
