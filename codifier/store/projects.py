"""Projects and each caller's default project."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from codifier.store.database import Connection, record

_COLUMNS = "id, name, description, created_at"


class ProjectExists(ValueError):
    pass


async def create(conn: Connection, name: str, description: str) -> dict[str, Any]:
    try:
        row = await conn.fetchrow(
            f"INSERT INTO projects (name, description) VALUES ($1, $2) RETURNING {_COLUMNS}",
            name,
            description,
        )
    except asyncpg.UniqueViolationError:
        raise ProjectExists(f"a project named '{name}' already exists") from None
    result = record(row)
    assert result is not None
    return result


async def list_all(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM projects ORDER BY name")
    return [r for r in map(record, rows) if r is not None]


async def get(conn: Connection, project_id: UUID) -> dict[str, Any] | None:
    return record(await conn.fetchrow(f"SELECT {_COLUMNS} FROM projects WHERE id = $1", project_id))


async def find(conn: Connection, name: str) -> dict[str, Any] | None:
    return record(await conn.fetchrow(f"SELECT {_COLUMNS} FROM projects WHERE name = $1", name))


async def set_default(conn: Connection, principal: str, project_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO principal_defaults (principal, project_id) VALUES ($1, $2)"
        " ON CONFLICT (principal) DO UPDATE SET project_id = EXCLUDED.project_id",
        principal,
        project_id,
    )


async def get_default(conn: Connection, principal: str) -> UUID | None:
    value = await conn.fetchval(
        "SELECT project_id FROM principal_defaults WHERE principal = $1", principal
    )
    return UUID(str(value)) if value is not None else None
