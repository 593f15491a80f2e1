"""The official TypeScript MCP client (`@modelcontextprotocol/client` from npm) runs its
own OAuth flow against a real Codifier server, headlessly (tests/ts_oauth/oauth_flow.mjs
implements its OAuthClientProvider and posts the sign-in form like a browser): discovery,
registration, PKCE, sign-in with a project key, the token exchange with the iss check,
tool calls scoped to that key's project, a refresh, and a wrong key refused at sign-in.

The package is installed once from npm into ~/.cache/codifier-tests/ts-client/<version>
(CODIFIER_TEST_CACHE moves the cache); node and npm must be on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.demo_support import create_project, project_key
from tests.server_harness import ADMIN_TOKEN, ROOT, ServerProcess, call, http_client

CLIENT_VERSION = "2.4.0"
SCRIPT = ROOT / "tests" / "ts_oauth" / "oauth_flow.mjs"


def client_package() -> Path:
    """The pinned @modelcontextprotocol/client, installed from npm on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError(
            "this test runs the TypeScript MCP client from npm and needs `node` (20 or newer)"
            " and `npm` on PATH (Debian: apt-get install nodejs npm)"
        )
    root = os.environ.get("CODIFIER_TEST_CACHE") or str(Path.home() / ".cache" / "codifier-tests")
    folder = Path(root) / "ts-client" / CLIENT_VERSION
    marker = folder / "node_modules" / "@modelcontextprotocol" / "client" / "package.json"
    if not marker.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(folder),
                "--no-audit",
                "--no-fund",
                f"@modelcontextprotocol/client@{CLIENT_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    assert json.loads(marker.read_text())["version"] == CLIENT_VERSION
    return folder


def run_client(package: Path, url: str, key: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, str(SCRIPT), str(package), url, key],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_typescript_client_runs_the_whole_oauth_flow(
    server_home: Path, server: ServerProcess
) -> None:
    package = client_package()
    projects = {name: create_project(server.url, name) for name in ("ts-alpha", "ts-beta")}

    async def remember() -> None:
        async with http_client(server.url, ADMIN_TOKEN) as admin:
            for project, project_id in projects.items():
                await call(
                    admin,
                    "update_memory",
                    project_id=project_id,
                    memory_type="rule",
                    title=f"{project} rule",
                    content=f"Only {project} reads this.",
                )

    anyio.run(remember)
    key = project_key(server_home, "ts-alpha", "ts-client")

    result = run_client(package, server.url, key)

    # Discovery from the 401, registration as a public client, PKCE S256 with a resource.
    assert result["firstConnect"] == "unauthorized"
    assert result["registeredClient"] == {
        "hasClientId": True,
        "hasSecret": False,
        "authMethod": "none",
    }
    assert result["authorizationRequest"] == {
        "codeChallengeMethod": "S256",
        "hasChallenge": True,
        "resource": f"{server.url}/mcp",
        "hasState": True,
    }
    # The sign-in form took the key and sent the client back with code, state and iss.
    assert result["signIn"]["pageStatus"] == 200
    assert result["signIn"]["status"] == 302
    assert result["callback"] == {"hasCode": True, "stateMatches": True, "iss": server.url}
    assert result["tokensAfterExchange"] == 1
    # Tool calls as the key's project, and only that project.
    assert "fetch_context" in result["toolNames"]
    assert result["projects"] == ["ts-alpha"]
    assert result["memories"] == ["ts-alpha rule"]
    # A refresh, with rotation, and no second sign-in.
    assert result["refreshed"] is True
    assert result["rotated"] is True
    assert result["signInsTotal"] == 1
    assert result["memoriesAfterRefresh"] == ["ts-alpha rule"]
    # The first refresh token was rotated out: the server refuses it now.
    replay = httpx2.post(
        f"{server.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": result["firstRefreshToken"],
            "client_id": result["clientId"],
        },
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # A wrong key: the form again with an error, no redirect, no tokens, no connection.
    wrong = result["wrongKeySignIn"]
    assert wrong["pageStatus"] == 200
    assert wrong["status"] == 200
    assert wrong["redirected"] is False
    assert wrong["alert"] is True
    assert wrong["keyEchoed"] is False
    assert result["wrongKeyTokens"] == 0
    assert result["wrongKeyConnect"] != "connected"


@pytest.fixture(scope="module", autouse=True)
def _node_available() -> None:
    """Fail (not skip) with a clear reason when Node.js is missing."""
    if shutil.which("node") is None:
        raise RuntimeError("node is not on PATH; this test needs Node.js 20 or newer")
