"""The MCP tools: names and argument names are a contract (ARCHITECTURE.md)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, TypeVar

import anyio
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    ToolError,
    UnexpectedResourceError,
)
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import AnyUrl, ValidationError

from codifier import snapshots
from codifier.server.arguments import unstorable_argument, validation_refusal
from codifier.server.errors import (
    CallError,
    as_call_error,
    invalid,
    is_coded,
    not_found,
    one_line,
    shown,
    unauthorized,
)
from codifier.server.principal import Principal, current_principal
from codifier.server.services import Services
from codifier.store.memories import NewMemory

# Pages are read with 32-bit positions (substr in PostgreSQL): no snapshot has more.
MAX_PAGE = (2**31 - 1) // snapshots.PAGE_CHARS


class ToolServer(MCPServer[Any]):
    """The MCP server, with every tool and resource error exactly `[code] one sentence`.

    The SDK reports a failing tool as "Error executing tool X: ..." and bad arguments as
    pydantic's multi-line dump, with the original exception as the cause of its
    ToolError. Both are rewritten here, at the two public entry points every transport
    goes through, from that cause."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        refusal = unstorable_argument(arguments)
        if refusal is not None:
            raise ToolError(str(refusal))
        try:
            return await super().call_tool(name, arguments, context)
        except MCPError:
            raise  # a protocol error, not a tool result
        except ToolError as error:
            raise ToolError(one_line(str(_tool_refusal(name, error)))) from None

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        try:
            return await super().read_resource(uri, context)
        except MCPError:
            raise
        except ResourceNotFoundError:
            raise ResourceNotFoundError(
                f"[not_found] no resource at '{shown(str(uri))}'; "
                "snapshots are read as codifier://snapshots/<snapshot_id>"
            ) from None
        except ResourceError as error:
            cause = error.__cause__ if isinstance(error, UnexpectedResourceError) else error
            if cause is error and is_coded(str(error)):
                text = str(error)
            else:
                text = str(as_call_error(cause or error, f"resource {shown(str(uri))}"))
            raise ResourceError(one_line(text)) from None


def _tool_refusal(name: str, error: ToolError) -> CallError:
    cause = error.__cause__
    # The SDK wraps what a tool raised, and _call wraps a CallError: unwrap both.
    while isinstance(cause, ToolError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, ValidationError):
        return validation_refusal(cause)
    if cause is None:  # raised by the SDK itself: an unknown tool
        if str(error).startswith("Unknown tool"):
            return not_found(f"no tool named '{shown(name)}'; tools/list names the tools")
        return as_call_error(error, f"tool {shown(name)}")
    return as_call_error(cause, f"tool {shown(name)}")


class ServicesHolder:
    """Filled in by the app's lifespan, once the database is open."""

    services: Services | None = None

    def get(self) -> Services:
        if self.services is None:
            raise CallError("unavailable", "the server is still starting; try again shortly")
        return self.services


def _who() -> Principal:
    principal = current_principal.get()
    if principal is None:
        raise unauthorized("no credentials reached this call; send Authorization: Bearer <token>")
    return principal


T = TypeVar("T")


async def _call(holder: ServicesHolder, work: Callable[[Principal, Services], Awaitable[T]]) -> T:
    """Run a tool's work for the calling principal. A CallError leaves as the SDK's
    ToolError with the same `[code] sentence` (ToolServer reports it exactly)."""
    try:
        return await work(_who(), holder.get())
    except CallError as error:
        raise ToolError(str(error)) from error


async def _read(
    holder: ServicesHolder, work: Callable[[Principal, Services], Awaitable[str]]
) -> str:
    """The same for a resource: a CallError leaves as a ResourceError."""
    try:
        return await work(_who(), holder.get())
    except CallError as error:
        raise ResourceError(str(error)) from error


def _page_number(page: str) -> int:
    number = int(page) if page.isascii() and page.isdigit() and len(page) <= 9 else 0
    if not 1 <= number <= MAX_PAGE:
        raise invalid(f"page must be a whole number from 1 to {MAX_PAGE}, got '{shown(page)}'")
    return number


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
        return await _call(
            holder, lambda who, s: s.projects.manage(who, operation, name, description, project_id)
        )

    @server.tool()
    async def fetch_context(
        project_id: str | None = None,
        memory_type: str | None = None,
        tags: list[str] | None = None,
        query: str | None = None,
        mode: Literal["hybrid", "text", "semantic"] | None = None,
        include_superseded: bool = False,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The project's current memories, newest first; with `query`, by relevance:
        `hybrid` (the default: words and meaning, fused), `text` (words, BM25) or
        `semantic` (meaning). `tags` must all match (case-insensitive); `limit` is at most
        100. Each memory has a `score`; `total` counts what the filters match."""
        return await _call(
            holder,
            lambda who, s: s.memories.fetch(
                who,
                project_id,
                memory_type,
                tags,
                query,
                limit,
                offset,
                mode,
                include_superseded,
            ),
        )

    @server.tool()
    async def update_memory(
        memory_type: str,
        title: str,
        content: str,
        project_id: str | None = None,
        id: str | None = None,
        supersedes: str | None = None,
        tags: list[str] | None = None,
        source_role: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Save a memory (rule, document, api_contract, learning, research_finding).
        With `id`, update that memory (its tags and metadata stay unless given); with
        `supersedes`, the new memory replaces that one, which is kept as history. Otherwise
        identical content is not stored twice, and `similar` lists near-duplicates."""
        memory = NewMemory(memory_type, title, content, tags or [], source_role, metadata or {})
        return await _call(
            holder,
            lambda who, s: s.memories.update(
                who,
                project_id,
                id,
                memory,
                supersedes,
                keep_tags=tags is None,
                keep_metadata=metadata is None,
            ),
        )

    @server.tool()
    async def delete_memory(id: str, project_id: str | None = None) -> dict[str, Any]:
        """Delete one memory of the project."""
        return await _call(holder, lambda who, s: s.memories.delete(who, project_id, id))

    @server.tool()
    async def pack_repo(
        url: str,
        ctx: Context,
        project_id: str | None = None,
        version_label: str | None = None,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        digest_tokens: int | None = None,
    ) -> dict[str, Any]:
        """Pack a repository (a URL; or a local path under CODIFIER_PACK_ROOTS) into a new
        snapshot version. Returns the snapshot's `digest`: a token-budgeted overview (the
        README's head, manifests, the tree, outlines of the most central modules;
        `digest_tokens`, 8,000 by default). The full text is not returned: read files
        exactly with read_snapshot, find code with search_snapshot."""
        progress = _Progress(ctx)
        return await _call(
            holder,
            lambda who, s: s.data.pack_repo(
                who,
                url,
                project_id,
                version_label,
                include,
                exclude,
                progress.from_thread,
                digest_tokens,
            ),
        )

    @server.tool()
    async def read_snapshot(
        snapshot_id: str,
        path: str | None = None,
        start_line: int | None = None,
        end_line: int | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> dict[str, Any]:
        """Without `path`: the snapshot's file index (path, language, lines, tokens), paged
        with `offset`/`limit` (at most 1,000). With `path`: that file's exact text, or lines
        `start_line`..`end_line` (1-based, inclusive), at most 2,000 lines or 100 KB a
        call; `next_start_line` says where to continue."""
        return await _call(
            holder,
            lambda who, s: s.code.read(who, snapshot_id, path, start_line, end_line, offset, limit),
        )

    @server.tool()
    async def search_snapshot(
        snapshot_id: str,
        query: str,
        mode: Literal["literal", "regex", "semantic"] = "literal",
        path: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """Search a snapshot's files. `literal`: an exact, case-sensitive substring;
        `regex`: an RE2 regular expression (linear time; multi-line: ^ and $ match at line
        ends; (?i) for case-insensitive); `semantic`: code chunks closest in meaning to a
        question. `path` is a glob (`*.py`, `src/**/*.ts`). Hits are {path, line, text}
        with exact 1-based line numbers, at most `limit` (<= 100); `truncated` says more
        matched."""
        return await _call(
            holder, lambda who, s: s.code.search(who, snapshot_id, query, mode, path, limit)
        )

    @server.tool()
    async def list_snapshots(
        project_id: str | None = None,
        url: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The project's packed snapshots, newest first, with their ids, versions, languages
        and how much of their code is embedded for semantic search."""
        return await _call(
            holder, lambda who, s: s.code.listing(who, project_id, url, limit, offset)
        )

    @server.resource(
        "codifier://snapshots/{snapshot_id}/digest",
        name="snapshot digest",
        description="A snapshot's digest: README head, manifests, tree, central outlines.",
        mime_type="text/markdown",
    )
    async def snapshot_digest(snapshot_id: str) -> str:
        return await _read(holder, lambda who, s: s.code.digest(who, snapshot_id))

    @server.resource(
        "codifier://snapshots/{snapshot_id}",
        name="snapshot",
        description="A packed repository, first page (100,000 characters a page).",
        mime_type="text/markdown",
    )
    async def snapshot_first_page(snapshot_id: str) -> str:
        return await _read(holder, lambda who, s: s.data.snapshot_page(who, snapshot_id, 1))

    @server.resource(
        "codifier://snapshots/{snapshot_id}/pages/{page}",
        name="snapshot page",
        description="One page of a packed repository.",
        mime_type="text/markdown",
    )
    async def snapshot_page(snapshot_id: str, page: str) -> str:
        return await _read(
            holder, lambda who, s: s.data.snapshot_page(who, snapshot_id, _page_number(page))
        )

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
        return await _call(
            holder,
            lambda who, s: s.data.query_data(who, operation, source, database, tables, sql),
        )

    @server.tool()
    async def list_playbooks(role: str | None = None) -> dict[str, Any]:
        """The playbooks you can run: shipped with the server, published server-wide, and
        published in your project, each with `source`, `version`, inputs and step count."""
        return await _call(holder, lambda who, s: s.runs.list(who, role))

    @server.tool()
    async def publish_playbook(
        source: str,
        templates: dict[str, str] | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any]:
        """Publish a playbook (its YAML `source`, and `templates`: template name -> source)
        as the next version of its id. It is checked as `codifier check` checks; one that
        does not check is refused with each diagnostic as `line:column code message`. A
        project key publishes to its project; the admin, without project_id, server-wide."""
        return await _call(
            holder, lambda who, s: s.runs.publisher.publish(who, source, templates, project_id)
        )

    @server.tool()
    async def run_playbook(
        playbook_id: str,
        ctx: Context,
        project_id: str | None = None,
        project_name: str | None = None,
        inputs: dict[str, Any] | None = None,
        version: int | None = None,
    ) -> dict[str, Any] | InputRequiredResult:
        """Start a playbook run (the newest version unless `version` is given). The result
        says what the run needs next: an answer (prompt + expects), a generated artifact
        (generate_request), or it is done."""
        # A client that declares form elicitation is asked the questions in its own form.
        return await _call(
            holder,
            lambda who, s: s.runs.in_forms(ctx).start(
                who, playbook_id, project_id, project_name, inputs, version
            ),
        )

    @server.tool()
    async def get_session(session_id: str) -> dict[str, Any]:
        """A session's current step result again, exactly as run_playbook/advance_step gave
        it (the prompt and expects, or the generate request), with `step_outputs` so far."""
        return await _call(holder, lambda who, s: s.runs.get(who, session_id))

    @server.tool()
    async def rewind_session(session_id: str, step_id: str) -> dict[str, Any]:
        """Go back to an earlier step that asks the client (store or generate): later
        outputs are dropped and the step result for that step is returned; memories the
        steps write again supersede the earlier ones."""
        return await _call(holder, lambda who, s: s.runs.rewind(who, session_id, step_id))

    @server.tool()
    async def list_sessions(
        project_id: str | None = None,
        status: Literal["awaiting_input", "awaiting_generation", "completed", "failed"]
        | None = None,
        playbook_id: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The project's playbook runs, newest first: id, playbook and version, status, the
        step each is at, and when it started and last changed. `limit` is at most 100."""
        return await _call(
            holder,
            lambda who, s: s.runs.list_sessions(
                who, project_id, status, playbook_id, limit, offset
            ),
        )

    @server.tool()
    async def advance_step(
        session_id: str, step_id: str, input: Any, ctx: Context
    ) -> dict[str, Any] | InputRequiredResult:
        """Answer the session's current step (`step_id` must be that step): the person's
        answer for a prompt, or the generated artifact for a generate_request."""
        # A client that declares form elicitation is asked the next questions in its form.
        return await _call(
            holder, lambda who, s: s.runs.in_forms(ctx).advance(who, session_id, step_id, input)
        )
