"""Demo 1, developer: initialize a project, pack its repository, generate rules and a
roadmap — with a project API key, against a server in its own process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo_support import create_project, project_key
from tests.git_served import LOOPBACK_GIT, served_repository
from tests.server_harness import (
    INIT_ANSWERS,
    ServerProcess,
    call,
    drive,
    http_client,
    running,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server(server_home: Path) -> Iterator[ServerProcess]:
    """This module's server, allowed to pack from the loopback git server."""
    with running(server_home, extra=LOOPBACK_GIT) as process:
        yield process


@pytest.fixture(scope="module")
def repo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_repository(tmp_path_factory.mktemp("developer-repo")) as url:
        yield url


@pytest.fixture(scope="module")
def world(server_home: Path, server: ServerProcess) -> tuple[ServerProcess, str, str]:
    project = create_project(server.url, "acme-billing")
    return server, project, project_key(server_home, "acme-billing", "developer")


async def test_developer_initializes_packs_and_generates(
    world: tuple[ServerProcess, str, str], repo_url: str
) -> None:
    server, project, key = world
    async with http_client(server.url, key) as developer:
        run = await call(developer, "run_playbook", playbook_id="initialize-project")
        answers = {**INIT_ANSWERS, "repositories": [repo_url]}
        finished = await drive(developer, run, answers)
        assert finished["status"] == "completed", finished

        # Stored data, not log text: the snapshot and the generated artifacts.
        (snapshot,) = finished["outputs"]["snapshots"]
        page = await developer.read_resource(snapshot["resource_uri"])
        text = page.contents[0].text  # type: ignore[union-attr]
        assert "## app.py" in text
        rules = await call(developer, "fetch_context", memory_type="rule")
        assert [m["title"] for m in rules["memories"]] == ["Coding rules for acme-billing"]
        roadmap = await call(developer, "fetch_context", tags=["roadmap"])
        assert roadmap["memories"][0]["content"] == finished["outputs"]["roadmap"]
        assert all(m["project_id"] == project for m in roadmap["memories"])
