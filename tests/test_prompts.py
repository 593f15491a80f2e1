"""Playbooks as MCP prompts and snapshots as listed resources (issue 12, point 4), against
a real server over HTTP with project keys: each caller's prompts are the playbooks it can
run (its project's published ones included, another project's not), a prompt's text
drives a real run with run_playbook and advance_step, and resources/list names the
caller's snapshots only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from tests.demo_support import create_project, project_key
from tests.server_harness import ADMIN_TOKEN, ServerProcess, call, http_client, running
from tests.surface_support import ONE_SENTENCE, PLAYBOOK, TEMPLATE, small_repository

pytestmark = pytest.mark.anyio

MODES = ["auto", "legacy"]
SHIPPED = {"initialize-project", "brownfield-onboard", "research-and-analyze"}


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pack-roots")
    small_repository(folder, "alpha-service")
    small_repository(folder, "beta-service")
    return folder


@pytest.fixture(scope="module")
def server(server_home: Path, roots: Path) -> Iterator[ServerProcess]:
    extra = {"CODIFIER_PACK_ROOTS": str(roots), "CODIFIER_SNAPSHOT_EMBED_CHUNKS": "0"}
    with running(server_home, extra=extra) as process:
        yield process


@pytest.fixture(scope="module")
def world(server: ServerProcess, server_home: Path, roots: Path) -> dict[str, Any]:
    """Two projects, a key each; alpha publishes `surface-check`; each packs a repository."""
    import anyio

    found: dict[str, Any] = {
        "alpha": create_project(server.url, "prompt-alpha"),
        "beta": create_project(server.url, "prompt-beta"),
        "alpha_key": project_key(server_home, "prompt-alpha", "a"),
        "beta_key": project_key(server_home, "prompt-beta", "b"),
    }

    async def setup() -> None:
        async with http_client(server.url, found["alpha_key"], timeout=120) as alpha:
            await call(
                alpha, "publish_playbook", source=PLAYBOOK, templates={"surface-notes": TEMPLATE}
            )
            packed = await call(alpha, "pack_repo", url=str(roots / "alpha-service"))
            found["alpha_snapshot"] = packed["snapshot_id"]
        async with http_client(server.url, found["beta_key"], timeout=120) as beta:
            packed = await call(beta, "pack_repo", url=str(roots / "beta-service"))
            found["beta_snapshot"] = packed["snapshot_id"]

    anyio.run(setup)
    return found


@pytest.mark.parametrize("mode", MODES)
async def test_each_caller_lists_the_playbooks_it_can_run_as_prompts(
    server: ServerProcess, world: dict[str, Any], mode: str
) -> None:
    async with http_client(server.url, world["alpha_key"], mode=mode) as alpha:
        alpha_prompts = {p.name: p for p in (await alpha.list_prompts()).prompts}
        alpha_playbooks = (await call(alpha, "list_playbooks"))["playbooks"]
    async with http_client(server.url, world["beta_key"], mode=mode) as beta:
        beta_prompts = {p.name for p in (await beta.list_prompts()).prompts}
    assert set(alpha_prompts) == {p["id"] for p in alpha_playbooks}
    assert SHIPPED | {"surface-check"} <= set(alpha_prompts)
    assert beta_prompts >= SHIPPED
    assert "surface-check" not in beta_prompts  # another project's published playbook

    prompt = alpha_prompts["surface-check"]
    assert prompt.title == "Check the surface"
    assert prompt.description is not None
    assert "asks about a topic" in prompt.description
    assert "run_playbook" in prompt.description
    arguments = {a.name: a for a in prompt.arguments or []}
    assert set(arguments) == {"topic", "depth"}
    assert arguments["topic"].required is True
    assert arguments["depth"].required is False
    assert arguments["topic"].description is not None
    assert "What the notes are about." in arguments["topic"].description
    assert arguments["depth"].description is not None
    assert "default 2" in arguments["depth"].description


@pytest.mark.parametrize("mode", MODES)
async def test_a_prompt_tells_the_model_how_to_drive_its_playbook(
    server: ServerProcess, world: dict[str, Any], mode: str
) -> None:
    async with http_client(server.url, world["alpha_key"], mode=mode) as alpha:
        got = await alpha.get_prompt("surface-check", {"topic": "refunds", "depth": "3"})
        text = got.messages[0].content.text  # type: ignore[union-attr]
        for tool in ("run_playbook", "advance_step", "get_session", "rewind_session"):
            assert tool in text
        for status in ("awaiting_input", "awaiting_generation", "completed", "failed"):
            assert status in text
        # The model follows the text literally: the first call is written out in JSON.
        first = re.search(r"Call run_playbook with (\{.*?\})\. ", text)
        assert first is not None
        arguments = json.loads(first.group(1))
        assert arguments == {
            "playbook_id": "surface-check",
            "inputs": {"topic": "refunds", "depth": 3},
        }
        step = await call(alpha, "run_playbook", **arguments)
        assert step["status"] == "awaiting_input"
        assert "refunds" in step["prompt"]
        step = await call(
            alpha,
            "advance_step",
            session_id=step["session_id"],
            step_id=step["step"]["id"],
            input="Refunds go back to the card.",
        )
        assert step["status"] == "awaiting_generation"
        step = await call(
            alpha,
            "advance_step",
            session_id=step["session_id"],
            step_id=step["step"]["id"],
            input="# Notes\nRefunds go back to the card.",
        )
        assert step["status"] == "completed"

        shipped = await alpha.get_prompt("research-and-analyze")
        assert '"playbook_id": "research-and-analyze"' in shipped.messages[0].content.text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_prompt_refusals_are_one_coded_sentence(
    server: ServerProcess, world: dict[str, Any], mode: str
) -> None:
    async with http_client(server.url, world["beta_key"], mode=mode) as beta:
        refusals = []
        for name, arguments, code in [
            ("surface-check", {"topic": "x"}, "not_found"),  # alpha's, not beta's
            ("no-such-playbook", None, "not_found"),
        ]:
            with pytest.raises(MCPError) as failure:
                await beta.get_prompt(name, arguments)
            refusals.append((failure.value.error.message, code))
    async with http_client(server.url, world["alpha_key"], mode=mode) as alpha:
        with pytest.raises(MCPError) as failure:
            await alpha.get_prompt("surface-check", {"depth": "3"})  # topic is required
        refusals.append((failure.value.error.message, "invalid"))
    for message, code in refusals:
        assert re.fullmatch(ONE_SENTENCE, message), message
        assert message.startswith(f"[{code}] "), message
    assert "topic" in refusals[-1][0]


@pytest.mark.parametrize("mode", MODES)
async def test_resources_list_the_callers_snapshots_only(
    server: ServerProcess, world: dict[str, Any], mode: str
) -> None:
    alpha_id, beta_id = world["alpha_snapshot"], world["beta_snapshot"]
    async with http_client(server.url, world["alpha_key"], mode=mode) as alpha:
        listed = {str(r.uri): r for r in (await alpha.list_resources()).resources}
        assert set(listed) == {
            f"codifier://snapshots/{alpha_id}",
            f"codifier://snapshots/{alpha_id}/digest",
        }
        packed = listed[f"codifier://snapshots/{alpha_id}"]
        assert packed.mime_type == "text/markdown"
        assert "alpha-service" in packed.name
        assert packed.description is not None
        assert "2 files" in packed.description
        for uri in listed:  # each listed resource reads
            read = await alpha.read_resource(uri)
            assert read.contents[0].text  # type: ignore[union-attr]
    async with http_client(server.url, world["beta_key"], mode=mode) as beta:
        beta_listed = {str(r.uri) for r in (await beta.list_resources()).resources}
        assert beta_listed == {
            f"codifier://snapshots/{beta_id}",
            f"codifier://snapshots/{beta_id}/digest",
        }
    async with http_client(server.url, ADMIN_TOKEN, mode=mode) as admin:
        every = {str(r.uri) for r in (await admin.list_resources()).resources}
        assert set(listed) | beta_listed <= every


async def test_resources_list_is_bounded(server_home: Path, roots: Path) -> None:
    """CODIFIER_LISTED_SNAPSHOTS caps resources/list at the newest snapshots."""
    extra = {
        "CODIFIER_PACK_ROOTS": str(roots),
        "CODIFIER_SNAPSHOT_EMBED_CHUNKS": "0",
        "CODIFIER_LISTED_SNAPSHOTS": "1",
    }
    with running(server_home, extra=extra) as bounded:
        async with http_client(bounded.url, ADMIN_TOKEN, timeout=120) as admin:
            project = await call(admin, "manage_projects", operation="create", name="bounded")
            pid = project["project"]["id"]
            await call(admin, "pack_repo", url=str(roots / "alpha-service"), project_id=pid)
            newest = await call(admin, "pack_repo", url=str(roots / "beta-service"), project_id=pid)
            listed = {str(r.uri) for r in (await admin.list_resources()).resources}
    assert listed == {
        f"codifier://snapshots/{newest['snapshot_id']}",
        f"codifier://snapshots/{newest['snapshot_id']}/digest",
    }
