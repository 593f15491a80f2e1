"""Demo 3, cross-role: what a researcher stored, a developer's client retrieves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demo_support import create_project, project_key
from tests.server_harness import (
    ServerProcess,
    call,
    drive,
    http_client,
)
from tests.test_demo_researcher import OBJECTIVE, analyst

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def world(server_home: Path, server: ServerProcess) -> tuple[ServerProcess, str, str]:
    create_project(server.url, "shared")
    researcher = project_key(server_home, "shared", "researcher")
    return server, researcher, project_key(server_home, "shared", "developer")


async def test_a_developer_fetches_the_researchers_findings(
    world: tuple[ServerProcess, str, str],
) -> None:
    server, researcher_key, developer_key = world
    async with http_client(server.url, researcher_key) as researcher:
        run = await call(researcher, "run_playbook", playbook_id="research-and-analyze")
        finished = await drive(
            researcher,
            run,
            {"objective": OBJECTIVE, "chosen": ["plans", "subscriptions"]},
            llm=analyst,
        )
        assert finished["status"] == "completed"
    async with http_client(server.url, developer_key) as developer:
        found = await call(developer, "fetch_context", query="monthly annual churn")
        (finding,) = [m for m in found["memories"] if m["type"] == "research_finding"]
        assert finding["content"] == finished["outputs"]["finding"]
