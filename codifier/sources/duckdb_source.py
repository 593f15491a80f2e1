"""The embedded DuckDB source over the read-only warehouse (codifier.sources.warehouse).

Every statement runs in a worker thread on a cursor of its own, with a deadline: a timer
calls DuckDB's own interrupt when the query runs past it (a cancelled call interrupts at
once), the query ends with an InterruptException, and the engine stays usable for the
next one. Rows are streamed in growing batches and reading stops at the 100 KB cap, so a
40-million-row result costs no more memory than its first 100 KB.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import duckdb

from codifier.sources.admission import admit
from codifier.sources.base import QueryFailed, QueryTimedOut, SourceError
from codifier.sources.query_settings import QuerySettings
from codifier.sources.results import query_result, table_schema
from codifier.sources.warehouse import NAME, open_warehouse

SAMPLE = Path(__file__).resolve().parent / "sample"
_FIRST_BATCH = 16  # rows; doubled per batch up to _LAST_BATCH while they keep fitting
_LAST_BATCH = 2048  # one DuckDB vector

T = TypeVar("T")


def stream_rows(result: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    """The rows of an executed query, fetched in batches as they are consumed. Batches
    start small, so a few wide rows are never converted in bulk beyond what the cap keeps."""
    size = _FIRST_BATCH
    while True:
        batch = result.fetchmany(size)
        if not batch:
            return
        yield from batch
        size = min(size * 2, _LAST_BATCH)


class _Running:
    """One cursor and its deadline. interrupt() and close() may come from other threads
    (the timer, a cancelled call); the lock keeps them off a closed cursor."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor
        self.timed_out = threading.Event()
        self._lock = threading.Lock()
        self._closed = False

    def interrupt(self) -> None:
        with self._lock:
            if not self._closed:
                self.cursor.interrupt()

    def time_out(self) -> None:
        self.timed_out.set()
        self.interrupt()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self.cursor.close()


class DuckDBSource:
    def __init__(
        self, name: str, path: Path = SAMPLE, settings: QuerySettings | None = None
    ) -> None:
        self.name = name
        self.path = path
        self.settings = settings or QuerySettings()
        self._db = open_warehouse(path, self.settings)
        self._lock = threading.Lock()  # one cursor is made at a time

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._db.cursor()

    def _schema(self, database: str | None) -> str:
        schema = database or "main"
        if not NAME.match(schema):
            raise SourceError(f"'{schema[:80]}' is not a schema name (letters, digits and _ only)")
        return schema

    def _bounded(self, running: _Running, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`work` on the cursor, stopped by DuckDB's interrupt at the deadline (in the
        worker thread)."""
        seconds = self.settings.timeout_seconds
        timer = threading.Timer(seconds, running.time_out)
        timer.daemon = True
        timer.start()
        try:
            return work(running.cursor)
        except duckdb.InterruptException:
            if running.timed_out.is_set():
                message = f"the query ran longer than the server's {seconds:g} s limit"
                raise QueryTimedOut(
                    f"{message} and was stopped; filter, aggregate or add a LIMIT",
                    notice=f"timed out: {message} and was stopped",
                ) from None
            raise QueryFailed("the query was stopped because the call was cancelled") from None
        except duckdb.OutOfMemoryException:
            limit = self.settings.duckdb_memory_limit
            raise QueryFailed(
                f"the query needs more than the server's {limit} memory limit; "
                "filter, aggregate or add a LIMIT"
            ) from None
        except duckdb.Error as error:
            first = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
            raise QueryFailed(f"the query failed: {first}") from None
        finally:
            timer.cancel()
            running.close()

    async def _run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        running = _Running(self._cursor())
        try:
            return await anyio.to_thread.run_sync(
                self._bounded, running, work, abandon_on_cancel=True
            )
        except anyio.get_cancelled_exc_class():
            running.interrupt()  # the abandoned thread stops now rather than at the deadline
            raise

    async def list_tables(self, database: str | None) -> list[str]:
        schema = self._schema(database)

        def work(cursor: duckdb.DuckDBPyConnection) -> list[str]:
            rows = cursor.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = ? ORDER BY table_name",
                [schema],
            ).fetchall()
            return [str(r[0]) for r in rows]

        return await self._run(work)

    async def describe_tables(
        self, database: str | None, tables: list[str]
    ) -> list[dict[str, Any]]:
        schema = self._schema(database)

        def work(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
            described = []
            for table in tables:
                rows = cursor.execute(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if not rows:
                    raise SourceError(f"no table '{table}' in {schema}; list-tables names them")
                described.append(table_schema(table, schema, rows))
            return described

        return await self._run(work)

    async def execute(self, database: str | None, sql: str) -> dict[str, Any]:
        schema = self._schema(database)
        await admit(sql, "duckdb", self.settings)

        def work(cursor: duckdb.DuckDBPyConnection) -> dict[str, Any]:
            cursor.execute(f'SET schema = "{schema}"')
            result = cursor.execute(sql)
            columns = [d[0] for d in result.description or []]
            return query_result(sql, columns, stream_rows(result))

        return await self._run(work)
