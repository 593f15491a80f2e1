"""Packed repository snapshots: each pack is the next version of that URL's snapshot."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from codifier.store.database import Connection, record

# The first key of the advisory locks serialising snapshot stores (one per project).
_SNAPSHOT_LOCKS = 0x534E4150  # "SNAP"

_COLUMNS = (
    "id, project_id, url, version, label, commit, file_count, token_count, summary, created_at,"
    " digest, code_facts, semantic"
)


async def create(
    conn: Connection,
    project_id: UUID,
    *,
    url: str,
    label: str | None,
    commit: str | None,
    content: str,
    file_count: int,
    token_count: int,
    summary: dict[str, Any],
    digest: str = "",
    code_facts: dict[str, Any] | None = None,
    semantic: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store a new version; a concurrent pack of the same URL just takes the next one."""
    for _ in range(5):
        try:
            row = await conn.fetchrow(
                "INSERT INTO repositories (project_id, url, version, label, commit, content,"
                " file_count, token_count, summary, digest, code_facts, semantic) SELECT $1, $2,"
                " coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11"
                " FROM repositories WHERE project_id = $1 AND url = $2"
                f" RETURNING {_COLUMNS}",
                project_id,
                url,
                label,
                commit,
                content,
                file_count,
                token_count,
                summary,
                digest,
                code_facts or {},
                semantic or {"status": "none"},
            )
        except asyncpg.UniqueViolationError:
            continue
        result = record(row)
        assert result is not None
        return result
    raise RuntimeError(f"could not store a new version of {url}")


async def lock_project(conn: Connection, project_id: UUID) -> None:
    """Serialise the stores of one project's snapshots until the transaction ends, so
    two packs cannot both pass the quota check on the same bytes."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", _SNAPSHOT_LOCKS, str(project_id)
    )


async def stored_bytes(conn: Connection, project_id: UUID) -> int:
    """Bytes of snapshot text the project stores (every version of every URL).

    octet_length reads a stored text's size from its TOAST header: no text is read."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(octet_length(content)), 0) FROM repositories WHERE project_id = $1",
        project_id,
    )
    return int(value)


async def get(conn: Connection, snapshot_id: UUID) -> dict[str, Any] | None:
    return record(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM repositories WHERE id = $1", snapshot_id)
    )


async def page(
    conn: Connection, snapshot_id: UUID, number: int, size: int
) -> tuple[str, int] | None:
    """Page `number` (1-based) of the snapshot's text and the page count, or None."""
    row = await conn.fetchrow(
        "SELECT substr(content, $2, $3) AS text, length(content) AS total"
        " FROM repositories WHERE id = $1",
        snapshot_id,
        (number - 1) * size + 1,
        size,
    )
    if row is None:
        return None
    pages = max(1, -(-int(row["total"]) // size))
    return str(row["text"]), pages


async def content(conn: Connection, snapshot_id: UUID) -> str | None:
    """The whole packed text (tens of MB at most: callers cache it)."""
    value = await conn.fetchval("SELECT content FROM repositories WHERE id = $1", snapshot_id)
    return None if value is None else str(value)


async def listing(
    conn: Connection, project_id: UUID | None, url: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Snapshots newest first (of one project, or every visible one), and their count."""
    where = ["($1::uuid IS NULL OR project_id = $1)", "($2::text IS NULL OR url = $2)"]
    clause = " AND ".join(where)
    rows = await conn.fetch(
        "SELECT id, project_id, url, version, label, commit, file_count, token_count,"
        " created_at, semantic, code_facts FROM repositories"
        f" WHERE {clause} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
        project_id,
        url,
        limit,
        offset,
    )
    total = await conn.fetchval(
        f"SELECT count(*) FROM repositories WHERE {clause}", project_id, url
    )
    return [r for row in rows if (r := record(row)) is not None], int(total)


async def set_semantic(conn: Connection, snapshot_id: UUID, semantic: dict[str, Any]) -> None:
    await conn.execute("UPDATE repositories SET semantic = $2 WHERE id = $1", snapshot_id, semantic)
