"""Connections and scoped transactions.

Every transaction runs as a non-owner role, so row-level security, not only the
application's own filters, keeps projects apart: project work as `codifier_app` with the
caller's project in `app.project_id`, the server's own cross-project work as
`codifier_admin`. The policies key on the role (migrations/0002_role_scoped_security.sql),
so no setting a transaction can change widens what it sees. Project and admin work may use
different logins (two pools): the embedded server connects project work as a login that
cannot SET ROLE to the admin scope at all (codifier.db.logins).

A database that is down, restarting, or dropped the connection surfaces as one error,
DatabaseUnavailable, whatever the driver said.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import asyncpg.exceptions as pg

from codifier.db.migrate import migrate

# What a scoped transaction hands out (a pooled connection). Subscripted for the type
# checker only: asyncpg's runtime classes are not generic.
if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    Pool = asyncpg.Pool[asyncpg.Record]
else:
    Connection = asyncpg.pool.PoolConnectionProxy
    Pool = asyncpg.Pool

CONNECT_TIMEOUT = 10.0  # seconds to open one connection before the database counts as down
PING_TIMEOUT = 2.0

# The server is gone, refusing connections or shutting down; not a query's own failure.
_SERVER_GONE: tuple[type[BaseException], ...] = (
    pg.PostgresConnectionError,  # class 08, including "connection was closed"
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.CannotConnectNowError,
    pg.TooManyConnectionsError,
)
# Opening a connection can also fail at the socket, or not finish in time.
_CANNOT_CONNECT: tuple[type[BaseException], ...] = (*_SERVER_GONE, OSError, TimeoutError)
# Anything a health check can meet: the above, or a server that answers but not well.
_UNHEALTHY: tuple[type[BaseException], ...] = (
    *_CANNOT_CONNECT,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now (stopped, restarting, connection lost).
    Shaped like a tool error: `code` and `message`; str() is `[code] message`."""

    code = "unavailable"
    message = "the database is unavailable; try again shortly"

    def __init__(self) -> None:
        super().__init__(f"[{self.code}] {self.message}")


class DatabaseSetupError(RuntimeError):
    """The database's roles do not allow what the server needs; the message says which."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a transaction may touch: one project, or all (the server's own work)."""

    project_id: UUID | None
    admin: bool = False

    @classmethod
    def project(cls, project_id: UUID) -> Scope:
        return cls(project_id, False)


ADMIN = Scope(None, True)
NOBODY = Scope(None, False)


def _begin_sql(scope: Scope) -> str:
    """BEGIN and the scope in one round trip. The values are a UUID's text or nothing,
    never input; asyncpg's own transaction() would add a second round trip."""
    if scope.admin:
        return "BEGIN; SET LOCAL ROLE codifier_admin"
    project = str(scope.project_id) if scope.project_id else ""
    return (
        "BEGIN; SET LOCAL ROLE codifier_app;"
        f" SELECT set_config('app.project_id', '{project}', true)"
    )


async def _init_connection(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    # Ids travel as text: every caller wants strings, and converting each row costs.
    await connection.set_type_codec(
        "uuid", encoder=str, decoder=str, schema="pg_catalog", format="text"
    )


async def _keep_session(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """Released connections need no reset query: transactions only ever change state
    with SET LOCAL, and asyncpg still rolls back a transaction left open."""


def _server_gone(error: BaseException, connection: Connection) -> bool:
    if isinstance(error, _SERVER_GONE):
        return True
    # asyncpg's "connection is closed" for a connection it already knew was dead, or a
    # protocol left mid-operation when the server died under it
    broken = (asyncpg.InterfaceError, asyncpg.InternalClientError)
    return isinstance(error, broken) and connection.is_closed()


class Database:
    def __init__(self, pool: Pool, admin_pool: Pool | None = None) -> None:
        self.pool = pool  # project-scoped work
        self.admin_pool = admin_pool or pool  # admin-scoped work (may be the same pool)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        project_url: str | None = None,
        admin_url: str | None = None,
        bootstrap: Callable[[asyncpg.Connection[asyncpg.Record]], Awaitable[None]] | None = None,
        min_size: int = 0,
        max_size: int = 10,
    ) -> Database:
        """Pools with the migrations applied. `url` is the owner's: it migrates (then runs
        `bootstrap`, if given) and, unless `project_url` / `admin_url` name other logins,
        serves the transactions too. Connections open on demand and stay open: with no
        floor (min_size 0) the driver does not retry, and log, every second of an outage."""
        connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
        try:
            await migrate(connection)
            if bootstrap is not None:
                await bootstrap(connection)
        finally:
            await connection.close()
        project_url = project_url or url
        admin_url = admin_url or url
        pool = await _pool(project_url, min_size, max_size)
        try:
            same = admin_url == project_url
            admin_pool = pool if same else await _pool(admin_url, min_size, max_size)
        except BaseException:
            await pool.close()
            raise
        database = cls(pool, admin_pool)
        try:
            await database._check_scopes()
        except BaseException:
            await database.close()
            raise
        return database

    async def _check_scopes(self) -> None:
        """Fail at start, not at the first request, when a login cannot take its role."""
        for scope, role in ((NOBODY, "codifier_app"), (ADMIN, "codifier_admin")):
            try:
                async with self.transaction(scope) as connection:
                    await connection.fetchval("SELECT 1")
            except asyncpg.InsufficientPrivilegeError as error:
                raise DatabaseSetupError(
                    f"the database login for {'admin' if scope.admin else 'project'}-scoped"
                    f" work cannot SET ROLE {role}; grant {role} to it (docs/security.md)"
                ) from error

    @asynccontextmanager
    async def transaction(self, scope: Scope) -> AsyncIterator[Connection]:
        """A transaction in `scope`, committed when the block ends, rolled back if it
        raises. Raises DatabaseUnavailable when the database cannot be reached."""
        pool = self.admin_pool if scope.admin else self.pool
        connection = await self._begin(pool, _begin_sql(scope))
        try:
            try:
                yield connection
            except BaseException as error:
                gone = _server_gone(error, connection)
                if not gone and not connection.is_closed():
                    # If even this fails, the pool's release rolls back or drops it.
                    with suppress(*_CANNOT_CONNECT, asyncpg.InterfaceError):
                        await connection.execute("ROLLBACK")
                if gone:
                    await pool.expire_connections()
                    raise DatabaseUnavailable() from error
                raise
            try:
                await connection.execute("COMMIT")
            except _SERVER_GONE as error:
                await pool.expire_connections()
                raise DatabaseUnavailable() from error
        finally:
            with suppress(*_CANNOT_CONNECT, asyncpg.InterfaceError):
                await pool.release(connection)

    async def _begin(self, pool: Pool, begin: str) -> Connection:
        """A connection with the transaction begun. A connection that died while it sat in
        the pool (a restarted server) is retried once on a fresh one: nothing has
        happened on it yet."""
        for attempt in (1, 2):
            try:
                connection: Connection = await pool.acquire()
            except _CANNOT_CONNECT as error:
                raise DatabaseUnavailable() from error
            try:
                await connection.execute(begin)
            except BaseException as error:
                with suppress(*_CANNOT_CONNECT, asyncpg.InterfaceError):
                    await pool.release(connection)
                # Nothing ran yet: a connection the driver cannot use is as good as gone.
                broken = (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError)
                if not _server_gone(error, connection) and not isinstance(error, broken):
                    raise
                # Every other idle connection is from before the outage too.
                await pool.expire_connections()
                if attempt == 2:
                    raise DatabaseUnavailable() from error
                continue
            return connection
        raise AssertionError("unreachable")

    async def ping(self) -> bool:
        """Whether both pools reach the database now (for /health)."""
        pools = {id(p): p for p in (self.pool, self.admin_pool)}.values()
        try:
            for pool in pools:
                async with pool.acquire(timeout=PING_TIMEOUT) as connection:
                    await connection.fetchval("SELECT 1", timeout=PING_TIMEOUT)
        except _UNHEALTHY:
            return False
        return True

    async def close(self) -> None:
        await self.pool.close()
        if self.admin_pool is not self.pool:
            await self.admin_pool.close()

    def terminate(self) -> None:
        """Close every connection now, without waiting for work in flight (a signal)."""
        self.pool.terminate()
        if self.admin_pool is not self.pool:
            self.admin_pool.terminate()


async def _pool(url: str, min_size: int, max_size: int) -> Pool:
    pool: Pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=CONNECT_TIMEOUT,
        init=_init_connection,
        reset=_keep_session,
    )
    return pool


def record(row: asyncpg.Record | None) -> dict[str, Any] | None:
    """A row as plain JSON-ready data (UUIDs and times as strings)."""
    if row is None:
        return None
    out = dict(row.items())
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out
