"""The playbook's surface syntax as pydantic models.

Validation runs on plain data from the YAML tree; errors come back as `loc` paths that
`dsl.check.structure` maps onto the YAML nodes' spans. Value positions that may hold
expressions are typed `Any` here: the checker types them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PLAYBOOK_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
STEP_ID = r"^[a-z][a-z0-9_]*$"
NAME = r"^[a-z][a-z0-9_]*$"

ROLES = ("developer", "researcher", "any")
OPERATIONS = ("list-tables", "describe-tables", "execute-query")
INSTRUCTIONS = ("store", "skill-invoke", "generate", "data-query")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Remember(_Model):
    """Also save the step's result as a memory."""

    type: str = Field(description="Memory type: rule, document, api_contract, ...")
    title: Any = Field(None, description="Memory title (default: the step's title)")
    tags: Any = Field(None, description="List of tags")


class Store(_Model):
    """Ask the person for a value."""

    prompt: Any = Field(description="What to ask")
    type: str = Field("text", description="The answer's type (default text)")
    choices: Any = Field(None, description="Allowed answers (a list, or an expression)")
    default: Any = Field(None, description="Suggested answer")
    remember: Remember | None = None


class SkillInvoke(_Model):
    """Call a server-side skill declared in stdlib/."""

    skill: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class Generate(_Model):
    """Render a generator template into a prompt for the client's LLM."""

    template: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    remember: Remember | None = None


class DataQuery(_Model):
    """Query a configured data source (read-only)."""

    operation: Literal["list-tables", "describe-tables", "execute-query"]
    source: str | None = Field(None, description="Data source name (default: the server's)")
    database: Any = None
    tables: Any = Field(None, description="Tables to describe (describe-tables)")
    sql: Any = Field(None, description="One SQL query or a list (execute-query)")


class Step(_Model):
    id: Annotated[str, Field(pattern=STEP_ID)]
    title: str | None = None
    if_: Any = Field(None, alias="if", description="Run the step only when this is true")
    store: Store | None = None
    skill_invoke: SkillInvoke | None = Field(None, alias="skill-invoke")
    generate: Generate | None = None
    data_query: DataQuery | None = Field(None, alias="data-query")


class Input(_Model):
    type: str = Field("string", description="The input's type (default string)")
    default: Any = None
    description: str = ""


class _PlaybookBase(_Model):
    id: Annotated[str, Field(pattern=PLAYBOOK_ID, description="kebab-case; the file's stem")]
    name: Annotated[str, Field(min_length=1)]
    role: Literal["developer", "researcher", "any"] = "any"
    version: Annotated[int, Field(ge=1)] = 1
    description: str = ""
    outputs: dict[Annotated[str, Field(pattern=NAME)], Any] = Field(default_factory=dict)


class PlaybookHead(_PlaybookBase):
    """The playbook with its steps and inputs left unvalidated, so that each is checked on
    its own and one bad step does not hide the problems of the others."""

    inputs: dict[Annotated[str, Field(pattern=NAME)], Any] = Field(default_factory=dict)
    steps: Annotated[list[Any], Field(min_length=1)]


class Playbook(_PlaybookBase):
    """The whole playbook format (for the JSON Schema)."""

    inputs: dict[Annotated[str, Field(pattern=NAME)], Input] = Field(default_factory=dict)
    steps: Annotated[list[Step], Field(min_length=1)]
