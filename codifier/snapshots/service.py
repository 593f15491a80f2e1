"""The code context of stored snapshots, as the tools and skills use it: pack and store,
the file index, exact reads, literal/regex/semantic search, the digest, and listings.

Every read first fetches the snapshot's row in the caller's scope (row-level security
decides what is visible); only then is the in-memory text used. Errors are
`SnapshotError`s with the code a client sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import anyio

from codifier.embeddings import Embedder, EmbeddingError
from codifier.packer.patterns import compile_spec
from codifier.packer.result import PackError
from codifier.packer.settings import PackSettings
from codifier.snapshots import grep, lines
from codifier.snapshots.errors import RESOURCE_PREFIX, NotFound, SnapshotError, Unavailable
from codifier.snapshots.packing import pack_and_store
from codifier.snapshots.semantic import ChunkIndexer
from codifier.snapshots.settings import CodeSettings
from codifier.snapshots.texts import FileSpan, SnapshotText, TextCache, layout
from codifier.store import repositories, snapshot_chunks, snapshot_files
from codifier.store.database import Database, Scope

SearchMode = Literal["literal", "regex", "semantic"]
MAX_LIMIT = 100
MAX_INDEX_PAGE = 1000


class SnapshotTexts:
    """Laid-out snapshot text, from the cache or loaded once (one load per snapshot at a
    time)."""

    def __init__(self, db: Database, cache: TextCache) -> None:
        self.db = db
        self.cache = cache
        self._loading: dict[UUID, asyncio.Lock] = {}

    async def get(self, scope: Scope, snapshot_id: UUID) -> SnapshotText | None:
        found = self.cache.get(snapshot_id)
        if found is not None:
            return found
        lock = self._loading.setdefault(snapshot_id, asyncio.Lock())
        try:
            async with lock:
                found = self.cache.get(snapshot_id)
                if found is not None:
                    return found
                async with self.db.transaction(scope) as conn:
                    files = await snapshot_files.everything(conn, snapshot_id)
                    content = await repositories.content(conn, snapshot_id)
                if content is None:
                    return None
                spans = [FileSpan(f.path, f.language, f.text_offset, f.text_length) for f in files]
                text = await anyio.to_thread.run_sync(layout, content, spans)
                self.cache.put(snapshot_id, text)
                return text
        finally:
            if not lock.locked():
                self._loading.pop(snapshot_id, None)


@dataclass
class SnapshotService:
    db: Database
    embedder: Embedder | None = None
    settings: CodeSettings | None = None

    def __post_init__(self) -> None:
        self.config = self.settings or CodeSettings.from_env()
        self.texts = SnapshotTexts(self.db, TextCache(self.config.cache_bytes))
        self.chunks = ChunkIndexer(self.db, self.embedder, self.texts, self.config)
        self._searches = anyio.CapacityLimiter(self.config.search_concurrency)

    def start(self) -> None:
        self.chunks.kick()  # snapshots a restart interrupted

    async def stop(self) -> None:
        await self.chunks.stop()

    # -- packing -------------------------------------------------------------------

    async def pack(
        self,
        project_id: UUID,
        source: str,
        label: str | None,
        include: list[str] | None,
        exclude: list[str] | None,
        on_progress: Callable[[int, int], None] | None = None,
        digest_tokens: int | None = None,
    ) -> dict[str, Any]:
        budget = self.config.digest_tokens if digest_tokens is None else digest_tokens
        if not 500 <= budget <= self.config.max_digest_tokens:
            raise SnapshotError(
                f"digest_tokens must be from 500 to {self.config.max_digest_tokens:,}"
                f" (CODIFIER_MAX_DIGEST_TOKENS), got {budget:,}"
            )
        record = await pack_and_store(
            self.db,
            project_id,
            source,
            label,
            include,
            exclude,
            on_progress,
            digest_tokens=budget,
            semantic=self.chunks.enabled,
            keep_text=self.texts.cache.put,
        )
        self.chunks.kick()
        return record

    # -- reading -------------------------------------------------------------------

    async def _row(self, scope: Scope, snapshot_id: UUID) -> dict[str, Any]:
        async with self.db.transaction(scope) as conn:
            row = await repositories.get(conn, snapshot_id)
        if row is None:
            raise NotFound(f"no snapshot {snapshot_id}; list_snapshots lists the ones you can read")
        return row

    async def _text(self, scope: Scope, snapshot_id: UUID) -> SnapshotText:
        text = await self.texts.get(scope, snapshot_id)
        if text is None:
            raise NotFound(f"no snapshot {snapshot_id}; list_snapshots lists the ones you can read")
        return text

    async def index(
        self, scope: Scope, snapshot_id: UUID, offset: int, limit: int
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_INDEX_PAGE:
            raise SnapshotError(f"limit must be from 1 to {MAX_INDEX_PAGE}, got {limit}")
        if offset < 0:
            raise SnapshotError(f"offset must be 0 or more, got {offset}")
        row = await self._row(scope, snapshot_id)
        async with self.db.transaction(scope) as conn:
            files = await snapshot_files.page(conn, snapshot_id, limit, offset)
        total = int(row["file_count"])
        if total and not files and offset == 0:
            raise NotFound(
                f"snapshot {snapshot_id} was packed before snapshots had an index;"
                " pack the repository again"
            )
        for entry in files:  # which resource page holds the start of the file
            entry["page"] = int(entry.pop("text_offset")) // 100_000 + 1
        return {
            "snapshot_id": str(snapshot_id),
            "url": row["url"],
            "version": row["version"],
            "files": files,
            "total": total,
            "offset": offset,
            "has_more": offset + len(files) < total,
            "semantic": _semantic_summary(row["semantic"]),
            "digest_uri": f"{RESOURCE_PREFIX}{snapshot_id}/digest",
        }

    async def read(
        self,
        scope: Scope,
        snapshot_id: UUID,
        path: str,
        start_line: int | None,
        end_line: int | None,
    ) -> dict[str, Any]:
        await self._row(scope, snapshot_id)
        text = await self._text(scope, snapshot_id)
        number = text.by_path.get(path)
        if number is None:
            raise NotFound(
                f"snapshot {snapshot_id} has no file '{path[:200]}'; paths are relative with"
                " '/' (read_snapshot without a path lists them, search_snapshot finds them)"
            )
        data = text.file_bytes(number)
        try:
            piece = await anyio.to_thread.run_sync(
                lambda: lines.excerpt(data, start_line, end_line)
            )
        except lines.RangeProblem as problem:
            raise SnapshotError(f"{problem} ('{path[:200]}')") from None
        result: dict[str, Any] = {
            "snapshot_id": str(snapshot_id),
            "path": path,
            "language": text.languages[number],
            "start_line": piece.start_line,
            "end_line": piece.end_line,
            "total_lines": piece.total_lines,
            "text": piece.text,
        }
        if piece.next_start_line is not None:
            result["next_start_line"] = piece.next_start_line
            result["notice"] = (
                f"capped at {lines.MAX_LINES:,} lines or {lines.MAX_BYTES // 1024} KB a call;"
                f" continue with start_line={piece.next_start_line}"
            )
        if piece.line_cut:
            result["notice"] = (
                f"line {piece.start_line} is longer than {lines.MAX_BYTES // 1024} KB and is"
                " shown cut" + (f"; continue with start_line={piece.next_start_line}"
                                if piece.next_start_line else "")
            )  # fmt: skip
        return result

    async def digest(self, scope: Scope, snapshot_id: UUID) -> str:
        row = await self._row(scope, snapshot_id)
        digest = str(row.get("digest") or "")
        if not digest:
            raise NotFound(
                f"snapshot {snapshot_id} was packed before snapshots had a digest;"
                " pack the repository again"
            )
        return digest

    async def listing(
        self, scope: Scope, project_id: UUID | None, url: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_LIMIT:
            raise SnapshotError(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
        if offset < 0:
            raise SnapshotError(f"offset must be 0 or more, got {offset}")
        async with self.db.transaction(scope) as conn:
            rows, total = await repositories.listing(conn, project_id, url, limit, offset)
        snapshots = [
            {
                "snapshot_id": row["id"],
                "project_id": row["project_id"],
                "url": row["url"],
                "version": row["version"],
                "label": row["label"],
                "commit": row["commit"],
                "file_count": row["file_count"],
                "token_count": row["token_count"],
                "created_at": row["created_at"],
                "languages": (row["code_facts"] or {}).get("languages", []),
                "semantic": _semantic_summary(row["semantic"]),
                "resource_uri": f"{RESOURCE_PREFIX}{row['id']}",
                "digest_uri": f"{RESOURCE_PREFIX}{row['id']}/digest",
            }
            for row in rows
        ]
        return {
            "snapshots": snapshots,
            "total": total,
            "offset": offset,
            "has_more": offset + len(snapshots) < total,
        }

    # -- search --------------------------------------------------------------------

    async def search(
        self,
        scope: Scope,
        snapshot_id: UUID,
        query: str,
        mode: SearchMode,
        path: str | None,
        limit: int,
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_LIMIT:
            raise SnapshotError(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
        wanted = _path_filter(path)
        row = await self._row(scope, snapshot_id)
        if mode == "semantic":
            return await self._semantic(scope, snapshot_id, row, query, wanted, path, limit)
        try:
            find = grep.finder(query, mode)
        except grep.PatternProblem as problem:
            raise SnapshotError(str(problem)) from None
        text = await self._text(scope, snapshot_id)
        files = None if wanted is None else [n for n, p in enumerate(text.paths) if wanted(p)]
        deadline = time.monotonic() + self.config.search_seconds
        found = await anyio.to_thread.run_sync(
            lambda: grep.search(text, find, files=files, limit=limit, deadline=deadline),
            limiter=self._searches,
        )
        result: dict[str, Any] = {
            "snapshot_id": str(snapshot_id),
            "mode": mode,
            "hits": [hit.__dict__ for hit in found.hits],
            "truncated": found.truncated,
        }
        if found.timed_out:
            result["notice"] = (
                f"stopped after {self.config.search_seconds} s (CODIFIER_SEARCH_TIMEOUT):"
                " narrow the search with path or a more distinctive query"
            )
        elif found.truncated:
            result["notice"] = f"more than {limit} lines match; narrow with path or the query"
        return result

    async def _semantic(
        self,
        scope: Scope,
        snapshot_id: UUID,
        row: dict[str, Any],
        query: str,
        wanted: Callable[[str], bool] | None,
        path: str | None,
        limit: int,
    ) -> dict[str, Any]:
        if not query.strip():
            raise SnapshotError("query is empty; ask a question or describe the code to find")
        if len(query) > grep.MAX_QUERY_CHARS:
            raise SnapshotError(
                f"query has {len(query):,} characters, more than the {grep.MAX_QUERY_CHARS}"
                " allowed; ask a shorter question"
            )
        state = row["semantic"] or {}
        if self.embedder is None or state.get("status") in (None, "none", "off"):
            raise Unavailable(
                "semantic search is off on this server or for this snapshot (no embedder,"
                " or CODIFIER_SNAPSHOT_EMBED_CHUNKS=0); use mode literal or regex"
            )
        try:
            vector = await self.embedder.aembed_query(query)
        except EmbeddingError as error:
            raise Unavailable(
                f"semantic search failed ({error}); use mode literal or regex"
            ) from None
        fetch = limit if wanted is None else min(2000, limit * 20)
        async with self.db.transaction(scope) as conn:
            rows = await snapshot_chunks.nearest(
                conn, snapshot_id, self.embedder.name, vector, fetch + 1
            )
        if wanted is not None:
            rows = [r for r in rows if wanted(r["path"])]
        text = await self._text(scope, snapshot_id)
        hits = []
        for chunk in rows[:limit]:
            number = text.by_path.get(chunk["path"])
            first = ""
            if number is not None:  # the chunk's first non-blank line shows what it is
                data = text.file_bytes(number)
                end = min(chunk["end_line"], chunk["start_line"] + 20)
                piece = lines.excerpt(data, chunk["start_line"], end)
                shown = next((x for x in piece.text.split("\n") if x.strip()), "")
                first = shown.rstrip("\r")[: grep.MAX_HIT_CHARS]
            hits.append(
                {
                    "path": chunk["path"],
                    "line": chunk["start_line"],
                    "end_line": chunk["end_line"],
                    "symbol": chunk["symbol"],
                    "score": round(float(chunk["score"]), 4),
                    "text": first,
                }
            )
        result: dict[str, Any] = {
            "snapshot_id": str(snapshot_id),
            "mode": "semantic",
            "hits": hits,
            "truncated": len(rows) > limit,
            "coverage": _semantic_summary(state),
        }
        status = state.get("status")
        if status in ("pending", "running"):
            result["notice"] = (
                f"the snapshot's code is still being embedded ({state.get('chunks', 0)} of"
                f" {state.get('chunks_planned', '?')} chunks so far): results cover that part"
            )
        elif status == "partial":
            result["notice"] = f"only part of the code is embedded: {state.get('reason', '')}"
        elif status == "failed":
            result["notice"] = f"embedding stopped: {state.get('reason', '')}"
        return result


def _semantic_summary(state: dict[str, Any] | None) -> dict[str, Any]:
    state = state or {}
    keep = ("status", "chunks", "chunks_planned", "files", "files_eligible", "reason", "model")
    return {key: state[key] for key in keep if key in state}


def _path_filter(path: str | None) -> Callable[[str], bool] | None:
    """A glob over snapshot paths: gitignore-style (`*.py` matches at any depth,
    `src/**/*.ts` from the top), matched by RE2 through pathspec."""
    if path is None or path == "":
        return None
    most = PackSettings().max_pattern_chars
    if len(path) > most:
        raise SnapshotError(f"path has {len(path):,} characters, more than {most}; shorten it")
    if any(c in path for c in "\0\n\r"):
        raise SnapshotError("path holds a line break or NUL; give one glob such as 'src/**/*.py'")
    try:
        spec = compile_spec([path])
    except PackError as error:
        raise SnapshotError(f"path is not a usable glob: {error}") from None
    return spec.match_file
