"""What each tool returns: the models its structured result is built from, and so its
`outputSchema` (the SDK derives the schema from a tool's return type and validates every
result against it before it leaves).

Each model allows keys it does not name (`additionalProperties: true`), so a result is
never silently cut down to the keys listed here; the tool-surface test checks that every
key a real call returns is named, so the schemas stay the whole truth.

TypedDicts from typing_extensions: pydantic reads those on Python 3.11 too, nested ones
included.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypeAliasType, TypedDict

# Any JSON value, spelled out (a schema with no keyword at all accepts anything too, but
# strict validators and the Inspector's --strict lint reject it as untyped).
JsonValue = TypeAliasType(
    "JsonValue",
    "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None",
)
JsonObject = dict[str, JsonValue]

OPEN = ConfigDict(extra="allow")

StepStatus = Literal["awaiting_input", "awaiting_generation", "running", "completed", "failed"]


def described(text: str) -> Any:
    """A field's description, as `Annotated[type, described("...")]`."""
    return Field(description=text)


# -- projects -----------------------------------------------------------------------


@with_config(OPEN)
class Project(TypedDict):
    """A project: the unit memories, snapshots and runs belong to."""

    id: Annotated[str, described("The project's id (a UUID).")]
    name: Annotated[str, described("The project's unique name.")]
    description: Annotated[str, described("What the project is about.")]
    created_at: Annotated[str, described("When it was created (ISO 8601).")]


@with_config(OPEN)
class ProjectsResult(TypedDict):
    """`project` for create, get and switch; `projects` for list."""

    project: NotRequired[Annotated[Project, described("The project created, got or chosen.")]]
    projects: NotRequired[
        Annotated[list[Project], described("Every project the caller can see, by name.")]
    ]


# -- memories -----------------------------------------------------------------------

MemoryType = Literal["rule", "document", "api_contract", "learning", "research_finding"]


@with_config(OPEN)
class Memory(TypedDict):
    """A memory, with its provenance."""

    id: Annotated[str, described("The memory's id (a UUID).")]
    project_id: Annotated[str, described("The project it belongs to.")]
    type: Annotated[MemoryType, described("What kind of knowledge it is.")]
    title: Annotated[str, described("A short title.")]
    content: Annotated[str, described("The memory's text.")]
    tags: Annotated[list[str], described("Its tags, sorted.")]
    source_role: Annotated[str | None, described("The role that wrote it, when given.")]
    metadata: Annotated[JsonObject, described("Free-form metadata given with it.")]
    content_hash: Annotated[str, described("Hash of its type and content (deduplication).")]
    created_at: Annotated[str, described("When it was first written (ISO 8601).")]
    updated_at: Annotated[str, described("When it last changed (ISO 8601).")]
    created_by: Annotated[str | None, described("Who wrote it: 'admin' or 'key:<name>'.")]
    updated_by: Annotated[str | None, described("Who changed it last.")]
    superseded_by: Annotated[
        str | None, described("The memory that replaced this one; null while it is current.")
    ]
    score: NotRequired[
        Annotated[float | None, described("Relevance to the query (null without one).")]
    ]
    supersedes: NotRequired[
        Annotated[list[str], described("Ids of the memories this write replaced.")]
    ]


@with_config(OPEN)
class FetchResult(TypedDict):
    """A page of the project's current memories."""

    project_id: Annotated[str, described("The project searched.")]
    memories: Annotated[
        list[Memory], described("The memories, newest first, or by relevance with a query.")
    ]
    count: Annotated[int, described("How many memories this page holds.")]
    total: Annotated[int, described("How many memories match the type and tag filters.")]
    has_more: Annotated[bool, described("Whether a later page (a larger offset) has more.")]
    mode: NotRequired[
        Annotated[
            Literal["hybrid", "text", "semantic"],
            described("How a query was ranked (it may fall back to text)."),
        ]
    ]
    notice: NotRequired[Annotated[str, described("Why the ranking differs from the mode asked.")]]


@with_config(OPEN)
class SavedMemory(TypedDict):
    """The memory as stored."""

    memory: Annotated[Memory, described("The memory created or updated.")]
    created: Annotated[bool, described("True for a new memory; false for an update or duplicate.")]
    similar: Annotated[
        list[str], described("Ids of current memories of the same type nearly identical to it.")
    ]
    notice: NotRequired[Annotated[str, described("Why no near-duplicate check was made.")]]


class DeletedMemory(TypedDict):
    """The memory that was deleted."""

    deleted: Annotated[str, described("The deleted memory's id.")]


# -- snapshots ----------------------------------------------------------------------


@with_config(OPEN)
class SemanticCoverage(TypedDict, total=False):
    """How much of a snapshot's code is embedded for semantic search."""

    status: Annotated[str, described("pending, running, complete, partial, off, failed or none.")]
    chunks: Annotated[int, described("Code chunks embedded so far.")]
    chunks_planned: Annotated[int, described("Code chunks to embed in all.")]
    files: Annotated[int, described("Files whose chunks are embedded.")]
    files_eligible: Annotated[int, described("Files that could be embedded.")]
    reason: Annotated[str, described("Why embedding stopped or covers only part.")]
    model: Annotated[str, described("The embedding model.")]


@with_config(OPEN)
class TopFile(TypedDict):
    """One of the largest files of a snapshot."""

    path: Annotated[str, described("The file's path in the repository.")]
    tokens: Annotated[int, described("Its size in tokens.")]


@with_config(OPEN)
class PackResult(TypedDict):
    """A new snapshot version of a repository."""

    snapshot_id: Annotated[str, described("The snapshot's id, for read_snapshot/search_snapshot.")]
    version: Annotated[int, described("Its version among the project's snapshots of this URL.")]
    file_count: Annotated[int, described("Files packed.")]
    token_count: Annotated[int, described("Tokens of the packed text.")]
    top_files: Annotated[list[TopFile], described("The largest files, by tokens.")]
    flagged_secrets: Annotated[
        list[str], described("Paths left out because they seem to hold secrets.")
    ]
    resource_uri: Annotated[str, described("The packed text as an MCP resource, in pages.")]
    digest_uri: Annotated[str, described("The digest as an MCP resource.")]
    languages: Annotated[list[str], described("Languages found, most code first.")]
    test_frameworks: Annotated[list[str], described("Test frameworks found.")]
    digest: Annotated[
        str,
        described("A token-budgeted overview: README head, manifests, tree, central outlines."),
    ]


@with_config(OPEN)
class IndexedFile(TypedDict):
    """One file of a snapshot's index."""

    path: Annotated[str, described("The file's path, relative, with '/'.")]
    language: Annotated[str | None, described("Its language, when known.")]
    lines: Annotated[int, described("Its number of lines.")]
    tokens: Annotated[int, described("Its size in tokens.")]
    bytes: Annotated[int, described("Its size in bytes.")]
    page: Annotated[int, described("The resource page where the file starts.")]


@with_config(OPEN)
class SnapshotRead(TypedDict):
    """Without `path`: a page of the file index; with it: the file's exact text."""

    snapshot_id: Annotated[str, described("The snapshot read.")]
    url: NotRequired[Annotated[str, described("The repository the snapshot was packed from.")]]
    version: NotRequired[Annotated[int, described("The snapshot's version.")]]
    files: NotRequired[Annotated[list[IndexedFile], described("A page of the file index.")]]
    total: NotRequired[Annotated[int, described("Files in the snapshot.")]]
    offset: NotRequired[Annotated[int, described("Where this page of the index starts.")]]
    has_more: NotRequired[Annotated[bool, described("Whether more files follow.")]]
    semantic: NotRequired[
        Annotated[SemanticCoverage, described("How much code is embedded for semantic search.")]
    ]
    digest_uri: NotRequired[Annotated[str, described("The digest as an MCP resource.")]]
    path: NotRequired[Annotated[str, described("The file read.")]]
    language: NotRequired[Annotated[str | None, described("The file's language, when known.")]]
    start_line: NotRequired[Annotated[int, described("First line returned (1-based).")]]
    end_line: NotRequired[Annotated[int, described("Last line returned (inclusive).")]]
    total_lines: NotRequired[Annotated[int, described("Lines in the whole file.")]]
    text: NotRequired[Annotated[str, described("The exact text of those lines.")]]
    next_start_line: NotRequired[
        Annotated[int, described("Where to continue when the read was capped.")]
    ]
    notice: NotRequired[Annotated[str, described("Why the text was capped or cut.")]]


@with_config(OPEN)
class SearchHit(TypedDict):
    """A line (literal, regex) or a code chunk (semantic) that matched."""

    path: Annotated[str, described("The file's path.")]
    line: Annotated[int, described("The 1-based line of the match (a chunk's first line).")]
    text: Annotated[str, described("The matching line (a chunk's first non-blank line).")]
    column: NotRequired[
        Annotated[int, described("The 1-based column where the match starts (literal, regex).")]
    ]
    end_line: NotRequired[Annotated[int, described("A chunk's last line (semantic).")]]
    symbol: NotRequired[
        Annotated[str | None, described("The function or class a chunk holds (semantic).")]
    ]
    score: NotRequired[Annotated[float, described("Similarity to the question (semantic).")]]


@with_config(OPEN)
class SearchResult(TypedDict):
    """Where a snapshot's files match."""

    snapshot_id: Annotated[str, described("The snapshot searched.")]
    mode: Annotated[Literal["literal", "regex", "semantic"], described("How it was searched.")]
    hits: Annotated[
        list[SearchHit], described("The matches, in file order (semantic: best first).")
    ]
    truncated: Annotated[bool, described("Whether more matched than `limit`.")]
    coverage: NotRequired[
        Annotated[SemanticCoverage, described("How much code is embedded (semantic).")]
    ]
    notice: NotRequired[Annotated[str, described("Why the hits may be incomplete.")]]


@with_config(OPEN)
class SnapshotSummary(TypedDict):
    """A stored snapshot."""

    snapshot_id: Annotated[str, described("The snapshot's id.")]
    project_id: Annotated[str, described("The project it belongs to.")]
    url: Annotated[str, described("The repository it was packed from.")]
    version: Annotated[int, described("Its version among the snapshots of that URL.")]
    label: Annotated[str | None, described("The version_label given, if any.")]
    commit: Annotated[str | None, described("The commit packed, when it was a git repository.")]
    file_count: Annotated[int, described("Files packed.")]
    token_count: Annotated[int, described("Tokens of the packed text.")]
    created_at: Annotated[str, described("When it was packed (ISO 8601).")]
    languages: Annotated[list[str], described("Languages found.")]
    semantic: Annotated[
        SemanticCoverage, described("How much code is embedded for semantic search.")
    ]
    resource_uri: Annotated[str, described("The packed text as an MCP resource.")]
    digest_uri: Annotated[str, described("The digest as an MCP resource.")]


@with_config(OPEN)
class SnapshotList(TypedDict):
    """A page of the project's snapshots, newest first."""

    snapshots: Annotated[list[SnapshotSummary], described("The snapshots.")]
    total: Annotated[int, described("Snapshots that match.")]
    offset: Annotated[int, described("Where this page starts.")]
    has_more: Annotated[bool, described("Whether more follow.")]


# -- data ---------------------------------------------------------------------------


@with_config(OPEN)
class ColumnSchema(TypedDict):
    """A column of a table."""

    name: Annotated[str, described("The column's name.")]
    type: Annotated[str, described("Its SQL type.")]
    nullable: Annotated[bool, described("Whether it may hold NULL.")]
    description: Annotated[str | None, described("Its comment, when the source has one.")]


@with_config(OPEN)
class TableSchema(TypedDict):
    """A table's columns."""

    name: Annotated[str, described("The table's name.")]
    database: Annotated[str, described("The database (schema) holding it.")]
    columns: Annotated[list[ColumnSchema], described("Its columns, in order.")]


@with_config(OPEN)
class QueryResult(TypedDict):
    """Rows of one read-only query, capped at 100 KB."""

    sql: Annotated[str, described("The query run.")]
    columns: Annotated[list[str], described("The result's column names.")]
    rows: Annotated[list[list[JsonValue]], described("The rows kept, each a list of cells.")]
    row_count: Annotated[int, described("Rows the query gave (at least this many when cut).")]
    truncated: Annotated[bool, described("Whether rows were left out to fit the cap.")]
    notice: Annotated[str | None, described("What was left out, and how to see it.")]


@with_config(OPEN)
class DataResult(TypedDict):
    """`tables` for list-tables, `schemas` for describe-tables, `result` for execute-query."""

    source: Annotated[str, described("The data source used.")]
    operation: Annotated[
        Literal["list-tables", "describe-tables", "execute-query"], described("What was done.")
    ]
    tables: NotRequired[Annotated[list[str], described("The tables' names (list-tables).")]]
    schemas: NotRequired[
        Annotated[list[TableSchema], described("The tables' columns (describe-tables).")]
    ]
    result: NotRequired[Annotated[QueryResult, described("The query's rows (execute-query).")]]


# -- playbooks and runs -------------------------------------------------------------


@with_config(OPEN)
class PlaybookInput(TypedDict):
    """One input a playbook takes."""

    name: Annotated[str, described("The input's name (a key of run_playbook's inputs).")]
    type: Annotated[str, described("Its type in the playbook language (string, int, ...).")]
    required: Annotated[bool, described("Whether run_playbook needs it.")]
    default: Annotated[JsonValue, described("Its value when not given.")]
    description: Annotated[str, described("What it is for.")]


@with_config(OPEN)
class PlaybookSummary(TypedDict):
    """A playbook you can run."""

    id: Annotated[str, described("The playbook's id (run_playbook's playbook_id).")]
    name: Annotated[str, described("Its name.")]
    role: Annotated[Literal["developer", "researcher", "any"], described("Who it is written for.")]
    version: Annotated[int, described("The version run_playbook starts by default.")]
    source: Annotated[
        Literal["shipped", "server", "project"],
        described("Shipped with the server, published server-wide, or in your project."),
    ]
    description: Annotated[str, described("What it does.")]
    inputs: Annotated[list[PlaybookInput], described("The inputs it takes.")]
    step_count: Annotated[int, described("How many steps it has.")]


@with_config(OPEN)
class PlaybookList(TypedDict):
    """The playbooks the caller can run."""

    playbooks: Annotated[list[PlaybookSummary], described("Shipped first, then published.")]


@with_config(OPEN)
class Published(TypedDict):
    """A published playbook version."""

    playbook_id: Annotated[str, described("The playbook's id.")]
    version: Annotated[int, described("The version just stored.")]
    scope: Annotated[Literal["server", "project"], described("Where it was published.")]
    project_id: Annotated[str | None, described("The project, for a project publish.")]
    warnings: Annotated[list[str], described("Checker warnings, as `line:column code message`.")]


@with_config(OPEN)
class StepRef(TypedDict):
    """Which step a run is at."""

    id: Annotated[str, described("The step's id (advance_step's step_id).")]
    title: Annotated[str, described("Its title.")]
    index: Annotated[int, described("Its position, from 0.")]
    count: Annotated[int, described("Steps in the playbook.")]


@with_config(OPEN)
class GenerateRequest(TypedDict):
    """An artifact the client's model writes and sends back with advance_step."""

    prompt: Annotated[str, described("What to write, with everything needed to write it.")]
    output_format: Annotated[str, described("The artifact's format (markdown, yaml, json...).")]
    schema: NotRequired[
        Annotated[
            JsonObject, described("A JSON Schema the artifact must fit (advance_step checks).")
        ]
    ]


@with_config(OPEN)
class StepResult(TypedDict):
    """Where a playbook run stands and what it needs next."""

    session_id: Annotated[str, described("The run's id, for advance_step and get_session.")]
    status: Annotated[
        StepStatus,
        described(
            "awaiting_input: ask the person `prompt`; awaiting_generation: write what"
            " generate_request asks; completed: see outputs; failed: see error."
        ),
    ]
    step: NotRequired[Annotated[StepRef, described("The step the run is at.")]]
    prompt: NotRequired[Annotated[str, described("The question to put to the person.")]]
    expects: NotRequired[Annotated[JsonObject, described("The JSON Schema the answer must fit.")]]
    choices: NotRequired[Annotated[list[JsonValue], described("The answers allowed.")]]
    default: NotRequired[Annotated[JsonValue, described("The answer when the person has none.")]]
    notice: NotRequired[
        Annotated[
            str,
            described(
                "Why the run is at this step again: the reason an answer or artifact was "
                "refused, or that a native form was declined or closed, or a sample refused."
            ),
        ]
    ]
    generate_request: NotRequired[
        Annotated[GenerateRequest, described("The artifact to write (awaiting_generation).")]
    ]
    outputs: NotRequired[Annotated[JsonObject, described("The run's outputs (completed).")]]
    error: NotRequired[Annotated[str, described("Why the run failed (failed).")]]


@with_config(OPEN)
class SessionState(StepResult):
    """A run's current step result again, with what it has done so far."""

    project_id: Annotated[str, described("The run's project.")]
    playbook_id: Annotated[str, described("The playbook run.")]
    playbook_version: Annotated[int, described("Its version.")]
    step_outputs: Annotated[JsonObject, described("Each finished step's output, by step id.")]
    created_at: Annotated[str, described("When the run started (ISO 8601).")]
    updated_at: Annotated[str, described("When it last changed (ISO 8601).")]


@with_config(OPEN)
class SessionStep(TypedDict):
    """The step a listed run is at."""

    id: Annotated[str, described("The step's id.")]
    index: Annotated[int, described("Its position, from 0.")]
    count: Annotated[int, described("Steps in the playbook.")]


@with_config(OPEN)
class SessionSummary(TypedDict):
    """A playbook run."""

    session_id: Annotated[str, described("The run's id.")]
    playbook_id: Annotated[str, described("The playbook run.")]
    playbook_version: Annotated[int, described("Its version.")]
    status: Annotated[StepStatus, described("Where the run stands.")]
    step: Annotated[SessionStep | None, described("The step it is at; null when finished.")]
    created_by: Annotated[str | None, described("Who started it.")]
    created_at: Annotated[str, described("When it started (ISO 8601).")]
    updated_at: Annotated[str, described("When it last changed (ISO 8601).")]


@with_config(OPEN)
class SessionList(TypedDict):
    """A page of the project's runs, newest first."""

    project_id: Annotated[str, described("The project.")]
    sessions: Annotated[list[SessionSummary], described("The runs.")]
    total: Annotated[int, described("Runs that match.")]
    offset: Annotated[int, described("Where this page starts.")]
    has_more: Annotated[bool, described("Whether more follow.")]


class Echo(TypedDict):
    """The text sent (the benchmark's baseline tool)."""

    text: Annotated[str, described("The text.")]
