"""The store on a real PostgreSQL: migrations, memories, sessions, keys, and row-level
security that holds even when a query forgets its project filter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from codifier.search import MemoryFilter
from codifier.store import keys, memories, projects, sessions
from codifier.store.database import ADMIN, Database, Scope
from codifier.store.memories import NewMemory

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await Database.connect(database_url, max_size=4)
    yield database
    await database.close()


async def _project(db: Database, name: str | None = None) -> UUID:
    async with db.transaction(ADMIN) as conn:
        row = await projects.create(conn, name or f"p-{uuid.uuid4().hex[:8]}", "")
    return UUID(row["id"])


async def test_migrations_are_applied_once(database_url: str) -> None:
    first = await Database.connect(database_url)
    second = await Database.connect(database_url)  # no error, nothing applied twice
    async with first.pool.acquire() as conn:
        names = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")]
    assert names.count("0001_init.sql") == 1
    await first.close()
    await second.close()


async def test_rls_hides_other_projects_even_without_a_filter(db: Database) -> None:
    a, b = await _project(db), await _project(db)
    for project in (a, b):
        async with db.transaction(Scope.project(project)) as conn:
            await memories.upsert(conn, project, NewMemory("learning", "t", f"in {project}"))
    async with db.transaction(Scope.project(a)) as conn:
        # Raw SQL with no WHERE clause: the database itself scopes the rows.
        rows = await conn.fetch("SELECT project_id FROM memories")
        seen = {r["project_id"] for r in rows}
        assert seen == {str(a)}
        assert await conn.fetchval("SELECT count(*) FROM projects") == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO memories (project_id, type, title, content, content_hash)"
                " VALUES ($1, 'learning', 'x', 'y', 'z')",
                b,
            )
    async with db.transaction(Scope.project(a)) as conn:
        assert (
            await conn.fetchval(
                "UPDATE memories SET title = 'hacked' WHERE project_id = $1 RETURNING id", b
            )
            is None
        )


async def test_a_transaction_without_a_project_sees_nothing(db: Database) -> None:
    await _project(db)
    async with db.transaction(Scope(None)) as conn:
        assert await conn.fetchval("SELECT count(*) FROM projects") == 0
        assert await conn.fetchval("SELECT count(*) FROM memories") == 0


async def test_upsert_dedupes_by_content_and_updates_by_id(db: Database) -> None:
    project = await _project(db)
    async with db.transaction(Scope.project(project)) as conn:
        first, created = await memories.upsert(
            conn, project, NewMemory("rule", "Use cents", "Store money as cents.", ["money"])
        )
        assert created
        again, created = await memories.upsert(
            conn, project, NewMemory("rule", "Cents", "  Store money as cents.  ", ["billing"])
        )
        assert not created
        assert again["id"] == first["id"]
        assert again["tags"] == ["billing", "money"]
        updated, _ = await memories.upsert(
            conn, project, NewMemory("rule", "Use cents", "Never floats."), UUID(first["id"])
        )
        assert updated["content"] == "Never floats."
        with pytest.raises(memories.MemoryNotFound):
            await memories.upsert(conn, project, NewMemory("rule", "x", "y"), uuid.uuid4())


async def test_fetch_filters_and_ranks(db: Database) -> None:
    project = await _project(db)
    async with db.transaction(Scope.project(project)) as conn:
        for title, content, kind, tags in [
            (
                "Churn by plan",
                "Churn is highest on the monthly plan.",
                "research_finding",
                ["churn"],
            ),
            ("Revenue", "Revenue grew in March; churn mentioned once.", "research_finding", []),
            ("Cents", "Money is stored as integer cents.", "rule", ["money", "churn"]),
        ]:
            await memories.upsert(conn, project, NewMemory(kind, title, content, tags))
        where = MemoryFilter(project)

        async def titles(**kwargs: Any) -> list[str]:
            page = await memories.fetch(conn, kwargs.pop("where", where), **kwargs)
            return [m["title"] for m in page.memories]

        newest = await memories.fetch(conn, where)
        assert [m["title"] for m in newest.memories] == ["Cents", "Revenue", "Churn by plan"]
        assert (newest.total, newest.has_more) == (3, False)
        assert await titles(where=MemoryFilter(project, "rule")) == ["Cents"]
        # Tag filters ignore case.
        assert await titles(where=MemoryFilter(project, tags=["CHURN", "Money"])) == ["Cents"]
        # BM25: a missing word lowers the rank instead of dropping the memory; the title
        # and tags weigh more than the content.
        ranked = await memories.fetch(conn, where, query="churn monthly plan", mode="text")
        assert [m["title"] for m in ranked.memories] == ["Churn by plan", "Cents", "Revenue"]
        scores = [m["score"] for m in ranked.memories]
        assert scores == sorted(scores, reverse=True)
        assert scores[-1] > 0
        assert await titles(query="nothing matches this", mode="text") == []
        second = await memories.fetch(conn, where, limit=1, offset=1)
        assert second.memories == [newest.memories[1]]
        assert (second.total, second.has_more) == (3, True)


async def test_session_updates_are_optimistic(db: Database) -> None:
    project = await _project(db)
    async with db.transaction(Scope.project(project)) as conn:
        row = await sessions.create(
            conn,
            project_id=project,
            playbook_id="x",
            playbook_version=1,
            source_hash="h",
            program={"p": 1},
            state={"pc": 0},
            status="awaiting_input",
            created_by="admin",
        )
    session_id = UUID(row["id"])

    async def write(n: int) -> bool:
        async with db.transaction(Scope.project(project)) as conn:
            return await sessions.update(conn, session_id, 1, {"pc": n}, "awaiting_input")

    results = await asyncio.gather(*(write(n) for n in range(10)))
    assert results.count(True) == 1
    async with db.transaction(Scope.project(project)) as conn:
        final = await sessions.get(conn, session_id)
    assert final is not None
    assert final["row_version"] == 2
    assert final["state"]["pc"] == results.index(True)


async def test_keys_are_hashed_shown_once_and_revocable(db: Database) -> None:
    project = await _project(db)
    async with db.transaction(ADMIN) as conn:
        row, secret = await keys.create(conn, project, "ci")
        stored = await conn.fetchrow("SELECT * FROM api_keys WHERE id = $1", UUID(row["id"]))
        assert stored is not None
        assert secret not in str(dict(stored.items()))
        assert (await keys.verify(conn, secret) or {})["id"] == row["id"]
        assert await keys.revoke(conn, UUID(row["id"]))
        assert await keys.verify(conn, secret) is None
