"""Memory search: Okapi BM25 over PostgreSQL's own lexemes, vector similarity with
pgvector, and a fusion of the two (docs/server.md, "Searching memories").

Each stage is a module: `filters` (which memories a call may rank), `lexical` (BM25),
`semantic` (nearest vectors), `fusion` (a convex combination of normalised scores).
`codifier.store.memories` puts them together for `fetch_context`.
"""

from codifier.search.filters import MemoryFilter
from codifier.search.fusion import convex_fusion
from codifier.search.lexical import CorpusStats, StatsCache, text_ranking
from codifier.search.semantic import Embedding, embedding_text, vector_literal, vector_ranking

__all__ = [
    "CorpusStats",
    "Embedding",
    "MemoryFilter",
    "StatsCache",
    "convex_fusion",
    "embedding_text",
    "text_ranking",
    "vector_literal",
    "vector_ranking",
]
