"""Code chunks of a snapshot with their vectors, for semantic code search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

from codifier.search.semantic import vector_literal
from codifier.store.database import Connection, record


class EmbeddedChunk(NamedTuple):
    path: str
    start_line: int
    end_line: int
    symbol: str
    vector: Sequence[float]


async def insert(
    conn: Connection,
    snapshot_id: UUID,
    project_id: UUID,
    first_ordinal: int,
    model: str,
    chunks: Sequence[EmbeddedChunk],
) -> None:
    if not chunks:
        return
    await conn.execute(
        "INSERT INTO snapshot_chunks (snapshot_id, project_id, ordinal, path, start_line,"
        " end_line, symbol, embedding, embedding_model)"
        " SELECT $1, $2, o, p, s, e, y, v::vector, $3 FROM unnest($4::int[], $5::text[],"
        " $6::int[], $7::int[], $8::text[], $9::text[]) AS u(o, p, s, e, y, v)"
        " ON CONFLICT (snapshot_id, ordinal) DO NOTHING",
        snapshot_id,
        project_id,
        model,
        list(range(first_ordinal, first_ordinal + len(chunks))),
        [c.path for c in chunks],
        [c.start_line for c in chunks],
        [c.end_line for c in chunks],
        [c.symbol for c in chunks],
        [vector_literal(c.vector) for c in chunks],
    )


async def count(conn: Connection, snapshot_id: UUID) -> int:
    value = await conn.fetchval(
        "SELECT count(*) FROM snapshot_chunks WHERE snapshot_id = $1", snapshot_id
    )
    return int(value)


async def nearest(
    conn: Connection, snapshot_id: UUID, model: str, vector: Sequence[float], limit: int
) -> list[dict[str, Any]]:
    """The chunks closest in meaning (cosine), best first. An exact scan: a snapshot has
    at most CODIFIER_SNAPSHOT_EMBED_CHUNKS chunks, so no approximate index is needed."""
    rows = await conn.fetch(
        "SELECT path, start_line, end_line, symbol,"
        " 1 - (embedding <=> $3::text::vector) AS score FROM snapshot_chunks"
        " WHERE snapshot_id = $1 AND embedding_model = $2"
        " ORDER BY embedding <=> $3::text::vector, ordinal LIMIT $4",
        snapshot_id,
        model,
        vector_literal(vector),
        limit,
    )
    return [r for row in rows if (r := record(row)) is not None]
