"""The HTTP application: /health, Streamable HTTP at /mcp, legacy SSE at /sse and
/messages/, OAuth discovery and the built-in authorization server (codifier.oauth),
bearer-token auth on everything else."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.types import ASGIApp, Receive, Scope, Send

from codifier import __version__
from codifier.catalog import Entry, load_catalog
from codifier.config import Settings, check_environment
from codifier.db.embedded import release_embedded
from codifier.db.supervisor import supervise_embedded
from codifier.embeddings import EmbeddingSettings, make_embedder
from codifier.library import load_library
from codifier.limits import Limits
from codifier.oauth.external import ExternalIssuer
from codifier.oauth.provider import CodifierOAuthProvider
from codifier.oauth.routes import PUBLIC_PATHS as OAUTH_PATHS
from codifier.oauth.routes import OAuthServer
from codifier.oauth.settings import ExternalIssuerSettings, OAuthSettings
from codifier.packer.settings import PackSettings
from codifier.packer.workspace import clean_stale
from codifier.server.bearer_guard import BearerGuard, GuardSettings, digest
from codifier.server.exports import register_export_resources
from codifier.server.instructions import INSTRUCTIONS
from codifier.server.native_settings import NativeSettings
from codifier.server.principal import Principal, SignIn, authenticate, current_principal, signin_key
from codifier.server.services import Services
from codifier.server.tools import (
    ServicesHolder,
    ToolServer,
    register_bench_echo,
    register_tools,
)
from codifier.skills import IMPLEMENTATIONS, bind
from codifier.sources.registry import default_source, load_sources
from codifier.store.database import Database, DatabaseUnavailable
from codifier.store.store import open_database
from dsl.library import Library

LOOPBACK = ("127.0.0.1", "localhost", "::1")
PUBLIC_PATHS = {"/health"}


class StartupError(RuntimeError):
    pass


@dataclass
class Runtime:
    """What the running server holds: filled in at start, closed at stop."""

    settings: Settings
    holder: ServicesHolder = field(default_factory=ServicesHolder)
    db: Database | None = None
    oauth: OAuthServer | None = None
    external: ExternalIssuer | None = None  # CODIFIER_OIDC_ISSUER: its JWTs count too
    # Wrong bearer tokens are throttled per address (bearer_guard.py).
    guard: BearerGuard = field(default_factory=lambda: BearerGuard(GuardSettings()))


def build_mcp(holder: ServicesHolder) -> MCPServer:
    server = ToolServer(
        "codifier",
        version=__version__,
        instructions=INSTRUCTIONS,
        # A native form's state rides the client's retry (2026-07-28): sealed with a key
        # made at start, good as long as a 2025-11-25 call waits for the same form.
        request_state_security=RequestStateSecurity.ephemeral(
            ttl=float(NativeSettings.from_env().form_seconds), audience="codifier"
        ),
    )
    register_tools(server, holder)
    register_export_resources(server, holder)
    if os.environ.get("CODIFIER_BENCH_ECHO") == "1":
        register_bench_echo(server)
    return server


def load_playbooks() -> tuple[Library, dict[str, Entry]]:
    """The language library and the playbooks run without a publish (shipped, and
    CODIFIER_PLAYBOOK_DIRS); ValueError (one line) if any does not check."""
    library = load_library()
    bind(library.skills, IMPLEMENTATIONS)
    return library, load_catalog(library)


async def open_services(
    settings: Settings, playbooks: tuple[Library, dict[str, Entry]] | None = None
) -> tuple[Database, Services]:
    try:
        check_environment()
        library, catalog = playbooks or load_playbooks()
        sources = load_sources()
        default = default_source(sources)
    except ValueError as error:
        raise StartupError(str(error)) from None
    # Pack folders a killed server left behind (and their git processes) go first.
    await anyio.to_thread.run_sync(clean_stale, PackSettings.from_env().workdir)
    db = await open_database(settings)
    embedder = make_embedder(EmbeddingSettings.from_env())
    services = Services(db, library, catalog, sources, default, Limits.from_env(), embedder)
    services.start()
    return db, services


def transport_security(settings: Settings) -> TransportSecuritySettings:
    if settings.host in LOOPBACK and "*" not in settings.cors_origins:
        # The browser origins the operator allowed (CODIFIER_CORS_ORIGINS) may send too;
        # "*" (any origin) leaves the bearer token as the only check, as behind a proxy.
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=[
                "http://127.0.0.1:*",
                "http://localhost:*",
                "http://[::1]:*",
                *settings.cors_origins,
            ],
        )
    # Behind a proxy (Fly) the Host header is the public name; every request needs a
    # bearer token here, which is what DNS-rebinding protection stands in for.
    return TransportSecuritySettings(enable_dns_rebinding_protection=False)


# What a browser-based MCP client sends, and what it must be able to read back.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "Mcp-Session-Id",
    "Mcp-Protocol-Version",
    "Last-Event-ID",
]
CORS_EXPOSED_HEADERS = ["Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"]


class AuthMiddleware:
    """Every scope is authenticated or refused: HTTP gets 401 without a valid bearer
    token (503 when the database that holds the keys is down), WebSocket is refused (no
    route speaks it), only the lifespan passes untouched. The principal goes to the tools
    in a context variable, and to the SDK as the request's user, which binds each legacy
    SSE session to whoever opened it: a post from another principal gets 404."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan" or (kind == "http" and self._public(scope["path"])):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await _refuse_websocket(receive, send)
            return
        if kind != "http":  # a scope type this server does not know: nothing answers it
            return
        db = self.runtime.db
        header = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
        )
        principal = None
        oauth = self.runtime.oauth
        issuer = oauth.issuer_for(scope) if oauth else None
        token_text = _bearer_token(header)
        guessed = digest(token_text) if token_text is not None else None
        address = (scope.get("client") or ("unknown",))[0]
        if guessed is not None:
            wait = self.runtime.guard.wait(address, guessed)
            if wait:
                await _json_error(
                    send,
                    429,
                    "too_many_requests",
                    f"too many wrong tokens came from this address; wait {wait} seconds",
                    [(b"retry-after", str(wait).encode())],
                )
                return
        if db is not None:
            try:
                principal = await authenticate(
                    header,
                    self.runtime.settings.admin_token,
                    db,
                    issuer.resource if issuer else None,
                    self.runtime.external,
                )
            except DatabaseUnavailable:
                await _json_error(
                    send, 503, "unavailable", DatabaseUnavailable.message, [(b"retry-after", b"5")]
                )
                return
        if guessed is not None and db is not None:
            if principal is None:
                self.runtime.guard.refused(address, guessed)
            else:
                self.runtime.guard.authenticated(guessed)
        if principal is None:
            await _json_error(
                send,
                401,
                "unauthorized",
                "send Authorization: Bearer <token> (a Codifier key or an OAuth access token)",
                [
                    (
                        b"www-authenticate",
                        oauth.challenge(scope, bool(header))
                        if oauth
                        else b'Bearer realm="codifier"',
                    )
                ],
            )
            return
        token = current_principal.set(principal)
        try:
            await self.app({**scope, "user": sdk_user(principal)}, receive, send)
        finally:
            current_principal.reset(token)

    def _public(self, path: str) -> bool:
        return path in PUBLIC_PATHS or (self.runtime.oauth is not None and path in OAUTH_PATHS)


def _bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header: what a guess would be."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def sdk_user(principal: Principal) -> AuthenticatedUser:
    """The principal as the MCP SDK's authenticated user: its transports compare this
    identity (client_id) between the request that opened a session and every later one.
    No secret goes in: the token field holds the principal's id too."""
    return AuthenticatedUser(AccessToken(token=principal.id, client_id=principal.id, scopes=[]))


async def _refuse_websocket(receive: Receive, send: Send) -> None:
    """Close before accepting: the server answers the handshake with 403."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": WS_1008_POLICY_VIOLATION})


async def _json_error(
    send: Send, status: int, error: str, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    # OAuth's shape (error, error_description); `message` stays for older callers.
    body = json.dumps({"error": error, "error_description": message, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def build_oauth(runtime: Runtime, settings: OAuthSettings) -> OAuthServer:
    admin_token = runtime.settings.admin_token

    def database() -> Database | None:
        return runtime.db

    async def check_key(secret: str) -> SignIn | None:
        db = runtime.db
        if db is None:
            raise DatabaseUnavailable()
        return await signin_key(secret, admin_token, db)

    provider = CodifierOAuthProvider(database, settings, admin_token)
    external = runtime.external.issuer if runtime.external else None
    return OAuthServer(settings, runtime.settings.host, provider, check_key, external)


class ExactMcpPath:
    """Clients are configured with `.../mcp`; the mounted app answers at `/mcp/`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/mcp":
            scope = {**scope, "path": "/mcp/", "raw_path": b"/mcp/"}
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    if settings.host not in LOOPBACK and not settings.admin_token:
        raise StartupError(
            f"refusing to serve on {settings.host} without API_AUTH_TOKEN; "
            "set it, or bind to 127.0.0.1"
        )
    try:  # checked before serving, so a playbook that does not check is one line
        playbooks = load_playbooks()
    except ValueError as error:
        raise StartupError(str(error)) from None
    try:
        oauth_settings = OAuthSettings.from_env()
        external_settings = ExternalIssuerSettings.from_env()
        guard_settings = GuardSettings.from_env()
    except ValueError as error:
        raise StartupError(str(error)) from None
    runtime = Runtime(settings, guard=BearerGuard(guard_settings))
    if external_settings.enabled:
        runtime.external = ExternalIssuer(external_settings)
    if oauth_settings.enabled:
        runtime.oauth = build_oauth(runtime, oauth_settings)
    mcp = build_mcp(runtime.holder)
    security = transport_security(settings)

    async def health(request: Request) -> JSONResponse:
        db = runtime.db
        ok = db is not None and await db.ping()
        body = {"status": "ok" if ok else "unavailable", "database": ok, "version": __version__}
        return JSONResponse(body, status_code=200 if ok else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        embedded = settings.database_url is None
        try:
            db, services = await open_services(settings, playbooks)
        except BaseException:
            if embedded:
                release_embedded(settings.home)
            raise
        runtime.db = db
        runtime.holder.services = services
        try:
            async with anyio.create_task_group() as supervisor:
                if embedded:
                    supervisor.start_soon(
                        supervise_embedded, settings.home, settings.db_watchdog_seconds
                    )
                async with mcp.session_manager.run():
                    yield
                supervisor.cancel_scope.cancel()
        finally:
            runtime.holder.services = None
            runtime.db = None
            await services.close()
            await db.close()
            if embedded:
                release_embedded(settings.home)

    streamable = mcp.streamable_http_app(
        streamable_http_path="/", stateless_http=True, transport_security=security
    )
    sse = mcp.sse_app(transport_security=security)
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            *(runtime.oauth.routes() if runtime.oauth else []),
            Mount("/mcp", app=streamable),
            Mount("/", app=sse),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(AuthMiddleware, runtime=runtime)
    app.add_middleware(ExactMcpPath)
    if settings.cors_origins:
        # Outermost: a browser's preflight is answered before authentication (it carries
        # no credentials), and every answer, a 401 included, carries the CORS headers.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            allow_credentials=False,  # bearer tokens, never cookies
            max_age=600,
        )
    return app
