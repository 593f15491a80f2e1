"""Okapi BM25 over the lexemes PostgreSQL's English configuration makes.

`memory_terms` (migrations/0003) holds one posting per (memory, lexeme) with its
field-weighted term frequency (title x3, tags x2, content x1) and the memory's weighted
length. A query's lexemes are looked up in the project's postings, each lexeme's
postings read best first (by a write-time impact) up to POSTINGS_PER_LEXEME, and scored
with the project's real statistics: rare words weigh more, a missing word lowers a
score instead of dropping the memory (unlike `websearch_to_tsquery`, which needs all).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from codifier.search.filters import MemoryFilter
from codifier.store.database import Connection

K1 = 1.2
B = 0.75
# Bounds on the work of one query: a lexeme's postings read (best first) and the
# document frequency counted (beyond it a word is common, and its idf small anyway).
POSTINGS_PER_LEXEME = 1000
DF_CAP = 10_000
# The filters (type, tags, current only) are checked on the best CANDIDATES_PER_RESULT x
# depth scores first; only when that leaves the page short is every score checked.
CANDIDATES_PER_RESULT = 4
STATS_SECONDS = 60.0  # corpus statistics drift slowly: one scan a minute per project


@dataclass(frozen=True, slots=True)
class CorpusStats:
    documents: float  # memories in the project
    average_length: float  # their mean weighted length


class StatsCache:
    """Per-project corpus statistics, recomputed at most every STATS_SECONDS."""

    def __init__(self) -> None:
        self._stats: dict[UUID, tuple[float, CorpusStats]] = {}

    async def get(self, conn: Connection, project_id: UUID) -> CorpusStats:
        now = time.monotonic()
        cached = self._stats.get(project_id)
        if cached is not None and now - cached[0] < STATS_SECONDS:
            return cached[1]
        row = await conn.fetchrow(
            "SELECT count(*)::float8 AS n, coalesce(avg(term_length), 0)::float8 AS avgdl"
            " FROM memories WHERE project_id = $1",
            project_id,
        )
        assert row is not None
        stats = CorpusStats(max(float(row["n"]), 1.0), max(float(row["avgdl"]), 1.0))
        if len(self._stats) > 10_000:
            self._stats.clear()
        self._stats[project_id] = (now, stats)
        return stats


async def text_ranking(
    conn: Connection, query: str, where: MemoryFilter, depth: int, stats: CorpusStats
) -> list[tuple[str, float]]:
    """(memory id, BM25 score) of the `depth` best memories, best first."""
    best = await _ranked(conn, query, where, depth, stats, depth * CANDIDATES_PER_RESULT)
    if len(best) < depth:  # the filters dropped many of the best: look at every score
        best = await _ranked(conn, query, where, depth, stats, None)
    return best


async def _ranked(
    conn: Connection,
    query: str,
    where: MemoryFilter,
    depth: int,
    stats: CorpusStats,
    candidates: int | None,
) -> list[tuple[str, float]]:
    args: list[Any] = [query, stats.documents, stats.average_length]
    condition = where.where(args)
    project = "$4"  # where() appends the project first
    cap = f"LIMIT {int(candidates)}" if candidates is not None else ""
    sql = f"""
WITH q AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', $1))),
df AS MATERIALIZED (
    SELECT q.lexeme, (SELECT count(*) FROM (
        SELECT 1 FROM memory_terms t WHERE t.project_id = {project} AND t.lexeme = q.lexeme
        LIMIT {DF_CAP}) c)::float8 AS df
    FROM q
),
postings AS (
    SELECT df.df, p.memory_id, p.tf, p.dl FROM df CROSS JOIN LATERAL (
        SELECT memory_id, tf, dl FROM memory_terms t
        WHERE t.project_id = {project} AND t.lexeme = df.lexeme
        ORDER BY impact DESC LIMIT {POSTINGS_PER_LEXEME}) p
),
scored AS (
    SELECT memory_id, sum(
        ln(1 + (greatest($2::float8, df) - df + 0.5) / (df + 0.5))
        * tf * {K1 + 1} / (tf + {K1} * (1 - {B} + {B} * dl / $3::float8))
    ) AS score
    FROM postings GROUP BY memory_id
)
SELECT s.memory_id::text AS id, s.score
FROM (SELECT * FROM scored ORDER BY score DESC {cap}) s JOIN memories m ON m.id = s.memory_id
WHERE {condition}
ORDER BY s.score DESC, s.memory_id LIMIT {int(depth)}
"""
    rows = await conn.fetch(sql, *args)
    return [(str(row["id"]), float(row["score"])) for row in rows]
