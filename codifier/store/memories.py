"""Memories: upsert by id, dedupe by content hash, exact filters and full-text ranking."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

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
    return f"unknown memory_type '{memory_type}' (one of: {', '.join(MEMORY_TYPES)})"


class MemoryNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class NewMemory:
    memory_type: str
    title: str
    content: str
    tags: list[str] = field(default_factory=list)
    source_role: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def content_hash(memory_type: str, content: str) -> str:
    """Two memories are the same when their type and trimmed content are."""
    return hashlib.sha256(f"{memory_type}\0{content.strip()}".encode()).hexdigest()


async def upsert(
    conn: Connection, project_id: UUID, memory: NewMemory, memory_id: UUID | None = None
) -> tuple[dict[str, Any], bool]:
    """(the memory, whether it was created). With an id: update that memory."""
    digest = content_hash(memory.memory_type, memory.content)
    tags = sorted(set(memory.tags))
    if memory_id is not None:
        row = await conn.fetchrow(
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
        if row is None:
            raise MemoryNotFound(f"no memory with id {memory_id} in this project")
        result = record(row)
        assert result is not None
        return result, False
    row = await conn.fetchrow(
        "INSERT INTO memories (project_id, type, title, content, tags, source_role, metadata,"
        " content_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (project_id, content_hash) DO UPDATE SET"
        "  title = EXCLUDED.title,"
        "  tags = ARRAY(SELECT DISTINCT unnest(memories.tags || EXCLUDED.tags) ORDER BY 1),"
        "  updated_at = clock_timestamp()"
        f" RETURNING {_COLUMNS}, (xmax = 0) AS created",
        project_id,
        memory.memory_type,
        memory.title,
        memory.content,
        tags,
        memory.source_role,
        memory.metadata,
        digest,
    )
    result = record(row)
    assert result is not None
    created = bool(result.pop("created"))
    return result, created


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
