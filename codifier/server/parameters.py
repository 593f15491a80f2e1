"""What each tool parameter is: its type, and the description a client's model reads in
the tool's input schema. Closed vocabularies are Literal types, so the schema lists
their values as an enum. Bounds that the services check (limits, offsets) are said in
the descriptions; the services' own refusals say them again when broken."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from codifier.server.results import JsonObject, JsonValue, MemoryType

ProjectOperation = Literal["create", "list", "switch", "get"]
SearchMode = Literal["hybrid", "text", "semantic"]
SnapshotSearchMode = Literal["literal", "regex", "semantic"]
DataOperation = Literal["list-tables", "describe-tables", "execute-query"]
Role = Literal["developer", "researcher", "any"]
SessionStatus = Literal["awaiting_input", "awaiting_generation", "completed", "failed"]

ProjectId = Annotated[
    str | None,
    Field(
        description=(
            "The project's id (a UUID; manage_projects lists them). Leave it out to use"
            " your key's project, or the admin's default project (set with"
            " manage_projects operation 'switch')."
        )
    ),
]
Limit20 = Annotated[int, Field(description="How many to return, from 1 to 100 (default 20).")]
Offset = Annotated[
    int, Field(description="How many to skip, for the next page (0 to 100,000; default 0).")
]

# manage_projects
Operation = Annotated[
    ProjectOperation,
    Field(
        description=(
            "create (admin only; needs name), list, get (by project_id or name), or switch"
            " (make that project your default for later calls)."
        )
    ),
]
ProjectName = Annotated[
    str | None,
    Field(description="The project's name: required for create; finds a project for get/switch."),
]
ProjectDescription = Annotated[
    str | None, Field(description="What the project is about (create only).")
]
ProjectToGet = Annotated[
    str | None,
    Field(description="The project's id (a UUID) for get and switch; or give its name."),
]

# memories
MemoryTypeFilter = Annotated[
    MemoryType | None, Field(description="Only memories of this type; leave it out for all.")
]
MemoryTypeArg = Annotated[
    MemoryType,
    Field(
        description=(
            "What kind of knowledge: rule (a convention to follow), document (reference"
            " text), api_contract, learning (something found out), research_finding."
        )
    ),
]
TagsFilter = Annotated[
    list[str] | None,
    Field(description="Only memories carrying all of these tags (case-insensitive; at most 50)."),
]
Query = Annotated[
    str | None,
    Field(
        description=(
            "Words or a question to rank memories by relevance (at most 2,000 characters);"
            " without it, memories come newest first."
        )
    ),
]
Mode = Annotated[
    SearchMode | None,
    Field(
        description=(
            "How a query ranks: hybrid (words and meaning, fused; the default), text"
            " (words, BM25) or semantic (meaning)."
        )
    ),
]
IncludeSuperseded = Annotated[
    bool, Field(description="Also return memories that were replaced by newer ones (history).")
]
Title = Annotated[str, Field(description="A short title for the memory.")]
Content = Annotated[str, Field(description="The memory's text (Markdown welcome).")]
MemoryId = Annotated[
    str | None,
    Field(description="Update this memory (its id) instead of saving a new one."),
]
Supersedes = Annotated[
    str | None,
    Field(
        description=(
            "The id of a memory this one replaces: that one is kept as history and no"
            " longer returned by fetch_context."
        )
    ),
]
Tags = Annotated[
    list[str] | None,
    Field(description="Labels to filter by later; on an update, leave it out to keep the tags."),
]
SourceRole = Annotated[
    str | None, Field(description="The role the knowledge comes from, e.g. developer.")
]
Metadata = Annotated[
    JsonObject | None,
    Field(
        description="Free-form JSON to keep with the memory; on an update, leave it out to keep it."
    ),
]
MemoryToDelete = Annotated[str, Field(description="The id of the memory to delete.")]

# snapshots
RepositoryUrl = Annotated[
    str,
    Field(
        description=(
            "The repository: an https:// or git@ URL, or a local path under the server's"
            " CODIFIER_PACK_ROOTS."
        )
    ),
]
VersionLabel = Annotated[
    str | None, Field(description="A label for this snapshot, e.g. a release (200 characters).")
]
Include = Annotated[
    list[str] | None,
    Field(description="Only pack files matching these gitignore-style globs (e.g. src/**)."),
]
Exclude = Annotated[
    list[str] | None, Field(description="Leave out files matching these gitignore-style globs.")
]
DigestTokens = Annotated[
    int | None,
    Field(description="The digest's size in tokens, from 500 up (default 8,000)."),
]
SnapshotId = Annotated[
    str, Field(description="The snapshot's id, from pack_repo or list_snapshots.")
]
FilePath = Annotated[
    str | None,
    Field(description="The file to read (relative, with '/'); leave it out for the file index."),
]
StartLine = Annotated[
    int | None, Field(description="First line to read, 1-based (needs path; default 1).")
]
EndLine = Annotated[
    int | None,
    Field(description="Last line to read, inclusive (needs path; default the end, capped)."),
]
IndexOffset = Annotated[
    int, Field(description="Without path: how many index entries to skip (default 0).")
]
IndexLimit = Annotated[
    int, Field(description="Without path: index entries to return, 1 to 1,000 (default 200).")
]
SearchQuery = Annotated[
    str,
    Field(
        description=(
            "literal: the exact text; regex: an RE2 expression; semantic: a question or a"
            " description of the code to find."
        )
    ),
]
SnapshotMode = Annotated[
    SnapshotSearchMode,
    Field(
        description=(
            "literal (exact, case-sensitive substring; the default), regex (RE2, linear"
            " time; (?i) for case-insensitive) or semantic (code closest in meaning)."
        )
    ),
]
PathGlob = Annotated[
    str | None,
    Field(description="Only files matching this glob, e.g. *.py or src/**/*.ts."),
]
SearchLimit = Annotated[int, Field(description="Most hits to return, 1 to 100 (default 50).")]
SnapshotUrl = Annotated[str | None, Field(description="Only snapshots of this repository URL.")]

# data
DataOperationArg = Annotated[
    DataOperation,
    Field(
        description=(
            "list-tables (the tables of a database), describe-tables (their columns; needs"
            " tables) or execute-query (one read-only SQL query; needs sql)."
        )
    ),
]
Source = Annotated[
    str | None,
    Field(description="The data source's name; leave it out for the server's default source."),
]
Database = Annotated[
    str | None,
    Field(description="The database (schema) within the source; leave it out for its default."),
]
Tables = Annotated[
    list[str] | None,
    Field(description="Table names to describe (describe-tables; list-tables gives them)."),
]
Sql = Annotated[
    str | None,
    Field(description="One read-only SQL query (execute-query); results capped at 100 KB."),
]

# playbooks and runs
RoleFilter = Annotated[
    Role | None,
    Field(description="Only playbooks for this role (those for 'any' role are always listed)."),
]
PlaybookSource = Annotated[str, Field(description="The playbook's YAML source text.")]
Templates = Annotated[
    dict[str, str] | None,
    Field(description="Templates the playbook uses: name (file name without .md.j2) -> source."),
]
PublishProject = Annotated[
    str | None,
    Field(
        description=(
            "The project to publish in; the admin leaves it out to publish server-wide."
            " A project key always publishes in its project."
        )
    ),
]
PlaybookId = Annotated[str, Field(description="The playbook's id, as list_playbooks gives it.")]
RunProjectName = Annotated[
    str | None, Field(description="The project by name, instead of project_id.")
]
Inputs = Annotated[
    JsonObject | None,
    Field(description="The playbook's inputs by name (list_playbooks shows each one's type)."),
]
PlaybookVersion = Annotated[
    int | None, Field(description="A published version to run; leave it out for the newest.")
]
SessionId = Annotated[
    str, Field(description="The run's session_id, from run_playbook or list_sessions.")
]
StepId = Annotated[
    str,
    Field(description="The id of the step being answered: the step result's step.id."),
]
RewindStepId = Annotated[
    str, Field(description="The id of an earlier step that asked a question or for an artifact.")
]
Answer = Annotated[
    JsonValue,
    Field(
        description=(
            "Any JSON value: for awaiting_input, the person's answer shaped as the step's"
            " `expects` schema says (text, a number, a choice, a list or an object); for"
            " awaiting_generation, the artifact generate_request asked for, as text."
        )
    ),
]
StatusFilter = Annotated[SessionStatus | None, Field(description="Only runs in this state.")]
PlaybookFilter = Annotated[str | None, Field(description="Only runs of this playbook id.")]
EchoText = Annotated[str, Field(description="Any text; it comes back unchanged.")]
