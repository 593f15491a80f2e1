"""A self-describing tool surface (issue 12, point 3), against a real server over HTTP:
every parameter described, closed vocabularies as enums, real output schemas that every
real result validates against (and names every key of), annotations, clean prose, the
workflow in the server's instructions, every error exactly `[code] one sentence` (tools,
prompts, resources), and only the capabilities the server has."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.shared.exceptions import MCPError

from codifier.store.memories import MEMORY_TYPES
from tests.server_harness import (
    ADMIN_TOKEN,
    ServerProcess,
    ToolCallFailed,
    call,
    http_client,
    running,
)
from tests.surface_support import (
    ONE_SENTENCE,
    PLAYBOOK,
    TEMPLATE,
    small_repository,
    undeclared_keys,
    untyped_nodes,
)

pytestmark = pytest.mark.anyio

MODES = ["auto", "legacy"]  # 2026-07-28 and 2025-11-25

READ_ONLY = {
    "fetch_context",
    "list_playbooks",
    "list_sessions",
    "get_session",
    "read_snapshot",
    "search_snapshot",
    "query_data",
    "list_snapshots",
}
DESTRUCTIVE = {"delete_memory", "update_memory", "rewind_session"}
IDEMPOTENT = READ_ONLY | {"delete_memory", "update_memory", "manage_projects"}
OPEN_WORLD = {"pack_repo", "query_data"}
TOOLS = READ_ONLY | {
    "manage_projects",
    "update_memory",
    "delete_memory",
    "pack_repo",
    "publish_playbook",
    "run_playbook",
    "advance_step",
    "rewind_session",
}


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CODIFIER_PACK_ROOTS, holding one small git repository, `greeter`."""
    folder = tmp_path_factory.mktemp("pack-roots")
    small_repository(folder, "greeter")
    return folder


@pytest.fixture(scope="module")
def server(server_home: Path, roots: Path) -> Iterator[ServerProcess]:
    extra = {"CODIFIER_PACK_ROOTS": str(roots), "CODIFIER_SNAPSHOT_EMBED_CHUNKS": "0"}
    with running(server_home, extra=extra) as process:
        yield process


async def listed_tools(client: Client) -> dict[str, dict[str, Any]]:
    result = await client.list_tools()
    return {
        t.name: t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in result.tools
    }


def prop(tool: dict[str, Any], name: str) -> dict[str, Any]:
    schema = tool["inputSchema"]
    found: dict[str, Any] = schema["properties"][name]
    return found


def enum_of(tool: dict[str, Any], name: str) -> list[Any]:
    """The enum of a parameter, whether optional (anyOf with null) or not."""
    schema = prop(tool, name)
    for branch in [schema, *schema.get("anyOf", [])]:
        if "enum" in branch:
            return list(branch["enum"])
    raise AssertionError(f"{name} has no enum: {schema}")


@pytest.mark.parametrize("mode", MODES)
async def test_every_tool_describes_itself(server: ServerProcess, mode: str) -> None:
    async with http_client(server.url, ADMIN_TOKEN, mode=mode) as client:
        tools = await listed_tools(client)
    assert set(tools) == TOOLS
    for name, tool in tools.items():
        description = tool["description"]
        assert len(description) > 80, name
        assert description.startswith("Use "), name  # says when to use it
        assert not re.search(r"\n[ \t]", description), f"{name}: stray indentation"
        assert "  " not in description, name
        assert tool["title"]
        assert tool["annotations"]["title"] == tool["title"]
        hints = tool["annotations"]
        assert hints["readOnlyHint"] is (name in READ_ONLY), name
        assert hints["destructiveHint"] is (name in DESTRUCTIVE), name
        assert hints["idempotentHint"] is (name in IDEMPOTENT), name
        assert hints["openWorldHint"] is (name in OPEN_WORLD), name
        for parameter, schema in tool["inputSchema"]["properties"].items():
            assert len(schema.get("description", "")) > 10, f"{name}.{parameter}"
        assert untyped_nodes(tool["inputSchema"]) == [], name
        output = tool["outputSchema"]
        assert output["type"] == "object"
        assert len(output["properties"]) >= 1, name
        assert untyped_nodes(output) == [], name
        Draft202012Validator.check_schema(output)
        Draft202012Validator.check_schema(tool["inputSchema"])
    assert enum_of(tools["update_memory"], "memory_type") == list(MEMORY_TYPES)
    assert enum_of(tools["fetch_context"], "memory_type") == list(MEMORY_TYPES)
    assert enum_of(tools["fetch_context"], "mode") == ["hybrid", "text", "semantic"]
    assert enum_of(tools["manage_projects"], "operation") == ["create", "list", "switch", "get"]
    assert enum_of(tools["query_data"], "operation") == [
        "list-tables",
        "describe-tables",
        "execute-query",
    ]
    assert enum_of(tools["search_snapshot"], "mode") == ["literal", "regex", "semantic"]
    assert enum_of(tools["list_playbooks"], "role") == ["developer", "researcher", "any"]
    assert "completed" in enum_of(tools["list_sessions"], "status")
    # advance_step.input takes any JSON value, and its schema says which kinds those are.
    answer = tools["advance_step"]["inputSchema"]
    json_value = answer["$defs"][answer["properties"]["input"]["$ref"].split("/")[-1]]
    kinds = {branch["type"] for branch in json_value["anyOf"]}
    assert kinds == {"string", "integer", "number", "boolean", "array", "object", "null"}
    # Real output schemas: the step result's status is an enum, memories are typed.
    step = tools["run_playbook"]["outputSchema"]
    assert step["properties"]["status"]["enum"] == [
        "awaiting_input",
        "awaiting_generation",
        "running",
        "completed",
        "failed",
    ]
    fetched = tools["fetch_context"]["outputSchema"]
    memory = fetched["$defs"]["Memory"]
    assert memory["properties"]["type"]["enum"] == list(MEMORY_TYPES)
    assert {"memories", "total", "has_more"} <= set(fetched["required"])


@pytest.mark.parametrize("mode", MODES)
async def test_instructions_and_capabilities_are_what_the_server_has(
    server: ServerProcess, mode: str
) -> None:
    async with http_client(server.url, ADMIN_TOKEN, mode=mode) as client:
        await client.list_tools()
        capabilities = client.server_capabilities
        instructions = client.instructions or ""
    assert capabilities is not None
    assert capabilities.tools is not None
    assert not capabilities.tools.list_changed
    assert capabilities.prompts is not None
    assert not capabilities.prompts.list_changed
    assert capabilities.resources is not None
    assert not capabilities.resources.list_changed
    assert not capabilities.resources.subscribe
    assert capabilities.logging is None
    assert capabilities.completions is None
    # The workflow, in order: projects, memories, playbooks, snapshots, data.
    order = ["manage_projects", "fetch_context", "update_memory", "run_playbook"]
    order += ["advance_step", "read_snapshot", "search_snapshot", "query_data"]
    positions = [instructions.index(name) for name in order]
    assert positions == sorted(positions)
    assert len(instructions) > 800


async def test_no_log_line_per_stateless_request(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        for _ in range(3):
            await client.list_tools()
    async with http_client(server.url, ADMIN_TOKEN, mode="legacy") as client:
        await client.list_tools()
    assert "Terminating session: None" not in server.log.read_text()


class Recorder:
    """Calls tools and keeps every structured result, to check against the schemas."""

    def __init__(self, client: Client, tools: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.tools = tools
        self.seen: dict[str, int] = {}

    async def __call__(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        text = " ".join(getattr(c, "text", "") for c in result.content)
        assert not result.is_error, f"{tool}: {text}"
        value = result.structured_content
        assert value is not None
        schema = self.tools[tool]["outputSchema"]
        Draft202012Validator(schema).validate(value)
        assert undeclared_keys(schema, value, schema) == [], tool
        self.seen[tool] = self.seen.get(tool, 0) + 1
        return dict(value)


@pytest.mark.parametrize("mode", MODES)
async def test_every_real_result_fits_its_output_schema(
    server: ServerProcess, roots: Path, mode: str
) -> None:
    async with http_client(server.url, ADMIN_TOKEN, mode=mode, timeout=120) as client:
        run = Recorder(client, await listed_tools(client))
        name = f"surface-{mode}-{uuid.uuid4().hex[:6]}"
        project = (await run("manage_projects", operation="create", name=name))["project"]["id"]
        await run("manage_projects", operation="list")
        await run("manage_projects", operation="get", project_id=project)
        await run("manage_projects", operation="switch", project_id=project)
        await run("fetch_context")
        first = await run(
            "update_memory",
            memory_type="rule",
            title="Amounts in cents",
            content="Money is integer cents.",
            tags=["billing"],
            metadata={"source": "review", "n": 1, "ok": True, "list": [1.5, None]},
        )
        await run(
            "update_memory",
            memory_type="rule",
            title="Amounts in cents, always",
            content="Money is integer cents, everywhere.",
            supersedes=first["memory"]["id"],
        )
        await run("update_memory", id=first["memory"]["id"], **_memory("learning"))
        await run("fetch_context", query="cents", include_superseded=True)
        await run("fetch_context", memory_type="rule", tags=["billing"], mode="text", query="x")
        gone = await run("update_memory", **_memory("document"))
        await run("delete_memory", id=gone["memory"]["id"])

        packed = await run("pack_repo", url=str(roots / "greeter"), version_label="v1")
        snapshot = packed["snapshot_id"]
        await run("read_snapshot", snapshot_id=snapshot)
        await run("read_snapshot", snapshot_id=snapshot, path="app.py", start_line=1, end_line=2)
        await run("search_snapshot", snapshot_id=snapshot, query="greet")
        await run("search_snapshot", snapshot_id=snapshot, query=r"^class \w+", mode="regex")
        await run("list_snapshots")

        tables = await run("query_data", operation="list-tables")
        table = tables["tables"][0]
        await run("query_data", operation="describe-tables", tables=[table])
        await run("query_data", operation="execute-query", sql=f'SELECT * FROM "{table}" LIMIT 3')

        await run("publish_playbook", source=PLAYBOOK, templates={"surface-notes": TEMPLATE})
        await run("list_playbooks")
        await run("list_playbooks", role="developer")
        step = await run("run_playbook", playbook_id="surface-check", inputs={"topic": "cents"})
        assert step["status"] == "awaiting_input"
        session = step["session_id"]
        step = await run("advance_step", session_id=session, step_id="question", input="Cents.")
        assert step["status"] == "awaiting_generation"
        await run("get_session", session_id=session)
        step = await run("rewind_session", session_id=session, step_id="question")
        step = await run("advance_step", session_id=session, step_id="question", input="Again.")
        done = await run("advance_step", session_id=session, step_id="notes", input="# Notes")
        assert done["status"] == "completed"
        await run("get_session", session_id=session)
        await run("list_sessions")
        await run("list_sessions", status="completed", playbook_id="surface-check")
        await run("run_playbook", playbook_id="initialize-project")  # a shipped one
    assert set(run.seen) == TOOLS


def _memory(kind: str) -> dict[str, Any]:
    return {"memory_type": kind, "title": f"A {kind}", "content": f"Some {kind} text."}


SESSION = str(uuid.uuid4())
MEMORY = str(uuid.uuid4())
SNAPSHOT = str(uuid.uuid4())
BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("fetch_context", {"limit": "many"}, "invalid"),  # a bad type
    ("fetch_context", {"include_superseded": "perhaps"}, "invalid"),
    ("fetch_context", {"tags": "billing"}, "invalid"),
    ("update_memory", {"title": "t", "content": "c"}, "invalid"),  # missing
    ("update_memory", {"memory_type": "gossip", "title": "t", "content": "c"}, "invalid"),
    ("fetch_context", {"memory_type": "gossip"}, "invalid"),  # bad enum values
    ("fetch_context", {"mode": "fuzzy", "query": "q"}, "invalid"),
    ("manage_projects", {"operation": "destroy"}, "invalid"),
    ("query_data", {"operation": "drop-tables"}, "invalid"),
    ("search_snapshot", {"snapshot_id": SNAPSHOT, "query": "q", "mode": "glob"}, "invalid"),
    ("list_sessions", {"status": "paused"}, "invalid"),
    ("list_playbooks", {"role": "manager"}, "invalid"),
    ("advance_step", {"session_id": SESSION, "step_id": "x"}, "invalid"),
    ("no_such_tool", {}, "not_found"),  # unknown tool
    ("delete_memory", {"id": MEMORY}, "not_found"),  # ids that name nothing
    ("get_session", {"session_id": SESSION}, "not_found"),
    ("advance_step", {"session_id": SESSION, "step_id": "x", "input": {"a": 1}}, "not_found"),
    ("rewind_session", {"session_id": SESSION, "step_id": "x"}, "not_found"),
    ("read_snapshot", {"snapshot_id": SNAPSHOT}, "not_found"),
    ("search_snapshot", {"snapshot_id": SNAPSHOT, "query": "q"}, "not_found"),
    ("run_playbook", {"playbook_id": "no-such-playbook"}, "not_found"),
    ("read_snapshot", {"snapshot_id": "not-an-id"}, "invalid"),
    ("manage_projects", {"operation": "get", "project_id": str(uuid.uuid4())}, "not_found"),
    ("query_data", {"operation": "execute-query", "sql": "DROP TABLE x"}, "refused"),
]


@pytest.mark.parametrize("mode", MODES)
async def test_every_tool_error_is_one_coded_sentence(server: ServerProcess, mode: str) -> None:
    async with http_client(server.url, ADMIN_TOKEN, mode=mode) as client:
        name = f"errors-{mode}-{uuid.uuid4().hex[:6]}"
        project = await call(client, "manage_projects", operation="create", name=name)
        await call(
            client, "manage_projects", operation="switch", project_id=project["project"]["id"]
        )
        for tool, arguments, code in BAD_CALLS:
            with pytest.raises(ToolCallFailed) as failure:
                await call(client, tool, **arguments)
            text = str(failure.value)
            assert re.fullmatch(ONE_SENTENCE, text), f"{tool} {arguments}: {text}"
            assert text.startswith(f"[{code}] "), f"{tool} {arguments}: {text}"
            assert "Error executing tool" not in text
            assert "validation error" not in text
        refused = await _refusal(client.call_tool("update_memory", {"memory_type": "gossip"}))
        assert refused.startswith("[invalid] ")


async def _refusal(pending: Any) -> str:
    result = await pending
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


@pytest.mark.parametrize("mode", MODES)
async def test_prompt_and_resource_errors_are_one_coded_sentence(
    server: ServerProcess, mode: str
) -> None:
    async with http_client(server.url, ADMIN_TOKEN, mode=mode) as client:
        failures: list[tuple[str, str]] = []
        for request, code in [
            (client.get_prompt("no-such-prompt"), "not_found"),
            (client.get_prompt("research-and-analyze", {"colour": "blue"}), "invalid"),
            (client.read_resource("codifier://nothing/here"), "not_found"),
            (client.read_resource(f"codifier://snapshots/{SNAPSHOT}"), "not_found"),
            (client.read_resource(f"codifier://snapshots/{SNAPSHOT}/digest"), "not_found"),
            (client.read_resource("codifier://snapshots/not-an-id"), "invalid"),
        ]:
            with pytest.raises(MCPError) as failure:
                await request
            failures.append((failure.value.error.message, code))
    for message, code in failures:
        assert re.fullmatch(ONE_SENTENCE, message), message
        assert message.startswith(f"[{code}] "), message


def test_protocol_refusals_are_one_coded_sentence(server: ServerProcess) -> None:
    """Requests the SDK refuses before any tool runs (params that do not fit the MCP
    schema, a method the server does not serve) read `[code] sentence` too."""
    headers = {
        "Authorization": f"Bearer {ADMIN_TOKEN}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    requests = [
        ("tools/call", {"name": "fetch_context", "arguments": "not an object"}, "invalid"),
        ("tools/call", {"name": 5}, "invalid"),
        ("prompts/get", {"name": "x", "arguments": {"a": 5}}, "invalid"),
        ("no/such-method", {}, "not_found"),
    ]
    with httpx2.Client(headers=headers, timeout=30) as http:
        for number, (method, params, code) in enumerate(requests):
            message = {"jsonrpc": "2.0", "id": number, "method": method, "params": params}
            response = http.post(f"{server.url}/mcp", json=message)
            data = next(
                json.loads(line.removeprefix("data: "))
                for line in response.text.splitlines()
                if line.startswith("data: ")
            )
            text = data["error"]["message"]
            assert re.fullmatch(ONE_SENTENCE, text), text
            assert text.startswith(f"[{code}] "), text
