"""manage_projects: create, list, get, switch."""

from __future__ import annotations

from typing import Any

from codifier.limits import Limits
from codifier.server.access import Access
from codifier.server.errors import conflict, forbidden, invalid, not_found, shown
from codifier.server.principal import Principal
from codifier.storable import text_problem
from codifier.store import projects
from codifier.store.database import ADMIN, Database


class ProjectTools:
    def __init__(self, db: Database, access: Access, limits: Limits | None = None) -> None:
        self.db = db
        self.access = access
        self.limits = limits or Limits.from_env()

    def _new_project_problem(self, name: str, description: str) -> str | None:
        limits = self.limits
        for what, text, most, setting in (
            ("name", name, limits.project_name_chars, "project_name_chars"),
            (
                "description",
                description,
                limits.project_description_chars,
                "project_description_chars",
            ),
        ):
            if problem := text_problem(text):
                return f"{what} {problem}; remove it"
            if len(text) > most:
                return (
                    f"{what} has {len(text):,} characters, more than the {most:,} allowed"
                    f" ({limits.setting(setting)}); shorten it"
                )
        if not name.isprintable():
            return "name must be one line of printable characters; remove the control characters"
        return None

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
            if problem := self._new_project_problem(name.strip(), description or ""):
                raise invalid(problem)
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
        raise invalid(f"unknown operation '{shown(operation)}' (create, list, switch, get)")
