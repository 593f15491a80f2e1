"""The playbook's surface syntax: its records, and a table of each record's keys.

`dsl.check.validation` validates plain data from the YAML tree over the tables (strict, no
unknown keys) and builds the records; errors come back as `loc` paths that
`dsl.check.structure` maps onto the YAML nodes' spans. `dsl.schema` builds the editors'
JSON Schema from the same tables. Value positions that may hold expressions are kind
`any` here: the checker types them.

Plain frozen dataclasses rather than a validation library's models: defining such models
costs every `codifier check` process tens of milliseconds, more than checking a playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

PLAYBOOK_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
STEP_ID = r"^[a-z][a-z0-9_]*$"
NAME = r"^[a-z][a-z0-9_]*$"

ROLES = ("developer", "researcher", "any")
OPERATIONS = ("list-tables", "describe-tables", "execute-query")
INSTRUCTIONS = ("store", "skill-invoke", "generate", "data-query")

# What a key's value must be: a string, an integer (never a bool), anything (the checker
# types it), one of fixed strings, a mapping of names, a list, or a nested record.
Kind = Literal["str", "int", "any", "choice", "map", "list", "record"]


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a record: how its value is validated, and what it means."""

    name: str  # as written in a playbook (`with`, `skill-invoke`)
    attr: str  # the record's attribute (`with_`, `skill_invoke`)
    kind: Kind
    required: bool = False
    default: Any = None  # when absent and not required; a `map` starts empty instead
    nullable: bool = False  # null is a value (a `str` or `record` that may be None)
    pattern: str | None = None  # `str`: the value's; `map`: each name's
    min_length: int | None = None  # `str` in characters, `list` in items
    ge: int | None = None  # `int`: the least allowed
    choices: tuple[str, ...] = ()  # `choice`
    record: type[Any] | None = None  # `record`: its class; `map`/`list`: each value's
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Remember:
    """Also save the step's result as a memory."""

    type: str
    title: Any = None
    tags: Any = None

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key(
            "type",
            "type",
            "str",
            required=True,
            description="Memory type: rule, document, api_contract, ...",
        ),
        Key("title", "title", "any", description="Memory title (default: the step's title)"),
        Key("tags", "tags", "any", description="List of tags"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Store:
    """Ask the person for a value."""

    prompt: Any
    type: str = "text"
    choices: Any = None
    default: Any = None
    remember: Remember | None = None

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("prompt", "prompt", "any", required=True, description="What to ask"),
        Key("type", "type", "str", default="text", description="The answer's type (default text)"),
        Key("choices", "choices", "any", description="Allowed answers (a list, or an expression)"),
        Key("default", "default", "any", description="Suggested answer"),
        Key("remember", "remember", "record", nullable=True, record=Remember),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillInvoke:
    """Call a server-side skill declared in stdlib/."""

    skill: str
    with_: dict[str, Any] = field(default_factory=dict)

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("skill", "skill", "str", required=True),
        Key("with", "with_", "map"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Generate:
    """Render a generator template into a prompt for the client's LLM."""

    template: str
    with_: dict[str, Any] = field(default_factory=dict)
    remember: Remember | None = None

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("template", "template", "str", required=True),
        Key("with", "with_", "map"),
        Key("remember", "remember", "record", nullable=True, record=Remember),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DataQuery:
    """Query a configured data source (read-only)."""

    operation: str  # one of OPERATIONS
    source: str | None = None
    database: Any = None
    tables: Any = None
    sql: Any = None

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("operation", "operation", "choice", required=True, choices=OPERATIONS),
        Key(
            "source",
            "source",
            "str",
            nullable=True,
            description="Data source name (default: the server's)",
        ),
        Key("database", "database", "any"),
        Key("tables", "tables", "any", description="Tables to describe (describe-tables)"),
        Key("sql", "sql", "any", description="One SQL query or a list (execute-query)"),
    )


# (Step and Input have no docstring: the schema's $defs describe only the instructions.)
@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    id: str
    title: str | None = None
    if_: Any = None
    store: Store | None = None
    skill_invoke: SkillInvoke | None = None
    generate: Generate | None = None
    data_query: DataQuery | None = None

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("id", "id", "str", required=True, pattern=STEP_ID),
        Key("title", "title", "str", nullable=True),
        Key("if", "if_", "any", description="Run the step only when this is true"),
        Key("store", "store", "record", nullable=True, record=Store),
        Key("skill-invoke", "skill_invoke", "record", nullable=True, record=SkillInvoke),
        Key("generate", "generate", "record", nullable=True, record=Generate),
        Key("data-query", "data_query", "record", nullable=True, record=DataQuery),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    type: str = "string"
    default: Any = None
    description: str = ""

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key(
            "type", "type", "str", default="string", description="The input's type (default string)"
        ),
        Key("default", "default", "any"),
        Key("description", "description", "str", default=""),
    )


# The keys every playbook has before its inputs and steps.
_PLAYBOOK_KEYS = (
    Key(
        "id",
        "id",
        "str",
        required=True,
        pattern=PLAYBOOK_ID,
        description="kebab-case; the file's stem",
    ),
    Key("name", "name", "str", required=True, min_length=1),
    Key("role", "role", "choice", default="any", choices=ROLES),
    Key("version", "version", "int", default=1, ge=1),
    Key("description", "description", "str", default=""),
    Key("outputs", "outputs", "map", pattern=NAME),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybookHead:
    """The playbook with its steps and inputs left unvalidated, so that each is checked on
    its own and one bad step does not hide the problems of the others."""

    id: str
    name: str
    role: str = "any"  # one of ROLES
    version: int = 1
    description: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    steps: list[Any]

    KEYS: ClassVar[tuple[Key, ...]] = (
        *_PLAYBOOK_KEYS,
        Key("inputs", "inputs", "map", pattern=NAME),
        Key("steps", "steps", "list", required=True, min_length=1),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Playbook:
    """The whole playbook format (for the JSON Schema)."""

    id: str
    name: str
    role: str = "any"  # one of ROLES
    version: int = 1
    description: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Input] = field(default_factory=dict)
    steps: list[Step]

    KEYS: ClassVar[tuple[Key, ...]] = (
        *_PLAYBOOK_KEYS,
        Key("inputs", "inputs", "map", pattern=NAME, record=Input),
        Key("steps", "steps", "list", required=True, min_length=1, record=Step),
    )


def described(record: type[Any]) -> str | None:
    """The record's docstring, if it has one of its own (dataclass writes a signature
    into `__doc__` where none was written)."""
    doc: str | None = record.__doc__
    if doc is None or doc.startswith(f"{record.__name__}("):
        return None
    return doc


def allowed_keys(record: type[Any]) -> list[str]:
    """The keys a record's mapping may have, in declaration order."""
    return [key.name for key in record.KEYS]
