"""fetch_context, update_memory, delete_memory."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from codifier.server.access import Access, parse_id
from codifier.server.errors import invalid, not_found
from codifier.server.principal import Principal
from codifier.store import memories
from codifier.store.database import Database, Scope
from codifier.store.memories import NewMemory


class MemoryTools:
    def __init__(self, db: Database, access: Access) -> None:
        self.db = db
        self.access = access

    async def fetch(
        self,
        who: Principal,
        project_id: str | None,
        memory_type: str | None,
        tags: list[str] | None,
        query: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        if problem := memories.limit_problem(limit):
            raise invalid(problem)
        if offset < 0:
            raise invalid("offset must not be negative")
        if memory_type is not None and (problem := memories.type_problem(memory_type)):
            raise invalid(problem)
        project = await self.access.project_for(who, project_id)
        async with self.db.transaction(Scope.project(project)) as conn:
            rows = await memories.fetch(
                conn,
                project,
                memory_type=memory_type,
                tags=tags,
                query=query,
                limit=limit,
                offset=offset,
            )
            if not rows:  # rows prove the project exists; only an empty page needs a look
                await self.access.require_project(conn, project)
        return {"project_id": str(project), "memories": rows, "count": len(rows)}

    async def update(
        self,
        who: Principal,
        project_id: str | None,
        memory_id: str | None,
        memory: NewMemory,
    ) -> dict[str, Any]:
        if problem := memories.type_problem(memory.memory_type):
            raise invalid(problem)
        if not memory.title.strip() or not memory.content.strip():
            raise invalid("title and content must not be empty")
        target = parse_id(memory_id, "id")
        async with self.access.in_project(who, project_id) as (found, conn):
            try:
                row, created = await memories.upsert(conn, UUID(found["id"]), memory, target)
            except memories.MemoryNotFound as error:
                raise not_found(str(error)) from None
        return {"memory": row, "created": created}

    async def delete(
        self, who: Principal, project_id: str | None, memory_id: str
    ) -> dict[str, Any]:
        target = parse_id(memory_id, "id")
        if target is None:
            raise invalid("delete_memory needs an id")
        async with self.access.in_project(who, project_id) as (_, conn):
            if not await memories.delete(conn, target):
                raise not_found(f"no memory with id {target} in this project")
        return {"deleted": str(target)}
