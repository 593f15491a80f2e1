"""Which project a call acts on, and transactions scoped to it.

Project keys are confined to their project here and, underneath, by row-level security.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from codifier.server.errors import forbidden, invalid, not_found, shown
from codifier.server.principal import Principal
from codifier.store import projects
from codifier.store.database import ADMIN, Connection, Database, Scope


def parse_id(value: str | None, what: str) -> UUID | None:
    """An optional id: None when not given (or empty)."""
    if value is None or value == "":
        return None
    try:
        return UUID(str(value))
    except ValueError:
        raise invalid(f"{what} '{shown(value)}' is not a valid id") from None


def require_id(value: str | None, what: str, where_from: str) -> UUID:
    """An id the call cannot do without; `where_from` says where the caller gets one."""
    found = parse_id(value, what)
    if found is None:
        raise invalid(f"{what} is empty; pass the {what} {where_from}")
    return found


class Access:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def project_for(
        self,
        who: Principal,
        project_id: str | None = None,
        project_name: str | None = None,
    ) -> UUID:
        """The project a call acts on: the one named, else the caller's default. Whether it
        exists is checked by the caller, in the transaction that uses it."""
        wanted = parse_id(project_id, "project_id")
        if wanted is None and project_name:
            async with self.db.transaction(self.scope_for(who)) as conn:
                row = await projects.find(conn, project_name)
            if row is None:
                raise not_found(f"no project named '{shown(project_name)}'")
            wanted = UUID(row["id"])
        if not who.is_admin:
            assert who.project_id is not None
            if wanted is not None and wanted != who.project_id:
                raise forbidden("this API key belongs to another project")
            return who.project_id
        if wanted is None:
            async with self.db.transaction(ADMIN) as conn:
                wanted = await projects.get_default(conn, who.id)
            if wanted is None:
                raise invalid(
                    "no project given: pass project_id, or choose one with "
                    "manage_projects(operation='switch')"
                )
        return wanted

    @asynccontextmanager
    async def in_project(
        self, who: Principal, project_id: str | None = None, project_name: str | None = None
    ) -> AsyncIterator[tuple[dict[str, Any], Connection]]:
        """The call's project and a transaction scoped to it, in one round of checks: an
        explicit id is checked inside the operation's own transaction."""
        project = await self.project_for(who, project_id, project_name)
        async with self.db.transaction(Scope.project(project)) as conn:
            row = await projects.get(conn, project)
            if row is None:
                raise not_found(f"no project with id {project}")
            yield row, conn

    async def require_project(self, conn: Connection, project: UUID) -> None:
        if await projects.get(conn, project) is None:
            raise not_found(f"no project with id {project}")

    @staticmethod
    def own(who: Principal) -> Scope:
        assert who.project_id is not None
        return Scope.project(who.project_id)

    def scope_for(self, who: Principal) -> Scope:
        """All projects for the admin; the key's own project otherwise."""
        return ADMIN if who.is_admin else self.own(who)
