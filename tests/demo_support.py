"""Shared setup for the validation demos: a server process with API keys, and MCP
clients running in processes of their own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio

from tests.server_harness import ADMIN_TOKEN, ROOT, call, http_client, server_env


def codifier_cli(home: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", *args],
        cwd=ROOT,
        env=server_env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def create_project(url: str, name: str) -> str:
    async def work() -> str:
        async with http_client(url, ADMIN_TOKEN) as admin:
            created = await call(admin, "manage_projects", operation="create", name=name)
        return str(created["project"]["id"])

    return anyio.run(work)


def project_key(home: Path, project: str, name: str) -> str:
    return codifier_cli(home, "keys", "create", "--project", project, "--name", name)


CLIENT = """
import anyio, json, sys
sys.path.insert(0, {root!r})
from tests.server_harness import call, http_client, sse_mcp_client

async def main():
    url, token, transport = {url!r}, {token!r}, {transport!r}
    client = sse_mcp_client(url, token) if transport == "sse" else http_client(url, token)
    async with client:
        print(json.dumps(await call(client, {tool!r}, **{arguments!r})))

anyio.run(main)
"""


def call_from_another_process(
    url: str, token: str | None, tool: str, transport: str = "http", **arguments: Any
) -> subprocess.CompletedProcess[str]:
    """One tool call made by a separate Python process (a different client)."""
    script = CLIENT.format(
        root=str(ROOT), url=url, token=token, transport=transport, tool=tool, arguments=arguments
    )
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def result_of(process: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert process.returncode == 0, process.stderr[-2000:]
    value = json.loads(process.stdout.strip().splitlines()[-1])
    assert isinstance(value, dict)
    return value


def status_from_another_process(url: str) -> int:
    """The HTTP status a bare request without credentials gets, from another process."""
    script = (
        "import urllib.request, urllib.error\n"
        f"request = urllib.request.Request({url!r}, data=b'{{}}', method='POST')\n"
        "try:\n"
        "    print(urllib.request.urlopen(request, timeout=10).status)\n"
        "except urllib.error.HTTPError as error:\n"
        "    print(error.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return int(done.stdout.strip())


def resume_id(output: str) -> str:
    """The session id in the resume command `codifier run` prints."""
    found = re.search(r"codifier run --resume ([0-9a-f-]{36})", output)
    assert found, output
    return found[1]
