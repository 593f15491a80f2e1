"""Team-owned playbooks (issue 11, points 1 and 2), over real HTTP with project keys:
publish_playbook checks like `codifier check`, versions per scope, isolation between
projects, a published playbook with its own template runs to completion, and a running
session keeps the templates it started with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.demo_support import create_project, project_key
from tests.server_harness import (
    ADMIN_TOKEN,
    ServerProcess,
    ToolCallFailed,
    call,
    http_client,
)

pytestmark = pytest.mark.anyio

INCIDENT = """\
id: incident-review
name: Review an incident
role: developer
description: Write down what happened and what the team learned.
steps:
  - id: summary
    title: Summarize the incident
    store:
      prompt: What happened, in a few sentences?
      type: text
  - id: learnings
    title: Draw the learnings
    generate:
      template: incident-learnings
      with:
        summary: ${{ steps.summary.output }}
      remember:
        type: learning
        title: Learnings from the incident
        tags: [incident]
outputs:
  learnings: ${{ steps.learnings.output }}
"""

TEMPLATE = """\
{#-
description: Turns an incident summary into learnings.
output: markdown
inputs:
  summary: text
-#}
MARKER-{{ 'ONE' }}: list the learnings of this incident.
<summary>
{{ summary | trim }}
</summary>
"""

BROKEN = """\
id: broken-playbook
name: Broken
role: developer
description: Has problems.
steps:
  - id: first
    title: First
    store:
      prompt: Say something
      type: strng
  - id: second
    title: Second
    generate:
      template: no-such-template
"""


@pytest.fixture(scope="module")
def world(server: ServerProcess, server_home: Path) -> dict[str, Any]:
    return {
        "alpha": create_project(server.url, "pub-alpha"),
        "beta": create_project(server.url, "pub-beta"),
        "alpha_key": project_key(server_home, "pub-alpha", "a"),
        "beta_key": project_key(server_home, "pub-beta", "b"),
    }


async def test_a_playbook_that_does_not_check_is_refused_with_positions(
    server: ServerProcess, world: dict[str, Any]
) -> None:
    async with http_client(server.url, world["alpha_key"]) as client:
        with pytest.raises(ToolCallFailed) as refused:
            await call(client, "publish_playbook", source=BROKEN)
        listed = await call(client, "list_playbooks")
    error = str(refused.value)
    assert error.startswith("[invalid] the playbook does not check")
    assert "10:13 " in error  # `type: strng`, line 10, column 13
    assert "14:17 " in error  # the unknown template, line 14, column 17
    assert "\n" not in error
    assert "broken-playbook" not in {p["id"] for p in listed["playbooks"]}


async def test_publish_versions_isolation_and_a_run_to_completion(
    server: ServerProcess, world: dict[str, Any]
) -> None:
    templates = {"incident-learnings": TEMPLATE}
    async with http_client(server.url, world["alpha_key"]) as alpha:
        first = await call(alpha, "publish_playbook", source=INCIDENT, templates=templates)
        second = await call(alpha, "publish_playbook", source=INCIDENT, templates=templates)
        assert (first["playbook_id"], first["version"]) == ("incident-review", 1)
        assert second["version"] == 2
        assert first["warnings"] == []
        listed = {p["id"]: p for p in (await call(alpha, "list_playbooks"))["playbooks"]}
        assert listed["incident-review"]["source"] == "project"
        assert listed["incident-review"]["version"] == 2
        assert listed["initialize-project"]["source"] == "shipped"

        run = await call(alpha, "run_playbook", playbook_id="incident-review")
        assert run["step"]["id"] == "summary"
        generate = await call(
            alpha,
            "advance_step",
            session_id=run["session_id"],
            step_id="summary",
            input="The billing job ran twice.",
        )
        prompt = generate["generate_request"]["prompt"]
        assert prompt.startswith("MARKER-ONE: list the learnings")
        assert "The billing job ran twice." in prompt
        done = await call(
            alpha,
            "advance_step",
            session_id=run["session_id"],
            step_id="learnings",
            input="# Learnings\n\nRun jobs idempotently.\n",
        )
        assert done["status"] == "completed"
        learned = await call(alpha, "fetch_context", memory_type="learning")
        assert [m["title"] for m in learned["memories"]] == ["Learnings from the incident"]
        sessions = await call(alpha, "list_sessions", playbook_id="incident-review")
        assert sessions["sessions"][0]["playbook_version"] == 2

    async with http_client(server.url, world["beta_key"]) as beta:
        ids = {p["id"] for p in (await call(beta, "list_playbooks"))["playbooks"]}
        assert "incident-review" not in ids
        with pytest.raises(ToolCallFailed, match=r"^\[not_found\] no playbook 'incident-review'"):
            await call(beta, "run_playbook", playbook_id="incident-review")
        with pytest.raises(ToolCallFailed, match=r"^\[forbidden\]"):
            await call(
                beta, "publish_playbook", source=INCIDENT, templates=templates,
                project_id=world["alpha"],
            )  # fmt: skip


async def test_a_running_session_keeps_the_templates_it_started_with(
    server: ServerProcess, world: dict[str, Any]
) -> None:
    source = INCIDENT.replace("incident-review", "postmortem")
    async with http_client(server.url, world["beta_key"]) as beta:
        await call(
            beta, "publish_playbook", source=source, templates={"incident-learnings": TEMPLATE}
        )
        run = await call(beta, "run_playbook", playbook_id="postmortem")
        changed = TEMPLATE.replace("MARKER-{{ 'ONE' }}", "MARKER-{{ 'TWO' }}")
        again = await call(
            beta, "publish_playbook", source=source, templates={"incident-learnings": changed}
        )
        assert again["version"] == 2
        old = await call(
            beta, "advance_step", session_id=run["session_id"], step_id="summary", input="x"
        )
        assert old["generate_request"]["prompt"].startswith("MARKER-ONE")
        new = await call(beta, "run_playbook", playbook_id="postmortem")
        new = await call(
            beta, "advance_step", session_id=new["session_id"], step_id="summary", input="x"
        )
        assert new["generate_request"]["prompt"].startswith("MARKER-TWO")
        pinned = await call(beta, "run_playbook", playbook_id="postmortem", version=1)
        pinned = await call(
            beta, "advance_step", session_id=pinned["session_id"], step_id="summary", input="x"
        )
        assert pinned["generate_request"]["prompt"].startswith("MARKER-ONE")


async def test_the_admin_publishes_server_wide_and_shipped_ids_are_kept(
    server: ServerProcess, world: dict[str, Any]
) -> None:
    source = INCIDENT.replace("incident-review", "team-retro")
    async with http_client(server.url, ADMIN_TOKEN) as admin:
        published = await call(
            admin, "publish_playbook", source=source, templates={"incident-learnings": TEMPLATE}
        )
        assert published["scope"] == "server"
        shipped = INCIDENT.replace("incident-review", "initialize-project")
        with pytest.raises(ToolCallFailed, match=r"^\[conflict\].*shipped"):
            await call(
                admin, "publish_playbook", source=shipped,
                templates={"incident-learnings": TEMPLATE},
            )  # fmt: skip
    for key in ("alpha_key", "beta_key"):
        async with http_client(server.url, world[key]) as client:
            listed = {p["id"]: p for p in (await call(client, "list_playbooks"))["playbooks"]}
            assert listed["team-retro"]["source"] == "server"
            run = await call(client, "run_playbook", playbook_id="team-retro")
            assert run["status"] == "awaiting_input"


def test_codifier_publish_and_run_a_local_file_in_the_terminal(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.server_harness import ROOT, server_env

    env = server_env(tmp_path / "home", None)
    folder = tmp_path / "team"
    (folder / "templates").mkdir(parents=True)
    (folder / "incident-review.yaml").write_text(INCIDENT)
    (folder / "templates" / "incident-learnings.md.j2").write_text(TEMPLATE)
    (folder / "broken-playbook.yaml").write_text(BROKEN)
    artifact = tmp_path / "learnings.md"
    artifact.write_text("# Learnings\n\nRun jobs idempotently.\n")

    def cli(*args: str, script: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codifier.cli.main", *args],
            cwd=ROOT, env=env, input=script, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    local = cli(
        "run", str(folder / "incident-review.yaml"), "--templates", str(folder / "templates"),
        "--project", "terminal-team", "--workdir", str(tmp_path / "prompts"),
        script=f"The job ran twice.\n\n{artifact}\n",  # a text answer ends with an empty line
    )  # fmt: skip
    assert local.returncode == 0, local.stdout + local.stderr
    assert "completed; session" in local.stdout
    prompt = (tmp_path / "prompts" / "learnings.prompt.md").read_text()
    assert prompt.startswith("MARKER-ONE")
    assert "The job ran twice." in prompt

    published = cli(
        "publish", str(folder / "incident-review.yaml"), str(folder / "broken-playbook.yaml"),
        "--templates", str(folder / "templates"),
    )  # fmt: skip
    assert published.returncode == 1  # one of the two did not check
    assert "published incident-review version 1 (server-wide)" in published.stdout
    assert "broken-playbook.yaml: not published: the playbook does not check" in published.stdout
    by_id = cli(
        "run", "incident-review", "--project", "terminal-team",
        "--workdir", str(tmp_path / "prompts2"), script=f"Twice again.\n\n{artifact}\n",
    )  # fmt: skip
    assert by_id.returncode == 0, by_id.stdout + by_id.stderr
    assert (tmp_path / "prompts2" / "learnings.prompt.md").read_text().startswith("MARKER-ONE")


def test_folders_of_playbooks_load_at_start_checked_the_same_way(tmp_path: Path) -> None:
    from tests.server_harness import running

    folder = tmp_path / "team-playbooks"
    (folder / "templates").mkdir(parents=True)
    (folder / "incident-review.yaml").write_text(INCIDENT)
    (folder / "templates" / "incident-learnings.md.j2").write_text(TEMPLATE)
    home = tmp_path / "home"
    home.mkdir()

    async def use(url: str) -> None:
        async with http_client(url, ADMIN_TOKEN) as admin:
            listed = {p["id"]: p for p in (await call(admin, "list_playbooks"))["playbooks"]}
            assert listed["incident-review"]["source"] == "server"
            project = await call(admin, "manage_projects", operation="create", name="folders")
            run = await call(
                admin, "run_playbook", playbook_id="incident-review",
                project_id=project["project"]["id"],
            )  # fmt: skip
            step = await call(
                admin, "advance_step", session_id=run["session_id"], step_id="summary", input="x"
            )
            assert step["generate_request"]["prompt"].startswith("MARKER-ONE")

    with running(home, extra={"CODIFIER_PLAYBOOK_DIRS": str(folder)}) as server:
        anyio.run(use, server.url)
    (folder / "broken-playbook.yaml").write_text(BROKEN)
    from tests.server_harness import ServerProcess as Process

    with pytest.raises(RuntimeError, match="server exited early") as failure:
        Process(home, extra={"CODIFIER_PLAYBOOK_DIRS": str(folder)}).start()
    assert "broken-playbook.yaml does not check clean" in str(failure.value)
    assert "unknown type 'strng'" in str(failure.value)
    assert "Traceback" not in str(failure.value)
