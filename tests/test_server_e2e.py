"""initialize-project end to end, over each transport, against a server in its own
process and the real database; the artifacts are then found with fetch_context."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from mcp import Client

from tests.server_harness import (
    ADMIN_TOKEN,
    INIT_ANSWERS,
    ServerProcess,
    ToolCallFailed,
    call,
    drive,
    http_client,
    sse_mcp_client,
    stdio_client,
)

pytestmark = pytest.mark.anyio


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
    assert started["expects"] == {
        "type": "string",
        "default": started["default"],
        "description": started["prompt"],
    }
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


async def test_stdio(server_home: Path, server: ServerProcess) -> None:
    # The stdio server joins the embedded database the HTTP server already runs.
    async with stdio_client(server_home) as client:
        await _initialize_project(client)


async def test_health(server: ServerProcess) -> None:
    status, body = server.health()
    assert status == 200
    assert '"database":true' in body.replace(" ", "")


def _analyst(step_id: str, prompt: str) -> str:
    """The client's LLM for the research run: SQL over the sample warehouse, then a report."""
    if step_id == "queries":
        assert "`subscriptions`" in prompt
        assert "cancelled_on" in prompt
        return (
            "### Q1: Churned subscriptions by plan\n"
            "```sql\n"
            "SELECT p.name, p.billing_period, count(*) AS churned\n"
            "FROM subscriptions s JOIN plans p USING (plan_id)\n"
            "WHERE s.cancelled_on IS NOT NULL\n"
            "GROUP BY 1, 2 ORDER BY churned DESC\n"
            "```\n"
            "### Q2: A write that the guard must refuse\n"
            "```sql\nDELETE FROM plans\n```\n"
        )
    assert step_id == "synthesis"
    assert "churned" in prompt
    assert "refused by the read-only guard" in prompt
    return "## Summary\nMonthly plans churn more than annual ones."


async def test_research_and_analyze_on_the_embedded_duckdb(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = (
            await call(
                client, "manage_projects", operation="create", name=f"r-{uuid.uuid4().hex[:8]}"
            )
        )["project"]["id"]
        run = await call(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project
        )
        assert run["step"]["id"] == "objective"
        chosen = await call(
            client,
            "advance_step",
            session_id=run["session_id"],
            step_id="objective",
            input="Which plans lose the most customers?",
        )
        assert chosen["step"]["id"] == "chosen"
        assert chosen["choices"] == ["customers", "events", "invoices", "plans", "subscriptions"]
        with pytest.raises(ToolCallFailed, match=r"\[invalid\].*not one of the choices"):
            await call(
                client,
                "advance_step",
                session_id=run["session_id"],
                step_id="chosen",
                input=["churn_table"],
            )
        answers = {"chosen": ["plans", "subscriptions"]}
        finished = await drive(client, chosen, answers, llm=_analyst)
        assert finished["status"] == "completed", finished
        assert finished["outputs"]["finding"].startswith("## Summary")
        findings = await call(
            client, "fetch_context", project_id=project, memory_type="research_finding"
        )
        (finding,) = findings["memories"]
        assert finding["title"] == "Finding: Which plans lose the most customers?"
        assert finding["tags"] == ["research"]

        direct = await call(
            client,
            "query_data",
            operation="execute-query",
            sql="SELECT count(*) AS n FROM subscriptions WHERE cancelled_on IS NOT NULL",
        )
        assert direct["result"]["rows"][0][0] > 0
        tables = await call(client, "query_data", operation="list-tables")
        assert "plans" in tables["tables"]


async def _argument_error(client: Client) -> str:
    with pytest.raises(ToolCallFailed) as failure:
        await call(client, "fetch_context", limit="abc")
    return str(failure.value)


async def test_argument_errors_are_one_sentence_over_every_transport(
    server_home: Path, server: ServerProcess
) -> None:
    """The SDK's "Error executing tool" prefix and pydantic's dump never reach a client,
    whichever transport it speaks."""
    expected = "[invalid] argument 'limit' must be a whole number (got 'abc')"
    async with http_client(server.url, ADMIN_TOKEN) as client:
        assert await _argument_error(client) == expected
    async with sse_mcp_client(server.url, ADMIN_TOKEN) as client:
        assert await _argument_error(client) == expected
    async with stdio_client(server_home) as client:
        assert await _argument_error(client) == expected
