"""Published playbooks: versions per id, in a project or server-wide (project_id None)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from codifier.store.database import Connection, record

_COLUMNS = (
    "id, project_id, playbook_id, version, source, templates, program, published_by, created_at"
)
# The first key of the advisory locks serialising publishes of one playbook id.
_PUBLISH_LOCKS = 0x504C4159  # "PLAY"


async def publish(
    conn: Connection,
    project_id: UUID | None,
    playbook_id: str,
    *,
    source: str,
    templates: dict[str, str],
    program: Any,
    published_by: str,
) -> dict[str, Any]:
    """Store the next version of `playbook_id` in that scope."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        _PUBLISH_LOCKS,
        f"{project_id}/{playbook_id}",
    )
    try:
        row = await conn.fetchrow(
            "INSERT INTO playbooks (project_id, playbook_id, version, source, templates,"
            " program, published_by) SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5,"
            " $6 FROM playbooks WHERE project_id IS NOT DISTINCT FROM $1 AND playbook_id = $2"
            f" RETURNING {_COLUMNS}",
            project_id,
            playbook_id,
            source,
            templates,
            program,
            published_by,
        )
    except asyncpg.UniqueViolationError:  # pragma: no cover - the lock serialises publishes
        raise RuntimeError(f"could not store a new version of {playbook_id}") from None
    result = record(row)
    assert result is not None
    return result


async def find(
    conn: Connection, project_id: UUID | None, playbook_id: str, version: int | None
) -> dict[str, Any] | None:
    """The newest (or the given) version: the project's own first, then server-wide."""
    return record(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM playbooks WHERE playbook_id = $2"
            " AND (project_id IS NULL OR project_id = $1)"
            " AND ($3::int IS NULL OR version = $3)"
            " ORDER BY project_id IS NULL, version DESC LIMIT 1",
            project_id,
            playbook_id,
            version,
        )
    )


async def newest(conn: Connection, project_id: UUID | None) -> list[dict[str, Any]]:
    """The newest version of every playbook visible to the project (and server-wide)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (project_id, playbook_id) project_id, playbook_id, version,"
        " program, created_at FROM playbooks WHERE project_id IS NULL OR project_id = $1"
        " ORDER BY project_id, playbook_id, version DESC",
        project_id,
    )
    return [r for row in rows if (r := record(row)) is not None]
