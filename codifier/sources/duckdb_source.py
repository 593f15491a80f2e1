"""The embedded DuckDB source: tables loaded from a folder of CSV/Parquet files (or a
database file) into memory, then locked down.

After loading, external access is switched off and the configuration locked, so even a
query that slipped past the SQL guard cannot read files, attach databases, install
extensions or turn access back on.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import anyio
import duckdb

from codifier.sources.base import SourceError
from codifier.sources.results import query_result, refused, table_schema
from codifier.sql_guard import check_read_only

SAMPLE = Path(__file__).resolve().parent / "sample"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOADERS = {".csv": "read_csv_auto", ".tsv": "read_csv_auto", ".parquet": "read_parquet"}


class DuckDBSource:
    def __init__(self, name: str, path: Path = SAMPLE) -> None:
        self.name = name
        self.path = path
        self._db = self._load(path)
        self._lock = threading.Lock()  # one cursor is made at a time

    @staticmethod
    def _load(path: Path) -> duckdb.DuckDBPyConnection:
        if path.is_file() and path.suffix in (".duckdb", ".db"):
            db = duckdb.connect(str(path), read_only=True)
        else:
            db = duckdb.connect(":memory:")
            for file in sorted(path.iterdir()):
                loader = _LOADERS.get(file.suffix.lower())
                if loader is None or not _NAME.match(file.stem):
                    continue
                db.execute(f'CREATE TABLE "{file.stem}" AS SELECT * FROM {loader}(?)', [str(file)])
        db.execute("SET enable_external_access = false")
        db.execute("SET lock_configuration = true")
        return db

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._db.cursor()

    @staticmethod
    def _schema(database: str | None) -> str:
        return database or "main"

    async def list_tables(self, database: str | None) -> list[str]:
        def work() -> list[str]:
            rows = (
                self._cursor()
                .execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = ? ORDER BY table_name",
                    [self._schema(database)],
                )
                .fetchall()
            )
            return [str(r[0]) for r in rows]

        return await anyio.to_thread.run_sync(work)

    async def describe_tables(
        self, database: str | None, tables: list[str]
    ) -> list[dict[str, Any]]:
        schema = self._schema(database)

        def work() -> list[dict[str, Any]]:
            cursor = self._cursor()
            described = []
            for table in tables:
                rows = cursor.execute(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if not rows:
                    raise SourceError(f"no table '{table}' in {schema}")
                described.append(table_schema(table, schema, rows))
            return described

        return await anyio.to_thread.run_sync(work)

    async def execute(self, database: str | None, sql: str) -> dict[str, Any]:
        reason = check_read_only(sql)
        if reason is not None:
            return refused(sql, f"refused by the read-only guard: {reason}")
        schema = self._schema(database)

        def work() -> dict[str, Any]:
            cursor = self._cursor()
            try:
                if not _NAME.match(schema):
                    raise SourceError(f"'{schema}' is not a schema name")
                cursor.execute(f'SET schema = "{schema}"')
                result = cursor.execute(sql)
                columns = [d[0] for d in result.description or []]
                rows = result.fetchall()
            except duckdb.Error as error:
                first = str(error).splitlines()[0]
                return refused(sql, f"the query failed: {first}")
            return query_result(sql, columns, rows)

        return await anyio.to_thread.run_sync(work)
