"""Sessions a client can find and pick up again (issue 11, point 3): get_session returns
the current step result exactly as it was given, list_sessions is scoped and paged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.demo_support import create_project, project_key
from tests.server_harness import (
    ADMIN_TOKEN,
    EVALS_YAML,
    INIT_ANSWERS,
    ServerProcess,
    ToolCallFailed,
    call,
    drive,
    http_client,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def keys(server: ServerProcess, server_home: Path) -> dict[str, Any]:
    return {
        "alpha": create_project(server.url, "sessions-alpha"),
        "beta": create_project(server.url, "sessions-beta"),
        "alpha_key": project_key(server_home, "sessions-alpha", "a"),
        "beta_key": project_key(server_home, "sessions-beta", "b"),
    }


async def test_get_session_gives_the_same_step_again(
    server: ServerProcess, keys: dict[str, Any]
) -> None:
    async with http_client(server.url, keys["alpha_key"]) as client:
        started = await call(client, "run_playbook", playbook_id="initialize-project")
        again = await call(client, "get_session", session_id=started["session_id"])
        for key in ("session_id", "status", "step", "prompt", "expects", "default"):
            assert again[key] == started[key], key
        assert again["playbook_id"] == "initialize-project"
        assert again["step_outputs"] == {}
        result = started
        for step in ("project_name", "description", "statement_of_work", "repositories"):
            result = await call(
                client,
                "advance_step",
                session_id=started["session_id"],
                step_id=step,
                input=INIT_ANSWERS[step],
            )
        assert result["status"] == "awaiting_generation"
        again = await call(client, "get_session", session_id=started["session_id"])
        assert again["generate_request"] == result["generate_request"]
        assert again["step"] == result["step"]
        assert again["step_outputs"]["description"] == INIT_ANSWERS["description"]
        assert again["step_outputs"]["snapshots"] is None  # skipped: no repositories


async def test_another_projects_key_cannot_get_the_session(
    server: ServerProcess, keys: dict[str, Any]
) -> None:
    async with http_client(server.url, keys["alpha_key"]) as client:
        started = await call(client, "run_playbook", playbook_id="initialize-project")
    async with http_client(server.url, keys["beta_key"]) as client:
        with pytest.raises(ToolCallFailed, match=r"^\[not_found\]"):
            await call(client, "get_session", session_id=started["session_id"])


async def test_list_sessions_is_scoped_newest_first_and_paged(
    server: ServerProcess, keys: dict[str, Any]
) -> None:
    async with http_client(server.url, keys["beta_key"]) as client:
        ids = [
            (await call(client, "run_playbook", playbook_id=playbook))["session_id"]
            for playbook in ("initialize-project", "research-and-analyze", "initialize-project")
        ]
        listed = await call(client, "list_sessions")
        assert [s["session_id"] for s in listed["sessions"]] == ids[::-1]
        assert listed["total"] == 3
        assert listed["has_more"] is False
        newest = listed["sessions"][0]
        assert newest["playbook_id"] == "initialize-project"
        assert newest["status"] == "awaiting_input"
        assert newest["step"]["id"] == "project_name"
        assert newest["step"]["index"] == 0
        assert newest["step"]["count"] >= 8
        page = await call(client, "list_sessions", limit=2, offset=2)
        assert [s["session_id"] for s in page["sessions"]] == [ids[0]]
        first = await call(client, "list_sessions", limit=2)
        assert first["has_more"] is True
        research = await call(client, "list_sessions", playbook_id="research-and-analyze")
        assert [s["session_id"] for s in research["sessions"]] == [ids[1]]
        done = await call(client, "list_sessions", status="completed")
        assert done["sessions"] == []
        with pytest.raises(ToolCallFailed, match=r"^\[forbidden\]"):
            await call(client, "list_sessions", project_id=keys["alpha"])
        with pytest.raises(ToolCallFailed, match=r"^\[invalid\]"):
            await call(client, "list_sessions", limit=101)
    async with http_client(server.url, keys["alpha_key"]) as client:
        mine = await call(client, "list_sessions")
    assert not set(ids) & {s["session_id"] for s in mine["sessions"]}
    async with http_client(server.url, ADMIN_TOKEN) as admin:
        seen = await call(admin, "list_sessions", project_id=keys["beta"])
    assert [s["session_id"] for s in seen["sessions"]] == ids[::-1]


def _writer(rules: str) -> Any:
    def llm(step: str, prompt: str) -> str:
        if step == "evals":
            return EVALS_YAML
        return rules if step == "rules" else f"# {step}\n\nWritten for the test.\n"

    return llm


async def test_rewind_goes_back_and_the_rerun_supersedes_what_was_remembered(
    server: ServerProcess, keys: dict[str, Any]
) -> None:
    async with http_client(server.url, keys["alpha_key"]) as client:
        started = await call(client, "run_playbook", playbook_id="initialize-project")
        session = started["session_id"]
        done = await drive(client, started, INIT_ANSWERS, _writer("# Rules v1\n\n## R1: one\n"))
        assert done["status"] == "completed"
        back = await call(client, "rewind_session", session_id=session, step_id="rules")
        assert back["status"] == "awaiting_generation"
        assert back["step"]["id"] == "rules"
        again = await call(client, "get_session", session_id=session)
        assert "rules" not in again["step_outputs"]
        assert "evals" not in again["step_outputs"]
        assert again["step_outputs"]["description"] == INIT_ANSWERS["description"]
        redone = await drive(client, back, INIT_ANSWERS, _writer("# Rules v2\n\n## R1: two\n"))
        assert redone["status"] == "completed"
        assert redone["outputs"]["rules"].startswith("# Rules v2")
        current = await call(client, "fetch_context", memory_type="rule")
        everything = await call(
            client, "fetch_context", memory_type="rule", include_superseded=True
        )
    titles = {m["title"] for m in current["memories"]}
    rules = [m for m in everything["memories"] if m["title"] in titles]
    assert [m["content"][:10] for m in current["memories"]] == ["# Rules v2"]
    old = [m for m in rules if m["content"].startswith("# Rules v1")]
    assert len(old) == 1
    assert old[0]["superseded_by"] == current["memories"][0]["id"]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("snapshots", "runs on the server"),
        ("roadmap", "not before the session's current step"),
        ("nowhere", "has no step 'nowhere'"),
    ],
)
async def test_rewind_refuses_steps_it_cannot_go_back_to(
    server: ServerProcess, keys: dict[str, Any], step: str, message: str
) -> None:
    async with http_client(server.url, keys["alpha_key"]) as client:
        started = await call(client, "run_playbook", playbook_id="initialize-project")
        with pytest.raises(ToolCallFailed, match=r"^\[invalid\]") as refused:
            await call(client, "rewind_session", session_id=started["session_id"], step_id=step)
        assert message in str(refused.value)
        unchanged = await call(client, "get_session", session_id=started["session_id"])
        assert unchanged["step"] == started["step"]
