"""Nearest memories by cosine distance with pgvector.

Vectors of any dimension share one column; each dimension has its own HNSW index
(`memories_embedding_<dim>`, partial on `vector_dims(embedding) = <dim>`), which a query
uses by repeating that expression. Filtered HNSW scans can return fewer rows than asked:
`hnsw.iterative_scan` keeps scanning until the page is full.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codifier.search.filters import MemoryFilter
from codifier.store.database import Connection

EF_SEARCH = 100  # 40 (the default) loses ~1.5 points of recall@10 against exact search


@dataclass(frozen=True, slots=True)
class Embedding:
    """A vector and the model that made it (vectors of different models never mix)."""

    model: str
    vector: list[float]


def embedding_text(title: str, content: str) -> str:
    """What a memory's vector is made from: its title first (a model reads the start)."""
    return f"{title}\n{content}"


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form, which a `$n::text::vector` parameter takes."""
    if not all(math.isfinite(x) for x in vector):
        raise ValueError("an embedding has a non-finite value")
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def vector_ranking(
    conn: Connection, vector: Sequence[float], where: MemoryFilter, model: str, depth: int
) -> list[tuple[str, float]]:
    """(memory id, cosine similarity) of the `depth` nearest memories embedded by `model`."""
    dim = len(vector)
    await conn.execute(
        f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, int(depth))};"
        " SET LOCAL hnsw.iterative_scan = relaxed_order"
    )
    args: list[Any] = [vector_literal(vector), model]
    condition = where.where(args)
    sql = f"""
SELECT id, distance FROM (
    SELECT m.id::text AS id, (m.embedding::vector({dim})) <=> $1::text::vector({dim}) AS distance
    FROM memories m
    WHERE vector_dims(m.embedding) = {dim} AND m.embedding_model = $2 AND {condition}
    ORDER BY distance LIMIT {int(depth)}
) nearest ORDER BY distance, id
"""
    rows = await conn.fetch(sql, *args)
    return [(str(row["id"]), 1.0 - float(row["distance"])) for row in rows]
