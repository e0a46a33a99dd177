"""Benchmark of the pattern bank's embedders: do they find useful patterns?

On the labelled set bench/data/recall_set.json (made by bench/recall_set.py, whose
docstring states the relevance rule): the bank is every task of the example specs,
the queries are the tasks of specs the bank has never seen. For each embedder, embed
the bank's task descriptions (`specloom.patterns.describe.describe`) and each query's,
rank the bank by cosine similarity, and report over the queries:

- recall@5: the share of a query's relevant items in its top 5, averaged;
- recall@5 (capped): the same, divided by min(5, relevant items) instead, so a query
  with 16 relevant items can reach 1.0; `best` is what a perfect ranking gets with the
  plain recall@5;
- hit@5: the share of queries with at least one relevant item in the top 5;
- MRR: the mean of 1 / rank of the first relevant item;
- load time (making the embedder) and embedding time per text (all texts, batched).

By default the ranking is filtered to bank items of the query's task kind, as the
pattern bank's search is (`--no-kind-filter` ranks the whole bank). An embedder that
cannot be loaded prints `unavailable: <reason>`.

    .venv/bin/python -m bench recall [--embedders hashing,minilm] [--no-kind-filter]
        [--by-kind]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from specloom.patterns.describe import describe
from specloom.patterns.embed import Embedder, EmbedderUnavailable, HashingEmbedder

from bench import recall_set

K = 5


def _minilm() -> Embedder:
    from specloom.patterns.embed_minilm import MiniLMEmbedder

    return MiniLMEmbedder()


EMBEDDERS: dict[str, Callable[[], Embedder]] = {"hashing": HashingEmbedder, "minilm": _minilm}


@dataclass
class Corpus:
    bank_keys: list[str]
    bank_kinds: list[str]
    bank_texts: list[str]
    query_keys: list[str]
    query_kinds: list[str]
    query_texts: list[str]
    relevant: list[set[str]]


def corpus() -> Corpus:
    """The labelled set, with the text of every task it names (compiled afresh)."""
    data = recall_set.load()
    found = {
        item.key: item
        for item in recall_set.items(recall_set.bank_paths() + recall_set.query_paths())
    }
    bank = [found[key] for key in data["bank"]]
    queries = [found[q["query"]] for q in data["queries"]]
    return Corpus(
        bank_keys=[b.key for b in bank],
        bank_kinds=[b.task.kind for b in bank],
        bank_texts=[describe(b.task) for b in bank],
        query_keys=[q.key for q in queries],
        query_kinds=[q.task.kind for q in queries],
        query_texts=[describe(q.task) for q in queries],
        relevant=[set(q["relevant"]) for q in data["queries"]],
    )


def dot(left: Sequence[float], right: Sequence[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True))


@dataclass
class Scores:
    recall: float
    recall_capped: float
    best_recall: float
    hit: float
    mrr: float


def score(
    data: Corpus,
    bank_vectors: list[list[float]],
    query_vectors: list[list[float]],
    kind_filter: bool,
    only: str | None = None,
) -> Scores:
    """The figures of one embedder's vectors (unit vectors: cosine is the dot product),
    over every query or those of one task kind (`only`)."""
    recalls, capped, best, hits, reciprocal = [], [], [], [], []
    for index, vector in enumerate(query_vectors):
        if only is not None and data.query_kinds[index] != only:
            continue
        relevant = data.relevant[index]
        candidates = [
            i
            for i in range(len(data.bank_keys))
            if not kind_filter or data.bank_kinds[i] == data.query_kinds[index]
        ]
        ranked = sorted(candidates, key=lambda i: (-dot(vector, bank_vectors[i]), i))
        keys = [data.bank_keys[i] for i in ranked]
        found = len(relevant.intersection(keys[:K]))
        recalls.append(found / len(relevant))
        capped.append(found / min(K, len(relevant)))
        best.append(min(K, len(relevant)) / len(relevant))
        hits.append(1.0 if found else 0.0)
        first = next((rank for rank, key in enumerate(keys, 1) if key in relevant), None)
        reciprocal.append(1.0 / first if first else 0.0)

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    return Scores(mean(recalls), mean(capped), mean(best), mean(hits), mean(reciprocal))


def run(name: str, data: Corpus, kind_filter: bool, by_kind: bool = False) -> str:
    """One line of figures (and one per task kind), or why the embedder is unavailable."""
    started = time.perf_counter()
    try:
        embedder = EMBEDDERS[name]()
    except EmbedderUnavailable as error:
        return f"{name:<10} unavailable: {error}"
    load_s = time.perf_counter() - started
    texts = data.bank_texts + data.query_texts
    embedder.embed(texts[:2])  # warm up (first call of a model is slower)
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    per_text_ms = (time.perf_counter() - started) * 1000 / len(texts)
    bank_vectors, query_vectors = vectors[: len(data.bank_texts)], vectors[len(data.bank_texts) :]
    s = score(data, bank_vectors, query_vectors, kind_filter)
    lines = [
        f"{embedder.name:<20}{s.recall:>10.3f}{s.recall_capped:>10.3f}{s.best_recall:>8.3f}"
        f"{s.hit:>8.3f}{s.mrr:>8.3f}{per_text_ms:>10.2f}{load_s:>9.2f}"
    ]
    for kind in sorted(set(data.query_kinds)) if by_kind else []:
        k = score(data, bank_vectors, query_vectors, kind_filter, kind)
        count = data.query_kinds.count(kind)
        lines.append(
            f"  {kind + f' ({count})':<18}{k.recall:>10.3f}{k.recall_capped:>10.3f}"
            f"{k.best_recall:>8.3f}{k.hit:>8.3f}{k.mrr:>8.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench recall", description=__doc__)
    parser.add_argument("--embedders", default="hashing,minilm", help="hashing, minilm")
    parser.add_argument(
        "--no-kind-filter",
        action="store_true",
        help="rank the whole bank, not only the tasks of the query's kind",
    )
    parser.add_argument("--by-kind", action="store_true", help="also a line per task kind")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.embedders.split(",") if n.strip()]
    unknown = [n for n in names if n not in EMBEDDERS]
    if unknown:
        parser.error(f"unknown embedder(s) {', '.join(unknown)}: use {', '.join(EMBEDDERS)}")
    data = corpus()
    kind_filter = not args.no_kind_filter
    print(
        f"recall: {len(data.query_keys)} queries against a bank of {len(data.bank_keys)} "
        f"tasks (bench/data/recall_set.json), top {K}, cosine, "
        + ("filtered to the query's task kind" if kind_filter else "no filter")
    )
    print(
        f"{'embedder':<20}{'recall@5':>10}{'capped':>10}{'best':>8}{'hit@5':>8}{'MRR':>8}"
        f"{'ms/text':>10}{'load s':>9}"
    )
    for name in names:
        print(run(name, data, kind_filter, args.by_kind), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
