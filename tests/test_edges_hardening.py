"""The edges of the transport and the store (issue 8, points 11-14), attacked on real
server processes over real HTTP, with a real PostgreSQL (the embedded one)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import httpx2
import pytest

from codifier.config import Settings
from codifier.db.embedded import embedded_login_url, embedded_url, release_embedded
from codifier.db.migrate import migrate, migration_files
from codifier.server.app import AuthMiddleware, Runtime, create_app
from codifier.store import keys, memories, projects
from codifier.store.database import ADMIN, Database, Scope
from codifier.store.memories import NewMemory
from codifier.store.store import open_database
from tests.demo_support import create_project, project_key
from tests.server_harness import (
    ADMIN_TOKEN,
    ROOT,
    ServerProcess,
    ToolCallFailed,
    call,
    http_client,
    running,
    server_env,
    stop_embedded_postgres,
)

pytestmark = pytest.mark.anyio

UNAVAILABLE_MESSAGE = "the database is unavailable; try again shortly"
UNAVAILABLE = f"[unavailable] {UNAVAILABLE_MESSAGE}"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- 11. Legacy SSE sessions belong to whoever opened them --------------------------------


@pytest.fixture(scope="module")
def two_keys(server_home: Path, server: ServerProcess) -> tuple[str, str, str]:
    """Two keys of project edges-a and one of edges-b."""
    create_project(server.url, "edges-a")
    create_project(server.url, "edges-b")
    return (
        project_key(server_home, "edges-a", "a1"),
        project_key(server_home, "edges-a", "a2"),
        project_key(server_home, "edges-b", "b"),
    )


class SseEvents:
    """The events of one text/event-stream response, in order."""

    def __init__(self, response: httpx2.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self) -> tuple[str, str]:
        kind, data = "message", list[str]()
        async for line in self.lines:
            if not line:
                if data:
                    return kind, "\n".join(data)
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                kind = value
            elif field == "data":
                data.append(value)
        raise EOFError("the event stream ended")

    async def until_response(self, request_id: str) -> list[Any]:
        """Every message id seen, up to and including the answer to `request_id`."""
        seen: list[Any] = []
        while True:
            kind, data = await self.next()
            if kind != "message":
                continue
            message = json.loads(data)
            seen.append(message.get("id"))
            if message.get("id") == request_id:
                return seen


def _request(request_id: str, method: str, params: dict[str, Any] | None = None) -> Any:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}


INITIALIZE = _request(
    "init",
    "initialize",
    {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "edges-test", "version": "0"},
    },
)


async def test_a_legacy_sse_session_refuses_every_other_principal(
    server: ServerProcess, two_keys: tuple[str, str, str]
) -> None:
    owner, same_project_other_key, other_project = two_keys
    async with (
        httpx2.AsyncClient(base_url=server.url, timeout=10) as http,
        http.stream("GET", "/sse", headers=_auth(owner)) as stream,
    ):
        assert stream.status_code == 200
        events = SseEvents(stream)
        with anyio.fail_after(10):
            kind, endpoint = await events.next()
        assert kind == "endpoint"
        assert "session_id=" in endpoint
        # Every other credential posts into the owner's session, as if it did not exist:
        # another project's key, another key of the same project, the admin.
        for intruder in (other_project, same_project_other_key, ADMIN_TOKEN):
            for message in (INITIALIZE, _request("intruder", "tools/list")):
                response = await http.post(endpoint, headers=_auth(intruder), json=message)
                assert response.status_code == 404, (intruder[:8], response.text)
        # The owner's session is alive, and only the owner's own messages reach it.
        with anyio.fail_after(10):
            response = await http.post(endpoint, headers=_auth(owner), json=INITIALIZE)
            assert response.status_code == 202
            assert await events.until_response("init") == ["init"]
            response = await http.post(
                endpoint,
                headers=_auth(owner),
                json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            )
            assert response.status_code == 202
            response = await http.post(
                endpoint, headers=_auth(owner), json=_request("mine", "tools/list")
            )
            assert response.status_code == 202
            assert await events.until_response("mine") == ["mine"]


async def test_a_legacy_sse_post_without_a_token_is_unauthorized(server: ServerProcess) -> None:
    async with httpx2.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.post(f"/messages/?session_id={uuid.uuid4().hex}", json=INITIALIZE)
    assert response.status_code == 401


# --- 12. Every ASGI scope is authenticated -------------------------------------------------


class Recorder:
    """An inner ASGI app that accepts anything, remembering that it was reached."""

    def __init__(self) -> None:
        self.reached: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.reached.append(scope["type"])
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})


async def _websocket(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> list[Any]:
    """Drive `app` with a WebSocket handshake; the messages it sent."""
    sent: list[Any] = []
    incoming = [{"type": "websocket.connect"}]

    async def receive() -> Any:
        if incoming:
            return incoming.pop(0)
        await anyio.sleep_forever()

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "subprotocols": [],
        "state": {},
    }
    with anyio.fail_after(5):
        await app(scope, receive, send)
    return sent


CLOSE_POLICY = {"type": "websocket.close", "code": 1008}


@pytest.mark.parametrize(
    "headers",
    [[], [(b"authorization", b"Bearer " + ADMIN_TOKEN.encode())]],
    ids=["no-token", "admin-token"],
)
async def test_the_auth_middleware_refuses_websocket_scopes(
    tmp_path: Path, headers: list[tuple[bytes, bytes]]
) -> None:
    inner = Recorder()
    settings = Settings.from_env({"CODIFIER_HOME": str(tmp_path), "API_AUTH_TOKEN": ADMIN_TOKEN})
    middleware = AuthMiddleware(inner, Runtime(settings))
    assert await _websocket(middleware, "/mcp", headers) == [CLOSE_POLICY]
    assert inner.reached == []


async def test_the_auth_middleware_still_passes_the_lifespan(tmp_path: Path) -> None:
    inner = Recorder()
    settings = Settings.from_env({"CODIFIER_HOME": str(tmp_path)})

    async def nothing() -> Any:
        return {"type": "lifespan.startup"}

    async def ignore(message: Any) -> None:
        del message

    await AuthMiddleware(inner, Runtime(settings))({"type": "lifespan"}, nothing, ignore)
    assert inner.reached == ["lifespan"]


@pytest.mark.parametrize("path", ["/mcp", "/mcp/", "/sse", "/messages/", "/health"])
async def test_the_whole_app_refuses_websocket_handshakes(tmp_path: Path, path: str) -> None:
    """The application the server runs, in process: its first word to a WebSocket is a
    policy close (uvicorn turns that into HTTP 403), on every route."""
    settings = Settings.from_env({"CODIFIER_HOME": str(tmp_path), "API_AUTH_TOKEN": ADMIN_TOKEN})
    app = create_app(settings)
    assert await _websocket(app, path, []) == [CLOSE_POLICY]


def _handshake(port: int, path: str, token: str | None) -> str:
    """A real WebSocket upgrade request over a socket; the response's status line."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = sock.makefile("rb").readline().decode("latin-1").strip()
    return status


@pytest.mark.parametrize("path", ["/mcp", "/sse", "/messages/"])
def test_a_real_websocket_handshake_is_never_accepted(server: ServerProcess, path: str) -> None:
    for token in (None, "cdf_not-a-real-key"):
        status = _handshake(server.port, path, token)
        assert status.startswith("HTTP/1.1 "), status
        assert status.split()[1] in ("401", "403"), status


# --- 13. The database going away is handled -----------------------------------------------


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def _tool_over_http(
    url: str, token: str, tool: str, **arguments: Any
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, the JSON-RPC message or the error body) of one raw tools/call."""
    message = _request("call", "tools/call", {"name": tool, "arguments": arguments})
    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{url}/mcp", headers={**MCP_HEADERS, **_auth(token)}, json=message
        )
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line[:5] == "data:"]
        return response.status_code, json.loads(data[-1])
    assert response.headers.get("content-type", "").startswith("application/json"), (
        response.status_code,
        response.headers,
        response.text,
    )
    body: dict[str, Any] = response.json()
    return response.status_code, body


# The middleware's 503 in OAuth's shape, with `message` kept for older callers.
UNAVAILABLE_BODY = {
    "error": "unavailable",
    "error_description": UNAVAILABLE_MESSAGE,
    "message": UNAVAILABLE_MESSAGE,
}


def _is_unavailable(status: int, body: dict[str, Any]) -> bool:
    """The two shapes of 'the database is away': the middleware's 503 (the key could not
    be looked up), or a tool error."""
    if status == 503:
        return body == UNAVAILABLE_BODY
    result = body.get("result", {})
    texts = [c.get("text", "") for c in result.get("content", [])]
    return status == 200 and result.get("isError") is True and texts == [UNAVAILABLE]


def _succeeded(status: int, body: dict[str, Any]) -> bool:
    return status == 200 and body.get("result", {}).get("isError") is False


async def _seed(url: str) -> tuple[UUID, str]:
    """A project with one memory, and a key for it, written straight to the database."""
    db = await Database.connect(url, max_size=1)
    try:
        async with db.transaction(ADMIN) as conn:
            project = UUID((await projects.create(conn, f"p-{uuid.uuid4().hex[:8]}", ""))["id"])
            _, secret = await keys.create(conn, project, "edge")
        async with db.transaction(Scope.project(project)) as conn:
            await memories.upsert(conn, project, NewMemory("rule", "Kept", "Still here."))
    finally:
        await db.close()
    return project, secret


async def test_a_stopped_database_gets_unavailable_errors_and_comes_back(
    tmp_path: Path,
) -> None:
    """An external PostgreSQL (DATABASE_URL) is stopped under a running server: key calls
    get a JSON 503, admin calls `[unavailable]`, /health 503; started again, the same
    server serves again."""
    database_home = tmp_path / "database"
    database_home.mkdir()
    url = embedded_url(database_home)  # this test process holds it: it alone stops it
    try:
        _, secret = await _seed(url)
        home = tmp_path / "home"
        home.mkdir()
        with running(home, extra={"DATABASE_URL": url}) as server:
            assert _succeeded(*await _tool_over_http(server.url, secret, "fetch_context"))

            stop_embedded_postgres(database_home)  # a fast shutdown: the database is gone
            assert server.health()[0] == 503
            for _ in range(3):
                status, body = await _tool_over_http(server.url, secret, "fetch_context")
                assert (status, body) == (503, UNAVAILABLE_BODY)
            async with http_client(server.url, ADMIN_TOKEN) as admin:
                for tool, arguments in [
                    ("manage_projects", {"operation": "list"}),
                    ("fetch_context", {}),
                ]:
                    with pytest.raises(ToolCallFailed) as failure:
                        await call(admin, tool, **arguments)
                    assert str(failure.value) == UNAVAILABLE
            assert server.health()[0] == 503

            release_embedded(database_home)
            embedded_url(database_home)  # started again, on the same socket
            deadline = time.monotonic() + 30
            while server.health()[0] != 200:
                assert time.monotonic() < deadline, "the server never reconnected"
                await anyio.sleep(0.2)
            status, body = await _tool_over_http(server.url, secret, "fetch_context")
            assert _succeeded(status, body), body
            assert [m["title"] for m in body["result"]["structuredContent"]["memories"]] == ["Kept"]
    finally:
        release_embedded(database_home)
        stop_embedded_postgres(database_home)


def _postmaster_pid(home: Path) -> int | None:
    """The pid postmaster.pid names (None while a start rewrites it)."""
    try:
        return int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def own_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home
    stop_embedded_postgres(home)


async def test_a_killed_embedded_database_is_restarted(own_home: Path) -> None:
    """SIGKILL the postmaster under a running server: every call meanwhile is served or
    `[unavailable]` (never a plain 500), /health goes back to 200, and the server works
    again, on a new postmaster, without being restarted itself."""
    with running(own_home, extra={"CODIFIER_DB_WATCHDOG_SECONDS": "0.5"}) as server:
        name = f"p-{uuid.uuid4().hex[:8]}"
        async with http_client(server.url, ADMIN_TOKEN) as admin:
            await call(admin, "manage_projects", operation="create", name=name)
        key = project_key(own_home, name, "k")
        assert _succeeded(*await _tool_over_http(server.url, key, "fetch_context"))

        killed = _postmaster_pid(own_home)
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        health_seen: set[int] = set()
        outcomes: list[str] = []
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, (health_seen, outcomes[-5:])
            health = server.health()[0]
            health_seen.add(health)
            status, body = await _tool_over_http(server.url, key, "fetch_context")
            if _succeeded(status, body):
                outcomes.append("served")
            else:
                assert _is_unavailable(status, body), (status, body)
                outcomes.append("unavailable")
            restarted = _postmaster_pid(own_home) not in (None, killed)
            if health == 200 and outcomes[-1] == "served" and restarted:
                break
            await anyio.sleep(0.1)
        assert health_seen <= {200, 503}
        assert not _alive(killed)
        assert _alive(_postmaster_pid(own_home))
        # And the store is whole: a write and a read on the restarted database.
        async with http_client(server.url, key) as client:
            await call(client, "update_memory", memory_type="rule", title="After", content="x")
            found = await call(client, "fetch_context")
        assert [m["title"] for m in found["memories"]] == ["After"]


async def test_the_last_server_stops_a_database_another_one_restarted(own_home: Path) -> None:
    """Two servers share the embedded database; one restarts it after a crash while the
    other never looks (a long interval). Whichever lets go last stops the new postmaster."""
    watcher = ServerProcess(own_home, extra={"CODIFIER_DB_WATCHDOG_SECONDS": "0.5"}).start()
    try:
        with running(own_home, extra={"CODIFIER_DB_WATCHDOG_SECONDS": "300"}) as other:
            killed = _postmaster_pid(own_home)
            assert killed is not None
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while other.health()[0] != 200 or _postmaster_pid(own_home) in (None, killed):
                assert time.monotonic() < deadline, "the database was not restarted"
                await anyio.sleep(0.2)
            restarted = _postmaster_pid(own_home)
            watcher.stop()
            assert _alive(restarted)  # still held by the other server
        deadline = time.monotonic() + 10
        while _alive(restarted):
            assert time.monotonic() < deadline, "the restarted database was left running"
            await anyio.sleep(0.1)
    finally:
        watcher.stop()


def _stdio_server(home: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "codifier.cli.main", "serve", "--transport", "stdio"],
        cwd=ROOT,
        env=server_env(home, None),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(home / "stdio-server.log").open("wb"),
    )
    assert process.stdin is not None
    assert process.stdout is not None
    # Serving: it answers initialize (the database is open by then).
    process.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
    process.stdin.flush()
    ready, _, _ = select.select([process.stdout], [], [], 60)
    assert ready, (home / "stdio-server.log").read_text()
    answer = json.loads(process.stdout.readline())
    assert answer["id"] == "init", answer
    return process


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signalled_stdio_server_stops_its_database(own_home: Path, signum: int) -> None:
    """The client still holds stdin open (as real clients do) when the signal comes."""
    process = _stdio_server(own_home)
    try:
        postmaster = _postmaster_pid(own_home)
        assert _alive(postmaster)
        process.send_signal(signum)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _alive(postmaster):
            assert time.monotonic() < deadline, "the embedded database was left running"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- 14. Row-level security does not hang on a setting the app role can change ------------


@pytest.fixture
async def embedded_store(tmp_path: Path) -> AsyncIterator[Database]:
    """The store exactly as the server opens it on the embedded database."""
    home = tmp_path / "home"
    home.mkdir()
    db = await open_database(Settings.from_env({"CODIFIER_HOME": str(home)}), max_size=2)
    try:
        yield db
    finally:
        await db.close()
        release_embedded(home)
        stop_embedded_postgres(home)


async def _two_projects(db: Database) -> tuple[UUID, UUID]:
    async with db.transaction(ADMIN) as conn:
        a = UUID((await projects.create(conn, "alpha", ""))["id"])
        b = UUID((await projects.create(conn, "beta", ""))["id"])
    for project in (a, b):
        async with db.transaction(Scope.project(project)) as conn:
            await memories.upsert(conn, project, NewMemory("rule", "t", f"of {project}"))
    return a, b


async def test_a_project_scope_cannot_switch_itself_to_admin(embedded_store: Database) -> None:
    db = embedded_store
    a, b = await _two_projects(db)
    async with db.transaction(Scope.project(a)) as conn:
        await conn.execute("SELECT set_config('app.admin', 'on', true)")
        assert {r["project_id"] for r in await conn.fetch("SELECT project_id FROM memories")} == {
            str(a)
        }
        assert await conn.fetchval("SELECT count(*) FROM projects") == 1
        assert await conn.fetchval("SELECT count(*) FROM api_keys") == 0
        assert (
            await conn.fetchval("UPDATE memories SET title = 'x' WHERE project_id = $1", b) is None
        )
    # The admin scope still sees both projects.
    async with db.transaction(ADMIN) as conn:
        assert await conn.fetchval("SELECT count(*) FROM memories") == 2


@pytest.mark.parametrize(
    "escape",
    ["RESET ROLE", "SET ROLE codifier_admin", "SET ROLE postgres", "SET ROLE NONE"],
)
async def test_a_project_scope_cannot_leave_its_role(embedded_store: Database, escape: str) -> None:
    db = embedded_store
    a, _ = await _two_projects(db)

    async def escape_then_read() -> None:
        async with db.transaction(Scope.project(a)) as conn:
            await conn.execute(escape)
            # Where it got to is no superuser, and reads no table.
            assert not await conn.fetchval(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            await conn.fetch("SELECT project_id FROM memories")

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await escape_then_read()
    # The connection went back to the pool and is as good as new.
    async with db.transaction(Scope.project(a)) as conn:
        assert await conn.fetchval("SELECT count(*) FROM memories") == 1


async def test_a_project_scope_cannot_plant_temporary_tables(embedded_store: Database) -> None:
    """Pooled connections outlive a transaction: a temporary `memories` would be found
    before the real one by the next tenant on the same connection."""
    a, _ = await _two_projects(embedded_store)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with embedded_store.transaction(Scope.project(a)) as conn:
            await conn.execute("CREATE TEMPORARY TABLE memories (project_id uuid)")


async def test_an_already_migrated_database_moves_to_role_scoped_policies(
    tmp_path: Path,
) -> None:
    """A database migrated by the first release (0001 only), with data in it, takes the
    new migrations and keeps its rows, scoped the new way."""
    home = tmp_path / "home"
    home.mkdir()
    url = embedded_url(home)
    first_only = tmp_path / "first"
    first_only.mkdir()
    first = migration_files()[0]
    assert first.name == "0001_init.sql"
    (first_only / first.name).write_text(first.read_text())
    try:
        connection = await asyncpg.connect(url)
        try:
            assert await migrate(connection, first_only) == ["0001_init.sql"]
            await connection.execute(
                "INSERT INTO projects (name) VALUES ('old-a'), ('old-b');"
                "INSERT INTO memories (project_id, type, title, content, content_hash)"
                " SELECT id, 'rule', name, name, name FROM projects"
            )
        finally:
            await connection.close()
        db = await open_database(Settings.from_env({"CODIFIER_HOME": str(home)}), max_size=2)
        try:
            async with db.transaction(ADMIN) as conn:
                rows = await conn.fetch("SELECT id, name FROM projects ORDER BY name")
                assert [r["name"] for r in rows] == ["old-a", "old-b"]
                assert await conn.fetchval("SELECT count(*) FROM memories") == 2
            async with db.transaction(Scope.project(UUID(rows[0]["id"]))) as conn:
                await conn.execute("SELECT set_config('app.admin', 'on', true)")
                titles = [r["title"] for r in await conn.fetch("SELECT title FROM memories")]
                assert titles == ["old-a"]
        finally:
            await db.close()
    finally:
        release_embedded(home)
        stop_embedded_postgres(home)


def test_a_bad_watchdog_interval_is_refused_at_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", "serve", "--port", "1"],
        cwd=ROOT,
        env=server_env(tmp_path, extra={"CODIFIER_DB_WATCHDOG_SECONDS": "0"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "codifier serve: CODIFIER_DB_WATCHDOG_SECONDS must be a number of seconds from 0.1 to 300\n"
    )


# What docs/security.md tells the operator of an external database to run, after
# `codifier migrate` (passwords left out: the test database trusts its socket).
OPERATOR_SQL = """
CREATE ROLE tenant_login LOGIN NOINHERIT;
CREATE ROLE admin_login LOGIN NOINHERIT;
GRANT codifier_app TO tenant_login;
GRANT codifier_admin TO admin_login;
"""


async def test_an_external_database_gives_each_scope_its_own_login(tmp_path: Path) -> None:
    database_home = tmp_path / "database"
    database_home.mkdir()
    url = embedded_url(database_home)
    try:
        connection = await asyncpg.connect(url)
        try:
            await migrate(connection)
            await connection.execute(OPERATOR_SQL)
        finally:
            await connection.close()
        _, secret = await _seed(url)
        home = tmp_path / "home"
        home.mkdir()
        logins = {
            "DATABASE_URL": url,
            "DATABASE_PROJECT_URL": embedded_login_url(database_home, "tenant_login"),
            "DATABASE_ADMIN_URL": embedded_login_url(database_home, "admin_login"),
        }
        with running(home, extra=logins) as server:
            assert _succeeded(*await _tool_over_http(server.url, secret, "fetch_context"))
            assert _succeeded(
                *await _tool_over_http(server.url, ADMIN_TOKEN, "manage_projects", operation="list")
            )
            connection = await asyncpg.connect(url)
            try:
                users = await connection.fetch(
                    "SELECT DISTINCT usename FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            finally:
                await connection.close()
            assert {r["usename"] for r in users} == {"tenant_login", "admin_login"}
    finally:
        release_embedded(database_home)
        stop_embedded_postgres(database_home)


def test_a_login_that_cannot_take_its_role_stops_the_start(tmp_path: Path) -> None:
    database_home = tmp_path / "database"
    database_home.mkdir()
    url = embedded_url(database_home)
    try:

        async def bare_login() -> None:
            connection = await asyncpg.connect(url)
            try:
                await migrate(connection)
                await connection.execute("CREATE ROLE bare_login LOGIN NOINHERIT")
            finally:
                await connection.close()

        anyio.run(bare_login)
        home = tmp_path / "home"
        home.mkdir()
        extra = {
            "DATABASE_URL": url,
            "DATABASE_PROJECT_URL": embedded_login_url(database_home, "bare_login"),
        }
        with pytest.raises(RuntimeError, match="server exited early") as failure:
            ServerProcess(home, extra=extra).start()
        assert (
            "the database login for project-scoped work cannot SET ROLE codifier_app;"
            " grant codifier_app to it (docs/security.md)"
        ) in str(failure.value)
    finally:
        release_embedded(database_home)
        stop_embedded_postgres(database_home)
