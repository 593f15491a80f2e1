"""query_data, pack_repo and snapshot pages: the data a run or a client reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from codifier import snapshots
from codifier.server.access import Access, parse_id
from codifier.server.errors import CallError, invalid, not_found
from codifier.server.principal import Principal
from codifier.snapshots.service import SnapshotService
from codifier.sources.base import DataSource, QueryProblem, SourceError
from codifier.sources.names import DEFAULT_SOURCE
from codifier.sources.query_settings import QuerySettings
from codifier.sources.results import no_rows
from codifier.store import repositories
from codifier.store.database import Database

MAX_LABEL_CHARS = 200  # a snapshot's version_label


class DataTools:
    def __init__(
        self,
        db: Database,
        access: Access,
        sources: dict[str, DataSource],
        default: str = DEFAULT_SOURCE,
        settings: QuerySettings | None = None,
        snapshots: SnapshotService | None = None,
    ) -> None:
        self.db = db
        self.snapshots = snapshots or SnapshotService(db)
        self.access = access
        self.sources = sources
        self.default = default
        self.settings = settings or QuerySettings.from_env()

    def source(self, name: str | None) -> DataSource:
        source = self.sources.get(name or self.default)
        if source is None:
            names = ", ".join(sorted(self.sources)) or "none"
            raise invalid(f"no data source '{str(name)[:80]}' (configured: {names})")
        return source

    async def query(
        self,
        source_name: str | None,
        operation: str,
        database: str | None,
        tables: list[str] | None,
        sql: str | list[str] | None,
    ) -> Any:
        """A playbook's data-query step. A query that gives no rows (refused by the guard,
        invalid SQL, timed out, failed in the engine) becomes that query's result with a
        notice, for one query and for a list alike: the later steps (research-and-analyze's
        synthesis) read and report it, and the other queries of the list still run.
        Anything else (an unknown source, a bad table list, a source that is down) fails
        the step."""
        return await self._query(source_name, operation, database, tables, sql, notices=True)

    async def _query(
        self,
        source_name: str | None,
        operation: str,
        database: str | None,
        tables: list[str] | None,
        sql: str | list[str] | None,
        *,
        notices: bool,
    ) -> Any:
        source = self.source(source_name)
        try:
            if database is not None:
                self._check_name(database, "the database name")
            if operation == "list-tables":
                return await source.list_tables(database)
            if operation == "describe-tables":
                return await source.describe_tables(database, self._table_names(tables))
            if operation == "execute-query":
                run = _rows_or_notice if notices else _rows
                results = [await run(source, database, one) for one in self._queries(sql)]
                return results[0] if isinstance(sql, str) else results
        except SourceError as error:
            raise CallError(error.code, str(error)) from None
        raise invalid(
            f"unknown operation '{str(operation)[:40]}' "
            "(list-tables, describe-tables, execute-query)"
        )

    def _check_name(self, name: str, what: str) -> None:
        limit = self.settings.name_chars
        if len(name) > limit:
            raise invalid(f"{what} is longer than {limit} characters; use the real name")
        if "\x00" in name:
            raise invalid(f"{what} holds a NUL character; remove it")

    def _table_names(self, tables: list[str] | None) -> list[str]:
        if not tables:
            raise invalid("describe-tables needs tables: a list of names (list-tables gives them)")
        limit = self.settings.describe_tables
        if len(tables) > limit:
            raise invalid(
                f"describe-tables takes at most {limit} tables per call, got {len(tables)}; "
                "describe them in several calls"
            )
        for number, table in enumerate(tables, 1):
            if not isinstance(table, str) or not table:
                raise invalid(f"table {number} of the list is not a name; give table names")
            self._check_name(table, f"table {number} of the list")
        return tables

    def _queries(self, sql: str | list[str] | None) -> list[str]:
        if isinstance(sql, str):
            return [sql]
        if not sql:
            raise invalid("execute-query needs sql: one query or a list")
        limit = self.settings.queries_per_step
        if len(sql) > limit:
            raise invalid(
                f"execute-query runs at most {limit} queries per step, got {len(sql)}; "
                "split them over several steps"
            )
        for number, one in enumerate(sql, 1):
            if not isinstance(one, str):
                raise invalid(f"query {number} of the list is not SQL text")
        return sql

    async def pack_repo(
        self,
        who: Principal,
        url: str,
        project_id: str | None,
        version_label: str | None,
        include: list[str] | None,
        exclude: list[str] | None,
        on_progress: Callable[[int, int], None] | None = None,
        digest_tokens: int | None = None,
    ) -> dict[str, Any]:
        if version_label is not None and len(version_label) > MAX_LABEL_CHARS:
            raise invalid(
                f"version_label has {len(version_label):,} characters, more than the"
                f" {MAX_LABEL_CHARS} allowed; shorten it"
            )
        async with self.access.in_project(who, project_id) as (found, _):
            project = UUID(found["id"])
        try:
            snapshot = await self.snapshots.pack(
                project, url, version_label, include, exclude, on_progress, digest_tokens
            )
        except snapshots.SnapshotError as error:
            # invalid, quota (the project's stored snapshots), unavailable (packers busy)
            raise CallError(error.code, str(error)) from None
        return {
            "snapshot_id": snapshot["id"],
            "version": snapshot["version"],
            "file_count": snapshot["file_count"],
            "token_count": snapshot["token_count"],
            "top_files": snapshot["top_files"],
            "flagged_secrets": snapshot["flagged_secrets"],
            "resource_uri": snapshot["resource_uri"],
            "digest_uri": snapshot["digest_uri"],
            "languages": snapshot["languages"],
            "test_frameworks": snapshot["test_frameworks"],
            "digest": snapshot["digest"],
        }

    async def snapshot_page(self, who: Principal, snapshot_id: str, number: int) -> str:
        target = parse_id(snapshot_id, "snapshot id")
        assert target is not None
        if number < 1:
            raise invalid("pages start at 1")
        scope = self.access.scope_for(who)
        async with self.db.transaction(scope) as conn:
            found = await repositories.page(conn, target, number, snapshots.PAGE_CHARS)
        if found is None:
            raise not_found(f"no snapshot {target}")
        text, pages = found
        if number > pages:
            raise not_found(f"snapshot {target} has {pages} page(s)")
        more = (
            f"read {snapshots.RESOURCE_PREFIX}{target}/pages/{number + 1} next"
            if number < pages
            else "last page"
        )
        return f"[page {number} of {pages}; {more}]\n{text}"

    async def query_data(
        self,
        who: Principal,
        operation: str,
        source: str | None,
        database: str | None,
        tables: list[str] | None,
        sql: str | None,
    ) -> dict[str, Any]:
        """The query_data tool: a query that gives no rows is an error (`[refused]`,
        `[timeout]`, `[invalid]`), so a client that checks isError sees it."""
        if operation == "execute-query" and not isinstance(sql, str):
            raise invalid("execute-query needs sql: one read-only query")
        result = await self._query(source, operation, database, tables, sql, notices=False)
        key = {"list-tables": "tables", "describe-tables": "schemas"}.get(operation, "result")
        return {"source": source or self.default, "operation": operation, key: result}


async def _rows(source: DataSource, database: str | None, sql: str) -> dict[str, Any]:
    """One query's result; a query that gives no rows raises its QueryProblem."""
    return await source.execute(database, sql)


async def _rows_or_notice(source: DataSource, database: str | None, sql: str) -> dict[str, Any]:
    """One query's result; a query that gives no rows is a result with its notice."""
    try:
        return await source.execute(database, sql)
    except QueryProblem as problem:
        return no_rows(sql, problem.notice)
