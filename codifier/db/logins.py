"""The login roles the server connects as when it runs the embedded PostgreSQL.

Migrations run as the superuser `postgres`; the server's own connections do not. Each
scope gets a login of its own, a non-superuser that inherits nothing and may SET ROLE to
exactly one group role:

- `codifier_login` -> `codifier_app` (project scope);
- `codifier_admin_login` -> `codifier_admin` (admin scope).

So inside a project-scoped transaction, `RESET ROLE` lands on `codifier_login`, which can
read no table, and `SET ROLE codifier_admin` is refused: the project connection cannot
reach the admin scope by any statement. The embedded server listens on a Unix socket in
its data directory (mode 0700) with `trust` authentication, so these roles need no
password: whoever can reach the socket is already the data directory's owner.
"""

from __future__ import annotations

import asyncpg

from codifier.db.migrate import migration_lock

PROJECT_LOGIN = "codifier_login"
ADMIN_LOGIN = "codifier_admin_login"

# login role -> the one group role it may SET ROLE to
_MEMBERSHIP = {PROJECT_LOGIN: "codifier_app", ADMIN_LOGIN: "codifier_admin"}
_ATTRIBUTES = "LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


async def ensure_login_roles(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """Create (or repair) the login roles; `connection` is a superuser's, after migrations."""
    async with migration_lock(connection):
        # Pooled connections keep their session between transactions: a temporary table
        # named like a real one, made in one tenant's transaction, would be found first
        # by the next tenant's queries on that connection. Nobody but the superuser gets
        # temporary objects.
        await connection.execute(
            "DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC',"
            " current_database()); END $$"
        )
        for login, group in _MEMBERSHIP.items():
            other = next(g for g in _MEMBERSHIP.values() if g != group)
            # Names are the constants above, never input.
            await connection.execute(
                f"""
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN
                        CREATE ROLE {login} {_ATTRIBUTES};
                    END IF;
                END
                $$;
                ALTER ROLE {login} {_ATTRIBUTES};
                GRANT {group} TO {login} WITH INHERIT FALSE, SET TRUE;
                REVOKE {other} FROM {login};
                -- Other sessions of the same login would otherwise show their last query
                -- (with its project id) in pg_stat_activity after a RESET ROLE.
                ALTER ROLE {login} SET track_activities = off;
                """
            )
