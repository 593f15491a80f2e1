"""`codifier run` in a terminal-like subprocess, and /health when the database is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.demo_support import resume_id
from tests.server_harness import (
    EVALS_YAML,
    ROOT,
    ServerProcess,
    running,
    server_env,
    stop_embedded_postgres,
)


def test_codifier_run_drives_a_playbook_from_the_terminal(tmp_path: Path) -> None:
    artifacts = {}
    for name in ("rules", "evals", "requirements", "roadmap"):
        artifacts[name] = tmp_path / f"{name}.md"
        artifacts[name].write_text(EVALS_YAML if name == "evals" else f"# {name} written by hand\n")
    script = (
        "\n".join(
            [
                "",  # project name: take the default (the project's name)
                "Billing for Acme.",  # text answers end with an empty line
                "",
                "none",
                "",
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
            "--json",
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


def test_codifier_run_writes_each_packed_repositorys_digest_beside_the_prompts(
    tmp_path: Path,
) -> None:
    from tests.real_repos import JINJA2, cache_dir, repository

    source = repository(JINJA2)
    artifacts = []
    for name in ("rules", "evals", "requirements", "roadmap"):
        artifacts.append(tmp_path / f"{name}.md")
        artifacts[-1].write_text(EVALS_YAML if name == "evals" else f"# {name} written by hand\n")
    script = "\n".join(
        ["", "A template engine.", "", "none", "", f'["{source}"]', *map(str, artifacts)]
    )
    env = {
        **server_env(tmp_path / "home", None),
        "CODIFIER_PACK_ROOTS": str(cache_dir()),
        "CODIFIER_SNAPSHOT_EMBED_CHUNKS": "0",
    }
    prompts = tmp_path / "prompts"
    result = subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", "run", "initialize-project",
         "--project", "local-folder", "--workdir", str(prompts)],
        cwd=ROOT, env=env, input=script + "\n", capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    digest = prompts / f"{source.name}-v1.md".replace(source.name, f"digest-{source.name}")
    assert f"digest of {source} (v1) written to {digest}" in result.stdout
    text = digest.read_text()
    assert "src/jinja2/environment.py" in text
    assert text.strip() in (prompts / "rules.prompt.md").read_text()  # inline in the prompt too
    assert result.stdout.count("digest of ") == 1  # once, not before every prompt


def test_codifier_run_resumes_a_session_where_it_stopped(tmp_path: Path) -> None:
    env = server_env(tmp_path / "home", None)
    base = [sys.executable, "-m", "codifier.cli.main", "run"]

    def run(args: list[str], script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args, "--workdir", str(tmp_path / "prompts")],
            cwd=ROOT, env=env, input=script, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    first = run(["initialize-project", "--project", "resumed"], "\nBilling for Acme.\n")
    assert first.returncode == 2, first.stdout + first.stderr  # input ended mid-run
    session = resume_id(first.stdout)
    answers = tmp_path / "answer.md"
    answers.write_text("# artifact\n")
    evals = tmp_path / "evals.yaml"
    evals.write_text(EVALS_YAML)
    rest = "\n".join(["none", "", "[]", str(answers), str(evals), str(answers), str(answers)])
    rest += "\n"
    second = run(["--resume", session], rest)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"resuming session {session} of initialize-project" in second.stdout
    assert "[3/9] Statement of work" in second.stdout  # where the first run stopped
    assert "[2/9]" not in second.stdout
    assert f"completed; session {session}" in second.stdout
    wrong = run(["--resume", session, "initialize-project"], "")
    assert wrong.returncode == 2
    assert "--resume continues a session" in wrong.stderr


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
