"""An external OpenID Connect issuer (CODIFIER_OIDC_ISSUER; issue 12, point 1): a real
server process takes JWTs from a fake identity provider served on loopback that behaves
like a real one (discovery document, JWKS, key rotation), signing with joserfc. A valid
token is a project-scoped principal for the project its claim names; every other token is
refused with 401 and the bearer challenge."""

from __future__ import annotations

import http.server
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.demo_support import create_project
from tests.loopback_http import serving
from tests.server_harness import (
    ADMIN_TOKEN,
    ServerProcess,
    ToolCallFailed,
    call,
    http_client,
    running,
)
from tests.test_oauth import bearer

SigningKey = RSAKey | ECKey


class FakeIssuer(http.server.ThreadingHTTPServer):
    """An identity provider: /.well-known/openid-configuration names /jwks, which lists
    the public half of every published key. It counts fetches of each."""

    def __init__(self) -> None:
        self.published: list[SigningKey] = []
        self.fetches: dict[str, int] = {"discovery": 0, "jwks": 0}
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body: dict[str, Any]
                if self.path == "/.well-known/openid-configuration":
                    issuer.fetches["discovery"] += 1
                    body = {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                    }
                elif self.path == "/jwks":
                    issuer.fetches["jwks"] += 1
                    body = {"keys": [k.as_dict(private=False) for k in issuer.published]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def publish(self, key: SigningKey) -> SigningKey:
        self.published.append(key)
        return key


def rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


def ec(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"})


@dataclass
class World:
    server: ServerProcess
    issuer: FakeIssuer
    key: RSAKey
    memory_a: str
    memory_b: str
    project_a: str

    @property
    def audience(self) -> str:
        return f"{self.server.url}/mcp"

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer.url,
            "aud": self.audience,
            "sub": "ada@example.com",
            "iat": now,
            "exp": now + 300,
            "codifier_project": "alpha",
            **changes,
        }
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: SigningKey | None = None, alg: str = "RS256", **changes: Any) -> str:
        key = key or self.key
        header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, self.claims(**changes), key)


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    with serving(FakeIssuer()) as served:
        yield served


@pytest.fixture(scope="module")
def world(server_home: Path, issuer: FakeIssuer) -> Iterator[World]:
    key = issuer.publish(rsa("rsa-1"))
    extra = {"CODIFIER_OIDC_ISSUER": issuer.url, "CODIFIER_OIDC_REFETCH_SECONDS": "1"}
    with running(server_home, extra=extra) as server:
        project_a = create_project(server.url, "alpha")
        project_b = create_project(server.url, "beta")

        async def remember() -> list[str]:
            ids = []
            async with http_client(server.url, ADMIN_TOKEN) as admin:
                for project in (project_a, project_b):
                    saved = await call(
                        admin,
                        "update_memory",
                        project_id=project,
                        memory_type="rule",
                        title="A rule",
                        content=f"Only {project} may read this.",
                    )
                    ids.append(saved["memory"]["id"])
            return ids

        memory_a, memory_b = anyio.run(remember)
        assert isinstance(key, RSAKey)
        yield World(server, issuer, key, memory_a, memory_b, project_a)


def mcp_status(world: World, token: str) -> httpx2.Response:
    return bearer(world.server, token)


def assert_refused(world: World, token: str) -> None:
    answer = mcp_status(world, token)
    assert answer.status_code == 401, answer.text
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="codifier"')
    assert f'resource_metadata="{world.server.url}/.well-known/oauth-protected-resource/mcp"' in (
        challenge
    )
    assert 'error="invalid_token"' in challenge
    assert answer.json()["error_description"]


def test_a_valid_token_sees_only_the_project_its_claim_names(world: World) -> None:
    async def as_ada(token: str) -> None:
        async with http_client(world.server.url, token) as client:
            found = await call(client, "fetch_context")
            assert [m["id"] for m in found["memories"]] == [world.memory_a]
            listed = await call(client, "manage_projects", operation="list")
            assert [p["name"] for p in listed["projects"]] == ["alpha"]
            with pytest.raises(ToolCallFailed, match=r"\[(forbidden|not_found)\]"):
                await call(client, "delete_memory", id=world.memory_b)
            with pytest.raises(ToolCallFailed, match=r"\[forbidden\]"):  # never the admin
                await call(client, "manage_projects", operation="create", name="gamma")
            saved = await call(
                client, "update_memory", memory_type="rule", title="Ada's", content="By Ada."
            )
            assert saved["memory"]["project_id"] == world.project_a

    anyio.run(as_ada, world.token())
    # The claim may name the project by its id too, and the token may carry a list of
    # audiences with this server among them.
    by_id = world.token(codifier_project=world.project_a, aud=["other", world.audience])
    assert mcp_status(world, by_id).status_code == 200


def test_the_protected_resource_metadata_lists_the_external_issuer(world: World) -> None:
    document = httpx2.get(f"{world.server.url}/.well-known/oauth-protected-resource/mcp").json()
    assert document["authorization_servers"] == [world.server.url, world.issuer.url]


def test_tokens_that_do_not_count_are_refused(world: World) -> None:
    now = int(time.time())
    stranger = rsa("rsa-1")  # the same kid as the real key, another key: a forged signature
    refused = {
        "wrong audience": world.token(aud="https://another.example.com/mcp"),
        "wrong issuer": world.token(iss="https://login.example.com"),
        "expired": world.token(exp=now - 120, iat=now - 600),
        "not yet valid": world.token(nbf=now + 600),
        "no expiry": world.token(exp=None),
        "unknown project": world.token(codifier_project="nobody"),
        "no project claim": world.token(codifier_project=None),
        "bad signature": world.token(key=stranger),
    }
    for what, token in refused.items():
        assert mcp_status(world, token).status_code == 401, what
        assert_refused(world, token)
    # A tampered payload under a valid signature.
    header, payload, signature = world.token().split(".")
    other = world.token(codifier_project="beta").split(".")[1]
    assert_refused(world, f"{header}.{other}.{signature}")
    assert payload != other


def test_alg_none_and_shared_secret_algorithms_are_refused(world: World) -> None:
    import base64

    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(world.claims())}."
    assert_refused(world, unsigned)
    # HS256 keyed with the RSA key's public modulus: the old algorithm-confusion attack.
    public = world.key.as_dict(private=False)
    secret = OctKey.import_key(json.dumps(public).encode())
    confused = jwt.encode(
        {"alg": "HS256", "kid": world.key.kid}, world.claims(), secret, algorithms=["HS256"]
    )
    assert_refused(world, confused)


def test_an_unknown_kid_is_refused_and_a_rotation_is_picked_up(world: World) -> None:
    unpublished = rsa("rsa-never")
    fetched = world.issuer.fetches["jwks"]
    time.sleep(1.1)  # past CODIFIER_OIDC_REFETCH_SECONDS: an unknown kid may fetch again
    for _ in range(5):
        assert_refused(world, world.token(key=unpublished))
    # Five unknown kids in a row fetched the key set once, not five times.
    assert world.issuer.fetches["jwks"] - fetched == 1

    # The identity provider rotates to an EC key: once published, its tokens count.
    rotated = world.issuer.publish(ec("ec-2"))
    time.sleep(1.1)
    assert mcp_status(world, world.token(key=rotated, alg="ES256")).status_code == 200
    assert mcp_status(world, world.token()).status_code == 200  # the old key still listed


def test_static_keys_and_the_admin_token_keep_working(world: World) -> None:
    assert mcp_status(world, ADMIN_TOKEN).status_code == 200
    assert_refused(world, "not-a-token")


def test_without_the_setting_no_jwt_counts(world: World, tmp_path: Path) -> None:
    with running(world.server.home) as plain:
        token = jwt.encode(
            {"alg": "RS256", "kid": world.key.kid},
            {**world.claims(), "aud": f"{plain.url}/mcp"},
            world.key,
        )
        answer = httpx2.post(
            f"{plain.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
            },
        )
        assert answer.status_code == 401
        document = httpx2.get(f"{plain.url}/.well-known/oauth-protected-resource/mcp").json()
        assert document["authorization_servers"] == [plain.url]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://login.example.com", "must be https"),
        ("https://login.example.com/?tenant=x", "not an issuer URL"),
        ("login.example.com", "not an issuer URL"),
    ],
)
def test_a_bad_issuer_setting_stops_the_server_at_start(value: str, says: str) -> None:
    from codifier.config import SettingsError, check_environment

    with pytest.raises(SettingsError, match="CODIFIER_OIDC_ISSUER") as refused:
        check_environment({"CODIFIER_OIDC_ISSUER": value})
    assert says in str(refused.value)
