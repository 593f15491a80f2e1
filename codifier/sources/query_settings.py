"""Bounds on every data query, from the environment (read once at start).

Each bound is a setting with a safe default; a deployment may raise one (open a door) but
no value removes a bound. A value that is not a positive number stops the server at start
with a message naming the setting.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from codifier.sql_guard import DEFAULT_MAX_SQL_BYTES

# DuckDB's own size syntax, restricted to whole units: 512MB, 2GB, 1.5GiB.
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)

ENV_NAMES: dict[str, str] = {
    "timeout_seconds": "CODIFIER_QUERY_TIMEOUT_SECONDS",
    "sql_bytes": "CODIFIER_MAX_SQL_BYTES",
    "queries_per_step": "CODIFIER_MAX_QUERIES_PER_STEP",
    "describe_tables": "CODIFIER_MAX_DESCRIBE_TABLES",
    "name_chars": "CODIFIER_MAX_TABLE_NAME_CHARS",
    "duckdb_memory_limit": "CODIFIER_DUCKDB_MEMORY_LIMIT",
    "duckdb_threads": "CODIFIER_DUCKDB_THREADS",
}


@dataclass(frozen=True, slots=True)
class QuerySettings:
    timeout_seconds: float = 30.0  # one query, parsing excluded; stopped with DuckDB's interrupt
    sql_bytes: int = DEFAULT_MAX_SQL_BYTES  # one SQL text, UTF-8; longer is refused unparsed
    queries_per_step: int = 50  # queries in one data-query step's list
    describe_tables: int = 100  # tables in one describe-tables call
    name_chars: int = 255  # a table or database name
    duckdb_memory_limit: str = "512MB"  # the embedded DuckDB's memory_limit (all queries)
    duckdb_threads: int = 2  # the embedded DuckDB's worker threads

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> QuerySettings:
        """The settings the environment gives (ENV_NAMES), the defaults for the rest.

        Raises ValueError naming the setting when a value is malformed."""
        env = os.environ if environ is None else environ

        def raw(field: str) -> str:
            return env.get(ENV_NAMES[field], "").strip()

        def whole(field: str, default: int) -> int:
            text = raw(field)
            if not text:
                return default
            try:
                value = int(text)
            except ValueError:
                raise ValueError(
                    f"{ENV_NAMES[field]} must be a whole number, got '{text[:40]}'"
                ) from None
            if value < 1:
                raise ValueError(f"{ENV_NAMES[field]} must be at least 1, got {value}")
            return value

        defaults = cls()
        timeout = defaults.timeout_seconds
        if text := raw("timeout_seconds"):
            try:
                timeout = float(text)
            except ValueError:
                timeout = -1.0
            if not timeout > 0 or timeout == float("inf"):
                raise ValueError(
                    f"CODIFIER_QUERY_TIMEOUT_SECONDS must be a number of seconds above 0, "
                    f"got '{text[:40]}'"
                )
        memory = raw("duckdb_memory_limit") or defaults.duckdb_memory_limit
        if not _MEMORY.match(memory):
            raise ValueError(
                f"CODIFIER_DUCKDB_MEMORY_LIMIT must be a size such as 512MB or 2GB, "
                f"got '{memory[:40]}'"
            )
        return cls(
            timeout_seconds=timeout,
            sql_bytes=whole("sql_bytes", defaults.sql_bytes),
            queries_per_step=whole("queries_per_step", defaults.queries_per_step),
            describe_tables=whole("describe_tables", defaults.describe_tables),
            name_chars=whole("name_chars", defaults.name_chars),
            duckdb_memory_limit=memory,
            duckdb_threads=whole("duckdb_threads", defaults.duckdb_threads),
        )
