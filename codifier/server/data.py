"""query_data, pack_repo and snapshot pages: the data a run or a client reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from codifier import snapshots
from codifier.server.access import Access, parse_id
from codifier.server.errors import invalid, not_found
from codifier.server.principal import Principal
from codifier.sources.base import DataSource, SourceError
from codifier.sources.names import DEFAULT_SOURCE
from codifier.store import repositories
from codifier.store.database import Database


class DataTools:
    def __init__(
        self,
        db: Database,
        access: Access,
        sources: dict[str, DataSource],
        default: str = DEFAULT_SOURCE,
    ) -> None:
        self.db = db
        self.access = access
        self.sources = sources
        self.default = default

    def source(self, name: str | None) -> DataSource:
        source = self.sources.get(name or self.default)
        if source is None:
            names = ", ".join(sorted(self.sources)) or "none"
            raise invalid(f"no data source '{name}' (configured: {names})")
        return source

    async def query(
        self,
        source_name: str | None,
        operation: str,
        database: str | None,
        tables: list[str] | None,
        sql: str | list[str] | None,
    ) -> Any:
        source = self.source(source_name)
        try:
            if operation == "list-tables":
                return await source.list_tables(database)
            if operation == "describe-tables":
                if not tables:
                    raise invalid("describe-tables needs tables")
                return await source.describe_tables(database, tables)
            if operation == "execute-query":
                if isinstance(sql, str):
                    return await source.execute(database, sql)
                if not sql:
                    raise invalid("execute-query needs sql: one query or a list")
                return [await source.execute(database, one) for one in sql]
        except SourceError as error:
            raise invalid(str(error)) from None
        raise invalid(
            f"unknown operation '{operation}' (list-tables, describe-tables, execute-query)"
        )

    async def pack_repo(
        self,
        who: Principal,
        url: str,
        project_id: str | None,
        version_label: str | None,
        include: list[str] | None,
        exclude: list[str] | None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        async with self.access.in_project(who, project_id) as (found, _):
            project = UUID(found["id"])
        try:
            snapshot = await snapshots.pack_and_store(
                self.db, project, url, version_label, include, exclude, on_progress
            )
        except snapshots.SnapshotError as error:
            raise invalid(str(error)) from None
        return {
            "snapshot_id": snapshot["id"],
            "version": snapshot["version"],
            "file_count": snapshot["file_count"],
            "token_count": snapshot["token_count"],
            "top_files": snapshot["top_files"],
            "flagged_secrets": snapshot["flagged_secrets"],
            "resource_uri": snapshot["resource_uri"],
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
        result = await self.query(source, operation, database, tables, sql)
        key = {"list-tables": "tables", "describe-tables": "schemas"}.get(operation, "result")
        return {"source": source or self.default, "operation": operation, key: result}
