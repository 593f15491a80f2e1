"""Connections and scoped transactions.

Every transaction runs as the non-owner role `codifier_app` with the caller's project in
`app.project_id`, so row-level security, not only the application's own filters, keeps
projects apart.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from codifier.db.migrate import migrate

# What a scoped transaction hands out (a pooled connection). Subscripted for the type
# checker only: asyncpg's runtime classes are not generic.
if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.pool.PoolConnectionProxy


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a transaction may touch: one project, or all (the server's own work)."""

    project_id: UUID | None
    admin: bool = False

    @classmethod
    def project(cls, project_id: UUID) -> Scope:
        return cls(project_id, False)


ADMIN = Scope(None, True)
NOBODY = Scope(None, False)


async def _init_connection(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    # Ids travel as text: every caller wants strings, and converting each row costs.
    await connection.set_type_codec(
        "uuid", encoder=str, decoder=str, schema="pg_catalog", format="text"
    )


async def _keep_session(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """Released connections need no reset query: transactions only ever change state
    with SET LOCAL, and asyncpg still rolls back a transaction left open."""


class Database:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> Database:
        """A pool on `url`, with the migrations applied."""
        connection = await asyncpg.connect(url)
        try:
            await migrate(connection)
        finally:
            await connection.close()
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=_init_connection, reset=_keep_session
        )
        return cls(pool)

    @asynccontextmanager
    async def transaction(self, scope: Scope) -> AsyncIterator[Connection]:
        project = str(scope.project_id) if scope.project_id else ""
        admin = "on" if scope.admin else "off"
        # BEGIN and the scope in one round trip (the values are a UUID's text and a fixed
        # word, never input); asyncpg's own transaction() would add a second.
        setup = (
            "BEGIN; SET LOCAL ROLE codifier_app;"
            f" SELECT set_config('app.project_id', '{project}', true),"
            f" set_config('app.admin', '{admin}', true)"
        )
        async with self.pool.acquire() as connection:
            await connection.execute(setup)
            try:
                yield connection
            except BaseException:
                if not connection.is_closed():
                    await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")

    async def ping(self) -> bool:
        try:
            async with self.pool.acquire(timeout=2) as connection:
                await connection.fetchval("SELECT 1", timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        await self.pool.close()


def record(row: asyncpg.Record | None) -> dict[str, Any] | None:
    """A row as plain JSON-ready data (UUIDs and times as strings)."""
    if row is None:
        return None
    out = dict(row.items())
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out
