"""Guessing keys through the `Authorization` header is throttled (bearer_guard.py), against
a real server process over real HTTP: past the limit a token not seen authenticating
recently gets 429 unread, a token that authenticated keeps working, a request without a
token guesses nothing, a revoked key is refused at once, and the window passes."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
import pytest

from codifier.config import SettingsError, check_environment
from codifier.server.bearer_guard import GuardSettings
from tests.demo_support import codifier_cli, create_project, project_key
from tests.server_harness import ADMIN_TOKEN, ServerProcess, running
from tests.test_oauth import bearer, key_id

LIMIT = 3
WINDOW = 10  # seconds: a handful of requests fit in it on a loaded machine


def _status(server: ServerProcess, token: str | None) -> httpx2.Response:
    if token is None:
        return httpx2.post(f"{server.url}/mcp", json={}, headers={"Accept": "application/json"})
    return bearer(server, token)


def test_wrong_bearer_tokens_are_throttled_and_known_tokens_keep_working(tmp_path: Path) -> None:
    home = tmp_path
    extra = {"CODIFIER_AUTH_FAILURES": str(LIMIT), "CODIFIER_AUTH_WINDOW_SECONDS": str(WINDOW)}
    with running(home, ADMIN_TOKEN, extra) as server:
        create_project(server.url, "guarded")
        used = project_key(home, "guarded", "used")
        fresh = project_key(home, "guarded", "fresh")

        for _ in range(5):  # no token: discovery, not a guess
            assert _status(server, None).status_code == 401
        # Seen authenticating just now (keys created, a project made, can take longer than
        # the window on a loaded machine).
        assert _status(server, used).status_code == 200
        assert _status(server, ADMIN_TOKEN).status_code == 200
        started = time.monotonic()
        for guess in range(LIMIT):
            assert _status(server, f"cdf_wrong{guess}").status_code == 401

        throttled = _status(server, "cdf_wrong-again")
        assert throttled.status_code == 429, throttled.text
        assert 1 <= int(throttled.headers["retry-after"]) <= WINDOW
        assert throttled.json()["error"] == "too_many_requests"
        assert "wait" in throttled.json()["error_description"]
        # A right key not seen lately waits too: the guard does not look at it.
        assert _status(server, fresh).status_code == 429
        # A token that authenticated within the window is still authenticated, and works.
        assert _status(server, used).status_code == 200
        assert _status(server, ADMIN_TOKEN).status_code == 200
        codifier_cli(home, "keys", "revoke", key_id(home, "used"))
        assert _status(server, used).status_code == 401  # revoked: refused at once

        # The revoked key's refusal was a wrong token too: wait out what the server says.
        waiting = _status(server, fresh)
        if waiting.status_code == 429:
            time.sleep(int(waiting.headers["retry-after"]))
        assert time.monotonic() - started >= WINDOW  # the throttle held for its window
        assert _status(server, fresh).status_code == 200


def test_a_bad_guard_setting_stops_the_server_at_start() -> None:
    with pytest.raises(SettingsError, match="CODIFIER_AUTH_FAILURES"):
        check_environment({"CODIFIER_AUTH_FAILURES": "0"})
    assert GuardSettings.from_env({}) == GuardSettings(100, 1000, 60)
