"""Code chunks embedded for semantic search: made in the background after a pack.

A pack returns as soon as its text, index and digest are stored; its chunks (a function,
a class's head, or a window of lines: `codifier.codemap.chunks`) are embedded afterwards
with the memory embedder, central files first, then other code, documentation, and tests
last, up to CODIFIER_SNAPSHOT_EMBED_CHUNKS chunks and CODIFIER_SNAPSHOT_EMBED_SECONDS
per snapshot. `repositories.semantic` records the progress and what was covered:
`status` (pending, running, complete, partial, off, failed), `chunks`, `chunks_planned`,
`files`, `files_eligible`, `model`, and `reason` when partial. The plan is deterministic,
so a sweep interrupted by a restart resumes where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio

from codifier.codemap.testpaths import is_test_path
from codifier.embeddings import Embedder, EmbeddingError
from codifier.snapshots.settings import CodeSettings
from codifier.snapshots.texts import SnapshotText
from codifier.store import repositories, snapshot_chunks
from codifier.store.database import ADMIN, Database, Scope
from codifier.store.snapshot_chunks import EmbeddedChunk
from codifier.sweeps import BackgroundSweep

if TYPE_CHECKING:
    from codifier.codemap.languages import ParseLimits

log = logging.getLogger("codifier.snapshots")

BATCH = 32
START_DELAY = 2.0  # seconds between a kick and the sweep it starts
CHUNK_LINES = 80
EMBED_CHARS = 600  # of a chunk's text: its head (name, signature, docstring) says most
DOC_LANGUAGES = {"markdown", "rst"}
PROSE_SUFFIXES = (".txt",)
# Languages whose files are chunked; others (data, lock files, minified assets) are not.
CODE_LANGUAGES = {
    "python", "javascript", "jsx", "typescript", "tsx", "go", "rust", "java", "kotlin",
    "scala", "ruby", "php", "csharp", "fsharp", "swift", "objectivec", "c", "cpp", "lua",
    "perl", "r", "julia", "dart", "elixir", "erlang", "haskell", "ocaml", "clojure", "bash",
    "zsh", "fish", "powershell", "sql", "html", "css", "scss", "less", "vue", "svelte",
    "protobuf", "graphql", "hcl", "jinja", "makefile", "dockerfile", "cmake", "toml", "yaml",
}  # fmt: skip


@dataclass(frozen=True)
class PlannedChunk:
    path: str
    start_line: int
    end_line: int
    symbol: str
    embed_text: str


@dataclass(frozen=True)
class Plan:
    chunks: list[PlannedChunk]
    files_eligible: int
    files_covered: int
    cut: bool  # the chunk bound stopped the plan before every eligible file


def plan(
    text: SnapshotText,
    central: Sequence[str],
    limit: int,
    parse_limits: ParseLimits | None = None,
) -> Plan:
    """Which chunks to embed, in order, at most `limit` (CPU work: a worker thread)."""
    # Imported here: tree-sitter loads only in a process that embeds code.
    from codifier.codemap.chunks import chunks as code_chunks
    from codifier.codemap.languages import DEFAULT_LIMITS

    parse_limits = parse_limits or DEFAULT_LIMITS
    eligible: list[tuple[int, int, int]] = []  # (tier, rank, file number)
    rank_of = {path: rank for rank, path in enumerate(central)}
    for number, (path, language) in enumerate(zip(text.paths, text.languages, strict=True)):
        prose = language in DOC_LANGUAGES or path.lower().endswith(PROSE_SUFFIXES)
        if language not in CODE_LANGUAGES and not prose:
            continue
        data = text.file_bytes(number)
        line_count = data.count(b"\n") + 1
        if not data.strip() or len(data) / line_count > 400:  # empty, or minified
            continue
        if path in rank_of:
            tier = 0
        elif is_test_path(path):
            tier = 3
        elif prose:
            tier = 2
        else:
            tier = 1
        eligible.append((tier, rank_of.get(path, 0), number))
    eligible.sort()
    planned: list[PlannedChunk] = []
    covered = 0
    cut = False
    for _, _, number in eligible:
        if len(planned) >= limit:
            cut = True
            break
        path = text.paths[number]
        source = text.file_bytes(number).decode("utf-8", errors="replace")
        lines = source.split("\n")
        for chunk in code_chunks(
            text.languages[number], source, max_lines=CHUNK_LINES, limits=parse_limits
        ):
            if len(planned) >= limit:
                cut = True
                break
            body = "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
            if not body.strip():
                continue
            head = f"{path}\n{chunk.symbol}\n" if chunk.symbol else f"{path}\n"
            embed_text = (head + body)[:EMBED_CHARS]
            planned.append(
                PlannedChunk(path, chunk.start_line, chunk.end_line, chunk.symbol, embed_text)
            )
        covered += 1
    return Plan(planned, len(eligible), covered, cut)


class ChunkIndexer:
    """Embeds the chunks of snapshots whose `semantic.status` is pending or running."""

    def __init__(
        self,
        db: Database,
        embedder: Embedder | None,
        texts: Any,  # codifier.snapshots.service.SnapshotTexts (no import cycle)
        settings: CodeSettings,
    ) -> None:
        self.db = db
        self.embedder = embedder
        self.texts = texts
        self.settings = settings
        from codifier.codemap.languages import ParseLimits

        self.parse_limits = ParseLimits.from_env()
        # Chunking parses with tree-sitter, which holds the GIL in bursts: the call that
        # kicked the sweep (a pack, whose response is still on its way out) finishes first.
        self._sweeper = BackgroundSweep(self.sweep, log, "code chunk embedding", delay=START_DELAY)

    @property
    def enabled(self) -> bool:
        return self.embedder is not None and self.settings.embed_chunks > 0

    def kick(self) -> None:
        if self.enabled:
            self._sweeper.kick()

    async def stop(self) -> None:
        await self._sweeper.stop()

    async def sweep(self) -> int:
        """Embed every waiting snapshot's chunks; how many snapshots were finished."""
        async with self.db.transaction(ADMIN) as conn:
            rows = await conn.fetch(
                "SELECT id, project_id, code_facts FROM repositories"
                " WHERE semantic->>'status' IN ('pending', 'running') ORDER BY created_at"
            )
        for row in rows:
            await self._index(UUID(row["id"]), UUID(row["project_id"]), row["code_facts"] or {})
        return len(rows)

    async def _index(self, snapshot_id: UUID, project_id: UUID, facts: dict[str, Any]) -> None:
        assert self.embedder is not None
        embedder = self.embedder
        scope = Scope.project(project_id)
        text = await self.texts.get(ADMIN, snapshot_id)
        if text is None:
            return  # deleted meanwhile
        central = [str(path) for path in facts.get("central", [])]
        limit = self.settings.embed_chunks
        work = await anyio.to_thread.run_sync(plan, text, central, limit, self.parse_limits)
        async with self.db.transaction(scope) as conn:
            done = await snapshot_chunks.count(conn, snapshot_id)
        state: dict[str, Any] = {
            "status": "running",
            "model": embedder.name,
            "chunks": done,
            "chunks_planned": len(work.chunks),
            "files": 0,
            "files_eligible": work.files_eligible,
            "limit": limit,
        }
        deadline = time.monotonic() + self.settings.embed_seconds
        reason = "the chunk limit (CODIFIER_SNAPSHOT_EMBED_CHUNKS)" if work.cut else None
        for first in range(done, len(work.chunks), BATCH):
            if time.monotonic() > deadline:
                reason = "the time limit (CODIFIER_SNAPSHOT_EMBED_SECONDS)"
                break
            batch = work.chunks[first : first + BATCH]
            try:
                vectors = await embedder.aembed_documents([c.embed_text for c in batch])
            except EmbeddingError as error:
                state["status"] = "failed"
                state["reason"] = f"the embedder failed: {error}"
                await self._save(scope, snapshot_id, state)
                return
            embedded = [
                EmbeddedChunk(c.path, c.start_line, c.end_line, c.symbol, v)
                for c, v in zip(batch, vectors, strict=True)
            ]
            state["chunks"] = first + len(batch)
            state["files"] = len({c.path for c in work.chunks[: state["chunks"]]})
            async with self.db.transaction(scope) as conn:
                await snapshot_chunks.insert(
                    conn, snapshot_id, project_id, first, embedder.name, embedded
                )
                await repositories.set_semantic(conn, snapshot_id, state)
        state["files"] = len({c.path for c in work.chunks[: state["chunks"]]})
        if reason is None:
            state["status"] = "complete"
        else:
            state["status"] = "partial"
            state["reason"] = f"stopped at {reason}; central files came first"
        await self._save(scope, snapshot_id, state)

    async def _save(self, scope: Scope, snapshot_id: UUID, state: dict[str, Any]) -> None:
        async with self.db.transaction(scope) as conn:
            await repositories.set_semantic(conn, snapshot_id, state)
