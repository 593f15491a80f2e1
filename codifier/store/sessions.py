"""Playbook runs: the compiled program they started with, their state, and a row version
for optimistic concurrency."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from codifier.store.database import Connection, record

_COLUMNS = (
    "id, project_id, playbook_id, playbook_version, source_hash, program, state, status,"
    " row_version, created_by, created_at, updated_at, templates"
)


async def create(
    conn: Connection,
    *,
    project_id: UUID,
    playbook_id: str,
    playbook_version: int,
    source_hash: str,
    program: Any,
    state: dict[str, Any],
    status: str,
    created_by: str,
    session_id: UUID | None = None,
    templates: dict[str, str] | None = None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO sessions (id, project_id, playbook_id, playbook_version, source_hash,"
        " program, state, status, created_by, templates)"
        " VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        f" RETURNING {_COLUMNS}",
        session_id,
        project_id,
        playbook_id,
        playbook_version,
        source_hash,
        program,
        state,
        status,
        created_by,
        templates,
    )
    result = record(row)
    assert result is not None
    return result


async def get(
    conn: Connection, session_id: UUID, *, with_program: bool = True
) -> dict[str, Any] | None:
    columns = _COLUMNS if with_program else _COLUMNS.replace(" program,", "")
    return record(await conn.fetchrow(f"SELECT {columns} FROM sessions WHERE id = $1", session_id))


async def update(
    conn: Connection,
    session_id: UUID,
    expected_version: int,
    state: dict[str, Any],
    status: str,
) -> bool:
    """Write the new state only if nobody else did since `expected_version` was read."""
    updated = await conn.fetchval(
        "UPDATE sessions SET state = $3, status = $4, row_version = row_version + 1,"
        " updated_at = clock_timestamp() WHERE id = $1 AND row_version = $2 RETURNING row_version",
        session_id,
        expected_version,
        state,
        status,
    )
    return updated is not None


OPEN_STATUSES = ("awaiting_input", "awaiting_generation")


async def count_open(conn: Connection, project_id: UUID) -> int:
    """How many of the project's runs await an answer. Takes a lock held to the end of the
    transaction first, so concurrent starts count one after the other and a quota checked
    against this count holds exactly."""
    digest = hashlib.sha256(b"codifier:sessions:" + project_id.bytes).digest()
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1)", int.from_bytes(digest[:8], "big", signed=True)
    )
    count = await conn.fetchval(
        "SELECT count(*) FROM sessions WHERE project_id = $1 AND status = ANY($2::text[])",
        project_id,
        list(OPEN_STATUSES),
    )
    return int(count)


async def listing(
    conn: Connection,
    project_id: UUID,
    status: str | None,
    playbook_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A project's runs, newest first, with the step each is at (read from its program
    in SQL: the programs themselves never leave the database), and how many match."""
    where = (
        "project_id = $1 AND ($2::text IS NULL OR status = $2)"
        " AND ($3::text IS NULL OR playbook_id = $3)"
    )
    rows = await conn.fetch(
        "SELECT id, playbook_id, playbook_version, status, created_by, created_at, updated_at,"
        " (state->>'pc')::int AS step_index, jsonb_array_length(program->'steps') AS step_count,"
        " program->'steps'->((state->>'pc')::int)->>'id' AS step_id"
        f" FROM sessions WHERE {where} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5",
        project_id,
        status,
        playbook_id,
        limit,
        offset,
    )
    total = await conn.fetchval(
        f"SELECT count(*) FROM sessions WHERE {where}", project_id, status, playbook_id
    )
    return [r for row in rows if (r := record(row)) is not None], int(total)
