"""Searching a project's memories the way fetch_context does, for the tool and the
playbook skill alike: the query embedded off the event loop, then ranked in one
project-scoped transaction."""

from __future__ import annotations

from typing import cast

from codifier.search.filters import MemoryFilter
from codifier.search.indexer import MemoryIndexer
from codifier.search.lexical import StatsCache
from codifier.store import memories
from codifier.store.database import Database, Scope
from codifier.store.memories import SearchMode


async def search_memories(
    db: Database,
    indexer: MemoryIndexer,
    stats: StatsCache,
    where: MemoryFilter,
    query: str | None,
    mode: str | None,
    limit: int,
    offset: int,
) -> tuple[memories.Page, str | None, str | None]:
    """A page of memories, the mode actually used (None without a query) and a notice
    when semantic ranking was asked for but could not be had (then text ranks alone)."""
    wanted: SearchMode | None = None
    vector = None
    notice = None
    if query and query.strip():
        wanted = cast(SearchMode, mode or "hybrid")
        if wanted != "text":
            vector, notice = await indexer.embed_query(query)
            if vector is None:
                notice = notice or "semantic search is off on this server; ranked by text only"
                wanted = "text"
    async with db.transaction(Scope.project(where.project_id)) as conn:
        page = await memories.fetch(
            conn,
            where,
            query=query,
            mode=wanted,
            query_vector=vector,
            stats=stats,
            limit=limit,
            offset=offset,
        )
    return page, wanted, notice
