"""Memories: upsert by id, dedupe by content hash, exact filters and full-text ranking.

Every write is held to the limits (codifier/limits.py) here, whoever makes it: the
update_memory tool, the playbook skill, a step's `remember:`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from codifier.limits import DEFAULT_LIMITS, Limits
from codifier.storable import excerpt, json_bytes, text_bytes, text_problem, value_problem
from codifier.store.database import Connection, record

MEMORY_TYPES = ("rule", "document", "api_contract", "learning", "research_finding")
MAX_LIMIT = 100
_COLUMNS = (
    "id, project_id, type, title, content, tags, source_role, metadata, content_hash,"
    " created_at, updated_at"
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
) -> tuple[dict[str, Any], bool]:
    """(the memory, whether it was created). With an id: update that memory.

    Raises MemoryRefused when the memory breaks a limit, and MemoryQuotaReached when it
    would be one memory more than the project may hold. Either way nothing is written
    (the caller's transaction rolls back on the exception)."""
    if problem := memory_problem(memory, limits):
        raise MemoryRefused(problem)
    digest = content_hash(memory.memory_type, memory.content)
    tags = sorted(set(memory.tags))
    if memory_id is not None:
        try:
            row = await _update(conn, memory_id, memory, tags, digest)
        except asyncpg.UniqueViolationError:
            raise MemoryRefused(
                "another memory of this project already has this type and content;"
                " update that one instead"
            ) from None
        if row is None:
            raise MemoryNotFound(f"no memory with id {memory_id} in this project")
        result = record(row)
        assert result is not None
        return result, False
    # Writers of one project's new memories take turns (a lock held to the end of the
    # transaction), so the count below sees every committed memory and the quota holds
    # exactly, even under concurrent writes.
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _quota_lock(project_id))
    # A duplicate merges its tags into the stored memory's; the WHERE keeps the merged
    # list within the limit (no row comes back when it would not be).
    row = await conn.fetchrow(
        "WITH existing AS (SELECT count(*) AS n FROM memories WHERE project_id = $1)"
        " INSERT INTO memories (project_id, type, title, content, tags, source_role, metadata,"
        " content_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (project_id, content_hash) DO UPDATE SET"
        "  title = EXCLUDED.title,"
        "  tags = ARRAY(SELECT DISTINCT unnest(memories.tags || EXCLUDED.tags) ORDER BY 1),"
        "  updated_at = clock_timestamp()"
        " WHERE cardinality(ARRAY(SELECT DISTINCT unnest(memories.tags || EXCLUDED.tags)))"
        "  <= $9"
        f" RETURNING {_COLUMNS}, (xmax = 0) AS created, (SELECT n FROM existing) AS existing",
        project_id,
        memory.memory_type,
        memory.title,
        memory.content,
        tags,
        memory.source_role,
        memory.metadata,
        digest,
        limits.tags,
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
    existing = int(result.pop("existing"))
    if created and existing >= limits.memories_per_project:
        raise MemoryQuotaReached(
            f"the project holds {existing:,} memories, the most allowed"
            f" ({limits.setting('memories_per_project')}); delete some with delete_memory"
            " or update existing ones by id"
        )
    return result, created


async def _update(
    conn: Connection, memory_id: UUID, memory: NewMemory, tags: list[str], digest: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE memories SET type = $2, title = $3, content = $4, tags = $5,"
        " source_role = coalesce($6, source_role), metadata = $7, content_hash = $8,"
        f" updated_at = clock_timestamp() WHERE id = $1 RETURNING {_COLUMNS}",
        memory_id,
        memory.memory_type,
        memory.title,
        memory.content,
        tags,
        memory.source_role,
        memory.metadata,
        digest,
    )


def _quota_lock(project_id: UUID) -> int:
    """The advisory lock key of a project's memory writes (a signed 64-bit int)."""
    digest = hashlib.sha256(b"codifier:memories:" + project_id.bytes).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def fetch(
    conn: Connection,
    project_id: UUID,
    *,
    memory_type: str | None = None,
    tags: list[str] | None = None,
    query: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Newest first, or by relevance when `query` is given."""
    conditions = ["project_id = $1"]
    args: list[Any] = [project_id]
    if memory_type:
        args.append(memory_type)
        conditions.append(f"type = ${len(args)}")
    if tags:
        args.append(sorted(set(tags)))
        conditions.append(f"tags @> ${len(args)}")
    order = "created_at DESC, id DESC"
    select = _COLUMNS
    if query and query.strip():
        args.append(query)
        q = f"websearch_to_tsquery('english', ${len(args)})"
        conditions.append(f"search @@ {q}")
        select += f", ts_rank_cd(search, {q}) AS rank"
        order = "rank DESC, " + order
    # LIMIT and OFFSET are written into the text (they are ints): as parameters they
    # push PostgreSQL to a generic plan that ignores how small the page is.
    sql = (
        f"SELECT {select} FROM memories WHERE {' AND '.join(conditions)}"
        f" ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}"
    )
    rows = [r for r in map(record, await conn.fetch(sql, *args)) if r is not None]
    for row in rows:
        row.pop("rank", None)
    return rows


async def delete(conn: Connection, memory_id: UUID) -> bool:
    deleted = await conn.fetchval("DELETE FROM memories WHERE id = $1 RETURNING id", memory_id)
    return deleted is not None
