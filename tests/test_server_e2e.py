"""initialize-project end to end, over each transport, against a server in its own
process and the real database; the artifacts are then found with fetch_context."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from tests.server_harness import (
    ADMIN_TOKEN,
    INIT_ANSWERS,
    ServerProcess,
    call,
    drive,
    http_client,
    running,
    sse_mcp_client,
    stdio_client,
    stop_embedded_postgres,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("e2e-home")
    yield path
    stop_embedded_postgres(path)  # the stdio server's child may be killed, not stopped


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[ServerProcess]:
    with running(home) as process:
        yield process


async def _initialize_project(client: Client) -> None:
    created = await call(
        client, "manage_projects", operation="create", name=f"acme-{uuid.uuid4().hex[:8]}"
    )
    project_id = created["project"]["id"]
    started = await call(
        client, "run_playbook", playbook_id="initialize-project", project_id=project_id
    )
    assert started["status"] == "awaiting_input"
    assert started["step"] == {
        "id": "project_name",
        "title": "Name the project",
        "index": 0,
        "count": 9,
    }
    assert started["expects"] == {"type": "string"}
    finished = await drive(client, started, INIT_ANSWERS)
    assert finished["status"] == "completed", finished
    assert set(finished["outputs"]) == {"rules", "evals", "requirements", "roadmap", "snapshots"}
    assert finished["outputs"]["rules"].startswith("# rules")

    found = await call(client, "fetch_context", project_id=project_id)
    titles = {(m["type"], m["title"]) for m in found["memories"]}
    assert titles == {
        ("document", "Project description"),
        ("document", "Statement of work"),
        ("rule", "Coding rules for acme-billing"),
        ("document", "Evals for the coding rules"),
        ("document", "Requirements"),
        ("document", "Roadmap"),
    }
    rules = await call(client, "fetch_context", project_id=project_id, memory_type="rule")
    assert rules["memories"][0]["content"] == finished["outputs"]["rules"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_http(server: ServerProcess, mode: str) -> None:
    async with http_client(server.url, ADMIN_TOKEN, mode) as client:
        await _initialize_project(client)


async def test_legacy_sse(server: ServerProcess) -> None:
    async with sse_mcp_client(server.url, ADMIN_TOKEN) as client:
        await _initialize_project(client)


async def test_stdio(home: Path, server: ServerProcess) -> None:
    # The stdio server joins the embedded database the HTTP server already runs.
    async with stdio_client(home) as client:
        await _initialize_project(client)


async def test_health(server: ServerProcess) -> None:
    status, body = server.health()
    assert status == 200
    assert '"database":true' in body.replace(" ", "")
