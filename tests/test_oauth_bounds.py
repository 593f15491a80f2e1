"""Bounds on what an unauthenticated caller can make the OAuth endpoints do (issue 12,
point 1), against real server processes over real HTTP with a real PostgreSQL: dynamic
registration is capped and unused clients expire, wrong keys at the sign-in page are
throttled per address and overall, and a failure inside the endpoints is an `[internal]`
line on our page or in OAuth's shape, never a bare 500."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import asyncpg
import httpx2
import pytest

from tests.server_harness import ADMIN_TOKEN, ServerProcess, running
from tests.test_oauth import REDIRECT, Flow, new_flow, parse_form, register

# The sign-in throttle's window in these tests: long enough that a handful of requests on
# a loaded machine fit in it, short enough to wait out.
WINDOW = 6

Starter = Callable[..., ServerProcess]


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _sql(url: str, query: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


@pytest.fixture
def fresh_database(database_url: str) -> str:
    """A database of its own (on the test PostgreSQL) for one test's server, so counts
    of OAuth rows are that test's alone."""
    name = f"oauthb_{secrets.token_hex(6)}"
    anyio.run(_sql, database_url, f"CREATE DATABASE {name}")
    return _database_url(database_url, name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def count(url: str, query: str) -> int:
    value = anyio.run(_sql, url, query)
    assert isinstance(value, int)
    return value


@pytest.fixture
def serve(home: Path, fresh_database: str) -> Iterator[Starter]:
    """Start a server on the fresh database with these extra settings."""
    started: list[ServerProcess] = []

    def start(**settings: str) -> ServerProcess:
        server = ServerProcess(home, extra={"DATABASE_URL": fresh_database, **settings})
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def client_rows(url: str) -> int:
    return count(url, "SELECT count(*) FROM oauth_clients")


# --- registration ----------------------------------------------------------------------


def test_registrations_past_the_cap_are_refused_and_nothing_is_written(
    home: Path, fresh_database: str
) -> None:
    extra = {"DATABASE_URL": fresh_database, "CODIFIER_OAUTH_MAX_CLIENTS": "3"}
    with running(home, extra=extra) as server:
        for _ in range(3):
            assert register(server).status_code == 201
        for _ in range(3):
            refused = register(server)
            assert refused.status_code == 429, refused.text
            body = refused.json()
            assert body["error"] == "temporarily_unavailable"
            assert "CODIFIER_OAUTH_MAX_CLIENTS" in body["error_description"]
            assert "client_id" not in body
            retry = int(refused.headers["retry-after"])
            assert 1 <= retry <= 24 * 3600
            assert refused.headers["cache-control"] == "no-store"
        assert client_rows(fresh_database) == 3


def test_unused_clients_expire_and_make_room(home: Path, fresh_database: str) -> None:
    extra = {
        "DATABASE_URL": fresh_database,
        "CODIFIER_OAUTH_MAX_CLIENTS": "2",
        "CODIFIER_OAUTH_UNUSED_CLIENT_SECONDS": "2",
    }
    with running(home, extra=extra) as server:
        used = new_flow(server)
        assert used.sign_in(ADMIN_TOKEN).status_code == 302  # a sign-in: in use
        unused = new_flow(server)
        assert register(server).status_code == 429  # two clients: full
        time.sleep(3)
        # Past its time the unused client is gone: it cannot start a sign-in, and it no
        # longer takes room.
        page = unused.open_form()
        assert page.status_code == 400
        assert "no client registered" in page.text
        assert register(server).status_code == 201
        assert client_rows(fresh_database) == 2
        ids = count(
            fresh_database,
            "SELECT count(*) FROM oauth_clients WHERE client_id IN"
            f" ('{used.client_id}', '{unused.client_id}')",
        )
        assert ids == 1  # the used one stays, the unused one was deleted
        assert used.sign_in(ADMIN_TOKEN).status_code == 302
        for flow in (used, unused):
            flow.browser.close()


# --- the sign-in throttle ----------------------------------------------------------------


def browser_from(address: str) -> httpx2.Client:
    """A browser whose requests come from this loopback address."""
    return httpx2.Client(
        follow_redirects=False, transport=httpx2.HTTPTransport(local_address=address)
    )


def flow_from(server: ServerProcess, address: str) -> Flow:
    flow = new_flow(server)
    flow.browser.close()
    flow.browser = browser_from(address)
    return flow


def post_key(flow: Flow, fields: dict[str, str], key: str) -> httpx2.Response:
    return flow.browser.post(f"{flow.server.url}/authorize", data={**fields, "api_key": key})


def wrong_keys(flow: Flow, times: int) -> dict[str, str]:
    """Post `times` wrong keys through the form, as a person retyping would; the fields
    of the form shown last."""
    fields = parse_form(flow.open_form().text).fields
    for _ in range(times):
        answer = post_key(flow, fields, "cdf_" + secrets.token_urlsafe(32))
        assert answer.status_code == 200, answer.text
        assert "not valid" in answer.text
        fields = parse_form(answer.text).fields
    return fields


def assert_throttled(answer: httpx2.Response) -> int:
    assert answer.status_code == 429, answer.text
    assert "location" not in answer.headers
    assert "Too many wrong keys" in answer.text
    assert 'role="alert"' in answer.text
    assert parse_form(answer.text).fields["csrf_token"]  # the form, for after the wait
    retry = int(answer.headers["retry-after"])
    assert 1 <= retry <= WINDOW
    return retry


def test_wrong_keys_from_one_address_are_throttled(serve: Starter) -> None:
    server = serve(
        CODIFIER_OAUTH_SIGNIN_FAILURES="3",
        CODIFIER_OAUTH_SIGNIN_WINDOW_SECONDS=str(WINDOW),
    )
    flow = flow_from(server, "127.0.0.1")
    fields = wrong_keys(flow, 3)
    assert_throttled(post_key(flow, fields, "cdf_" + secrets.token_urlsafe(32)))
    # The right key is not even checked while the address is throttled.
    throttled = post_key(flow, fields, ADMIN_TOKEN)
    retry = assert_throttled(throttled)
    fields = parse_form(throttled.text).fields
    # Another address is not held back by this one's guesses.
    other = flow_from(server, "127.0.0.2")
    assert other.sign_in(ADMIN_TOKEN).status_code == 302
    time.sleep(retry + 0.5)
    signed_in = post_key(flow, fields, ADMIN_TOKEN)
    assert signed_in.status_code == 302, signed_in.text
    assert signed_in.headers["location"].startswith(REDIRECT + "?code=")
    for each in (flow, other):
        each.browser.close()


def test_wrong_keys_from_many_addresses_are_throttled_overall(serve: Starter) -> None:
    server = serve(
        CODIFIER_OAUTH_SIGNIN_FAILURES="3",
        CODIFIER_OAUTH_SIGNIN_GLOBAL_FAILURES="4",
        CODIFIER_OAUTH_SIGNIN_WINDOW_SECONDS=str(WINDOW),
    )
    first, second = flow_from(server, "127.0.0.1"), flow_from(server, "127.0.0.2")
    wrong_keys(first, 2)
    wrong_keys(second, 2)  # four in all: no address at its own limit, everyone at theirs
    third = flow_from(server, "127.0.0.3")
    fields = parse_form(third.open_form().text).fields
    retry = assert_throttled(post_key(third, fields, ADMIN_TOKEN))
    time.sleep(retry + 0.5)
    assert third.sign_in(ADMIN_TOKEN).status_code == 302
    for each in (first, second, third):
        each.browser.close()


# --- failures inside the endpoints -------------------------------------------------------


def test_an_unexpected_failure_is_one_internal_line(serve: Starter, fresh_database: str) -> None:
    server = serve()
    flow = new_flow(server)
    # A NUL (PostgreSQL text cannot hold one) is refused as a bad request, not a crash.
    nul = flow.open_form(client_id="a\x00b")
    assert nul.status_code == 400
    assert "NUL" in nul.text
    token = httpx2.post(
        f"{server.url}/token",
        data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": "a\x00b"},
    )
    assert token.status_code in (400, 401), token.text
    assert token.json()["error"]

    # A fault the server does not expect: the clients table is gone from under it.
    anyio.run(_sql, fresh_database, "ALTER TABLE oauth_clients RENAME TO oauth_clients_away")
    try:
        page = flow.open_form()
        assert page.status_code == 500
        assert "[internal]" in page.text
        assert "Traceback" not in page.text
        assert "asyncpg" not in page.text
        assert page.headers["x-frame-options"] == "DENY"  # our page, with its headers
        registered = register(server)
        assert registered.status_code == 500
        assert registered.json()["error"] == "server_error"
        assert registered.json()["error_description"].startswith("[internal]")
    finally:
        anyio.run(_sql, fresh_database, "ALTER TABLE oauth_clients_away RENAME TO oauth_clients")
    assert flow.sign_in(ADMIN_TOKEN).status_code == 302  # and it serves again
    log = server.log.read_text(errors="replace")
    assert "Traceback" in log  # the details are in the server's log
    flow.browser.close()


# --- settings ----------------------------------------------------------------------------


def test_the_bound_settings_are_read_and_checked() -> None:
    from codifier.config import SettingsError, check_environment
    from codifier.oauth.settings import OAuthSettings

    defaults = OAuthSettings()
    assert (defaults.max_clients, defaults.unused_client_seconds) == (10_000, 86_400)
    assert (defaults.signin_failures, defaults.signin_global_failures) == (10, 100)
    assert defaults.signin_window_seconds == 300
    for name in (
        "CODIFIER_OAUTH_MAX_CLIENTS",
        "CODIFIER_OAUTH_UNUSED_CLIENT_SECONDS",
        "CODIFIER_OAUTH_SIGNIN_FAILURES",
        "CODIFIER_OAUTH_SIGNIN_GLOBAL_FAILURES",
        "CODIFIER_OAUTH_SIGNIN_WINDOW_SECONDS",
    ):
        with pytest.raises(SettingsError, match=name):
            check_environment({name: "0"})
