"""What the tools do, free of MCP, grouped by concern; one object the server holds.

Every operation takes the calling principal: project keys are confined to their project
(`access`) and, underneath, by row-level security.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codifier.catalog import Entry
from codifier.embeddings import Embedder
from codifier.limits import Limits
from codifier.search import StatsCache
from codifier.search.indexer import MemoryIndexer
from codifier.server.access import Access
from codifier.server.code import CodeTools
from codifier.server.data import DataTools
from codifier.server.memories import MemoryTools
from codifier.server.projects import ProjectTools
from codifier.server.runs import RunTools
from codifier.snapshots.service import SnapshotService
from codifier.sources.base import DataSource
from codifier.sources.names import DEFAULT_SOURCE
from codifier.store.database import Database
from dsl.library import Library


@dataclass
class Services:
    db: Database
    library: Library
    catalog: dict[str, Entry]
    sources: dict[str, DataSource] = field(default_factory=dict)
    default_source: str = DEFAULT_SOURCE
    limits: Limits = field(default_factory=Limits.from_env)
    embedder: Embedder | None = None  # None: search is text-only

    def __post_init__(self) -> None:
        self.access = Access(self.db)
        self.indexer = MemoryIndexer(self.db, self.embedder)
        # One cache of corpus statistics for the tool and the playbook skill alike.
        self.stats = StatsCache()
        self.projects = ProjectTools(self.db, self.access, self.limits)
        self.memories = MemoryTools(self.db, self.access, self.limits, self.indexer, self.stats)
        self.snapshots = SnapshotService(self.db, self.embedder)
        self.data = DataTools(
            self.db, self.access, self.sources, self.default_source, snapshots=self.snapshots
        )
        self.code = CodeTools(self.access, self.snapshots)
        self.runs = RunTools(
            self.db,
            self.library,
            self.catalog,
            self.access,
            self.data,
            self.limits,
            self.indexer,
            self.stats,
        )

    def start(self) -> None:
        """Background work of a running server: memories that lack a vector of the current
        model (older rows, a new model, a failed provider) are embedded, and so are the
        code chunks of snapshots a restart interrupted."""
        self.indexer.kick()
        self.snapshots.start()

    async def close(self) -> None:
        await self.snapshots.stop()
        await self.indexer.stop()  # closes the embedder both share
