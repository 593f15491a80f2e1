"""`codifier run` in a terminal-like subprocess, and /health when the database is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.server_harness import ROOT, ServerProcess, running, server_env, stop_embedded_postgres


def test_codifier_run_drives_a_playbook_from_the_terminal(tmp_path: Path) -> None:
    artifacts = {}
    for name in ("rules", "evals", "requirements", "roadmap"):
        artifacts[name] = tmp_path / f"{name}.md"
        artifacts[name].write_text(f"# {name} written by hand\n")
    script = (
        "\n".join(
            [
                "",  # project name: take the default (the project's name)
                "Billing for Acme.",
                "none",
                "not a url, sorry",  # refused: the run asks again
                "[]",
                *(str(artifacts[n]) for n in ("rules", "evals", "requirements", "roadmap")),
            ]
        )
        + "\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "codifier.cli.main",
            "run",
            "initialize-project",
            "--project",
            "terminal-demo",
            "--workdir",
            str(tmp_path / "new" / "prompts"),
        ],
        cwd=ROOT,
        env=server_env(tmp_path / "home", None),
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not accepted: step 'repositories': the answer[0] is not an http(s):// or git@ URL" in (
        result.stdout
    )
    assert '"rules": "# rules written by hand\\n"' in result.stdout
    prompts = tmp_path / "new" / "prompts"  # created when missing
    assert (prompts / "rules.prompt.md").read_text().startswith("You are a staff engineer")
    assert "Traceback" not in result.stderr


def test_health_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # The watchdog would restart the database within seconds (tests/test_edges_hardening.py
    # proves it); here it waits, so the outage lasts long enough to be seen.
    with running(home, extra={"CODIFIER_DB_WATCHDOG_SECONDS": "300"}) as server:
        assert server.health()[0] == 200
        stop_embedded_postgres(home)
        deadline = time.monotonic() + 20
        status, body = server.health()
        while status != 503 and time.monotonic() < deadline:
            time.sleep(0.2)
            status, body = server.health()
        assert status == 503
        assert '"database":false' in body.replace(" ", "")


def _postmaster_alive(home: Path) -> bool:
    try:
        pid = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def test_the_embedded_database_stops_with_its_last_server_even_after_a_crash(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    try:
        crashed = ServerProcess(home).start()
        crashed.kill()  # SIGKILL: it never lets go of the database
        assert _postmaster_alive(home)
        survivor = ServerProcess(home).start()
        survivor.stop()  # SIGTERM: a graceful stop of the last live holder
        deadline = time.monotonic() + 20
        while _postmaster_alive(home) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _postmaster_alive(home)
    finally:
        stop_embedded_postgres(home)
