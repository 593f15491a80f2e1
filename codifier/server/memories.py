"""fetch_context, update_memory, delete_memory."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from codifier.limits import Limits
from codifier.server.access import Access, parse_id, require_id
from codifier.server.errors import invalid, not_found, quota
from codifier.server.principal import Principal
from codifier.store import memories
from codifier.store.database import Database, Scope
from codifier.store.memories import NewMemory


class MemoryTools:
    def __init__(self, db: Database, access: Access, limits: Limits | None = None) -> None:
        self.db = db
        self.access = access
        self.limits = limits or Limits.from_env()

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
        if not 0 <= offset <= self.limits.offset:
            raise invalid(
                f"offset must be between 0 and {self.limits.offset:,}"
                f" ({self.limits.setting('offset')}); narrow the search with memory_type,"
                " tags or query instead"
            )
        if memory_type is not None and (problem := memories.type_problem(memory_type)):
            raise invalid(problem)
        if problem := memories.filter_problem(tags, query, self.limits):
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
        # Checked before any transaction; upsert checks again for its other callers.
        if problem := memories.memory_problem(memory, self.limits):
            raise invalid(problem)
        target = parse_id(memory_id, "id")
        async with self.access.in_project(who, project_id) as (found, conn):
            try:
                row, created = await memories.upsert(
                    conn, UUID(found["id"]), memory, target, self.limits
                )
            except memories.MemoryNotFound as error:
                raise not_found(str(error)) from None
            except memories.MemoryRefused as error:
                raise invalid(str(error)) from None
            except memories.MemoryQuotaReached as error:
                raise quota(str(error)) from None
        return {"memory": row, "created": created}

    async def delete(
        self, who: Principal, project_id: str | None, memory_id: str
    ) -> dict[str, Any]:
        target = require_id(memory_id, "id", "of the memory (fetch_context lists them)")
        async with self.access.in_project(who, project_id) as (_, conn):
            if not await memories.delete(conn, target):
                raise not_found(f"no memory with id {target} in this project")
        return {"deleted": str(target)}
