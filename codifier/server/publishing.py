"""publish_playbook and which playbook a run starts: shipped, server-wide or the project's.

A published playbook is checked by the same checker as `codifier check`, with its own
templates beside the shipped ones, in a worker thread (the SQL guard parses literal SQL:
CPU work). One that checks is stored as the next version of its id in its scope, with
the templates it uses; a session keeps the templates its run started with, so a later
publish never changes a running session.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import anyio

from codifier.catalog import Entry
from codifier.library import library_with
from codifier.server.access import Access
from codifier.server.errors import CallError, conflict, invalid, not_found, shown
from codifier.server.principal import Principal
from codifier.store import playbooks
from codifier.store.database import ADMIN, Database, Scope
from dsl.codes import Severity
from dsl.compiler import compile_playbook
from dsl.diagnostics import Diagnostic
from dsl.ir import Program
from dsl.library import Library

MAX_SOURCE_BYTES = 1024 * 1024  # the language's own bound on a playbook file
MAX_TEMPLATES = 50
MAX_TEMPLATE_BYTES = 256 * 1024
MAX_LISTED_DIAGNOSTICS = 30
TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
PUBLISHED_PATH = "<published>"  # no .yaml suffix: the id-matches-file-name check is off


@dataclass(frozen=True)
class Resolved:
    """The playbook a run starts: its program, its own templates (None for shipped)."""

    program: Program
    templates: dict[str, str] | None
    source: str  # shipped | server | project
    version: int  # the shipped playbook's own version, or the published version


def diagnostic_line(d: Diagnostic) -> str:
    where = f"{d.span.line}:{d.span.column}"
    if d.path != PUBLISHED_PATH:
        where = f"{d.path}:{where}"
    return f"{where} {d.code} {d.message}"


class Publisher:
    def __init__(
        self, db: Database, access: Access, library: Library, catalog: dict[str, Entry]
    ) -> None:
        self.db = db
        self.access = access
        self.library = library
        self.catalog = catalog

    async def publish(
        self,
        who: Principal,
        source: str,
        templates: dict[str, str] | None,
        project_id: str | None,
    ) -> dict[str, Any]:
        given = _checked_templates(templates or {})
        if len(source.encode()) > MAX_SOURCE_BYTES:
            raise invalid(
                f"source has {len(source.encode()):,} bytes, more than the"
                f" {MAX_SOURCE_BYTES:,} a playbook may have; split it"
            )
        if who.is_admin and not project_id:
            project: UUID | None = None  # the admin without a project: server-wide
        else:
            async with self.access.in_project(who, project_id) as (row, _):
                project = UUID(row["id"])
        library = library_with(self.library, given)
        result = await anyio.to_thread.run_sync(compile_playbook, source, PUBLISHED_PATH, library)
        if result.program is None:
            problems = [diagnostic_line(d) for d in result.errors]
            shown_problems = "; ".join(problems[:MAX_LISTED_DIAGNOSTICS])
            more = len(problems) - MAX_LISTED_DIAGNOSTICS
            tail = f"; and {more} more" if more > 0 else ""
            raise invalid(
                f"the playbook does not check ({len(problems)} error(s)): {shown_problems}"
                f"{tail}; `codifier check` shows each with its source line"
            )
        program = result.program
        if program.id in self.catalog:
            raise conflict(
                f"'{program.id}' is a playbook shipped with the server or loaded from its"
                " CODIFIER_PLAYBOOK_DIRS; give yours another id"
            )
        scope = ADMIN if project is None else Scope.project(project)
        async with self.db.transaction(scope) as conn:
            row = await playbooks.publish(
                conn,
                project,
                program.id,
                source=source,
                templates=given,
                program=json.loads(program.to_json()),
                published_by=who.name,
            )
        warnings = [
            diagnostic_line(d) for d in result.diagnostics if d.severity is not Severity.ERROR
        ]
        return {
            "playbook_id": program.id,
            "version": row["version"],
            "scope": "server" if project is None else "project",
            "project_id": None if project is None else str(project),
            "warnings": warnings,
        }

    async def resolve(self, project: UUID, playbook_id: str, version: int | None) -> Resolved:
        """Which playbook `playbook_id` names for this project: a shipped one (its own
        version only), else the project's newest (or given) version, else server-wide."""
        entry = self.catalog.get(playbook_id)
        if entry is not None:
            if version is not None and version != entry.program.version:
                raise not_found(
                    f"{entry.origin} playbook '{playbook_id}' has version"
                    f" {entry.program.version} only, not {version}"
                )
            return Resolved(entry.program, entry.templates, entry.origin, entry.program.version)
        async with self.db.transaction(Scope.project(project)) as conn:
            row = await playbooks.find(conn, project, playbook_id, version)
        if row is None:
            which = f" version {version}" if version is not None else ""
            raise not_found(
                f"no playbook '{shown(playbook_id)}'{which} for this project;"
                " list_playbooks lists the ones you can run"
            )
        program = Program.from_json(json.dumps(row["program"]))
        source = "server" if row["project_id"] is None else "project"
        return Resolved(program, dict(row["templates"]) or None, source, int(row["version"]))

    async def published(self, who: Principal) -> list[tuple[Program, str, int]]:
        """The newest version of each published playbook the caller may run."""
        project: UUID | None = who.project_id
        if who.is_admin:
            try:
                project = await self.access.project_for(who, None, None)
            except CallError:
                project = None  # no default project: server-wide ones only
        scope = ADMIN if project is None else Scope.project(project)
        async with self.db.transaction(scope) as conn:
            rows = await playbooks.newest(conn, project)
        return [
            (
                Program.from_json(json.dumps(row["program"])),
                "server" if row["project_id"] is None else "project",
                int(row["version"]),
            )
            for row in rows
            if project is not None or row["project_id"] is None
        ]


def _checked_templates(templates: dict[str, str]) -> dict[str, str]:
    if not isinstance(templates, dict):
        raise invalid("templates must map template names to their source")
    if len(templates) > MAX_TEMPLATES:
        raise invalid(f"at most {MAX_TEMPLATES} templates per playbook, got {len(templates)}")
    for name, text in templates.items():
        if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
            raise invalid(
                f"template name '{shown(str(name))}' is not a name: lowercase letters, digits,"
                " '-' and '_' (the file name without .md.j2)"
            )
        if not isinstance(text, str):
            raise invalid(f"template '{name}' must be its source text")
        if len(text.encode()) > MAX_TEMPLATE_BYTES:
            raise invalid(
                f"template '{name}' has {len(text.encode()):,} bytes, more than the"
                f" {MAX_TEMPLATE_BYTES:,} allowed"
            )
    return templates
