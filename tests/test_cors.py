"""CORS for browser-based clients (issue 12, point 2): allowed origins from a setting, the
preflight answered without credentials, the MCP headers exposed; unset, nothing opens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.server_harness import ADMIN_TOKEN, ServerProcess, running

ORIGIN = "https://app.example.com"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "browser", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Origin": ORIGIN}


@pytest.fixture(scope="module")
def browser_server(server_home: Path) -> Iterator[ServerProcess]:
    with running(
        server_home, extra={"CODIFIER_CORS_ORIGINS": f"{ORIGIN},http://localhost:5173"}
    ) as process:
        yield process


def test_a_preflight_is_answered_without_credentials(browser_server: ServerProcess) -> None:
    response = httpx2.options(f"{browser_server.url}/mcp", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "mcp-protocol-version", "mcp-session-id"):
        assert header in allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers


def test_responses_carry_the_headers_and_expose_the_mcp_ones(
    browser_server: ServerProcess,
) -> None:
    answered = httpx2.post(
        f"{browser_server.url}/mcp",
        json=INITIALIZE,
        headers={**MCP_HEADERS, "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answered.status_code == 200
    assert answered.headers["access-control-allow-origin"] == ORIGIN
    exposed = answered.headers["access-control-expose-headers"].lower()
    assert "mcp-session-id" in exposed
    assert "www-authenticate" in exposed
    refused = httpx2.post(f"{browser_server.url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert refused.status_code == 401  # CORS opens no door: the token is still needed
    assert refused.headers["access-control-allow-origin"] == ORIGIN  # so the page can read why


def test_another_origin_gets_no_cors(browser_server: ServerProcess) -> None:
    other = {**PREFLIGHT, "Origin": "https://evil.example.net"}
    response = httpx2.options(f"{browser_server.url}/mcp", headers=other)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_without_the_setting_no_browser_is_let_in(server: ServerProcess) -> None:
    response = httpx2.options(f"{server.url}/mcp", headers=PREFLIGHT)
    assert response.status_code == 401
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("value", ["app.example.com", "https://app.example.com/path", "ftp://x"])
def test_a_bad_origin_setting_stops_the_server_in_one_line(value: str) -> None:
    from codifier.config import SettingsError, check_environment

    with pytest.raises(SettingsError, match="CODIFIER_CORS_ORIGINS"):
        check_environment({"CODIFIER_CORS_ORIGINS": value})
