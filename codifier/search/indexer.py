"""Memory vectors: made when a memory is written, and by a background sweep for the rest.

`update_memory` embeds before it writes, so its memory is searchable by meaning at once
and its near-duplicates can be named. Memories written elsewhere (a playbook's
`remember:`, a skill, a write whose provider failed, rows from before embeddings, a
change of model) have no vector of the current model: `sweep` finds them and embeds them
in batches, in the background after such writes and at start, or in the foreground with
`codifier reindex`. A vector is stored only if the memory still has the text it was made
from, so a racing write is never given a stale vector, and each text is embedded once.

A failing provider never fails a write or a search: the caller gets a notice and falls
back to text search.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from codifier.embeddings import Embedder, EmbeddingError
from codifier.search.semantic import Embedding, embedding_text, vector_literal
from codifier.store.database import ADMIN, Database
from codifier.sweeps import BackgroundSweep

log = logging.getLogger("codifier.search")

SWEEP_BATCH = 16


class MemoryIndexer:
    def __init__(self, db: Database, embedder: Embedder | None) -> None:
        self.db = db
        self.embedder = embedder
        self._sweeper = BackgroundSweep(
            self.sweep, log, "embedding sweep", expected=(EmbeddingError,)
        )

    @property
    def model(self) -> str | None:
        return self.embedder.name if self.embedder else None

    async def embed_query(self, text: str) -> tuple[Embedding | None, str | None]:
        """The query's vector, or None and why (a notice for the result)."""
        if self.embedder is None:
            return None, None
        try:
            values = await self.embedder.aembed_query(text)
        except EmbeddingError as error:
            return None, f"semantic search unavailable ({error}); ranked by text only"
        return Embedding(self.embedder.name, values), None

    async def embed_memory(self, text: str) -> tuple[Embedding | None, str | None]:
        """A memory's vector, or None and why (it is then embedded later by the sweep)."""
        if self.embedder is None:
            return None, None
        try:
            [values] = await self.embedder.aembed_documents([text])
        except EmbeddingError as error:
            self.kick()  # the sweep retries later
            return None, f"embedding failed ({error}); saved for text search, embedded later"
        return Embedding(self.embedder.name, values), None

    def kick(self) -> None:
        """Embed whatever lacks a vector, in the background (one sweep at a time)."""
        if self.embedder is not None:
            self._sweeper.kick()

    async def stop(self) -> None:
        """Cancel a running sweep (what it stored stays) and let go of the provider."""
        await self._sweeper.stop()
        if self.embedder is not None:
            self.embedder.close()

    async def pending(self) -> int:
        """Memories without a vector of the current model."""
        if self.embedder is None:
            return 0
        async with self.db.transaction(ADMIN) as conn:
            count = await conn.fetchval(
                "SELECT count(*) FROM memories WHERE embedding_model IS DISTINCT FROM $1",
                self.embedder.name,
            )
        return int(count)

    async def sweep(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Embed every memory that lacks a vector of the current model; how many were."""
        if self.embedder is None:
            return 0
        model = self.embedder.name
        done = 0
        skip: set[str] = set()  # changed under us this sweep: the next one takes them
        while True:
            async with self.db.transaction(ADMIN) as conn:
                rows = await conn.fetch(
                    "SELECT id::text AS id, title, content, content_hash FROM memories"
                    " WHERE embedding_model IS DISTINCT FROM $1 AND NOT (id::text = ANY($2))"
                    f" ORDER BY created_at LIMIT {SWEEP_BATCH}",
                    model,
                    list(skip),
                )
            if not rows:
                return done
            texts = [embedding_text(r["title"], r["content"]) for r in rows]
            vectors = await self.embedder.aembed_documents(texts)
            async with self.db.transaction(ADMIN) as conn:
                for row, values in zip(rows, vectors, strict=True):
                    stored = await conn.fetchval(
                        "UPDATE memories SET embedding = $2::text::vector, embedding_model = $3"
                        " WHERE id = $1::uuid AND content_hash = $4 AND title = $5"
                        " AND embedding_model IS DISTINCT FROM $3 RETURNING id",
                        row["id"],
                        vector_literal(values),
                        model,
                        row["content_hash"],
                        row["title"],
                    )
                    if stored is None:
                        skip.add(row["id"])
                    else:
                        done += 1
            if on_progress:
                on_progress(done)
