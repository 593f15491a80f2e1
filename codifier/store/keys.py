"""API keys: shown once, stored as a SHA-256 hash, scoped to a project or to admin."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from uuid import UUID

from codifier.store.database import Connection, record

PREFIX = "cdf_"
_COLUMNS = "id, project_id, name, prefix, created_at, revoked_at"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create(
    conn: Connection, project_id: UUID | None, name: str
) -> tuple[dict[str, Any], str]:
    """(the key's row, the secret). The secret is not stored and cannot be shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        "INSERT INTO api_keys (project_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4)"
        f" RETURNING {_COLUMNS}",
        project_id,
        name,
        secret[:12],
        hash_key(secret),
    )
    result = record(row)
    assert result is not None
    return result, secret


async def verify(conn: Connection, secret: str) -> dict[str, Any] | None:
    """The live key with this secret, or None (unknown or revoked)."""
    return record(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
            hash_key(secret),
        )
    )


async def list_keys(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at")
    return [r for r in map(record, rows) if r is not None]


async def revoke(conn: Connection, key_id: UUID) -> bool:
    revoked = await conn.fetchval(
        "UPDATE api_keys SET revoked_at = clock_timestamp()"
        " WHERE id = $1 AND revoked_at IS NULL RETURNING id",
        key_id,
    )
    return revoked is not None
