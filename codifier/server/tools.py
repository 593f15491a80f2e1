"""The MCP tools: names and argument names are a contract (ARCHITECTURE.md)."""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, cast

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
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolResult,
    GetPromptResult,
    InputRequiredResult,
    Prompt,
    Resource,
    ToolAnnotations,
)
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
from codifier.server.parameters import (
    Answer,
    Content,
    Database,
    DataOperationArg,
    DigestTokens,
    EchoText,
    EndLine,
    Exclude,
    FilePath,
    Include,
    IncludeSuperseded,
    IndexLimit,
    IndexOffset,
    Inputs,
    Limit20,
    MemoryId,
    MemoryToDelete,
    MemoryTypeArg,
    MemoryTypeFilter,
    Metadata,
    Mode,
    Offset,
    Operation,
    PathGlob,
    PlaybookFilter,
    PlaybookId,
    PlaybookSource,
    PlaybookVersion,
    ProjectDescription,
    ProjectId,
    ProjectName,
    ProjectToGet,
    PublishProject,
    Query,
    RepositoryUrl,
    RewindStepId,
    RoleFilter,
    RunProjectName,
    SearchLimit,
    SearchQuery,
    SessionId,
    SnapshotId,
    SnapshotMode,
    SnapshotUrl,
    Source,
    SourceRole,
    Sql,
    StartLine,
    StatusFilter,
    StepId,
    Supersedes,
    Tables,
    Tags,
    TagsFilter,
    Templates,
    Title,
    VersionLabel,
)
from codifier.server.principal import Principal, current_principal
from codifier.server.prompts import playbook_prompt, playbook_prompts
from codifier.server.protocol_errors import CodedProtocolErrors
from codifier.server.results import (
    DataResult,
    DeletedMemory,
    Echo,
    FetchResult,
    PackResult,
    PlaybookList,
    ProjectsResult,
    Published,
    SavedMemory,
    SearchResult,
    SessionList,
    SessionState,
    SnapshotList,
    SnapshotRead,
    StepResult,
)
from codifier.server.sdk_logging import quiet_stateless_terminations
from codifier.server.services import Services
from codifier.server.snapshot_resources import snapshot_resources
from codifier.store.memories import NewMemory

# Pages are read with 32-bit positions (substr in PostgreSQL): no snapshot has more.
MAX_PAGE = (2**31 - 1) // snapshots.PAGE_CHARS


class ToolServer(MCPServer[Any]):
    """The MCP server, with every tool, prompt and resource error exactly `[code] one
    sentence`, the caller's playbooks as prompts and snapshots as resources, and only the
    capabilities it has.

    The SDK reports a failing tool as "Error executing tool X: ..." and bad arguments as
    pydantic's multi-line dump, with the original exception as the cause of its
    ToolError. Both are rewritten here, at the two public entry points every transport
    goes through, from that cause.

    Capabilities: on 2026-07-28 the SDK advertises `listChanged` (tools, prompts,
    resources) and `resources.subscribe` whenever it serves `subscriptions/listen`, which
    it does by default. This server sends no change notifications and takes no
    subscriptions, so it serves no `subscriptions/listen`: `server/discover` and
    `initialize` then advertise tools, prompts and resources without either flag."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subscriptions", False)
        super().__init__(*args, **kwargs)
        quiet_stateless_terminations()
        self.middleware.append(CodedProtocolErrors())
        self.holder: ServicesHolder | None = None  # set by register_tools

    async def list_prompts(self) -> list[Prompt]:
        """The playbooks the caller can run, each as a prompt (prompts.py)."""
        return await self._listing("prompts/list", playbook_prompts)

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[Any, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        return await self._listing(
            f"prompt {shown(name)}",
            lambda who, services: playbook_prompt(who, services, name, arguments),
        )

    async def list_resources(self) -> list[Resource]:
        """Fixed resources (none today), then the caller's newest snapshots."""
        fixed = await super().list_resources()
        return fixed + await self._listing("resources/list", snapshot_resources)

    async def _listing(self, where: str, work: Callable[[Principal, Services], Awaitable[T]]) -> T:
        """Run a prompt or listing request for the caller; a refusal is a JSON-RPC error
        whose message is `[code] sentence` (invalid params for the caller's mistakes)."""
        try:
            if self.holder is None:
                raise CallError("unavailable", "the server has no tools registered yet")
            return await work(_who(), self.holder.get())
        except MCPError:
            raise
        except Exception as error:
            refusal = as_call_error(error, where)
            code = INVALID_PARAMS if refusal.code in _CALLER_CODES else INTERNAL_ERROR
            raise MCPError(code=code, message=one_line(str(refusal))) from None

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


_CALLER_CODES = frozenset({"invalid", "not_found", "forbidden", "unauthorized"})


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


async def _step(
    holder: ServicesHolder,
    work: Callable[[Principal, Services], Awaitable[dict[str, Any] | InputRequiredResult]],
) -> StepResult | InputRequiredResult:
    """_call for run_playbook and advance_step: a step result (results.StepResult), or
    the questions a client with native forms is asked first."""
    return cast(StepResult | InputRequiredResult, await _call(holder, work))


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


def prose(docstring: str | None) -> str:
    """A docstring as the description a client shows: its paragraphs, each on one line,
    without the source's indentation."""
    text = inspect.cleandoc(docstring or "")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


F = TypeVar("F", bound=Callable[..., Any])


def tool(
    server: MCPServer,
    title: str,
    *,
    read_only: bool = False,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = False,
) -> Callable[[F], F]:
    """Register a tool with its title, its docstring as clean prose, and every hint said
    explicitly (MCP's defaults assume a tool may destroy and reach the open world)."""

    def register(fn: F) -> F:
        server.add_tool(
            fn,
            title=title,
            description=prose(fn.__doc__),
            annotations=ToolAnnotations(
                title=title,
                read_only_hint=read_only,
                destructive_hint=destructive,
                idempotent_hint=idempotent,
                open_world_hint=open_world,
            ),
        )
        return fn

    return register


def register_bench_echo(server: MCPServer) -> None:
    """A do-nothing tool with the same auth path, for bench/server.py's baseline. Only
    registered when CODIFIER_BENCH_ECHO=1."""

    @tool(server, "Echo", read_only=True, idempotent=True)
    async def echo(text: EchoText) -> Echo:
        """Return the text unchanged: the benchmark's baseline, no work done."""
        _who()
        return {"text": text}


def register_tools(server: MCPServer, holder: ServicesHolder) -> None:
    if isinstance(server, ToolServer):  # its prompts and resource listing read the services
        server.holder = holder

    @tool(server, "Manage projects", idempotent=True)
    async def manage_projects(
        operation: Operation,
        name: ProjectName = None,
        description: ProjectDescription = None,
        project_id: ProjectToGet = None,
    ) -> ProjectsResult:
        """Use first, to find the project to work in: list the projects you can see, get
        one, switch to one (it becomes your default project for later calls), or create
        one (admin only). A project key always works in its own project."""
        return cast(
            ProjectsResult,
            await _call(
                holder,
                lambda who, s: s.projects.manage(who, operation, name, description, project_id),
            ),
        )

    @tool(server, "Fetch memories", read_only=True, idempotent=True)
    async def fetch_context(
        project_id: ProjectId = None,
        memory_type: MemoryTypeFilter = None,
        tags: TagsFilter = None,
        query: Query = None,
        mode: Mode = None,
        include_superseded: IncludeSuperseded = False,
        limit: Limit20 = 20,
        offset: Offset = 0,
    ) -> FetchResult:
        """Use before starting a task, to read what the team already knows about it: the
        project's current memories (rules, documents, API contracts, learnings, research
        findings), newest first; with `query`, the most relevant first (hybrid ranking by
        words and meaning unless `mode` says otherwise). Each memory has a `score`;
        `total` counts what the filters match and `has_more` says whether to page on."""
        return cast(
            FetchResult,
            await _call(
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
            ),
        )

    # Destructive: with `id` it rewrites that memory in place (no history is kept).
    @tool(server, "Save a memory", destructive=True, idempotent=True)
    async def update_memory(
        memory_type: MemoryTypeArg,
        title: Title,
        content: Content,
        project_id: ProjectId = None,
        id: MemoryId = None,
        supersedes: Supersedes = None,
        tags: Tags = None,
        source_role: SourceRole = None,
        metadata: Metadata = None,
    ) -> SavedMemory:
        """Use when you learn something the team should keep: a rule to follow, a
        document, an API contract, a learning or a research finding. Saving the same
        content again stores nothing new; `similar` lists near-duplicates you may want to
        replace. To replace an outdated memory and keep it as history, pass its id as
        `supersedes`; to correct one in place, pass its `id` (its tags and metadata stay
        unless given)."""
        memory = NewMemory(memory_type, title, content, tags or [], source_role, metadata or {})
        return cast(
            SavedMemory,
            await _call(
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
            ),
        )

    @tool(server, "Delete a memory", destructive=True, idempotent=True)
    async def delete_memory(id: MemoryToDelete, project_id: ProjectId = None) -> DeletedMemory:
        """Use only to remove a memory that is wrong or must not be kept: it is gone for
        good. To replace an outdated memory and keep it as history, save the new one with
        update_memory and `supersedes` instead."""
        return cast(
            DeletedMemory,
            await _call(holder, lambda who, s: s.memories.delete(who, project_id, id)),
        )

    @tool(server, "Pack a repository", open_world=True)
    async def pack_repo(
        url: RepositoryUrl,
        ctx: Context,
        project_id: ProjectId = None,
        version_label: VersionLabel = None,
        include: Include = None,
        exclude: Exclude = None,
        digest_tokens: DigestTokens = None,
    ) -> PackResult:
        """Use when you need a repository's code: packs it (a URL, or a local path under
        CODIFIER_PACK_ROOTS) into a new snapshot version of the project and returns its
        `digest`, a token-budgeted overview (the README's head, manifests, the tree,
        outlines of the most central modules). The full text is not returned: read files
        exactly with read_snapshot and find code with search_snapshot. Progress is
        reported while it packs."""
        progress = _Progress(ctx)
        return cast(
            PackResult,
            await _call(
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
            ),
        )

    @tool(server, "Read a snapshot", read_only=True, idempotent=True)
    async def read_snapshot(
        snapshot_id: SnapshotId,
        path: FilePath = None,
        start_line: StartLine = None,
        end_line: EndLine = None,
        offset: IndexOffset = 0,
        limit: IndexLimit = 200,
    ) -> SnapshotRead:
        """Use to see a packed repository's files. Without `path`: the file index (path,
        language, lines, tokens), paged with `offset`/`limit` (at most 1,000). With
        `path`: that file's exact text, or lines `start_line`..`end_line` (1-based,
        inclusive), at most 2,000 lines or 100 KB a call; `next_start_line` says where to
        continue."""
        return cast(
            SnapshotRead,
            await _call(
                holder,
                lambda who, s: s.code.read(
                    who, snapshot_id, path, start_line, end_line, offset, limit
                ),
            ),
        )

    @tool(server, "Search a snapshot", read_only=True, idempotent=True)
    async def search_snapshot(
        snapshot_id: SnapshotId,
        query: SearchQuery,
        mode: SnapshotMode = "literal",
        path: PathGlob = None,
        limit: SearchLimit = 50,
    ) -> SearchResult:
        """Use to find code in a packed repository. `literal`: an exact, case-sensitive
        substring; `regex`: an RE2 regular expression (linear time; multi-line: ^ and $
        match at line ends; (?i) for case-insensitive); `semantic`: code chunks closest in
        meaning to a question. `path` is a glob (`*.py`, `src/**/*.ts`). Hits are {path,
        line, text} with exact 1-based line numbers, at most `limit`; `truncated` says
        more matched. Read around a hit with read_snapshot."""
        return cast(
            SearchResult,
            await _call(
                holder,
                lambda who, s: s.code.search(who, snapshot_id, query, mode, path, limit),
            ),
        )

    @tool(server, "List snapshots", read_only=True, idempotent=True)
    async def list_snapshots(
        project_id: ProjectId = None,
        url: SnapshotUrl = None,
        limit: Limit20 = 20,
        offset: Offset = 0,
    ) -> SnapshotList:
        """Use to find a repository packed earlier (before packing it again): the
        project's snapshots, newest first, with their ids, versions, languages and how
        much of their code is embedded for semantic search."""
        return cast(
            SnapshotList,
            await _call(holder, lambda who, s: s.code.listing(who, project_id, url, limit, offset)),
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

    @tool(server, "Query a data source", read_only=True, idempotent=True, open_world=True)
    async def query_data(
        operation: DataOperationArg,
        source: Source = None,
        database: Database = None,
        tables: Tables = None,
        sql: Sql = None,
    ) -> DataResult:
        """Use to explore the team's data read-only: list a database's tables, describe
        their columns, or run one read-only SQL query (results capped at 100 KB, with a
        notice saying what was left out). Writes of any kind are refused."""
        return cast(
            DataResult,
            await _call(
                holder,
                lambda who, s: s.data.query_data(who, operation, source, database, tables, sql),
            ),
        )

    @tool(server, "List playbooks", read_only=True, idempotent=True)
    async def list_playbooks(role: RoleFilter = None) -> PlaybookList:
        """Use to find a guided procedure for the task at hand: the playbooks you can
        run, shipped with the server, published server-wide, and published in your
        project, each with its inputs, step count, `source` and `version`. Start one with
        run_playbook; each is also offered as an MCP prompt."""
        return cast(PlaybookList, await _call(holder, lambda who, s: s.runs.list(who, role)))

    @tool(server, "Publish a playbook")
    async def publish_playbook(
        source: PlaybookSource,
        templates: Templates = None,
        project_id: PublishProject = None,
    ) -> Published:
        """Use to share a playbook you wrote: publishes its YAML `source` (and the
        `templates` it uses) as the next version of its id. It is checked as `codifier
        check` checks; one that does not check is refused with each diagnostic as
        `line:column code message`. A project key publishes to its project; the admin,
        without project_id, server-wide."""
        return cast(
            Published,
            await _call(
                holder,
                lambda who, s: s.runs.publisher.publish(who, source, templates, project_id),
            ),
        )

    @tool(server, "Run a playbook")
    async def run_playbook(
        playbook_id: PlaybookId,
        ctx: Context,
        project_id: ProjectId = None,
        project_name: RunProjectName = None,
        inputs: Inputs = None,
        version: PlaybookVersion = None,
    ) -> StepResult | InputRequiredResult:
        """Use to start a guided procedure list_playbooks names (the newest version
        unless `version` is given). The step result says what the run needs next: the
        person's answer (status awaiting_input: ask them `prompt`, answer shaped as
        `expects`), an artifact you write (awaiting_generation: generate_request), or
        nothing (completed, with outputs). Continue with advance_step."""
        # A client that declares form elicitation is asked the questions in its own form.
        return await _step(
            holder,
            lambda who, s: s.runs.in_forms(ctx).start(
                who, playbook_id, project_id, project_name, inputs, version
            ),
        )

    @tool(server, "Get a session", read_only=True, idempotent=True)
    async def get_session(session_id: SessionId) -> SessionState:
        """Use when you lost track of a run or a call failed with [conflict]: the run's
        current step result again, exactly as run_playbook/advance_step gave it (the
        prompt and expects, or the generate request), with `step_outputs` so far."""
        return cast(SessionState, await _call(holder, lambda who, s: s.runs.get(who, session_id)))

    # Destructive: the outputs of the steps after that one are dropped.
    @tool(server, "Rewind a session", destructive=True)
    async def rewind_session(session_id: SessionId, step_id: RewindStepId) -> StepResult:
        """Use when the person wants to change an earlier answer: goes back to an earlier
        step that asks the client (a question or an artifact); later outputs are dropped
        and that step's result is returned; memories the steps write again supersede the
        earlier ones."""
        return cast(
            StepResult,
            await _call(holder, lambda who, s: s.runs.rewind(who, session_id, step_id)),
        )

    @tool(server, "List sessions", read_only=True, idempotent=True)
    async def list_sessions(
        project_id: ProjectId = None,
        status: StatusFilter = None,
        playbook_id: PlaybookFilter = None,
        limit: Limit20 = 20,
        offset: Offset = 0,
    ) -> SessionList:
        """Use to find runs to resume or review: the project's playbook runs, newest
        first, with their playbook and version, status, the step each is at, and when
        each started and last changed."""
        return cast(
            SessionList,
            await _call(
                holder,
                lambda who, s: s.runs.list_sessions(
                    who, project_id, status, playbook_id, limit, offset
                ),
            ),
        )

    @tool(server, "Answer the current step")
    async def advance_step(
        session_id: SessionId, step_id: StepId, input: Answer, ctx: Context
    ) -> StepResult | InputRequiredResult:
        """Use after run_playbook (and after each advance_step) to answer the run's
        current step, whose id is `step_id`: the person's answer for a prompt, or the
        artifact you wrote for a generate_request. Returns the next step result; repeat
        until the run is completed or failed."""
        # A client that declares form elicitation is asked the next questions in its form.
        return await _step(
            holder, lambda who, s: s.runs.in_forms(ctx).advance(who, session_id, step_id, input)
        )
