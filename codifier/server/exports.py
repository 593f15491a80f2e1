"""The export as an MCP resource: codifier://projects/{project_id}/export/{format}.

The same text `codifier export` writes (codifier.export): AGENTS.md or CLAUDE.md as one
Markdown document; cursor-rules as one Markdown document that holds each `.mdc` file
under a heading naming its path. A project key reads only its own project: another
project's export is `[not_found]`, as another project's snapshot is, and the read runs
in that project's scope, so row-level security holds underneath.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from codifier.export import ExportSettings, load_source, render_document
from codifier.export.formats import FORMATS, parse_format
from codifier.server.access import require_id
from codifier.server.errors import CallError, invalid, not_found, shown
from codifier.server.principal import Principal
from codifier.server.services import Services
from codifier.server.tools import ServicesHolder, _read
from codifier.store import projects
from codifier.store.database import Scope

EXPORT_URI = "codifier://projects/{project_id}/export/{format}"


def register_export_resources(server: MCPServer, holder: ServicesHolder) -> None:
    @server.resource(
        EXPORT_URI,
        name="project export",
        description=(
            "A project's current rule memories and summary as AGENTS.md (format agents-md),"
            " CLAUDE.md (claude-md), or Cursor's .cursor/rules/*.mdc files, each under a"
            " heading naming its path (cursor-rules)."
        ),
        mime_type="text/markdown",
    )
    async def project_export(project_id: str, format: str) -> str:
        return await _read(holder, lambda who, s: export_text(who, s, project_id, format))


async def export_text(who: Principal, services: Services, project_id: str, fmt: str) -> str:
    chosen = parse_format(fmt)
    if chosen is None:
        raise invalid(
            f"format '{shown(fmt)}' is not one of {', '.join(FORMATS)};"
            " read codifier://projects/<project_id>/export/agents-md, for example"
        )
    wanted = require_id(project_id, "project_id", "that manage_projects(operation='list') names")
    try:
        settings = ExportSettings.from_env()
    except ValueError as error:
        raise CallError("internal", f"the server's export setting is wrong: {error}") from None
    missing = not_found(f"no project with id {wanted}")
    if not who.is_admin and wanted != who.project_id:
        raise missing  # another project's: the same answer as one that does not exist
    async with services.db.transaction(Scope.project(wanted)) as conn:
        project = await projects.get(conn, wanted)
        if project is None:
            raise missing
        source = await load_source(conn, project, settings)
    return render_document(source, chosen)
