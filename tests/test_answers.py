"""Answers are complete JSON Schemas (issue 11, point 5): `expects` carries the choices,
the default and the prompt; no answer `expects` accepts can fail a session: an empty
selection is refused at the question, and a server-side step that cannot use an answer
sends the run back to that question with the reason. Over real HTTP."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.server_harness import ADMIN_TOKEN, ServerProcess, ToolCallFailed, call, http_client

pytestmark = pytest.mark.anyio


async def _project(client: Any, name: str) -> str:
    created = await call(client, "manage_projects", operation="create", name=name)
    return str(created["project"]["id"])


async def test_a_list_with_choices_is_an_enum_of_at_least_one(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await _project(client, "answers-research")
        run = await call(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project
        )
        session = run["session_id"]
        chosen = await call(
            client, "advance_step", session_id=session, step_id="objective",
            input="Which customers order most?",
        )  # fmt: skip
        assert chosen["step"]["id"] == "chosen"
        expects = chosen["expects"]
        assert expects["type"] == "array"
        assert expects["items"]["enum"] == chosen["choices"]
        assert expects["uniqueItems"] is True
        assert expects["minItems"] == 1
        assert expects["description"] == chosen["prompt"]
        jsonschema.Draft202012Validator.check_schema(expects)
        first = chosen["choices"][0]
        validator = jsonschema.Draft202012Validator(expects)
        assert validator.is_valid([first])
        for bad in ([], [first, first], ["no_such_table"]):
            assert not validator.is_valid(bad)
            with pytest.raises(ToolCallFailed, match=r"^\[invalid\]"):
                await call(client, "advance_step", session_id=session, step_id="chosen", input=bad)
        still = await call(client, "get_session", session_id=session)
        assert still["step"]["id"] == "chosen"
        onward = await call(
            client, "advance_step", session_id=session, step_id="chosen", input=[first]
        )
        assert onward["status"] == "awaiting_generation"


async def test_a_default_is_in_the_schema(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await _project(client, "answers-default")
        run = await call(
            client, "run_playbook", playbook_id="initialize-project", project_id=project
        )
    assert run["expects"]["default"] == "answers-default" == run["default"]
    assert run["expects"]["description"] == run["prompt"]


async def test_a_repository_the_pack_refuses_sends_the_run_back_to_the_question(
    server: ServerProcess,
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await _project(client, "answers-back")
        result = await call(
            client, "run_playbook", playbook_id="initialize-project", project_id=project
        )
        session = result["session_id"]
        for step, answer in (
            ("project_name", "back"),
            ("description", "A service."),
            ("statement_of_work", "none"),
        ):
            result = await call(
                client, "advance_step", session_id=session, step_id=step, input=answer
            )
        # The form is a repository (an absolute path), so `expects` accepts it; the server
        # packs only under CODIFIER_PACK_ROOTS, which this server does not set.
        back = await call(
            client, "advance_step", session_id=session, step_id="repositories",
            input=["/srv/not/a/pack/root"],
        )  # fmt: skip
        assert back["status"] == "awaiting_input"
        assert back["step"]["id"] == "repositories"
        assert "step 'snapshots' could not use this answer" in back["notice"]
        assert "CODIFIER_PACK_ROOTS" in back["notice"]
        again = await call(client, "get_session", session_id=session)
        assert again["notice"] == back["notice"]
        assert "repositories" not in again["step_outputs"]
        onward = await call(
            client, "advance_step", session_id=session, step_id="repositories", input=[]
        )
        assert onward["status"] == "awaiting_generation"
        assert "notice" not in onward


async def test_no_choices_at_run_time_is_said_plainly(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await _project(client, "answers-empty")
        run = await call(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project,
            inputs={"database": "no_such_database"},
        )  # fmt: skip
        result = await call(
            client, "advance_step", session_id=run["session_id"], step_id="objective",
            input="Anything?",
        )  # fmt: skip
    assert result["status"] == "failed"
    assert "Available: " not in str(result)
    assert "no_such_database" in result["error"] or "no choices" in result["error"]
