"""OAuth 2.1 as the MCP authorization specification has it (issue 12, point 1), against a
real server process over real HTTP: discovery, registration, the sign-in form with a real
project key, code + PKCE, tokens scoped to the key's project, refresh rotation,
revocation, and every refusal the flow must make."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import http.server
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest

from tests.demo_support import codifier_cli, create_project, project_key
from tests.loopback_http import serving
from tests.server_harness import (
    ADMIN_TOKEN,
    ServerProcess,
    ToolCallFailed,
    call,
    http_client,
    running,
)

REDIRECT = "http://127.0.0.1:8976/callback"


# --- a headless OAuth client, by hand, so each step can be attacked -----------------------


class HiddenFields(html.parser.HTMLParser):
    """The sign-in form's fields, read the way a browser would."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.forms: list[dict[str, str]] = []
        self.labels: set[str] = set()
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "form":
            self.forms.append(attributes)
        if tag == "label":
            self.labels.add(attributes.get("for", ""))
        if tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value", "")


def parse_form(page: str) -> HiddenFields:
    parser = HiddenFields()
    parser.feed(page)
    return parser


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Flow:
    """One client's authorization: what it sent and what it got back."""

    server: ServerProcess
    client_id: str
    verifier: str
    challenge: str
    state: str
    browser: httpx2.Client  # keeps the sign-in cookie, like a browser

    @property
    def resource(self) -> str:
        return f"{self.server.url}/mcp"

    def authorize_params(self, **changes: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "state": self.state,
            "resource": self.resource,
            **changes,
        }
        return {k: v for k, v in params.items() if v is not None}

    def open_form(self, **changes: str | None) -> httpx2.Response:
        return self.browser.get(
            f"{self.server.url}/authorize", params=self.authorize_params(**changes)
        )

    def sign_in(self, api_key: str, **changes: str | None) -> httpx2.Response:
        page = self.open_form(**changes)
        assert page.status_code == 200, page.text
        fields = parse_form(page.text).fields
        return self.browser.post(
            f"{self.server.url}/authorize", data={**fields, "api_key": api_key}
        )

    def code(self, api_key: str) -> str:
        answer = self.sign_in(api_key)
        assert answer.status_code == 302, answer.text
        query = redirect_query(answer)
        assert query["state"] == self.state
        assert query["iss"] == self.server.url
        return query["code"]

    def exchange(self, code: str, **changes: str | None) -> httpx2.Response:
        data: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": self.client_id,
            "code_verifier": self.verifier,
            "resource": self.resource,
            **changes,
        }
        return httpx2.post(
            f"{self.server.url}/token", data={k: v for k, v in data.items() if v is not None}
        )

    def tokens(self, api_key: str) -> dict[str, Any]:
        answer = self.exchange(self.code(api_key))
        assert answer.status_code == 200, answer.text
        tokens: dict[str, Any] = answer.json()
        return tokens

    def refresh(self, refresh_token: str, **changes: str | None) -> httpx2.Response:
        data: dict[str, str | None] = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client_id,
            "resource": self.resource,
            **changes,
        }
        return httpx2.post(
            f"{self.server.url}/token", data={k: v for k, v in data.items() if v is not None}
        )


def redirect_query(response: httpx2.Response) -> dict[str, str]:
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def register(server: ServerProcess, **metadata: Any) -> httpx2.Response:
    body = {"redirect_uris": [REDIRECT], "client_name": "Test client", **metadata}
    return httpx2.post(f"{server.url}/register", json=body)


def new_flow(server: ServerProcess) -> Flow:
    registered = register(server)
    assert registered.status_code == 201, registered.text
    verifier, challenge = pkce()
    return Flow(
        server,
        registered.json()["client_id"],
        verifier,
        challenge,
        secrets.token_urlsafe(12),
        httpx2.Client(follow_redirects=False),
    )


def bearer(server: ServerProcess, token: str, path: str = "/mcp") -> httpx2.Response:
    """A bare MCP request with this token: 401 when the token does not count."""
    return httpx2.post(
        f"{server.url}{path}",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "Mcp-Protocol-Version": "2025-11-25",
        },
    )


def key_id(home: Path, name: str) -> str:
    listing = codifier_cli(home, "keys", "list")
    return next(line.split()[0] for line in listing.splitlines() if f" {name} " in line)


# --- the world: two projects, a memory in each, a key for each ---------------------------


@dataclass
class World:
    server: ServerProcess
    home: Path
    key_a: str
    key_b: str
    memory_a: str
    memory_b: str


@pytest.fixture(scope="module")
def world(server_home: Path, server: ServerProcess) -> World:
    create_project(server.url, "alpha")
    create_project(server.url, "beta")

    async def remember() -> tuple[str, str]:
        async with http_client(server.url, ADMIN_TOKEN) as admin:
            ids = []
            for project in ("alpha", "beta"):
                saved = await call(
                    admin,
                    "update_memory",
                    project_id=(await _project_id(admin, project)),
                    memory_type="rule",
                    title=f"{project}'s rule",
                    content=f"Only {project} may read this.",
                )
                ids.append(saved["memory"]["id"])
            return ids[0], ids[1]

    memory_a, memory_b = anyio.run(remember)
    return World(
        server,
        server_home,
        project_key(server_home, "alpha", "oauth-a"),
        project_key(server_home, "beta", "oauth-b"),
        memory_a,
        memory_b,
    )


async def _project_id(client: Any, name: str) -> str:
    listed = await call(client, "manage_projects", operation="list")
    return str(next(p["id"] for p in listed["projects"] if p["name"] == name))


@pytest.fixture
def flow(world: World) -> Iterator[Flow]:
    flow = new_flow(world.server)
    yield flow
    flow.browser.close()


# --- discovery ---------------------------------------------------------------------------


def test_protected_resource_metadata_names_this_server(world: World) -> None:
    url = world.server.url
    for path in (
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ):
        response = httpx2.get(f"{url}{path}")  # no token: discovery is public
        assert response.status_code == 200, path
        document = response.json()
        assert document["resource"] == f"{url}/mcp"
        assert document["authorization_servers"] == [url]
        assert document["bearer_methods_supported"] == ["header"]


def test_authorization_server_metadata(world: World) -> None:
    url = world.server.url
    response = httpx2.get(f"{url}/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == url
    assert document["authorization_endpoint"] == f"{url}/authorize"
    assert document["token_endpoint"] == f"{url}/token"
    assert document["registration_endpoint"] == f"{url}/register"
    assert document["revocation_endpoint"] == f"{url}/revoke"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["response_types_supported"] == ["code"]
    assert set(document["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert document["token_endpoint_auth_methods_supported"] == ["none"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["client_id_metadata_document_supported"] is True


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/mcp"),
        ("GET", "/mcp"),
        ("GET", "/sse"),
        ("POST", "/messages/?session_id=x"),
        ("GET", "/no/such/path"),
        ("GET", "/"),
    ],
)
@pytest.mark.parametrize("token", [None, "cdf_not-a-key", "cdat_not-a-token"])
def test_every_401_points_to_the_resource_metadata(
    world: World, method: str, path: str, token: str | None
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx2.request(method, f"{world.server.url}{path}", headers=headers)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    metadata = f"{world.server.url}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata}"' in challenge
    assert ('error="invalid_token"' in challenge) == (token is not None)
    body = response.json()
    assert body["error"] == "unauthorized"
    assert body["error_description"]
    assert body["message"] == body["error_description"]


def test_a_host_from_the_network_names_no_issuer(world: World) -> None:
    """A loopback server without CODIFIER_PUBLIC_URL trusts only a loopback Host: a
    rebinding page's Host cannot make it advertise (or mint tokens for) another issuer."""
    spoofed = {"Host": "codifier.evil.example"}
    url = world.server.url
    document = httpx2.get(f"{url}/.well-known/oauth-authorization-server", headers=spoofed)
    assert document.status_code == 404
    assert document.json()["error_description"]
    refused = httpx2.post(f"{url}/mcp", json={}, headers=spoofed)
    assert refused.status_code == 401
    assert "evil" not in refused.headers["www-authenticate"]
    assert "resource_metadata" not in refused.headers["www-authenticate"]


# --- registration ------------------------------------------------------------------------


def test_registration_makes_public_clients(world: World) -> None:
    answer = register(world.server, token_endpoint_auth_method="client_secret_post")
    assert answer.status_code == 201
    client = answer.json()
    assert client["client_id"]
    assert client["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in client
    assert client["redirect_uris"] == [REDIRECT]
    missing = httpx2.post(f"{world.server.url}/register", json={"client_name": "x"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_client_metadata"
    assert missing.json()["error_description"]


# --- the whole flow ----------------------------------------------------------------------


def test_the_sign_in_page_is_plain_accessible_and_safe(flow: Flow) -> None:
    page = flow.open_form()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp
    assert "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    form = parse_form(page.text)
    assert form.lang == "en"
    assert form.forms == [{"method": "post", "action": "/authorize"}]
    assert "api_key" in form.labels  # the key field has a label
    assert 'name="api_key"' in page.text
    assert form.fields["code_challenge"] == flow.challenge
    assert form.fields["csrf_token"]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_a_project_key_signs_in_and_its_token_sees_only_its_project(
    world: World, flow: Flow
) -> None:
    answer = flow.sign_in(world.key_a)
    assert answer.status_code == 302
    query = redirect_query(answer)
    assert set(query) == {"code", "state", "iss"}
    assert query["state"] == flow.state
    assert query["iss"] == world.server.url
    assert answer.headers["cache-control"] == "no-store"
    exchanged = flow.exchange(query["code"])
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["access_token"] != tokens["refresh_token"]
    assert exchanged.headers["cache-control"] == "no-store"

    async def as_the_client() -> None:
        async with http_client(world.server.url, tokens["access_token"]) as client:
            found = await call(client, "fetch_context")
            assert [m["id"] for m in found["memories"]] == [world.memory_a]
            listed = await call(client, "manage_projects", operation="list")
            assert [p["name"] for p in listed["projects"]] == ["alpha"]
            with pytest.raises(ToolCallFailed, match=r"\[(forbidden|not_found)\]"):
                await call(client, "delete_memory", id=world.memory_b)
            with pytest.raises(ToolCallFailed, match=r"\[forbidden\]"):
                await call(client, "manage_projects", operation="create", name="gamma")

    anyio.run(as_the_client)


def test_the_admin_token_signs_in_as_the_admin(world: World, flow: Flow) -> None:
    tokens = flow.tokens(ADMIN_TOKEN)

    async def as_admin() -> list[str]:
        async with http_client(world.server.url, tokens["access_token"]) as client:
            listed = await call(client, "manage_projects", operation="list")
        return sorted(p["name"] for p in listed["projects"])

    assert {"alpha", "beta"} <= set(anyio.run(as_admin))


def test_refresh_rotates_and_the_old_refresh_token_is_refused(world: World, flow: Flow) -> None:
    first = flow.tokens(world.key_a)
    refreshed = flow.refresh(first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert bearer(world.server, second["access_token"]).status_code == 200
    replay = flow.refresh(first["refresh_token"])  # rotated out
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # A replayed refresh token means it leaked: the grant ends, its new tokens too.
    assert flow.refresh(second["refresh_token"]).json()["error"] == "invalid_grant"
    assert bearer(world.server, second["access_token"]).status_code == 401


def test_revocation_ends_access_and_refresh_tokens(world: World, flow: Flow) -> None:
    tokens = flow.tokens(world.key_a)
    assert bearer(world.server, tokens["access_token"]).status_code == 200
    revoked = httpx2.post(
        f"{world.server.url}/revoke",
        data={"token": tokens["access_token"], "client_id": flow.client_id},
    )
    assert revoked.status_code == 200
    assert bearer(world.server, tokens["access_token"]).status_code == 401
    assert flow.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_static_bearer_keys_keep_working(world: World) -> None:
    for token in (world.key_a, ADMIN_TOKEN):
        assert bearer(world.server, token).status_code == 200


# --- refusals ----------------------------------------------------------------------------


def test_a_wrong_code_verifier_is_refused(world: World, flow: Flow) -> None:
    code = flow.code(world.key_a)
    wrong = flow.exchange(code, code_verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert wrong.json()["error_description"]


def test_a_code_is_used_once_and_a_replay_ends_its_tokens(world: World, flow: Flow) -> None:
    code = flow.code(world.key_a)
    first = flow.exchange(code)
    assert first.status_code == 200
    again = flow.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert bearer(world.server, first.json()["access_token"]).status_code == 401


def test_a_code_is_bound_to_its_client(world: World, flow: Flow) -> None:
    code = flow.code(world.key_a)
    other = new_flow(world.server)
    stolen = flow.exchange(code, client_id=other.client_id)
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    other.browser.close()


def test_a_mismatched_redirect_uri_is_refused(world: World, flow: Flow) -> None:
    code = flow.code(world.key_a)
    moved = flow.exchange(code, redirect_uri="http://127.0.0.1:8976/elsewhere")
    assert moved.status_code == 400
    assert moved.json()["error"] == "invalid_request"
    # At the authorization endpoint an unregistered redirect URI is never redirected to.
    for redirect in ("http://127.0.0.1:8976/elsewhere", REDIRECT + "/", "https://evil.example/cb"):
        page = flow.open_form(redirect_uri=redirect)
        assert page.status_code == 400
        assert "location" not in page.headers
        assert "redirect URI" in page.text
        assert "<form" not in page.text


def test_an_unknown_client_sees_the_error_on_the_page(flow: Flow) -> None:
    page = flow.open_form(client_id=str(uuid.uuid4()), redirect_uri="https://evil.example/cb")
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "no client registered" in page.text


def test_plain_pkce_is_refused(flow: Flow) -> None:
    for method in ("plain", None):
        answer = flow.open_form(code_challenge_method=method)
        assert answer.status_code == 302  # the redirect URI is registered: the client hears
        query = redirect_query(answer)
        assert query["error"] == "invalid_request"
        assert "S256" in query["error_description"]
        assert query["state"] == flow.state
        assert query["iss"] == flow.server.url
        assert "code" not in query
    missing = flow.open_form(code_challenge=None)
    assert redirect_query(missing)["error"] == "invalid_request"


def test_a_token_for_another_resource_is_refused(world: World, flow: Flow) -> None:
    elsewhere = "https://other.example/mcp"
    asked = flow.open_form(resource=elsewhere)
    assert redirect_query(asked)["error"] == "invalid_target"
    code = flow.code(world.key_a)
    at_token = flow.exchange(code, resource=elsewhere)
    assert at_token.status_code == 400
    assert at_token.json()["error"] == "invalid_target"
    tokens = flow.tokens(world.key_a)
    assert flow.refresh(tokens["refresh_token"], resource=elsewhere).json()["error"] == (
        "invalid_target"
    )
    # The token is for http://127.0.0.1:<port>/mcp; the same server reached as localhost
    # is another resource identifier, and refuses it.
    port = world.server.port
    via_localhost = httpx2.post(
        f"http://localhost:{port}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Accept": "application/json, text/event-stream",
            "Mcp-Protocol-Version": "2025-11-25",
        },
    )
    assert via_localhost.status_code == 401
    assert f"http://localhost:{port}/.well-known" in via_localhost.headers["www-authenticate"]
    assert bearer(world.server, tokens["access_token"]).status_code == 200


def test_a_token_reaches_no_server_with_another_public_url(world: World, flow: Flow) -> None:
    """Two servers on one database with different public URLs: a token minted for one is
    refused by the other (and CODIFIER_PUBLIC_URL names the issuer, whatever the Host)."""
    tokens = flow.tokens(world.key_a)
    public = "https://codifier.example.com"
    with running(world.home, extra={"CODIFIER_PUBLIC_URL": public}) as other:
        document = httpx2.get(f"{other.url}/.well-known/oauth-protected-resource/mcp").json()
        assert document == {
            "resource": f"{public}/mcp",
            "authorization_servers": [public],
            "bearer_methods_supported": ["header"],
            "resource_name": "Codifier",
        }
        refused = bearer(other, tokens["access_token"])
        assert refused.status_code == 401
        assert (
            f'resource_metadata="{public}/.well-known/oauth-protected-resource/mcp"'
            in (refused.headers["www-authenticate"])
        )
        assert bearer(other, world.key_a).status_code == 200  # keys are not per resource


def test_revoking_the_key_ends_what_it_signed_in_for(world: World, flow: Flow) -> None:
    name = f"short-lived-{secrets.token_hex(3)}"
    key = project_key(world.home, "alpha", name)
    tokens = flow.tokens(key)
    assert bearer(world.server, tokens["access_token"]).status_code == 200
    codifier_cli(world.home, "keys", "revoke", key_id(world.home, name))
    assert bearer(world.server, tokens["access_token"]).status_code == 401
    assert flow.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    again = flow.sign_in(key)  # and the revoked key cannot sign in again
    assert again.status_code == 200
    assert "not valid" in again.text


def test_a_wrong_key_shows_the_form_again_and_issues_nothing(world: World, flow: Flow) -> None:
    wrong = "cdf_" + secrets.token_urlsafe(32)
    for attempt in (wrong, "", "not-even-a-key", f"{world.key_a}x"):
        answer = flow.sign_in(attempt)
        assert answer.status_code == 200
        assert "location" not in answer.headers
        assert 'role="alert"' in answer.text
        assert "not valid" in answer.text
        assert parse_form(answer.text).fields["csrf_token"]  # the form, ready to try again
        if attempt:
            assert attempt not in answer.text  # never echoed
    log = world.server.log.read_text(errors="replace")
    assert wrong not in log
    assert world.key_a not in log


def test_the_form_refuses_a_missing_or_forged_csrf_token(world: World, flow: Flow) -> None:
    page = flow.open_form()
    fields = parse_form(page.text).fields
    url = f"{world.server.url}/authorize"
    token = fields["csrf_token"]
    issued, _, mac = token.partition(".")
    attempts = {
        "missing": {k: v for k, v in fields.items() if k != "csrf_token"},
        "forged": {**fields, "csrf_token": f"{issued}.{'A' * len(mac)}"},
        "moved to another challenge": {**fields, "code_challenge": pkce()[1]},
        "moved to another state": {**fields, "state": "attacker"},
    }
    for what, data in attempts.items():
        answer = flow.browser.post(url, data={**data, "api_key": world.key_a})
        assert answer.status_code == 403, what
        assert "location" not in answer.headers, what
        assert "nothing was issued" in answer.text, what
    # The right token from another browser (no cookie): a cross-site post looks like this.
    stranger = httpx2.post(url, data={**fields, "api_key": world.key_a})
    assert stranger.status_code == 403
    assert "location" not in stranger.headers
    # And the untouched form still works in the browser that opened it.
    assert flow.browser.post(url, data={**fields, "api_key": world.key_a}).status_code == 302


# --- client ID metadata documents ---------------------------------------------------------


class Documents(http.server.ThreadingHTTPServer):
    """A client's web server: JSON documents by path, on a loopback port."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.fetches: list[str] = []
        documents = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                documents.fetches.append(self.path)
                body = documents.documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def publish(self, path: str, **metadata: Any) -> str:
        url = self.url(path)
        document = {"client_id": url, "client_name": "Document client", **metadata}
        self.documents[path] = json.dumps(document).encode()
        return url


@pytest.fixture(scope="module")
def documents() -> Iterator[Documents]:
    with serving(Documents()) as served:
        yield served


def document_flow(server: ServerProcess, client_id: str) -> Flow:
    verifier, challenge = pkce()
    return Flow(server, client_id, verifier, challenge, secrets.token_urlsafe(12), httpx2.Client())


def test_a_client_metadata_document_identifies_a_client(world: World, documents: Documents) -> None:
    good = documents.publish("/good.json", redirect_uris=[REDIRECT])
    named = documents.publish("/other.json", redirect_uris=[REDIRECT])
    documents.documents["/other.json"] = documents.documents["/other.json"].replace(
        b"/other.json", b"/not-this.json"
    )
    big = documents.publish("/big.json", redirect_uris=[REDIRECT], padding="x" * 70_000)
    secret = documents.publish(
        "/secret.json", redirect_uris=[REDIRECT], token_endpoint_auth_method="client_secret_post"
    )
    extra = {"CODIFIER_OAUTH_CIMD_ALLOW_PRIVATE": "1"}
    with running(world.home, extra=extra) as opened:
        flow = document_flow(opened, good)
        tokens = flow.tokens(world.key_a)
        assert bearer(opened, tokens["access_token"]).status_code == 200
        assert flow.refresh(tokens["refresh_token"]).status_code == 200
        refused = {
            named: "not the URL",
            big: "larger than",
            secret: "public client",
            documents.url("/missing.json"): "HTTP 404",
        }
        for client_id, reason in refused.items():
            page = document_flow(opened, client_id).open_form()
            assert page.status_code == 400, client_id
            assert reason in page.text, (client_id, page.text)
            assert "location" not in page.headers
        unlisted = document_flow(opened, good).open_form(redirect_uri="http://127.0.0.1:1/x")
        assert unlisted.status_code == 400
        assert "location" not in unlisted.headers


def test_no_client_document_is_fetched_from_a_private_network_by_default(
    world: World, documents: Documents
) -> None:
    url = documents.publish("/private.json", redirect_uris=[REDIRECT])
    fetched = len(documents.fetches)
    for client_id in (url, url.replace("http://", "https://")):
        page = document_flow(world.server, client_id).open_form()
        assert page.status_code == 400
        assert "location" not in page.headers
    assert "must be https" in document_flow(world.server, url).open_form().text
    private = document_flow(world.server, url.replace("http://", "https://")).open_form()
    assert "private network" in private.text
    assert len(documents.fetches) == fetched  # nothing was fetched


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("CODIFIER_PUBLIC_URL", "http://codifier.example.com", "must be https"),
        ("CODIFIER_PUBLIC_URL", "https://codifier.example.com/mcp", "no path"),
        ("CODIFIER_OAUTH", "maybe", "on or off"),
        ("CODIFIER_OAUTH_CODE_SECONDS", "3600", "at most 600"),
        ("CODIFIER_OAUTH_ACCESS_TOKEN_SECONDS", "0", "at least 1"),
        ("CODIFIER_OAUTH_CIMD_ALLOW_PRIVATE", "sometimes", "on or off"),
    ],
)
def test_a_bad_oauth_setting_stops_the_server_at_start(name: str, value: str, says: str) -> None:
    from codifier.config import SettingsError, check_environment

    with pytest.raises(SettingsError, match=name) as refused:
        check_environment({name: value})
    assert says in str(refused.value)


def test_good_oauth_settings_are_read() -> None:
    from codifier.oauth.settings import OAuthSettings

    settings = OAuthSettings.from_env(
        {
            "CODIFIER_PUBLIC_URL": "https://codifier.example.com/",
            "CODIFIER_OAUTH_ACCESS_TOKEN_SECONDS": "600",
            "CODIFIER_OAUTH_CIMD": "off",
        }
    )
    assert settings.public_url == "https://codifier.example.com"
    assert settings.access_token_seconds == 600
    assert settings.client_documents is False
    assert OAuthSettings.from_env({}) == OAuthSettings()
