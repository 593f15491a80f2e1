"""Native forms (issue 12, point 5): a client that declares form elicitation is asked a
run's store steps in its own form, and the run goes on server-side with the answers; on
2026-07-28 through multi round-trip requests (InputRequiredResult), on 2025-11-25 through
`elicitation/create` mid-call. A client without the capability, or whose connection
cannot carry a form, gets the explicit flow unchanged. Decline and cancel leave the
session where it was. The Python SDK's own client answers the forms, against a real
server process over real HTTP and SSE."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitRequestParams,
    ElicitResult,
    TextContent,
)

from tests.server_harness import (
    ADMIN_TOKEN,
    ROOT,
    ServerProcess,
    call,
    drive,
    running,
    scripted_llm,
    server_env,
)

pytestmark = pytest.mark.anyio

MODERN = "2026-07-28"
LEGACY = "2025-11-25"

PLAYBOOK = """\
id: native-forms
name: Native forms
description: A service's card, asked question by question.
steps:
  - id: name
    title: Name the service
    store:
      prompt: What is the service called?
      type: string
      remember:
        type: document
        title: Service name
        tags: [service, native]
  - id: homepage
    title: Homepage
    store:
      prompt: Where does ${{ steps.name.output }} live on the web?
      type: url
  - id: tier
    title: Tier
    store:
      prompt: Which tier is it sold in?
      type: string
      choices: [free, team, enterprise]
      default: team
  - id: regions
    title: Regions
    store:
      prompt: Where does it run?
      type: list<string>
      choices: [eu, us, asia]
  - id: replicas
    title: Replicas
    store:
      prompt: How many replicas?
      type: int
  - id: public
    title: Public
    store:
      prompt: Is it public?
      type: bool
  - id: notes
    title: Notes
    store:
      prompt: Anything else?
      type: text?
  - id: owners
    title: Owners
    store:
      prompt: Who owns it? One per entry.
      type: list<string>
outputs:
  name: ${{ steps.name.output }}
  owners: ${{ steps.owners.output }}
"""

ANSWERS: dict[str, Any] = {
    "name": "ledger",
    "homepage": "https://ledger.example.com",
    "tier": "enterprise",
    "regions": ["eu", "us"],
    "replicas": 3,
    "public": False,
    "notes": None,  # an optional answer left empty in the form
    "owners": ["ana", "bo"],
}
FORM_STEPS = ["name", "homepage", "tier", "regions", "replicas", "public", "notes"]
# What each step's form asks for (`owners`, a free list, has no form field).
FORM_FIELDS: dict[str, dict[str, Any]] = {
    "name": {"type": "string", "title": "Name the service"},
    "homepage": {"type": "string", "title": "Homepage"},
    "tier": {
        "type": "string",
        "enum": ["free", "team", "enterprise"],
        "default": "team",
        "title": "Tier",
    },
    "regions": {
        "type": "array",
        "items": {"type": "string", "enum": ["eu", "us", "asia"]},
        "minItems": 1,
        "title": "Regions",
    },
    "replicas": {"type": "integer", "title": "Replicas"},
    "public": {"type": "boolean", "title": "Public"},
    "notes": {"type": "string", "title": "Notes"},
}
# The `remember:` of step `name`, as the explicit flow stores it.
MEMORY = {
    "type": "document",
    "title": "Service name",
    "content": "ledger",
    "tags": ["native", "service"],  # as stored: sorted
    "step": "name",
}


@dataclass
class Person:
    """Answers the client's forms: `answers` by step; `bad` answers a step gives first
    (`times` of them); `refuse` declines or cancels a step's form."""

    answers: dict[str, Any]
    bad: dict[str, Any] = field(default_factory=dict)
    times: int = 1
    refuse: dict[str, str] = field(default_factory=dict)
    asked: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def __call__(
        self, context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        schema = params.requested_schema
        (step,) = schema["properties"]
        self.asked.append((step, params.message, schema))
        if step in self.refuse:
            return ElicitResult(action=self.refuse[step])
        tries = sum(1 for asked, _, _ in self.asked if asked == step)
        value = self.bad[step] if step in self.bad and tries <= self.times else self.answers[step]
        return ElicitResult(action="accept", content={} if value is None else {step: value})

    @property
    def steps(self) -> list[str]:
        return [step for step, _, _ in self.asked]


@pytest.fixture(scope="module")
def forms_server(
    server_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("playbooks")
    (folder / "native-forms.yaml").write_text(PLAYBOOK)
    with running(server_home, extra={"CODIFIER_PLAYBOOK_DIRS": str(folder)}) as process:
        yield process


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def native_client(server: ServerProcess, protocol: str, person: Person | None) -> Client:
    """A client that declares form elicitation (it has a callback) on `protocol`: the
    2026-07-28 one over Streamable HTTP, the 2025-11-25 one over the legacy SSE transport
    (a connection that can carry a request mid-call)."""
    if protocol == MODERN:
        transport = streamable_http_client(
            f"{server.url}/mcp", http_client=httpx2.AsyncClient(headers=_headers())
        )
        return Client(transport, mode=MODERN, elicitation_callback=person)
    return Client(
        sse_client(f"{server.url}/sse", headers=_headers()),
        mode="legacy",
        elicitation_callback=person,
    )


async def _project(client: Client, name: str) -> str:
    created = await call(client, "manage_projects", operation="create", name=name)
    return str(created["project"]["id"])


async def _memory(client: Client, project: str) -> dict[str, Any]:
    found = await call(client, "fetch_context", project_id=project, memory_type="document")
    (memory,) = found["memories"]
    return {
        "type": memory["type"],
        "title": memory["title"],
        "content": memory["content"],
        "tags": memory["tags"],
        "step": memory["metadata"]["step"],
    }


def _step_result(session: dict[str, Any]) -> dict[str, Any]:
    """get_session's step result without what only get_session adds."""
    extra = ("project_id", "playbook_id", "playbook_version", "step_outputs")
    return {k: v for k, v in session.items() if k not in extra and not k.endswith("_at")}


@pytest.mark.parametrize("protocol", [MODERN, LEGACY])
async def test_a_run_is_answered_in_the_clients_own_forms(
    forms_server: ServerProcess, protocol: str
) -> None:
    person = Person(ANSWERS, bad={"homepage": "ledger.example.com"})
    async with native_client(forms_server, protocol, person) as client:
        assert client.protocol_version == protocol
        project = await _project(client, f"forms-{protocol}")
        result = await call(client, "run_playbook", playbook_id="native-forms", project_id=project)
        # One call asked every question a form can carry, the refused URL again with why;
        # the free list stays the explicit question it always was.
        assert person.steps == ["name", "homepage", "homepage", *FORM_STEPS[2:]]
        assert result["status"] == "awaiting_input"
        assert result["step"]["id"] == "owners"
        assert "notice" not in result
        for step, _message, schema in person.asked:
            assert schema["type"] == "object"
            assert schema["properties"] == {step: FORM_FIELDS[step]}
            assert schema.get("required") == (None if step == "notes" else [step])
        assert person.asked[0][1] == "What is the service called?"
        assert person.asked[1][1] == "Where does ledger live on the web?"
        reason = person.asked[2][1]
        assert reason.startswith("the answer was not accepted: step 'homepage': ")
        assert reason.endswith("\n\nWhere does ledger live on the web?")

        session = await call(client, "get_session", session_id=result["session_id"])
        assert session["step_outputs"] == {step: ANSWERS[step] for step in FORM_STEPS}
        assert _step_result(session) == result
        done = await call(
            client, "advance_step", session_id=result["session_id"], step_id="owners",
            input=ANSWERS["owners"],
        )  # fmt: skip
        assert done["status"] == "completed"
        assert done["outputs"] == {"name": "ledger", "owners": ["ana", "bo"]}
        assert await _memory(client, project) == MEMORY


def _explicit_clients(server: ServerProcess, person: Person) -> list[tuple[str, Client]]:
    modern = streamable_http_client(
        f"{server.url}/mcp", http_client=httpx2.AsyncClient(headers=_headers())
    )
    legacy = streamable_http_client(
        f"{server.url}/mcp", http_client=httpx2.AsyncClient(headers=_headers())
    )
    return [
        # Declares nothing: no callback.
        ("no-capability", Client(modern, mode=MODERN)),
        # Declares forms, but on 2025-11-25 stateless Streamable HTTP the server sees no
        # capabilities and could not route a reply to a request of its own.
        ("legacy-http", Client(legacy, mode="legacy", elicitation_callback=person)),
    ]


@pytest.mark.parametrize("which", ["no-capability", "legacy-http"])
async def test_the_same_run_without_forms_is_the_explicit_flow(
    forms_server: ServerProcess, which: str
) -> None:
    person = Person(ANSWERS)
    client = dict(_explicit_clients(forms_server, person))[which]
    async with client:
        assert client.protocol_version == (MODERN if which == "no-capability" else LEGACY)
        project = await _project(client, f"explicit-{which}")
        first = await call(client, "run_playbook", playbook_id="native-forms", project_id=project)
        assert first["status"] == "awaiting_input"
        assert first["step"]["id"] == "name"
        assert first["prompt"] == "What is the service called?"
        assert first["expects"] == {"type": "string", "description": first["prompt"]}
        done = await drive(client, first, ANSWERS)
        assert done["status"] == "completed"
        assert done["outputs"] == {"name": "ledger", "owners": ["ana", "bo"]}
        assert person.asked == []
        session = await call(client, "get_session", session_id=first["session_id"])
        assert session["step_outputs"] == ANSWERS
        # In the playbook's order, not the stored JSONB's (by key length: name, tier, ...).
        assert list(session["step_outputs"]) == list(ANSWERS)
        assert await _memory(client, project) == MEMORY


@pytest.mark.parametrize("action", ["decline", "cancel"])
@pytest.mark.parametrize("protocol", [MODERN, LEGACY])
async def test_decline_and_cancel_leave_the_session_where_it_was(
    forms_server: ServerProcess, protocol: str, action: str
) -> None:
    said = "declined the form" if action == "decline" else "was closed without an answer"
    person = Person(ANSWERS, refuse={"name": action})
    async with native_client(forms_server, protocol, person) as client:
        project = await _project(client, f"refuse-{action}-{protocol}")
        first = await call(client, "run_playbook", playbook_id="native-forms", project_id=project)
        assert person.steps == ["name"]
        assert first["status"] == "awaiting_input"
        assert first["step"]["id"] == "name"
        assert said in first["notice"]
        session = await call(client, "get_session", session_id=first["session_id"])
        assert session["step_outputs"] == {}
        # Exactly the step result of the explicit flow, with the notice.
        explicit = _step_result(session)
        assert {k: v for k, v in first.items() if k != "notice"} == explicit

        # Answered explicitly, the run goes on in forms; a refusal later keeps what was
        # answered and stops at the refused question.
        person.refuse = {"regions": action}
        onward = await call(
            client, "advance_step", session_id=first["session_id"], step_id="name",
            input="ledger",
        )  # fmt: skip
        assert person.steps == ["name", "homepage", "tier", "regions"]
        assert onward["step"]["id"] == "regions"
        assert said in onward["notice"]
        session = await call(client, "get_session", session_id=first["session_id"])
        assert session["step_outputs"] == {k: ANSWERS[k] for k in ("name", "homepage", "tier")}
        assert {k: v for k, v in onward.items() if k != "notice"} == _step_result(session)
        assert await _memory(client, project) == MEMORY


@pytest.mark.parametrize("protocol", [MODERN, LEGACY])
async def test_one_call_asks_a_bounded_number_of_forms(
    forms_server: ServerProcess, protocol: str
) -> None:
    """A form that keeps sending what advance_step refuses is asked again at most until
    the call has shown 8 forms (CODIFIER_NATIVE_QUESTIONS_PER_CALL); then the explicit
    step result says why, and the session is at that question."""
    person = Person(ANSWERS, bad={"homepage": "not a url"}, times=100)
    async with native_client(forms_server, protocol, person) as client:
        project = await _project(client, f"bounded-{protocol}")
        result = await call(client, "run_playbook", playbook_id="native-forms", project_id=project)
        assert person.steps == ["name"] + ["homepage"] * 7
        assert result["step"]["id"] == "homepage"
        assert result["notice"].startswith("the answer was not accepted: step 'homepage': ")
        session = await call(client, "get_session", session_id=result["session_id"])
        assert session["step_outputs"] == {"name": "ledger"}


FORMLESS = [
    {"type": "array", "items": {"type": "string"}},  # a free list: no form field
    {"type": "array", "items": {"type": "string", "pattern": "^git@"}},
    {"type": "integer", "enum": [1, 2, 3]},  # a form's choices are strings
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
    {},  # any
    {"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]},
]


@pytest.mark.parametrize("expects", FORMLESS)
def test_an_answer_no_form_can_carry_stays_explicit(expects: dict[str, Any]) -> None:
    from codifier.server.forms import form_field

    assert form_field(expects) is None


def test_every_form_field_is_a_primitive_the_spec_allows() -> None:
    """What the forms ask is valid on both protocols (the SDK's own gate checks a model's
    fields against the same definitions)."""
    from mcp_types._v2025_11_25 import PrimitiveSchemaDefinition as Old
    from mcp_types._v2026_07_28 import PrimitiveSchemaDefinition as New
    from pydantic import TypeAdapter

    from codifier.server.forms import form_field

    url = {"type": "string", "pattern": "^https?://"}
    for expects in (
        {"type": "string", "contentMediaType": "text/plain", "description": "p", "default": "x"},
        url,
        {"anyOf": [url, {"type": "null"}], "description": "p"},
        {"type": "integer", "default": 3},
        {"type": "number"},
        {"type": "boolean", "default": True},
        {"type": "string", "enum": ["a", "b"], "default": "c"},  # a default off the choices
        {"type": "array", "items": {"type": "string", "enum": ["a"]}, "minItems": 1},
    ):
        found = form_field(expects)
        assert found is not None, expects
        prop, _ = found
        assert "pattern" not in prop
        assert "contentMediaType" not in prop
        for definitions in (Old, New):
            TypeAdapter[Any](cast(Any, definitions)).validate_python(prop, strict=True)
    assert form_field({"type": "string", "enum": ["a", "b"], "default": "c"}) == (
        {"type": "string", "enum": ["a", "b"]},
        True,
    )
    assert form_field({"anyOf": [url, {"type": "null"}]}) == ({"type": "string"}, False)


@dataclass
class Model:
    """The client's model: writes `sql` when asked for queries, then a synthesis."""

    sql: Callable[[], str]
    prompts: list[CreateMessageRequestParams] = field(default_factory=list)

    async def __call__(
        self, context: ClientRequestContext, params: CreateMessageRequestParams
    ) -> CreateMessageResult:
        self.prompts.append(params)
        (message,) = params.messages
        assert isinstance(message.content, TextContent)
        if len(self.prompts) == 1:
            text = f"### Q1\n```sql\n{self.sql()}\n```\n"
        else:
            text = scripted_llm("synthesis", message.content.text)
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=text), model="scripted"
        )


@pytest.mark.parametrize("protocol", [MODERN, LEGACY])
async def test_generate_steps_are_written_by_the_clients_own_model(
    forms_server: ServerProcess, protocol: str
) -> None:
    """With sampling declared too, one run_playbook call runs the whole research
    playbook: two forms, two samples, the server-side queries between them."""
    objective = "Which customers order most?"
    chosen: list[str] = []

    async def person(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        (step,) = params.requested_schema["properties"]
        if step == "objective":
            return ElicitResult(action="accept", content={step: objective})
        choices = params.requested_schema["properties"][step]["items"]["enum"]
        chosen.append("orders" if "orders" in choices else choices[0])
        return ElicitResult(action="accept", content={step: chosen})

    model = Model(lambda: f"SELECT count(*) AS n FROM {chosen[0]}")
    if protocol == MODERN:
        transport = streamable_http_client(
            f"{forms_server.url}/mcp", http_client=httpx2.AsyncClient(headers=_headers())
        )
        client = Client(
            transport, mode=MODERN, elicitation_callback=person, sampling_callback=model
        )
    else:
        client = Client(
            sse_client(f"{forms_server.url}/sse", headers=_headers()),
            mode="legacy",
            elicitation_callback=person,
            sampling_callback=model,
        )
    async with client:
        project = await _project(client, f"sampled-{protocol}")
        done = await call(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project
        )
        assert done["status"] == "completed"
        assert len(model.prompts) == 2
        assert all(p.max_tokens == 8_000 for p in model.prompts)
        assert "sql" in model.prompts[0].messages[0].content.text.lower()  # type: ignore[union-attr]
        assert done["outputs"]["queries"] == [model.sql()]
        session = await call(client, "get_session", session_id=done["session_id"])
        outputs = session["step_outputs"]
        assert outputs["objective"] == objective
        assert outputs["chosen"] == chosen
        (ran,) = outputs["results"]  # the model's SQL ran on the server
        assert ran["row_count"] == 1, ran
        assert ran["rows"][0][0] > 0
        finding = await call(
            client, "fetch_context", project_id=project, memory_type="research_finding",
            tags=["research"],
        )  # fmt: skip
        (memory,) = finding["memories"]
        assert memory["content"] == outputs["synthesis"] == done["outputs"]["finding"]
        assert memory["title"] == f"Finding: {objective}"


@pytest.mark.parametrize("mode", [MODERN, "legacy"])
async def test_a_stdio_client_gets_native_forms_too(
    forms_server: ServerProcess, server_home: Path, tmp_path: Path, mode: str
) -> None:
    """stdio keeps a session, so both protocols carry forms there (docs/clients.md says so):
    2026-07-28 by multi round-trip requests, 2025-11-25 by elicitation/create mid-call."""
    (tmp_path / "native-forms.yaml").write_text(PLAYBOOK)
    env = server_env(server_home, None)
    env["CODIFIER_PLAYBOOK_DIRS"] = str(tmp_path)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "codifier.cli.main", "serve", "--transport", "stdio"],
        env=env,
        cwd=str(ROOT),
    )
    person = Person(ANSWERS)
    async with Client(params, mode=mode, elicitation_callback=person) as client:
        assert client.protocol_version == (MODERN if mode == MODERN else LEGACY)
        project = await _project(client, f"stdio-{mode}")
        result = await call(client, "run_playbook", playbook_id="native-forms", project_id=project)
        assert person.steps == FORM_STEPS
        assert result["status"] == "awaiting_input"
        assert result["step"]["id"] == "owners"
        session = await call(client, "get_session", session_id=result["session_id"])
        assert session["step_outputs"] == {step: ANSWERS[step] for step in FORM_STEPS}
