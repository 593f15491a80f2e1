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
    assert "codifier://snapshots/" in prompt
    return f"# {step_id}\n\nWritten after reading the snapshot resource.\n"


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
