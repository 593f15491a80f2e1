"""Demo 5, remote access: a client in another process connects over Streamable HTTP and
over legacy SSE with an API key; without one it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demo_support import (
    call_from_another_process,
    create_project,
    project_key,
    result_of,
    status_from_another_process,
)
from tests.server_harness import ServerProcess


@pytest.fixture(scope="module")
def world(server_home: Path, server: ServerProcess) -> tuple[ServerProcess, str]:
    create_project(server.url, "remote")
    return server, project_key(server_home, "remote", "laptop")


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_a_remote_client_with_a_key_is_served(
    world: tuple[ServerProcess, str], transport: str
) -> None:
    server, key = world
    saved = result_of(
        call_from_another_process(
            server.url,
            key,
            "update_memory",
            transport=transport,
            memory_type="document",
            title=f"Written over {transport}",
            content=f"This memory travelled over {transport}.",
        )
    )
    found = result_of(
        call_from_another_process(server.url, key, "fetch_context", transport=transport)
    )
    assert saved["memory"]["id"] in [m["id"] for m in found["memories"]]


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_a_remote_client_without_a_key_is_refused(
    world: tuple[ServerProcess, str], transport: str
) -> None:
    server, _ = world
    refused = call_from_another_process(server.url, None, "list_playbooks", transport=transport)
    assert refused.returncode != 0
    assert "Traceback" in refused.stderr  # the client could not connect or call
    path = "/mcp" if transport == "http" else "/sse"
    assert status_from_another_process(f"{server.url}{path}") == 401
