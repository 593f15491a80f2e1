"""Bad input and limits (issue 8, points 15 and 16), against servers in their own
processes over real HTTP and the real database.

Every refusal is exactly `[code] one sentence` (no SDK prefix, no pydantic dump, no
traceback) and writes nothing; sizes and per-project counts are bounded by settings."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from codifier.server.errors import INTERNAL, UNAVAILABLE
from codifier.server.tools import ToolServer
from tests.server_harness import (
    ADMIN_TOKEN,
    INIT_ANSWERS,
    ServerProcess,
    ToolCallFailed,
    call,
    drive,
    free_port,
    http_client,
    running,
    scripted_llm,
)

pytestmark = pytest.mark.anyio

INTERNAL_TEXT = str(INTERNAL)
UNAVAILABLE_TEXT = str(UNAVAILABLE)
ONE_SENTENCE = re.compile(r"^\[[a-z_]+\] [^\n]+$")
SESSION = "00000000-0000-4000-8000-000000000000"  # replaced by a real session id


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def assert_one_sentence(text: str, code: str) -> None:
    assert ONE_SENTENCE.match(text), text
    assert text.startswith(f"[{code}] "), text
    for leak in ("Error executing tool", "pydantic", "validation error", "Traceback", "File "):
        assert leak not in text, text


async def refusal(client: Client, tool: str, **arguments: Any) -> str:
    with pytest.raises(ToolCallFailed) as failure:
        await call(client, tool, **arguments)
    return str(failure.value)


async def new_project(client: Client) -> str:
    created = await call(
        client, "manage_projects", operation="create", name=f"p-{uuid.uuid4().hex[:8]}"
    )
    return str(created["project"]["id"])


async def stored(client: Client, project: str) -> list[dict[str, Any]]:
    found = await call(client, "fetch_context", project_id=project, limit=100)
    return list(found["memories"])


# -- 15: every bad argument gets `[invalid] what, where, how to fix` ------------------------

MEMORY = {"memory_type": "rule", "title": "A rule", "content": "Always test."}

BAD_MEMORY_WRITES: list[tuple[dict[str, Any], str]] = [
    ({**MEMORY, "title": "a\x00b"}, "argument 'title' contains a NUL character"),
    ({**MEMORY, "content": "x\x00"}, "argument 'content' contains a NUL character"),
    ({**MEMORY, "tags": ["ok", "b\x00d"]}, "argument 'tags[1]' contains a NUL character"),
    ({**MEMORY, "source_role": "dev\x00"}, "argument 'source_role' contains a NUL character"),
    ({**MEMORY, "metadata": {"note": "\x00"}}, "argument 'metadata.note' contains a NUL"),
    ({**MEMORY, "metadata": {"k\x00": 1}}, "a key in argument 'metadata' contains a NUL"),
    ({**MEMORY, "title": "t" * 501}, "title has 501 characters, more than the 500 allowed"),
    ({**MEMORY, "tags": ["t" * 101]}, "tags[0] has 101 characters, more than the 100 allowed"),
    ({**MEMORY, "source_role": "r" * 101}, "source_role has 101 characters"),
    ({**MEMORY, "tags": "rules"}, "argument 'tags' must be a list (got 'rules')"),
    ({**MEMORY, "tags": [1, 2]}, "argument 'tags[0]' must be a string (got 1)"),
    ({**MEMORY, "metadata": [1]}, "argument 'metadata' must be an object (got a list of 1)"),
    ({"memory_type": "rule", "content": "c"}, "argument 'title' is required; pass it"),
    ({**MEMORY, "title": 7}, "argument 'title' must be a string (got 7)"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_MEMORY_WRITES)
async def test_a_bad_memory_write_gets_one_sentence_and_stores_nothing(
    server: ServerProcess, arguments: dict[str, Any], message: str
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        text = await refusal(client, "update_memory", project_id=project, **arguments)
        assert_one_sentence(text, "invalid")
        assert message in text
        assert await stored(client, project) == []


BAD_CALLS: list[tuple[str, dict[str, Any], str, str]] = [
    ("fetch_context", {"limit": "abc"}, "invalid", "argument 'limit' must be a whole number"),
    ("fetch_context", {"limit": 2.5}, "invalid", "argument 'limit' must be a whole number"),
    ("fetch_context", {"offset": 10**20}, "invalid", "offset must be between 0 and 100,000"),
    ("fetch_context", {"offset": 100_001}, "invalid", "offset must be between 0 and 100,000"),
    ("fetch_context", {"offset": -1}, "invalid", "offset must be between 0 and 100,000"),
    ("fetch_context", {"query": "a\x00"}, "invalid", "argument 'query' contains a NUL"),
    ("fetch_context", {"query": "q" * 2001}, "invalid", "query has 2,001 characters"),
    ("fetch_context", {"tags": ["t"] * 51}, "invalid", "tags has 51 entries"),
    ("fetch_context", {"memory_type": "x" * 5000}, "invalid", "unknown memory_type 'xxxx"),
    ("manage_projects", {"operation": "explode"}, "invalid", "argument 'operation' must be one"),
    ("manage_projects", {}, "invalid", "argument 'operation' is required"),
    ("manage_projects", {"operation": "create", "name": "n\x00"}, "invalid", "'name' contains"),
    ("manage_projects", {"operation": "create", "name": "n" * 201}, "invalid", "name has 201"),
    ("manage_projects", {"operation": "create", "name": "a\nb"}, "invalid", "one line"),
    (
        "manage_projects",
        {"operation": "create", "name": "d", "description": "d" * 10_001},
        "invalid",
        "description has 10,001 characters",
    ),
    ("manage_projects", {"operation": "get", "name": "x" * 10_000}, "not_found", "no project"),
    ("delete_memory", {"id": ""}, "invalid", "id is empty; pass the id of the memory"),
    ("delete_memory", {"id": "x" * 10_000}, "invalid", "is not a valid id"),
    ("advance_step", {"session_id": "", "step_id": "x", "input": 1}, "invalid", "is empty"),
    ("advance_step", {"session_id": "nope", "step_id": "x", "input": 1}, "invalid", "valid id"),
    ("advance_step", {"step_id": "x", "input": 1}, "invalid", "'session_id' is required"),
    (
        "advance_step",
        {"session_id": SESSION, "step_id": "project_name", "input": "a\x00"},
        "invalid",
        "argument 'input' contains a NUL character",
    ),
    (
        "advance_step",
        {"session_id": SESSION, "step_id": "project_name", "input": {"a": ["ok", "\x00"]}},
        "invalid",
        "argument 'input.a[1]' contains a NUL character",
    ),
    (
        "advance_step",
        {"session_id": SESSION, "step_id": "x" * 5000, "input": "a"},
        "conflict",
        "is not the session's current step",
    ),
    (
        "run_playbook",
        {"playbook_id": "research-and-analyze", "inputs": {"database": "m\x00"}},
        "invalid",
        "argument 'inputs.database' contains a NUL character",
    ),
    ("run_playbook", {"playbook_id": "p\x00"}, "invalid", "'playbook_id' contains a NUL"),
    ("run_playbook", {"playbook_id": "x" * 5000}, "not_found", "no playbook 'xxxx"),
    ("run_playbook", {"playbook_id": "initialize-project", "inputs": []}, "invalid", "object"),
    ("query_data", {"operation": "list-tables", "source": "\x00"}, "invalid", "NUL"),
    ("no_such_tool", {}, "not_found", "no tool named 'no_such_tool'"),
]


@pytest.mark.parametrize(("tool", "arguments", "code", "message"), BAD_CALLS)
async def test_every_bad_argument_gets_one_sentence(
    server: ServerProcess, tool: str, arguments: dict[str, Any], code: str, message: str
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        if arguments.get("session_id") == SESSION:
            started = await call(
                client, "run_playbook", playbook_id="initialize-project", project_id=project
            )
            arguments = {**arguments, "session_id": started["session_id"]}
        if tool in ("fetch_context", "delete_memory", "run_playbook"):
            arguments = {"project_id": project, **arguments}
        text = await refusal(client, tool, **arguments)
        assert_one_sentence(text, code)
        assert message in text
        assert len(text) < 600  # a caller's long value is never echoed whole
        assert await stored(client, project) == []


async def test_a_refused_answer_leaves_the_run_where_it_was(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        started = await call(
            client, "run_playbook", playbook_id="initialize-project", project_id=project
        )
        sid = started["session_id"]
        for answer in ("bad\x00name", 42, "x" * 3_000_000):
            text = await refusal(
                client, "advance_step", session_id=sid, step_id="project_name", input=answer
            )
            assert_one_sentence(text, "invalid")
        resumed = await call(
            client, "advance_step", session_id=sid, step_id="project_name", input="acme"
        )
        assert resumed["step"]["id"] == "description"


async def test_snapshot_pages_refuse_bad_addresses_in_one_sentence(
    server: ServerProcess,
) -> None:
    missing = uuid.uuid4()
    cases = [
        ("codifier://snapshots/not-a-uuid", "[invalid] snapshot id 'not-a-uuid' is not a valid"),
        (f"codifier://snapshots/{missing}/pages/abc", "[invalid] page must be a whole number"),
        (f"codifier://snapshots/{missing}/pages/0", "[invalid] page must be a whole number"),
        (f"codifier://snapshots/{missing}/pages/{10**30}", "[invalid] page must be a whole"),
        (f"codifier://snapshots/{missing}", f"[not_found] no snapshot {missing}"),
        ("codifier://elsewhere", "[not_found] no resource at 'codifier://elsewhere'"),
    ]
    async with http_client(server.url, ADMIN_TOKEN) as client:
        for uri, message in cases:
            with pytest.raises(MCPError) as failure:
                await client.read_resource(uri)
            text = failure.value.error.message
            assert ONE_SENTENCE.match(text), text
            assert text.startswith(message), text


# -- 16: sizes and counts are bounded ---------------------------------------------------


def short_analyst(step_id: str, prompt: str) -> str:
    """The client's LLM for research-and-analyze: one small query, a short report."""
    if step_id == "queries":
        return "### Q1\n```sql\nSELECT count(*) AS n FROM plans\n```\n"
    return "## Summary\nMonthly plans churn more."


async def test_a_4_mb_memory_and_20000_tags_are_refused(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        big = await refusal(
            client, "update_memory", project_id=project, **{**MEMORY, "content": "x" * 4_000_000}
        )
        assert_one_sentence(big, "invalid")
        assert "content has 4,000,000 bytes, more than the 262,144 allowed" in big
        assert "CODIFIER_MAX_MEMORY_BYTES" in big
        tags = [f"tag-{i}" for i in range(20_000)]
        many = await refusal(client, "update_memory", project_id=project, **MEMORY, tags=tags)
        assert_one_sentence(many, "invalid")
        assert "tags has 20,000 entries, more than the 50 allowed (CODIFIER_MAX_TAGS)" in many
        metadata = {"m": "x" * 20_000}
        meta = await refusal(
            client, "update_memory", project_id=project, **MEMORY, metadata=metadata
        )
        assert_one_sentence(meta, "invalid")
        size = json_size(metadata)
        assert f"metadata has {size:,} bytes of JSON, more than the 16,384 allowed" in meta
        assert await stored(client, project) == []
        # Just under every limit is fine.
        kept = await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="document",
            title="t" * 500,
            content="é" * (128 * 1024),  # two bytes each: exactly 256 KB
            tags=[f"{i:0100d}" for i in range(50)],
        )
        assert kept["created"] is True


async def test_a_3_mb_answer_and_big_inputs_are_refused(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        inputs = {"database": "x" * 300_000}
        big_inputs = await refusal(
            client,
            "run_playbook",
            playbook_id="research-and-analyze",
            project_id=project,
            inputs=inputs,
        )
        assert_one_sentence(big_inputs, "invalid")
        size = json_size(inputs)
        assert f"inputs has {size:,} bytes of JSON, more than the 262,144 allowed" in big_inputs
        started = await call(
            client, "run_playbook", playbook_id="initialize-project", project_id=project
        )
        at_description = await call(
            client,
            "advance_step",
            session_id=started["session_id"],
            step_id="project_name",
            input="acme",
        )
        answer = {"chunks": ["y" * 1000] * 3000}
        text = await refusal(
            client,
            "advance_step",
            session_id=started["session_id"],
            step_id="description",
            input=answer,
        )
        assert_one_sentence(text, "invalid")
        size = json_size(answer)
        assert size > 3_000_000
        assert f"input has {size:,} bytes of JSON, more than the 262,144 allowed" in text
        assert "CODIFIER_MAX_ANSWER_BYTES" in text
        finished = await drive(client, at_description, INIT_ANSWERS)
        assert finished["status"] == "completed"


async def test_a_remembered_title_is_fitted_to_the_limit(server: ServerProcess) -> None:
    """A `remember:` title built from an earlier answer cannot be fixed by the call that
    writes it: it is cut to 500 characters, ending in "…", and the run completes."""
    objective = "Why do customers leave? " + "Consider every plan. " * 40
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        run = await call(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project
        )

        finished = await drive(
            client, run, {"objective": objective, "chosen": ["plans"]}, llm=short_analyst
        )
        assert finished["status"] == "completed", finished
        (finding,) = (
            await call(client, "fetch_context", project_id=project, memory_type="research_finding")
        )["memories"]
        assert len(finding["title"]) == 500
        assert finding["title"].startswith("Finding: Why do customers leave?")
        assert finding["title"].endswith("…")


# -- quotas and limits set through the environment ---------------------------------------


@pytest.fixture(scope="module")
def tight(server_home: Path, server: ServerProcess) -> Iterator[ServerProcess]:
    """A second server on the same database, with small limits and quotas."""
    settings = {
        "CODIFIER_MAX_MEMORIES_PER_PROJECT": "3",
        "CODIFIER_MAX_OPEN_SESSIONS_PER_PROJECT": "2",
        "CODIFIER_MAX_TAGS": "3",
        "CODIFIER_MAX_MEMORY_BYTES": "1000",
    }
    with running(server_home, extra=settings) as process:
        yield process


async def test_the_memory_quota_refuses_the_next_new_memory(tight: ServerProcess) -> None:
    async with http_client(tight.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        ids = []
        for n in range(3):
            saved = await call(
                client, "update_memory", project_id=project, **{**MEMORY, "content": f"c{n}"}
            )
            ids.append(saved["memory"]["id"])
        text = await refusal(
            client, "update_memory", project_id=project, **{**MEMORY, "content": "c3"}
        )
        assert_one_sentence(text, "quota")
        assert "the project holds 3 memories, the most allowed" in text
        assert "CODIFIER_MAX_MEMORIES_PER_PROJECT" in text
        assert len(await stored(client, project)) == 3
        # What adds no memory is still allowed: the same content again, an update by id.
        again = await call(
            client, "update_memory", project_id=project, **{**MEMORY, "content": "c0"}
        )
        assert again["created"] is False
        await call(
            client,
            "update_memory",
            project_id=project,
            id=ids[1],
            **{**MEMORY, "content": "c1, revised"},
        )
        await call(client, "delete_memory", project_id=project, id=ids[2])
        await call(client, "update_memory", project_id=project, **{**MEMORY, "content": "c3"})
        assert len(await stored(client, project)) == 3


async def test_the_memory_quota_holds_under_concurrent_writes(tight: ServerProcess) -> None:
    import anyio

    async with http_client(tight.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
    outcomes: list[str] = []

    async def write(n: int) -> None:
        async with http_client(tight.url, ADMIN_TOKEN) as client:
            try:
                await call(
                    client, "update_memory", project_id=project, **{**MEMORY, "content": f"w{n}"}
                )
                outcomes.append("ok")
            except ToolCallFailed as error:
                outcomes.append(str(error))

    async with anyio.create_task_group() as group:
        for n in range(10):
            group.start_soon(write, n)
    assert outcomes.count("ok") == 3, outcomes
    assert all(o.startswith("[quota] ") for o in outcomes if o != "ok"), outcomes
    async with http_client(tight.url, ADMIN_TOKEN) as client:
        assert len(await stored(client, project)) == 3


async def test_merged_tags_stay_within_the_limit(tight: ServerProcess) -> None:
    async with http_client(tight.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        await call(client, "update_memory", project_id=project, **MEMORY, tags=["a", "b"])
        text = await refusal(client, "update_memory", project_id=project, **MEMORY, tags=["c", "d"])
        assert_one_sentence(text, "invalid")
        assert "more than the 3 tags allowed" in text
        (memory,) = await stored(client, project)
        assert memory["tags"] == ["a", "b"]


async def test_playbook_memories_respect_the_size_limit_and_the_quota(
    tight: ServerProcess,
) -> None:
    async with http_client(tight.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        started = await call(
            client, "run_playbook", playbook_id="initialize-project", project_id=project
        )
        sid = started["session_id"]
        at_description = await call(
            client, "advance_step", session_id=sid, step_id="project_name", input="acme"
        )
        # The description is remembered: over CODIFIER_MAX_MEMORY_BYTES the answer is
        # refused, nothing is written, and the run stays at the step.
        text = await refusal(
            client, "advance_step", session_id=sid, step_id="description", input="d" * 1001
        )
        assert_one_sentence(text, "invalid")
        assert "step 'description' cannot remember its result: content has 1,001 bytes" in text
        assert await stored(client, project) == []
        # description, statement of work and rules are the quota's 3 memories: the 4th,
        # evals, is refused and nothing of that answer is kept.
        at_evals = await drive(client, at_description, INIT_ANSWERS, stop_at="evals")
        assert at_evals["step"]["id"] == "evals", at_evals
        evals = scripted_llm("evals", "")  # fits the evals template's schema
        text = await refusal(client, "advance_step", session_id=sid, step_id="evals", input=evals)
        assert_one_sentence(text, "quota")
        assert "step 'evals' cannot remember its result: the project holds 3 memories" in text
        memories = await stored(client, project)
        assert len(memories) == 3
        await call(client, "delete_memory", project_id=project, id=memories[0]["id"])
        after = await call(client, "advance_step", session_id=sid, step_id="evals", input=evals)
        assert after["step"]["id"] == "requirements"


async def test_the_open_run_quota_refuses_a_third_run(tight: ServerProcess) -> None:
    async with http_client(tight.url, ADMIN_TOKEN) as client:
        project = await new_project(client)

        async def start() -> dict[str, Any]:
            return await call(
                client, "run_playbook", playbook_id="research-and-analyze", project_id=project
            )

        first, _second = await start(), await start()
        text = await refusal(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project
        )
        assert_one_sentence(text, "quota")
        assert "the project has 2 runs awaiting an answer, the most allowed" in text
        assert "CODIFIER_MAX_OPEN_SESSIONS_PER_PROJECT" in text
        # Finishing a run frees its place; the refused start had taken none.
        finished = await drive(
            client, first, {"objective": "Churn?", "chosen": ["plans"]}, llm=short_analyst
        )
        assert finished["status"] == "completed", finished
        await start()
        text = await refusal(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project
        )
        assert_one_sentence(text, "quota")


# -- faults of the server's own, through the real SDK in process ---------------------------


class StoreUnavailable(Exception):
    """Shaped like the store's own DatabaseUnavailable: a code and a message."""

    code = "unavailable"
    message = "the database is unavailable; try again shortly"


def _faulty_server() -> ToolServer:
    """A ToolServer whose tools fail the ways a real call can: a crash, the database
    gone (a real refused connection), text a client library cannot even send."""
    server = ToolServer("faulty")

    @server.tool()
    async def crash() -> dict[str, Any]:
        raise RuntimeError("secret detail: /etc/codifier/keys")

    @server.tool()
    async def database_gone() -> dict[str, Any]:
        # A real connection to a port nothing listens on: the driver's own OSError.
        connection = await asyncpg.connect(
            f"postgresql://nobody@127.0.0.1:{free_port()}/none", timeout=5
        )
        await connection.close()
        return {}

    @server.tool()
    async def connection_lost() -> dict[str, Any]:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")

    @server.tool()
    async def store_unavailable() -> dict[str, Any]:
        raise StoreUnavailable()

    @server.tool()
    async def echo(text: str) -> dict[str, Any]:
        return {"text": text}

    return server


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("crash", {}, INTERNAL_TEXT),
        ("database_gone", {}, UNAVAILABLE_TEXT),
        ("connection_lost", {}, UNAVAILABLE_TEXT),
        ("store_unavailable", {}, UNAVAILABLE_TEXT),
        (
            "echo",
            {"text": "a\ud800b"},
            "[invalid] argument 'text' contains an unpaired surrogate (\\ud800) at position 1;"
            " remove it and call again",
        ),
        ("echo", {}, "[invalid] argument 'text' is required; pass it"),
    ],
)
async def test_faults_and_unsendable_text_are_one_sentence(
    tool: str, arguments: dict[str, Any], expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(_faulty_server()) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert text == expected
    if tool == "crash":  # the detail and the traceback stay in the server's log
        assert "secret detail" in caplog.text
        assert "Traceback" in caplog.text
