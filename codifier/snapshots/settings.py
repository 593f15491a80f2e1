"""Bounds on the code context of snapshots (digest, cache, search, embedding), from the
environment. Every one has a safe default; a bad value raises ValueError naming it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from codifier.config import whole_number

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CodeSettings:
    digest_tokens: int = 8000  # a digest's default budget (o200k tokens)
    max_digest_tokens: int = 32_000  # the most pack_repo's digest_tokens may ask for
    cache_bytes: int = 256 * MIB  # snapshot text kept in memory for reads and searches
    search_seconds: int = 10  # one search_snapshot call, then it returns what it found
    search_concurrency: int = 2  # searches running at once (each uses one core)
    embed_chunks: int = 2000  # code chunks embedded per snapshot, central files first
    embed_seconds: int = 900  # time spent embedding one snapshot's chunks

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CodeSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            **{
                field.name: whole_number(
                    env,
                    ENV_NAMES[field.name],
                    getattr(defaults, field.name),
                    minimum=0 if field.name == "embed_chunks" else 1,  # 0: no embedding
                )
                for field in fields(cls)
            }
        )


ENV_NAMES: dict[str, str] = {
    "digest_tokens": "CODIFIER_DIGEST_TOKENS",
    "max_digest_tokens": "CODIFIER_MAX_DIGEST_TOKENS",
    "cache_bytes": "CODIFIER_SNAPSHOT_CACHE_BYTES",
    "search_seconds": "CODIFIER_SEARCH_TIMEOUT",
    "search_concurrency": "CODIFIER_SEARCH_CONCURRENCY",
    "embed_chunks": "CODIFIER_SNAPSHOT_EMBED_CHUNKS",
    "embed_seconds": "CODIFIER_SNAPSHOT_EMBED_SECONDS",
}
