"""Demo 4, persistence: a second user (another key, another client process), after a
server restart, retrieves the first user's memories."""

from __future__ import annotations

from pathlib import Path

from tests.demo_support import call_from_another_process, create_project, project_key, result_of
from tests.server_harness import ServerProcess, stop_embedded_postgres


def test_a_second_user_finds_the_first_users_memories_after_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    try:
        first = ServerProcess(home).start()
        try:
            create_project(first.url, "team")
            alice = project_key(home, "team", "alice")
            saved = result_of(
                call_from_another_process(
                    first.url,
                    alice,
                    "update_memory",
                    memory_type="learning",
                    title="Deploys need the migration flag",
                    content="Run migrations before switching traffic; we lost an hour to it.",
                    tags=["deploy"],
                    source_role="developer",
                )
            )
        finally:
            first.stop()
        second = ServerProcess(home).start()  # a new server process, same data
        try:
            bob = project_key(home, "team", "bob")
            found = result_of(
                call_from_another_process(second.url, bob, "fetch_context", tags=["deploy"])
            )
        finally:
            second.stop()
        (memory,) = found["memories"]
        assert memory["id"] == saved["memory"]["id"]
        assert memory["title"] == "Deploys need the migration flag"
        assert memory["source_role"] == "developer"
    finally:
        stop_embedded_postgres(home)
