"""`codifier migrate` and `codifier keys create|list|revoke`: administration against the
same database the server uses (DATABASE_URL, or the embedded one under CODIFIER_HOME)."""

from __future__ import annotations

import argparse
import sys
from uuid import UUID

import anyio
import asyncpg

from codifier.cli.check import UsageError
from codifier.config import Settings
from codifier.db.migrate import migrate
from codifier.store import keys, projects
from codifier.store.database import ADMIN, Database
from codifier.store.store import database_url, open_database


def add_migrate_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run_migrate(args: argparse.Namespace) -> int:
    async def work() -> list[str]:
        connection = await asyncpg.connect(database_url(Settings.from_env()))
        try:
            return await migrate(connection)
        finally:
            await connection.close()

    applied = anyio.run(work)
    print(f"applied: {', '.join(applied)}" if applied else "the database is up to date")
    return 0


def add_keys_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key; the secret is shown once")
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument("--project", help="the project (name or id) the key may use")
    scope.add_argument("--admin", action="store_true", help="a key with admin scope")
    create.add_argument("--name", default="key", help="a label to tell keys apart")
    actions.add_parser("list", help="list keys (never their secrets)")
    revoke = actions.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")


async def _project_id(db: Database, name_or_id: str) -> UUID:
    async with db.transaction(ADMIN) as conn:
        try:
            row = await projects.get(conn, UUID(name_or_id))
        except ValueError:
            row = await projects.find(conn, name_or_id)
    if row is None:
        raise UsageError(f"no project '{name_or_id}'")
    return UUID(row["id"])


def run_keys(args: argparse.Namespace) -> int:
    async def work() -> int:
        db = await open_database(Settings.from_env(), max_size=2)
        try:
            if args.action == "create":
                project = None if args.admin else await _project_id(db, args.project)
                async with db.transaction(ADMIN) as conn:
                    row, secret = await keys.create(conn, project, args.name)
                sys.stderr.write(
                    f"created key {row['id']} ({row['name']}); the secret is shown only now:\n"
                )
                print(secret)
            elif args.action == "list":
                async with db.transaction(ADMIN) as conn:
                    for row in await keys.list_keys(conn):
                        state = "revoked" if row["revoked_at"] else "active"
                        scope = row["project_id"] or "admin"
                        print(f"{row['id']}  {row['prefix']}…  {scope}  {row['name']}  {state}")
            else:
                try:
                    key_id = UUID(args.key_id)
                except ValueError:
                    raise UsageError(f"'{args.key_id}' is not a key id") from None
                async with db.transaction(ADMIN) as conn:
                    if not await keys.revoke(conn, key_id):
                        raise UsageError(f"no active key {key_id}")
                print(f"revoked {key_id}")
            return 0
        finally:
            await db.close()

    result: int = anyio.run(work)
    return result
