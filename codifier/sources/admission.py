"""What a SQL text must pass before any engine sees it, without stalling the server.

The size and NUL checks are linear and run at once; the parse (sqlglot: about a
millisecond for a normal query, up to a tenth of a second at the 64 KB limit) runs in a
worker thread, so other requests, `/health` included, are answered meanwhile. Parses run
one at a time: sqlglot's parser is compiled (mypyc) and holds the GIL for a whole parse,
so a dozen parallel parses would starve the event loop as surely as one on it did.
"""

from __future__ import annotations

import anyio
from anyio.lowlevel import RunVar

from codifier.sources.base import QueryInvalid, QueryRefused
from codifier.sources.query_settings import QuerySettings
from codifier.sql_guard import Verdict, judge, screen


def _raise(verdict: Verdict) -> None:
    if verdict.code == "invalid":
        raise QueryInvalid(verdict.reason, notice=f"not run: {verdict.reason}")
    raise QueryRefused(
        f"the SQL is not one read-only query ({verdict.reason}); "
        "send a single SELECT or WITH ... SELECT",
        notice=f"refused by the read-only guard: {verdict.reason}",
    )


_PARSING: RunVar[anyio.CapacityLimiter] = RunVar("codifier_sql_parsing")


def _parsing() -> anyio.CapacityLimiter:
    """One parse at a time, per event loop."""
    try:
        return _PARSING.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(1)
        _PARSING.set(limiter)
        return limiter


async def admit(sql: str, dialect: str, settings: QuerySettings) -> None:
    """Return if `sql` is one read-only query; raise QueryInvalid or QueryRefused if not."""
    problem = screen(sql, settings.sql_bytes)
    if problem is not None:
        _raise(Verdict("invalid", problem))
    verdict = await anyio.to_thread.run_sync(
        judge, sql, dialect, settings.sql_bytes, limiter=_parsing()
    )
    if verdict is not None:
        _raise(verdict)
