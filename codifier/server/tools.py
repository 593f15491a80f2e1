"""The MCP tools: names and argument names are a contract (ARCHITECTURE.md)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from codifier.server.errors import CallError
from codifier.server.principal import Principal, current_principal
from codifier.server.services import Services
from codifier.store.memories import NewMemory


class ServicesHolder:
    """Filled in by the app's lifespan, once the database is open."""

    services: Services | None = None

    def get(self) -> Services:
        if self.services is None:
            raise ToolError("[unavailable] the server is still starting")
        return self.services


def _who() -> Principal:
    principal = current_principal.get()
    if principal is None:
        raise ToolError("[unauthorized] no credentials reached this call")
    return principal


async def _call(work: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    try:
        return await work()
    except CallError as error:
        raise ToolError(str(error)) from None


class _Progress:
    """Progress from the packer's worker thread to the client, at most every half second."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.last = 0.0

    def from_thread(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done != total and now - self.last < 0.5:
            return
        self.last = now
        with contextlib.suppress(Exception):  # a client that went away is not our failure
            anyio.from_thread.run(
                self.ctx.report_progress, float(done), float(total), f"packed {done}/{total} files"
            )


async def _read(work: Callable[[], Awaitable[str]]) -> str:
    try:
        return await work()
    except CallError as error:
        raise ResourceError(str(error)) from None
    except ToolError as error:
        raise ResourceError(str(error)) from None


def register_bench_echo(server: MCPServer) -> None:
    """A do-nothing tool with the same auth path, for bench/server.py's baseline. Only
    registered when CODIFIER_BENCH_ECHO=1."""

    @server.tool()
    async def echo(text: str) -> dict[str, Any]:
        """Return the text (benchmark baseline)."""
        _who()
        return {"text": text}


def register_tools(server: MCPServer, holder: ServicesHolder) -> None:
    @server.tool()
    async def manage_projects(
        operation: Literal["create", "list", "switch", "get"],
        name: str | None = None,
        description: str | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any]:
        """Create, list, get or switch to a project (switch sets your default project)."""
        who, services = _who(), holder.get()
        return await _call(
            lambda: services.projects.manage(who, operation, name, description, project_id)
        )

    @server.tool()
    async def fetch_context(
        project_id: str | None = None,
        memory_type: str | None = None,
        tags: list[str] | None = None,
        query: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The project's memories, newest first, or by relevance to `query` (full text).
        `tags` must all match; `limit` is at most 100."""
        who, services = _who(), holder.get()
        return await _call(
            lambda: services.memories.fetch(
                who, project_id, memory_type, tags, query, limit, offset
            )
        )

    @server.tool()
    async def update_memory(
        memory_type: str,
        title: str,
        content: str,
        project_id: str | None = None,
        id: str | None = None,
        tags: list[str] | None = None,
        source_role: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Save a memory (rule, document, api_contract, learning, research_finding).
        With `id`, update that memory; otherwise identical content is not stored twice."""
        who, services = _who(), holder.get()
        memory = NewMemory(memory_type, title, content, tags or [], source_role, metadata or {})
        return await _call(lambda: services.memories.update(who, project_id, id, memory))

    @server.tool()
    async def delete_memory(id: str, project_id: str | None = None) -> dict[str, Any]:
        """Delete one memory of the project."""
        who, services = _who(), holder.get()
        return await _call(lambda: services.memories.delete(who, project_id, id))

    @server.tool()
    async def pack_repo(
        url: str,
        ctx: Context,
        project_id: str | None = None,
        version_label: str | None = None,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
    ) -> dict[str, Any]:
        """Pack a repository (a URL; or a local path under CODIFIER_PACK_ROOTS) into a new
        snapshot version. The text is not returned: read it as the resource_uri, in pages."""
        who, services = _who(), holder.get()
        progress = _Progress(ctx)
        result = await _call(
            lambda: services.data.pack_repo(
                who, url, project_id, version_label, include, exclude, progress.from_thread
            )
        )
        return result

    @server.resource(
        "codifier://snapshots/{snapshot_id}",
        name="snapshot",
        description="A packed repository, first page (100,000 characters a page).",
        mime_type="text/markdown",
    )
    async def snapshot_first_page(snapshot_id: str) -> str:
        return await _read(lambda: holder.get().data.snapshot_page(_who(), snapshot_id, 1))

    @server.resource(
        "codifier://snapshots/{snapshot_id}/pages/{page}",
        name="snapshot page",
        description="One page of a packed repository.",
        mime_type="text/markdown",
    )
    async def snapshot_page(snapshot_id: str, page: str) -> str:
        if not page.isdigit():
            raise ResourceError(f"page must be a number, got '{page}'")
        number = int(page)
        return await _read(lambda: holder.get().data.snapshot_page(_who(), snapshot_id, number))

    @server.tool()
    async def query_data(
        operation: Literal["list-tables", "describe-tables", "execute-query"],
        source: str | None = None,
        database: str | None = None,
        tables: list[str] | None = None,
        sql: str | None = None,
    ) -> dict[str, Any]:
        """Explore a data source read-only: list tables, describe them, or run one
        read-only query (results capped at 100 KB with a notice)."""
        who, services = _who(), holder.get()
        return await _call(
            lambda: services.data.query_data(who, operation, source, database, tables, sql)
        )

    @server.tool()
    async def list_playbooks(role: str | None = None) -> dict[str, Any]:
        """The playbooks this server runs, with their inputs and step counts."""
        _who()
        return holder.get().runs.list(role)

    @server.tool()
    async def run_playbook(
        playbook_id: str,
        project_id: str | None = None,
        project_name: str | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start a playbook run. The result says what the run needs next: an answer
        (prompt + expects), a generated artifact (generate_request), or it is done."""
        who, services = _who(), holder.get()
        return await _call(
            lambda: services.runs.start(who, playbook_id, project_id, project_name, inputs)
        )

    @server.tool()
    async def advance_step(session_id: str, step_id: str, input: Any) -> dict[str, Any]:
        """Answer the session's current step (`step_id` must be that step): the person's
        answer for a prompt, or the generated artifact for a generate_request."""
        who, services = _who(), holder.get()
        return await _call(lambda: services.runs.advance(who, session_id, step_id, input))
