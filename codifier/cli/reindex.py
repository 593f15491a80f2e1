"""`codifier reindex`: give every memory a vector of the configured embedding model.

A running server does the same in the background (after a migration, a change of model,
or a provider that failed); this does it now, in the foreground, with progress.
"""

from __future__ import annotations

import argparse
import sys

import anyio

from codifier.cli.check import UsageError
from codifier.config import Settings
from codifier.embeddings import EmbeddingError, EmbeddingSettings, make_embedder
from codifier.search.indexer import MemoryIndexer
from codifier.store.store import open_database


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    del args
    embedder = make_embedder(EmbeddingSettings.from_env())
    if embedder is None:
        raise UsageError("CODIFIER_EMBEDDING_PROVIDER is off: there is nothing to embed with")

    async def work() -> int:
        db = await open_database(Settings.from_env())
        indexer = MemoryIndexer(db, embedder)
        try:
            pending = await indexer.pending()
            sys.stderr.write(f"codifier reindex: {pending:,} memories to embed ({embedder.name})\n")

            def progress(done: int) -> None:
                sys.stderr.write(f"\r  {done:,}/{pending:,}")
                sys.stderr.flush()

            done = await indexer.sweep(progress if sys.stderr.isatty() else None)
            return done
        finally:
            await indexer.stop()
            await db.close()

    try:
        done = anyio.run(work)
    except EmbeddingError as error:
        raise UsageError(f"embedding failed: {error}") from None
    print(f"embedded {done:,} memories")
    return 0
