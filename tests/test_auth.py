"""The auth matrix: every route and tool against no token, a bad token, a revoked key,
another project's key and a valid key, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.demo_support import codifier_cli
from tests.server_harness import (
    ADMIN_TOKEN,
    ROOT,
    ServerProcess,
    ToolCallFailed,
    call,
    http_client,
    server_env,
    sse_mcp_client,
)

pytestmark = pytest.mark.anyio


@dataclass
class World:
    server: ServerProcess
    project_a: str
    project_b: str
    key_a: str
    key_b: str
    revoked: str
    session_a: str
    memory_a: str


@pytest.fixture(scope="module")
def world(server_home: Path, server: ServerProcess) -> World:
    home = server_home

    async def setup() -> World:
        async with http_client(server.url, ADMIN_TOKEN) as admin:
            a = (await call(admin, "manage_projects", operation="create", name="alpha"))["project"][
                "id"
            ]
            b = (await call(admin, "manage_projects", operation="create", name="beta"))["project"][
                "id"
            ]
            memory = await call(
                admin,
                "update_memory",
                project_id=a,
                memory_type="rule",
                title="Alpha's secret rule",
                content="Only alpha may read this.",
            )
            run = await call(admin, "run_playbook", playbook_id="initialize-project", project_id=a)
        key_a = codifier_cli(home, "keys", "create", "--project", "alpha", "--name", "a")
        key_b = codifier_cli(home, "keys", "create", "--project", "beta", "--name", "b")
        revoked = codifier_cli(home, "keys", "create", "--project", "alpha", "--name", "old")
        listing = codifier_cli(home, "keys", "list")
        old_id = next(line.split()[0] for line in listing.splitlines() if " old " in line)
        codifier_cli(home, "keys", "revoke", old_id)
        assert key_a not in listing  # secrets are never listed
        assert revoked not in listing
        return World(server, a, b, key_a, key_b, revoked, run["session_id"], memory["memory"]["id"])

    return anyio.run(setup)


ROUTES = [("POST", "/mcp"), ("GET", "/sse"), ("POST", "/messages/?session_id=x")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("credential", ["none", "bad", "revoked", "malformed"])
async def test_routes_refuse_without_a_valid_token(
    world: World, method: str, path: str, credential: str
) -> None:
    headers = {
        "none": {},
        "bad": {"Authorization": "Bearer cdf_not-a-real-key"},
        "revoked": {"Authorization": f"Bearer {world.revoked}"},
        "malformed": {"Authorization": f"Basic {ADMIN_TOKEN}"},
    }[credential]
    async with httpx2.AsyncClient() as raw:
        response = await raw.request(method, f"{world.server.url}{path}", headers=headers, json={})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert ADMIN_TOKEN not in response.text


async def test_health_needs_no_token(world: World) -> None:
    async with httpx2.AsyncClient() as raw:
        response = await raw.get(f"{world.server.url}/health")
    assert response.status_code == 200


async def test_sse_with_a_project_key_works(world: World) -> None:
    async with sse_mcp_client(world.server.url, world.key_a) as client:
        found = await call(client, "fetch_context")
    assert [m["id"] for m in found["memories"]] == [world.memory_a]


def _tool_calls(world: World) -> list[tuple[str, dict[str, Any]]]:
    a = world.project_a
    return [
        ("manage_projects", {"operation": "get", "project_id": a}),
        ("manage_projects", {"operation": "switch", "project_id": a}),
        ("fetch_context", {"project_id": a}),
        ("update_memory", {"project_id": a, "memory_type": "rule", "title": "x", "content": "y"}),
        (
            "update_memory",
            {"id": world.memory_a, "memory_type": "rule", "title": "x", "content": "y"},
        ),
        ("delete_memory", {"project_id": a, "id": world.memory_a}),
        ("delete_memory", {"id": world.memory_a}),
        ("run_playbook", {"playbook_id": "initialize-project", "project_id": a}),
        ("run_playbook", {"playbook_id": "initialize-project", "project_name": "alpha"}),
        ("advance_step", {"session_id": world.session_a, "step_id": "project_name", "input": "x"}),
    ]


async def test_another_projects_key_never_reaches_its_rows(world: World) -> None:
    async with http_client(world.server.url, world.key_b) as client:
        for tool, arguments in _tool_calls(world):
            with pytest.raises(ToolCallFailed) as failure:
                await call(client, tool, **arguments)
            text = str(failure.value)
            assert "[forbidden]" in text or "[not_found]" in text, (tool, arguments, text)
        with pytest.raises(ToolCallFailed, match=r"\[forbidden\] only the admin"):
            await call(client, "manage_projects", operation="create", name="gamma")
        listed = await call(client, "manage_projects", operation="list")
        assert [p["name"] for p in listed["projects"]] == ["beta"]
        assert (await call(client, "fetch_context"))["memories"] == []
        assert (await call(client, "list_playbooks"))["playbooks"]
    # Nothing of alpha's changed.
    async with http_client(world.server.url, ADMIN_TOKEN) as admin:
        found = await call(admin, "fetch_context", project_id=world.project_a)
        assert [(m["id"], m["title"]) for m in found["memories"]] == [
            (world.memory_a, "Alpha's secret rule")
        ]


async def test_a_valid_key_works_on_its_own_project(world: World) -> None:
    async with http_client(world.server.url, world.key_a) as client:
        assert (await call(client, "manage_projects", operation="list"))["projects"][0][
            "name"
        ] == "alpha"
        saved = await call(
            client, "update_memory", memory_type="learning", title="t", content=str(uuid.uuid4())
        )
        assert saved["memory"]["project_id"] == world.project_a
        run = await call(client, "run_playbook", playbook_id="initialize-project")
        advanced = await call(
            client,
            "advance_step",
            session_id=run["session_id"],
            step_id="project_name",
            input="alpha",
        )
        assert advanced["step"]["id"] == "description"
        deleted = await call(client, "delete_memory", id=saved["memory"]["id"])
        assert deleted == {"deleted": saved["memory"]["id"]}
        assert (await call(client, "list_playbooks", role="researcher"))["playbooks"][0][
            "id"
        ] == "research-and-analyze"


def test_http_refuses_to_start_without_a_token_off_loopback(tmp_path: Path) -> None:
    env = server_env(tmp_path, None)
    result = subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", "serve", "--host", "0.0.0.0", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "without API_AUTH_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
