"""The MCP Inspector's CLI (npm `@modelcontextprotocol/inspector`, pinned) in --strict mode
finds nothing to report in the tool list of a real server reached with a bearer header
(issue 12, "Done when"). --strict runs its tool-schema portability lint (bare boolean
schemas, `type` arrays, remote `$ref`s, untyped schemas such as an `input` of any type)
and prints every finding, warnings included, with its path and a suggested fix.

The Inspector is installed from npm on first use into ~/.cache/codifier-tests/inspector/
<version> (or $CODIFIER_TEST_CACHE/inspector/<version>): Node.js and npm must be on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.server_harness import ADMIN_TOKEN, ServerProcess

INSPECTOR_VERSION = "2.12.0"
TOOLS = 16


def cache_root() -> Path:
    root = os.environ.get("CODIFIER_TEST_CACHE") or str(Path.home() / ".cache" / "codifier-tests")
    return Path(root)


def inspector() -> list[str]:
    """`node <the Inspector's launcher>` for the pinned version, installed on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    missing = "the Inspector test runs the MCP Inspector from npm: install Node.js and npm"
    assert node, missing
    assert npm, missing
    folder = cache_root() / "inspector" / INSPECTOR_VERSION
    launcher = (
        folder / "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
    )
    if not launcher.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
             f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert installed.returncode == 0, f"npm install failed:\n{installed.stderr[-2000:]}"
    return [node, str(launcher)]


def test_the_inspector_cli_in_strict_mode_finds_nothing_in_the_tool_list(
    server: ServerProcess, tmp_path: Path
) -> None:
    command = [
        *inspector(),
        "--cli",
        f"{server.url}/mcp",
        "--transport",
        "http",
        "--header",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        "--method",
        "tools/list",
        "--strict",
    ]
    # Its own home: the Inspector may keep a catalog of servers under ~/.mcp-inspector.
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert len(listed["tools"]) == TOOLS
    # Nothing at all on stderr: no finding (warning or error), no portability summary.
    assert done.stderr.strip() == "", done.stderr
