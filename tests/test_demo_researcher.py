"""Demo 2, researcher: state an objective, execute queries, synthesize findings."""

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

pytestmark = pytest.mark.anyio

OBJECTIVE = "Do monthly plans churn more than annual ones?"


def analyst(step_id: str, prompt: str) -> str:
    if step_id == "queries":
        return (
            "### Q1: Churn by billing period\n```sql\n"
            "SELECT p.billing_period, count(*) FILTER (WHERE s.cancelled_on IS NOT NULL)"
            " AS churned, count(*) AS total\n"
            "FROM subscriptions s JOIN plans p USING (plan_id) GROUP BY 1 ORDER BY 1\n```\n"
        )
    assert "annual" in prompt  # the query's real rows reached the synthesis prompt
    assert "monthly" in prompt
    return "## Summary\nMonthly plans churn about three times as often as annual plans."


@pytest.fixture(scope="module")
def world(server_home: Path, server: ServerProcess) -> tuple[ServerProcess, str]:
    create_project(server.url, "growth")
    return server, project_key(server_home, "growth", "researcher")


async def test_researcher_queries_and_synthesizes(world: tuple[ServerProcess, str]) -> None:
    server, key = world
    async with http_client(server.url, key) as researcher:
        run = await call(researcher, "run_playbook", playbook_id="research-and-analyze")
        finished = await drive(
            researcher,
            run,
            {"objective": OBJECTIVE, "chosen": ["plans", "subscriptions"]},
            llm=analyst,
        )
        assert finished["status"] == "completed", finished
        findings = await call(researcher, "fetch_context", memory_type="research_finding")
        (finding,) = findings["memories"]
        assert finding["title"] == f"Finding: {OBJECTIVE}"
        assert finding["content"].startswith("## Summary")
