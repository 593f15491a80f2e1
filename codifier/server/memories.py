"""fetch_context, update_memory, delete_memory."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from codifier.limits import Limits
from codifier.search import MemoryFilter, StatsCache, embedding_text
from codifier.search.indexer import MemoryIndexer
from codifier.search.recall import search_memories
from codifier.server.access import Access, parse_id, require_id
from codifier.server.errors import invalid, not_found, quota
from codifier.server.principal import Principal
from codifier.store import memories
from codifier.store.database import Database, Scope
from codifier.store.memories import NewMemory, Provenance

SIMILAR_COSINE = 0.95  # "nearly identical": a rewording, not a related note


class MemoryTools:
    def __init__(
        self,
        db: Database,
        access: Access,
        limits: Limits | None = None,
        indexer: MemoryIndexer | None = None,
        stats: StatsCache | None = None,
    ) -> None:
        self.db = db
        self.access = access
        self.limits = limits or Limits.from_env()
        self.indexer = indexer or MemoryIndexer(db, None)
        self.stats = stats or StatsCache()

    async def fetch(
        self,
        who: Principal,
        project_id: str | None,
        memory_type: str | None,
        tags: list[str] | None,
        query: str | None,
        limit: int,
        offset: int,
        mode: str | None = None,
        include_superseded: bool = False,
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
        if mode is not None and mode not in memories.SEARCH_MODES:
            raise invalid(
                f"mode must be one of {', '.join(memories.SEARCH_MODES)}, got"
                f" '{str(mode)[:40]}'; leave it out for hybrid"
            )
        project = await self.access.project_for(who, project_id)
        page, used, notice = await search_memories(
            self.db,
            self.indexer,
            self.stats,
            MemoryFilter(project, memory_type, tags or [], include_superseded),
            query,
            mode,
            limit,
            offset,
        )
        if not page.memories:  # rows prove the project exists; only an empty page needs a look
            async with self.db.transaction(Scope.project(project)) as conn:
                await self.access.require_project(conn, project)
        result: dict[str, Any] = {
            "project_id": str(project),
            "memories": page.memories,
            "count": len(page.memories),
            "total": page.total,
            "has_more": page.has_more,
        }
        if used is not None:
            result["mode"] = used
        if notice:
            result["notice"] = notice
        return result

    async def update(
        self,
        who: Principal,
        project_id: str | None,
        memory_id: str | None,
        memory: NewMemory,
        supersedes: str | None = None,
        keep_tags: bool = False,
        keep_metadata: bool = False,
    ) -> dict[str, Any]:
        # Checked before any transaction; upsert checks again for its other callers.
        if problem := memories.memory_problem(memory, self.limits):
            raise invalid(problem)
        target = parse_id(memory_id, "id")
        replaced = parse_id(supersedes, "supersedes")
        provenance = Provenance(who.name, replaced, keep_tags, keep_metadata)
        # Embedded before the transaction (no connection held while the model runs).
        embedding, notice = await self.indexer.embed_memory(
            embedding_text(memory.title, memory.content)
        )
        async with self.access.in_project(who, project_id) as (found, conn):
            try:
                row, created = await memories.upsert(
                    conn, UUID(found["id"]), memory, target, self.limits, provenance, embedding
                )
            except memories.MemoryNotFound as error:
                raise not_found(str(error)) from None
            except (memories.MemoryRefused, memories.SupersedeRefused) as error:
                raise invalid(str(error)) from None
            except memories.MemoryQuotaReached as error:
                raise quota(str(error)) from None
            near = await memories.similar(conn, row, embedding, SIMILAR_COSINE) if embedding else []
        result: dict[str, Any] = {"memory": row, "created": created, "similar": near}
        if notice:
            result["notice"] = notice
        return result

    async def delete(
        self, who: Principal, project_id: str | None, memory_id: str
    ) -> dict[str, Any]:
        target = require_id(memory_id, "id", "of the memory (fetch_context lists them)")
        async with self.access.in_project(who, project_id) as (_, conn):
            if not await memories.delete(conn, target):
                raise not_found(f"no memory with id {target} in this project")
        return {"deleted": str(target)}
