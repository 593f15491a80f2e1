"""`codifier run --llm CMD` (a real command writes each artifact) and `codifier run --url
URL` (a real server process over MCP, with a project key from CODIFIER_KEY); the summary
at the end, and `--json`."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from tests.demo_support import create_project, project_key, resume_id
from tests.server_harness import EVALS_YAML, ROOT, running, server_env

# Reads the prompt on stdin, writes an artifact on stdout; fails on demand (FAIL_LLM).
LLM_SCRIPT = f"""import os, sys
prompt = sys.stdin.read()
if os.path.exists({{fail!r}}):
    sys.stderr.write("the model is overloaded\\n")
    sys.exit(3)
if "how_to_check" in prompt:
    sys.stdout.write("```yaml\\n" + {EVALS_YAML!r} + "```\\n")
else:
    sys.stdout.write("# Written by the stub model\\n\\nFrom a %d-char prompt.\\n" % len(prompt))
"""

ANSWERS = "\n".join(["", "Billing for Acme.", "", "none", "", "[]"]) + "\n"


def _llm(tmp_path: Path) -> tuple[str, Path]:
    """The --llm command line (a path with a space, quoted) and the file that makes it fail."""
    fail = tmp_path / "fail-now"
    script = tmp_path / "stub model.py"
    script.write_text(LLM_SCRIPT.replace("{fail!r}", repr(str(fail))))
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", fail


def _run(
    env: dict[str, str], tmp_path: Path, *args: str, script: str = ANSWERS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", "run", *args,
         "--workdir", str(tmp_path / "prompts")],
        cwd=ROOT, env=env, input=script, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_llm_writes_every_artifact_and_a_failure_leaves_the_session_resumable(
    tmp_path: Path,
) -> None:
    env = server_env(tmp_path / "home", None)
    command, fail = _llm(tmp_path)
    fail.write_text("")  # the first generate step fails
    first = _run(env, tmp_path, "initialize-project", "--project", "llm", "--llm", command)
    assert first.returncode == 1, first.stdout + first.stderr
    session = resume_id(first.stdout)
    (line,) = first.stderr.strip().splitlines()
    said, printed = line.split(" Continue it with: ")
    assert said == (
        f"codifier run: --llm '{sys.executable}' exited 3: the model is overloaded;"
        f" session {session} is saved."
    )
    # The command as printed resumes the run as it was: same prompts folder, same --llm.
    words = shlex.split(printed)
    assert words[:4] == ["codifier", "run", "--resume", session]
    assert words[words.index("--llm") + 1] == command
    assert words[words.index("--workdir") + 1] == str(tmp_path / "prompts")
    assert "Traceback" not in first.stderr
    fail.unlink()
    second = _run(env, tmp_path, *words[2:], "--json", script="")
    assert second.returncode == 0, second.stdout + second.stderr
    outputs = json.loads(second.stdout.split(f"completed; session {session}\n", 1)[1])
    assert outputs["rules"].startswith("# Written by the stub model")
    assert "From a " in outputs["roadmap"]
    assert "E1" in json.dumps(outputs["evals"])
    assert second.stdout.count("generating with") == 4


def test_url_runs_on_a_remote_server_with_a_project_key(tmp_path: Path) -> None:
    home = tmp_path / "server-home"
    home.mkdir()
    command, _ = _llm(tmp_path)
    with running(home) as server:
        project = create_project(server.url, "remote-run")
        key = project_key(home, project, "terminal")
        # The client has no database of its own: everything goes over MCP.
        client = {**server_env(tmp_path / "client-home", None), "CODIFIER_KEY": key}
        done = _run(client, tmp_path, "initialize-project", "--url", server.url, "--llm", command)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "completed; session" in done.stdout
        assert "outputs:" in done.stdout
        assert "  rules " in done.stdout  # a summary line for each output
        assert "# Written by the stub model" in done.stdout  # its first line, not the JSON
        assert '"rules":' not in done.stdout
        assert key not in done.stdout + done.stderr
        assert not (tmp_path / "client-home").exists()  # no local database was started

        wrong = {**client, "CODIFIER_KEY": "not-a-key"}
        refused = _run(wrong, tmp_path, "initialize-project", "--url", server.url)
        assert refused.returncode == 2
        (line,) = refused.stderr.strip().splitlines()
        assert line == (
            f"codifier run: cannot run against {server.url}/mcp: the server refused the key"
            " (HTTP 401); check CODIFIER_KEY"
        )

    keyless = {k: v for k, v in client.items() if k != "CODIFIER_KEY"}
    missing = _run(keyless, tmp_path, "initialize-project", "--url", "http://127.0.0.1:9")
    assert missing.returncode == 2
    assert "set CODIFIER_KEY" in missing.stderr
