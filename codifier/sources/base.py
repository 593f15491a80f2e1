"""What every data source offers, and the errors it reports."""

from __future__ import annotations

from typing import Any, Protocol


class SourceError(RuntimeError):
    """The source could not answer; the message is safe to show. `code` is the error code
    a direct tool call reports it with."""

    code = "invalid"


class QueryProblem(SourceError):
    """One query did not give rows: the source itself works. A direct `query_data` call
    reports it as an error; inside a playbook's data-query step it becomes that query's
    result with `notice`, so the later steps can read what happened."""

    def __init__(self, message: str, notice: str | None = None) -> None:
        super().__init__(message)
        self.notice = notice or message


class QueryInvalid(QueryProblem):
    """The SQL text is not acceptable input: too long, a NUL character, nested too deeply."""


class QueryRefused(QueryProblem):
    """The read-only guard (or the engine's own) refused the query."""

    code = "refused"


class QueryTimedOut(QueryProblem):
    """The query ran past its deadline and was stopped."""

    code = "timeout"


class QueryFailed(QueryProblem):
    """The engine ran the query and reported an error (a missing table, no memory ...)."""


class DataSource(Protocol):
    name: str

    async def list_tables(self, database: str | None) -> list[str]: ...

    async def describe_tables(
        self, database: str | None, tables: list[str]
    ) -> list[dict[str, Any]]: ...

    async def execute(self, database: str | None, sql: str) -> dict[str, Any]:
        """The rows of one read-only query (capped at 100 KB); a QueryProblem when it
        gives none."""
        ...
