"""manage_projects: create, list, get, switch."""

from __future__ import annotations

from typing import Any

from codifier.server.access import Access
from codifier.server.errors import conflict, forbidden, invalid, not_found
from codifier.server.principal import Principal
from codifier.store import projects
from codifier.store.database import ADMIN, Database


class ProjectTools:
    def __init__(self, db: Database, access: Access) -> None:
        self.db = db
        self.access = access

    async def manage(
        self,
        who: Principal,
        operation: str,
        name: str | None,
        description: str | None,
        project_id: str | None,
    ) -> dict[str, Any]:
        if operation == "create":
            if not who.is_admin:
                raise forbidden("only the admin token can create projects")
            if not name or not name.strip():
                raise invalid("create needs a name")
            async with self.db.transaction(ADMIN) as conn:
                try:
                    row = await projects.create(conn, name.strip(), description or "")
                except projects.ProjectExists as error:
                    raise conflict(str(error)) from None
            return {"project": row}
        if operation == "list":
            scope = self.access.scope_for(who)
            async with self.db.transaction(scope) as conn:
                return {"projects": await projects.list_all(conn)}
        if operation in ("get", "switch"):
            # The existence check happens here, in the transaction that reads the row.
            project = await self.access.project_for(who, project_id, name)
            async with self.db.transaction(self.access.scope_for(who)) as conn:
                found = await projects.get(conn, project)
                if found is None:
                    raise not_found(f"no project with id {project}")
                if operation == "switch":
                    await projects.set_default(conn, who.id, project)
            return {"project": found}
        raise invalid(f"unknown operation '{operation}' (create, list, switch, get)")
