"""What every data source offers, and the errors it reports."""

from __future__ import annotations

from typing import Any, Protocol


class SourceError(RuntimeError):
    """The source could not answer; the message is safe to show."""


class DataSource(Protocol):
    name: str

    async def list_tables(self, database: str | None) -> list[str]: ...

    async def describe_tables(
        self, database: str | None, tables: list[str]
    ) -> list[dict[str, Any]]: ...

    async def execute(self, database: str | None, sql: str) -> dict[str, Any]: ...
