"""Applying the numbered SQL migrations, once each, in order, under an advisory lock so
that several servers starting together do not race."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from codifier.resources import data_dir

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK = 0x636F6469  # "codi": the advisory lock that serialises migrations


def migration_files(folder: Path | None = None) -> list[Path]:
    folder = folder or data_dir("migrations")
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name))


@asynccontextmanager
async def migration_lock(connection: asyncpg.Connection[asyncpg.Record]) -> AsyncIterator[None]:
    """Held while changing the schema or its roles: one process at a time."""
    await connection.execute("SELECT pg_advisory_lock($1)", _LOCK)
    try:
        yield
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK)


async def migrate(
    connection: asyncpg.Connection[asyncpg.Record], folder: Path | None = None
) -> list[str]:
    """Apply what is missing; the names of the migrations applied now."""
    applied_now: list[str] = []
    async with migration_lock(connection):
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await connection.fetch("SELECT name FROM schema_migrations")}
        for path in migration_files(folder):
            if path.name in done:
                continue
            async with connection.transaction():
                await connection.execute(path.read_text(encoding="utf-8"))
                await connection.execute(
                    "INSERT INTO schema_migrations (name) VALUES ($1)", path.name
                )
            applied_now.append(path.name)
    return applied_now
