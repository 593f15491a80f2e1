"""brownfield-onboard over HTTP: the server clones a real repository served by
`git http-backend` on loopback, stores the snapshot, and serves it as a paged resource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codifier.packer.tokens import count_tokens
from tests.git_served import LOOPBACK_GIT, served_repository
from tests.server_harness import (
    ADMIN_TOKEN,
    ServerProcess,
    call,
    drive,
    http_client,
    running,
)
from tests.test_packer import FLAGGED, LISTED

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server(server_home: Path) -> Iterator[ServerProcess]:
    """This module's server, allowed to pack from the loopback git server."""
    with running(server_home, extra=LOOPBACK_GIT) as process:
        yield process


@pytest.fixture(scope="module")
def repo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_repository(tmp_path_factory.mktemp("brownfield-repo")) as url:
        yield url


def _architect(step_id: str, prompt: str) -> str:
    # The code's shape is in the prompt itself (a model that cannot read resources sees
    # it), with the tools to read and search the rest.
    assert '<digest snapshot="' in prompt
    assert "## What the project is" in prompt or "## Central modules" in prompt
    assert "read_snapshot" in prompt
    assert "search_snapshot" in prompt
    return f"# {step_id}\n\nWritten from the digest and the snapshot's files.\n"


async def test_brownfield_onboard_packs_and_serves_the_repository(
    server: ServerProcess, repo_url: str
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = (await call(client, "manage_projects", operation="create", name="legacy"))[
            "project"
        ]["id"]
        run = await call(
            client, "run_playbook", playbook_id="brownfield-onboard", project_id=project
        )
        finished = await drive(client, run, {"repositories": [repo_url]}, llm=_architect)
        assert finished["status"] == "completed", finished
        (snapshot,) = finished["outputs"]["snapshots"]
        # A clone has the committed files: not the binary (skipped), not the untracked note.
        packed = [p for p in LISTED if p not in ("image.png", "docs/notes.md")]
        assert snapshot["file_count"] == len(packed)
        assert snapshot["version"] == 1
        assert snapshot["flagged_secrets"] == sorted({path for path, _ in FLAGGED})
        assert snapshot["commit"]
        assert {f["path"] for f in snapshot["top_files"]} <= set(packed)

        pages: list[str] = []
        uri = snapshot["resource_uri"]
        while True:
            result = await client.read_resource(uri)
            text = result.contents[0].text  # type: ignore[union-attr]
            header, _, body = text.partition("\n")
            pages.append(body)
            if "last page" in header:
                break
            uri = header.split("read ", 1)[1].split(" next", 1)[0]
        document = "".join(pages)
        for path in packed:
            assert f"## {path}" in document
        assert "AKIA" not in document.replace("[REDACTED aws-access-key-id]", "")
        assert count_tokens(document) > snapshot["token_count"] > 0  # sections plus header

        again = await call(client, "pack_repo", url=repo_url, project_id=project)
        assert again["version"] == 2
        assert again["token_count"] == snapshot["token_count"]

        memories: dict[str, Any] = await call(client, "fetch_context", project_id=project)
        assert {m["title"] for m in memories["memories"]} == {
            "Architectural summary of legacy",
            "Coding rules for legacy",
        }


async def test_onboarding_recalls_what_the_team_wrote_in_its_own_words(
    server: ServerProcess, repo_url: str
) -> None:
    """The context step searches by meaning: a note on how the system is split, written
    before sixty newer notes on other things, still reaches the architecture prompt."""
    prompts: dict[str, str] = {}

    def architect(step_id: str, prompt: str) -> str:
        prompts[step_id] = prompt
        return _architect(step_id, prompt)

    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = (await call(client, "manage_projects", operation="create", name="split"))[
            "project"
        ]["id"]
        await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="learning",
            title="Billing runs as three deployables",
            content="The billing service ships as an API, a queue worker and a nightly"
            " scheduler; they share one PostgreSQL schema and talk only through the queue.",
        )
        for n in range(60):
            await call(
                client,
                "update_memory",
                project_id=project,
                memory_type="document",
                title=f"Team lunch {n}",
                content=f"Lunch on day {n} is at the usual place; bring {n % 7} guests.",
            )
        run = await call(
            client, "run_playbook", playbook_id="brownfield-onboard", project_id=project
        )
        finished = await drive(client, run, {"repositories": [repo_url]}, llm=architect)
    assert finished["status"] == "completed", finished
    assert "Billing runs as three deployables" in prompts["architecture"]
