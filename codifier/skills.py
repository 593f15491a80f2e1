"""Server-side skills: each skill declared in stdlib/ bound to its implementation.

A server refuses to start when a declared skill has no implementation or the
implementation's parameters disagree with the declaration.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from codifier.limits import DEFAULT_LIMITS, Limits
from codifier.search import MemoryFilter, StatsCache
from codifier.search.indexer import MemoryIndexer
from codifier.search.recall import search_memories
from codifier.snapshots.service import SnapshotService
from codifier.store import memories
from codifier.store.database import Database, Scope
from codifier.store.memories import NewMemory, Provenance
from dsl.library import SkillSig


class SkillError(RuntimeError):
    """A skill could not do its work; the step fails with this message."""


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a skill knows about the run that calls it."""

    db: Database
    project_id: UUID
    role: str | None = None
    limits: Limits = DEFAULT_LIMITS
    indexer: MemoryIndexer | None = None  # None: memories are ranked by text only
    stats: StatsCache = field(default_factory=StatsCache)
    author: str = "unknown"  # who started the run (provenance of what a skill writes)
    snapshots: SnapshotService | None = None  # None: a service of its own (no cache kept)


SkillImpl = Callable[..., Awaitable[Any]]


async def fetch_context(
    run: RunContext,
    memory_type: str | None = None,
    tags: list[str] | None = None,
    query: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    # A playbook's query is often a whole answer (research-and-analyze searches with the
    # objective): searching with its first words beats failing the step.
    query = query[: run.limits.query_chars] if query else query
    if problem := memories.limit_problem(limit) or memories.filter_problem(tags, query, run.limits):
        raise SkillError(problem)
    where = MemoryFilter(run.project_id, memory_type, tags or [])
    indexer = run.indexer or MemoryIndexer(run.db, None)
    page, _, _ = await search_memories(run.db, indexer, run.stats, where, query, None, limit, 0)
    return page.memories


async def update_memory(
    run: RunContext,
    memory_type: str,
    title: str,
    content: str,
    tags: list[str] | None = None,
    metadata: Any = None,
) -> dict[str, Any]:
    memory = NewMemory(memory_type, title, content, tags or [], run.role, metadata or {})
    try:
        async with run.db.transaction(Scope.project(run.project_id)) as conn:
            row, _ = await memories.upsert(
                conn, run.project_id, memory, limits=run.limits, provenance=Provenance(run.author)
            )
    except (memories.MemoryRefused, memories.MemoryQuotaReached) as error:
        raise SkillError(str(error)) from None
    if run.indexer is not None:
        run.indexer.kick()
    return row


async def pack_repo(
    run: RunContext,
    url: str,
    version_label: str | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> dict[str, Any]:
    service = run.snapshots or SnapshotService(run.db)
    return await service.pack(run.project_id, url, version_label, include, exclude)


async def pack_repos(
    run: RunContext, urls: list[str], version_label: str | None = None
) -> list[dict[str, Any]]:
    return [await pack_repo(run, url, version_label) for url in urls]


IMPLEMENTATIONS: dict[str, SkillImpl] = {
    "fetch_context": fetch_context,
    "update_memory": update_memory,
    "pack_repo": pack_repo,
    "pack_repos": pack_repos,
}


class BindingError(RuntimeError):
    pass


def bind(declared: Mapping[str, SkillSig], implementations: Mapping[str, SkillImpl]) -> None:
    """Raise BindingError unless every declared skill has an agreeing implementation."""
    problems: list[str] = []
    for name, sig in declared.items():
        impl = implementations.get(name)
        if impl is None:
            problems.append(f"skill '{name}' is declared in stdlib/ but not implemented")
            continue
        params = list(inspect.signature(impl).parameters.values())[1:]  # after RunContext
        actual = {p.name: p.default is inspect.Parameter.empty for p in params}
        wanted = {p.name: p.required for p in sig.params}
        if actual != wanted:
            problems.append(
                f"skill '{name}': stdlib declares {wanted}, the implementation takes {actual}"
            )
    for name in set(implementations) - set(declared):
        problems.append(f"skill '{name}' is implemented but not declared in stdlib/")
    if problems:
        raise BindingError("; ".join(problems))
