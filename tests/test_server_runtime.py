"""Runs survive a SIGKILL, move between server processes, and stay consistent under
concurrent answers; bad inputs get one clear error and change nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.server_harness import (
    ADMIN_TOKEN,
    INIT_ANSWERS,
    ServerProcess,
    ToolCallFailed,
    call,
    drive,
    http_client,
    running,
    stop_embedded_postgres,
)

pytestmark = pytest.mark.anyio


async def _start(url: str) -> dict[str, Any]:
    async with http_client(url, ADMIN_TOKEN) as client:
        project = await call(
            client, "manage_projects", operation="create", name=f"p-{uuid.uuid4().hex[:8]}"
        )
        return await call(
            client,
            "run_playbook",
            playbook_id="initialize-project",
            project_id=project["project"]["id"],
        )


async def test_a_killed_server_resumes_at_the_same_step(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    first = ServerProcess(home).start()
    try:
        async with http_client(first.url, ADMIN_TOKEN) as client:
            started = await _start(first.url)
            at_sow = await drive(client, started, INIT_ANSWERS, stop_at="statement_of_work")
        assert at_sow["step"]["id"] == "statement_of_work"
        first.kill()  # SIGKILL mid-session
        second = ServerProcess(home).start()
        try:
            async with http_client(second.url, ADMIN_TOKEN) as client:
                resumed = await call(
                    client,
                    "advance_step",
                    session_id=at_sow["session_id"],
                    step_id="statement_of_work",
                    input=INIT_ANSWERS["statement_of_work"],
                )
                assert resumed["step"]["id"] == "repositories"
                finished = await drive(client, resumed, INIT_ANSWERS)
                assert finished["status"] == "completed"
                found = await call(
                    client,
                    "fetch_context",
                    project_id=(await call(client, "manage_projects", operation="list"))[
                        "projects"
                    ][0]["id"],
                )
                assert {m["title"] for m in found["memories"]} >= {
                    "Project description",
                    "Statement of work",
                    "Roadmap",
                }
        finally:
            second.stop()
    finally:
        stop_embedded_postgres(home)


async def test_two_servers_share_one_database(server_home: Path, server: ServerProcess) -> None:
    with running(server_home) as other:
        started = await _start(server.url)
        async with http_client(other.url, ADMIN_TOKEN) as client:
            finished = await drive(client, started, INIT_ANSWERS)
        assert finished["status"] == "completed"


async def test_ten_concurrent_answers_one_wins(server: ServerProcess) -> None:
    started = await _start(server.url)
    outcomes: list[str] = []

    async def answer(n: int) -> None:
        async with http_client(server.url, ADMIN_TOKEN) as client:
            try:
                result = await call(
                    client,
                    "advance_step",
                    session_id=started["session_id"],
                    step_id="project_name",
                    input=f"name-{n}",
                )
                outcomes.append(f"ok:{result['step']['id']}")
            except ToolCallFailed as error:
                outcomes.append(str(error))

    async with anyio.create_task_group() as group:
        for n in range(10):
            group.start_soon(answer, n)
    assert outcomes.count("ok:description") == 1, outcomes
    losers = [o for o in outcomes if not o.startswith("ok:")]
    assert len(losers) == 9
    assert all("[conflict]" in o for o in losers), losers
    # The state is consistent: the run is at the next step and accepts its answer.
    async with http_client(server.url, ADMIN_TOKEN) as client:
        after = await call(
            client,
            "advance_step",
            session_id=started["session_id"],
            step_id="description",
            input="ok",
        )
    assert after["step"]["id"] == "statement_of_work"


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("run_playbook", {"playbook_id": "nope"}, "[not_found] no playbook 'nope'"),
        (
            "run_playbook",
            {"playbook_id": "research-and-analyze", "inputs": {"database": 7}},
            "[invalid] input 'database' must be string, found an int",
        ),
        (
            "advance_step",
            {"session_id": str(uuid.uuid4()), "step_id": "x", "input": 1},
            "[not_found] no session",
        ),
        (
            "advance_step",
            {"session_id": "not-a-uuid", "step_id": "x", "input": 1},
            "[invalid] session_id 'not-a-uuid' is not a valid id",
        ),
        ("fetch_context", {"limit": 1000}, "[invalid] limit must be between 1 and 100"),
        (
            "update_memory",
            {"memory_type": "gossip", "title": "t", "content": "c"},
            "[invalid] unknown memory_type 'gossip'",
        ),
    ],
)
async def test_bad_inputs_get_one_clear_error(
    server: ServerProcess, tool: str, arguments: dict[str, Any], message: str
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await call(
            client, "manage_projects", operation="create", name=f"p-{uuid.uuid4().hex[:8]}"
        )
        if tool != "advance_step":
            arguments = {**arguments, "project_id": project["project"]["id"]}
        with pytest.raises(ToolCallFailed) as failure:
            await call(client, tool, **arguments)
        assert message in str(failure.value)
        assert "Traceback" not in str(failure.value)
        memories = await call(client, "fetch_context", project_id=project["project"]["id"])
        assert memories["memories"] == []


async def test_wrong_answers_change_nothing(server: ServerProcess) -> None:
    started = await _start(server.url)
    async with http_client(server.url, ADMIN_TOKEN) as client:
        sid = started["session_id"]
        for step_id, answer, message in [
            ("project_name", 42, "[invalid] step 'project_name': the answer must be string"),
            ("description", "x", "[conflict] step 'description' is not the session's current"),
        ]:
            with pytest.raises(ToolCallFailed) as failure:
                await call(client, "advance_step", session_id=sid, step_id=step_id, input=answer)
            assert message in str(failure.value)
        still = await call(
            client, "advance_step", session_id=sid, step_id="project_name", input="ok"
        )
        assert still["step"]["id"] == "description"


async def test_oversized_request_is_refused_and_nothing_is_stored(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await call(
            client, "manage_projects", operation="create", name=f"p-{uuid.uuid4().hex[:8]}"
        )
    project_id = project["project"]["id"]
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "update_memory",
            "arguments": {
                "project_id": project_id,
                "memory_type": "document",
                "title": "big",
                "content": "x" * (5 * 1024 * 1024),
            },
        },
    }
    async with httpx2.AsyncClient() as raw:
        response = await raw.post(
            f"{server.url}/mcp",
            json=body,
            headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
            },
        )
    assert response.status_code == 413
    async with http_client(server.url, ADMIN_TOKEN) as client:
        found = await call(client, "fetch_context", project_id=project_id)
    assert found["memories"] == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("fetch_context", {}),
        ("update_memory", {"memory_type": "rule", "title": "t", "content": "c"}),
        ("manage_projects", {"operation": "get"}),
        ("run_playbook", {"playbook_id": "initialize-project"}),
    ],
)
async def test_a_project_that_does_not_exist_is_not_found(
    server: ServerProcess, tool: str, arguments: dict[str, Any]
) -> None:
    missing = str(uuid.uuid4())
    async with http_client(server.url, ADMIN_TOKEN) as client:
        with pytest.raises(ToolCallFailed, match=rf"\[not_found\] no project with id {missing}"):
            await call(client, tool, project_id=missing, **arguments)
