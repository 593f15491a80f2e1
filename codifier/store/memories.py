"""Memories: upsert by id, dedupe by content hash, exact filters and full-text ranking.

Every write is held to the limits (codifier/limits.py) here, whoever makes it: the
update_memory tool, the playbook skill, a step's `remember:`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import asyncpg

from codifier.limits import DEFAULT_LIMITS, Limits
from codifier.search import (
    Embedding,
    MemoryFilter,
    StatsCache,
    convex_fusion,
    text_ranking,
    vector_literal,
    vector_ranking,
)
from codifier.storable import excerpt, json_bytes, text_bytes, text_problem, value_problem
from codifier.store.database import Connection, record

MEMORY_TYPES = ("rule", "document", "api_contract", "learning", "research_finding")
MAX_LIMIT = 100
_COLUMNS = (
    "id, project_id, type, title, content, tags, source_role, metadata, content_hash,"
    " created_at, updated_at, created_by, updated_by, superseded_by"
)


def limit_problem(limit: int) -> str | None:
    """Why a page size is refused, or None (the tool and the skill share the rule)."""
    return None if 1 <= limit <= MAX_LIMIT else f"limit must be between 1 and {MAX_LIMIT}"


def type_problem(memory_type: str) -> str | None:
    """Why a memory type is refused, or None."""
    if memory_type in MEMORY_TYPES:
        return None
    return f"unknown memory_type '{excerpt(memory_type)}' (one of: {', '.join(MEMORY_TYPES)})"


class MemoryNotFound(LookupError):
    pass


class MemoryRefused(ValueError):
    """The memory breaks a limit (a size, its tags); nothing was written."""


class MemoryQuotaReached(RuntimeError):
    """The project holds as many memories as it may; nothing was written."""


@dataclass(frozen=True, slots=True)
class NewMemory:
    memory_type: str
    title: str
    content: str
    tags: list[str] = field(default_factory=list)
    source_role: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who writes a memory (the key's name, or admin), and what it replaces."""

    author: str = "unknown"
    supersedes: UUID | None = None  # this memory replaces that one (kept as history)
    # An update by id keeps the stored tags and metadata unless the call gives them.
    keep_tags: bool = False
    keep_metadata: bool = False


class SupersedeRefused(ValueError):
    """`supersedes` names a memory that cannot be replaced; nothing was written."""


def memory_problem(memory: NewMemory, limits: Limits) -> str | None:
    """Why the memory may not be stored, or None. One sentence: what, where, how to fix."""
    if problem := type_problem(memory.memory_type):
        return problem
    if not memory.title.strip() or not memory.content.strip():
        return "title and content must not be empty"
    for name, text in (("title", memory.title), ("content", memory.content)):
        if problem := text_problem(text):
            return f"{name} {problem}; remove it"
    if len(memory.title) > limits.title_chars:
        return _too_long("title", len(memory.title), limits.title_chars, "characters", limits)
    size = text_bytes(memory.content)
    if size > limits.memory_bytes:
        return _too_long("content", size, limits.memory_bytes, "bytes", limits)
    if len(memory.tags) > limits.tags:
        return (
            f"tags has {len(memory.tags):,} entries, more than the {limits.tags:,} allowed"
            f" ({limits.setting('tags')}); keep the ones that matter"
        )
    for index, tag in enumerate(memory.tags):
        if problem := text_problem(tag):
            return f"tags[{index}] {problem}; remove it"
        if len(tag) > limits.tag_chars:
            return _too_long(f"tags[{index}]", len(tag), limits.tag_chars, "characters", limits)
    if memory.source_role is not None:
        if problem := text_problem(memory.source_role):
            return f"source_role {problem}; remove it"
        if len(memory.source_role) > limits.label_chars:
            return _too_long(
                "source_role", len(memory.source_role), limits.label_chars, "characters", limits
            )
    if problem := value_problem(memory.metadata, "metadata"):
        return f"{problem}; remove it"
    size = json_bytes(memory.metadata)
    if size > limits.metadata_bytes:
        return _too_long("metadata", size, limits.metadata_bytes, "bytes of JSON", limits)
    return None


_SETTINGS = {
    "query": "query_chars",
    "title": "title_chars",
    "content": "memory_bytes",
    "source_role": "label_chars",
    "metadata": "metadata_bytes",
}


def _too_long(what: str, size: int, most: int, unit: str, limits: Limits) -> str:
    setting = limits.setting(_SETTINGS.get(what, "tag_chars"))
    return f"{what} has {size:,} {unit}, more than the {most:,} allowed ({setting}); shorten it"


def filter_problem(tags: list[str] | None, query: str | None, limits: Limits) -> str | None:
    """Why fetch filters (tags that must all match, a full-text query) are refused."""
    if query is not None and len(query) > limits.query_chars:
        return _too_long("query", len(query), limits.query_chars, "characters", limits)
    tags = tags or []
    if len(tags) > limits.tags:
        return (
            f"tags has {len(tags):,} entries, more than the {limits.tags:,} allowed"
            f" ({limits.setting('tags')}); filter on fewer"
        )
    for index, tag in enumerate(tags):
        if len(tag) > limits.tag_chars:
            return _too_long(f"tags[{index}]", len(tag), limits.tag_chars, "characters", limits)
    return None


def content_hash(memory_type: str, content: str) -> str:
    """Two memories are the same when their type and trimmed content are."""
    return hashlib.sha256(f"{memory_type}\0{content.strip()}".encode()).hexdigest()


async def upsert(
    conn: Connection,
    project_id: UUID,
    memory: NewMemory,
    memory_id: UUID | None = None,
    limits: Limits = DEFAULT_LIMITS,
    provenance: Provenance = Provenance(),
    embedding: Embedding | None = None,
) -> tuple[dict[str, Any], bool]:
    """(the memory, whether it was created). With an id: update that memory.

    `provenance.supersedes` marks that memory as replaced by this one. Raises
    MemoryRefused when the memory breaks a limit, MemoryQuotaReached when it would be one
    memory more than the project may hold, SupersedeRefused for a bad `supersedes`.
    Either way nothing is written (the caller's transaction rolls back on the exception)."""
    if problem := memory_problem(memory, limits):
        raise MemoryRefused(problem)
    digest = content_hash(memory.memory_type, memory.content)
    tags = _distinct_tags(memory.tags)
    vector = vector_literal(embedding.vector) if embedding else None
    model = embedding.model if embedding else None
    if memory_id is not None:
        try:
            row = await _update(conn, memory_id, memory, tags, digest, provenance, vector, model)
        except asyncpg.UniqueViolationError:
            raise MemoryRefused(
                "another memory of this project already has this type and content;"
                " update that one instead"
            ) from None
        if row is None:
            raise MemoryNotFound(f"no memory with id {memory_id} in this project")
        result = record(row)
        assert result is not None
        await _supersede(conn, provenance.supersedes, result)
        return result, False
    # A duplicate merges its tags into the stored memory's; the WHERE keeps the merged
    # list within the limit (no row comes back when it would not be). A duplicate keeps
    # its vector unless it has none.
    row = await conn.fetchrow(
        "INSERT INTO memories (project_id, type, title, content, tags, source_role, metadata,"
        " content_hash, created_by, updated_by, embedding, embedding_model)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $10, $11::text::vector, $12)"
        " ON CONFLICT (project_id, content_hash) DO UPDATE SET"
        "  title = EXCLUDED.title,"
        "  tags = ARRAY(SELECT DISTINCT unnest(memories.tags || EXCLUDED.tags) ORDER BY 1),"
        "  updated_at = clock_timestamp(), updated_by = EXCLUDED.updated_by,"
        "  embedding = coalesce(memories.embedding, EXCLUDED.embedding),"
        "  embedding_model = CASE WHEN memories.embedding IS NULL"
        "   THEN EXCLUDED.embedding_model ELSE memories.embedding_model END"
        " WHERE cardinality(ARRAY(SELECT DISTINCT unnest(memories.tags || EXCLUDED.tags)))"
        "  <= $9"
        f" RETURNING {_COLUMNS}, (xmax = 0) AS created",
        project_id,
        memory.memory_type,
        memory.title,
        memory.content,
        tags,
        memory.source_role,
        memory.metadata,
        digest,
        limits.tags,
        provenance.author,
        vector,
        model,
    )
    if row is None:
        raise MemoryRefused(
            f"the same content is already stored with other tags, and together they would be"
            f" more than the {limits.tags:,} tags allowed ({limits.setting('tags')});"
            " pass fewer or other tags"
        )
    result = record(row)
    assert result is not None
    created = bool(result.pop("created"))
    # The insert's trigger counted it (migrations/0003), and holds that project's counter
    # row locked to the end of the transaction: writers of one project take turns here,
    # so the quota holds exactly under concurrent writes.
    held = await conn.fetchval(
        "SELECT memories FROM project_memory_counts WHERE project_id = $1", project_id
    )
    if created and int(held) > limits.memories_per_project:
        raise MemoryQuotaReached(
            f"the project holds {int(held) - 1:,} memories, the most allowed"
            f" ({limits.setting('memories_per_project')}); delete some with delete_memory"
            " or update existing ones by id"
        )
    await _supersede(conn, provenance.supersedes, result)
    return result, created


async def supersede_same_title(conn: Connection, memory: dict[str, Any]) -> None:
    """Mark the project's other current memories of the same type and title as replaced
    by `memory` (a playbook re-run rewrites its artifacts), listed in its `supersedes`."""
    rows = await conn.fetch(
        "UPDATE memories SET superseded_by = $1 WHERE project_id = $2 AND type = $3"
        " AND lower(title) = lower($4) AND id <> $1 AND superseded_by IS NULL RETURNING id",
        memory["id"],
        memory["project_id"],
        memory["type"],
        memory["title"],
    )
    if rows:
        memory["supersedes"] = [str(r["id"]) for r in rows]


async def _supersede(conn: Connection, old: UUID | None, memory: dict[str, Any]) -> None:
    if old is None:
        return
    if str(old) == str(memory["id"]):
        raise SupersedeRefused("a memory cannot supersede itself; pass another id")
    replaced = await conn.fetchval(
        "UPDATE memories SET superseded_by = $1 WHERE id = $2 RETURNING id", memory["id"], old
    )
    if replaced is None:
        raise SupersedeRefused(
            f"supersedes names no memory of this project ({old}); pass an id fetch_context lists"
        )
    memory["supersedes"] = [str(old)]


def _distinct_tags(tags: list[str]) -> list[str]:
    """Tags once each, compared case-insensitively (the first spelling kept), sorted."""
    seen: dict[str, str] = {}
    for tag in tags:
        seen.setdefault(tag.lower(), tag)
    return sorted(seen.values())


async def _update(
    conn: Connection,
    memory_id: UUID,
    memory: NewMemory,
    tags: list[str],
    digest: str,
    provenance: Provenance,
    vector: str | None,
    model: str | None,
) -> asyncpg.Record | None:
    # A new content needs a new vector: the one given, else none until the indexer runs.
    return await conn.fetchrow(
        "UPDATE memories SET type = $2, title = $3, content = $4,"
        " tags = CASE WHEN $10 THEN tags ELSE $5 END,"
        " source_role = coalesce($6, source_role),"
        " metadata = CASE WHEN $11 THEN metadata ELSE $7 END, content_hash = $8,"
        " updated_by = $9, updated_at = clock_timestamp(),"
        " embedding = CASE WHEN $12::text IS NOT NULL THEN $12::text::vector"
        "  WHEN content_hash = $8 AND title = $3 THEN embedding END,"
        " embedding_model = CASE WHEN $12::text IS NOT NULL THEN $13"
        "  WHEN content_hash = $8 AND title = $3 THEN embedding_model END"
        f" WHERE id = $1 RETURNING {_COLUMNS}",
        memory_id,
        memory.memory_type,
        memory.title,
        memory.content,
        tags,
        memory.source_role,
        memory.metadata,
        digest,
        provenance.author,
        provenance.keep_tags,
        provenance.keep_metadata,
        vector,
        model,
    )


async def similar(
    conn: Connection,
    memory: dict[str, Any],
    embedding: Embedding,
    threshold: float,
    most: int = 5,
) -> list[str]:
    """Current memories of the same type whose vectors are within `threshold` cosine
    similarity of this one: near-duplicates a client may want to supersede."""
    where = MemoryFilter(UUID(str(memory["project_id"])), memory["type"])
    nearest = await vector_ranking(conn, embedding.vector, where, embedding.model, most + 1)
    return [id_ for id_, score in nearest if id_ != str(memory["id"]) and score >= threshold][:most]


SearchMode = Literal["hybrid", "text", "semantic"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "text", "semantic")
# How deep each ranking is read before fusing: the page asked for, and never less than
# this (fusion needs both lists' heads to agree or disagree).
RANKING_DEPTH = 50
MAX_RANKED = 500  # offset + limit past this with a query: nothing more is ranked


@dataclass(frozen=True, slots=True)
class Page:
    memories: list[dict[str, Any]]
    total: int  # memories the filters match (type, tags, current), whatever the query
    has_more: bool


async def fetch(
    conn: Connection,
    where: MemoryFilter,
    *,
    query: str | None = None,
    mode: SearchMode | None = None,
    query_vector: Embedding | None = None,
    stats: StatsCache | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Page:
    """Newest first; or with a query, by relevance: `text` (BM25), `semantic` (vector
    similarity, needs `query_vector`), `hybrid` (both, their normalised scores combined;
    text only when there is no vector). Each memory carries `score` (None without a query)."""
    args: list[Any] = []
    condition = where.where(args)
    total = int(await conn.fetchval(f"SELECT count(*) FROM memories m WHERE {condition}", *args))
    if not (query and query.strip()):
        # LIMIT and OFFSET are written into the text (they are ints): as parameters they
        # push PostgreSQL to a generic plan that ignores how small the page is.
        rows = await conn.fetch(
            f"SELECT {_PREFIXED} FROM memories m WHERE {condition}"
            f" ORDER BY m.created_at DESC, m.id DESC LIMIT {int(limit)} OFFSET {int(offset)}",
            *args,
        )
        page = [_with_score(r, None) for r in rows]
        return Page(page, total, offset + len(page) < total)
    depth = min(max(RANKING_DEPTH, offset + limit), MAX_RANKED)
    textual: list[tuple[str, float]] = []
    nearest: list[tuple[str, float]] = []
    if mode != "semantic" or query_vector is None:
        corpus = await (stats or StatsCache()).get(conn, where.project_id)
        textual = await text_ranking(conn, query, where, depth, corpus)
    if query_vector is not None and mode != "text":
        nearest = await vector_ranking(conn, query_vector.vector, where, query_vector.model, depth)
    ranked: list[tuple[str, float]]
    if not nearest or mode == "text":
        ranked = textual
    elif mode == "semantic":
        ranked = nearest
    else:
        ranked = convex_fusion(textual, nearest)
    # A ranking that filled its depth may go on: the next page reads deeper.
    cut = depth < MAX_RANKED and (len(textual) >= depth or len(nearest) >= depth)
    window = ranked[offset : offset + limit]
    rows = await conn.fetch(
        f"SELECT {_PREFIXED} FROM memories m WHERE m.id = ANY($1::uuid[])",
        [i for i, _ in window],
    )
    by_id = {str(r["id"]): r for r in rows}
    page = [_with_score(by_id[i], score) for i, score in window if i in by_id]
    return Page(page, total, offset + len(page) < len(ranked) or cut)


_PREFIXED = ", ".join(f"m.{c.strip()}" for c in _COLUMNS.split(","))


def _with_score(row: asyncpg.Record, score: float | None) -> dict[str, Any]:
    result = record(row)
    assert result is not None
    result["score"] = None if score is None else round(score, 6)
    return result


async def delete(conn: Connection, memory_id: UUID) -> bool:
    deleted = await conn.fetchval("DELETE FROM memories WHERE id = $1 RETURNING id", memory_id)
    return deleted is not None
