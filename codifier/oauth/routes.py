"""The OAuth endpoints as Starlette routes: the discovery documents and the sign-in page
are ours; token, registration and revocation are the SDK's handlers over our provider.
None of them needs a bearer token (AuthMiddleware lets PUBLIC_PATHS through)."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.middleware.client_auth import ClientAuthenticator
from mcp.server.auth.routes import cors_middleware
from mcp.server.auth.settings import ClientRegistrationOptions
from mcp.server.transport_security import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp

from codifier.oauth.csrf import FormSigner
from codifier.oauth.issuer import (
    MCP_PATH,
    RESOURCE_METADATA_PATH,
    SERVER_METADATA_PATH,
    Issuer,
    request_issuer,
)
from codifier.oauth.metadata import resource_metadata, server_metadata
from codifier.oauth.provider import (
    ClientLimitReached,
    CodifierOAuthProvider,
    token_request_resource,
)
from codifier.oauth.revocation import RevocationEndpoint
from codifier.oauth.settings import OAuthSettings
from codifier.oauth.signin import SigninCheck, SigninEndpoint
from codifier.oauth.throttle import FailureThrottle
from codifier.store.database import DatabaseUnavailable

AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"
REGISTER_PATH = "/register"
REVOKE_PATH = "/revoke"
PUBLIC_PATHS = frozenset(
    {
        RESOURCE_METADATA_PATH,
        RESOURCE_METADATA_PATH + MCP_PATH,
        SERVER_METADATA_PATH,
        AUTHORIZE_PATH,
        TOKEN_PATH,
        REGISTER_PATH,
        REVOKE_PATH,
    }
)
MAX_BODY = 64 * 1024  # bytes: a registration or token request is far smaller

Handler = Callable[[Request], Awaitable[Response]]

logger = logging.getLogger("codifier.oauth")


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


class OAuthServer:
    """Everything OAuth of one running server: which issuer a request reached, the
    bearer challenge, and the routes."""

    def __init__(
        self,
        settings: OAuthSettings,
        bind_host: str,
        provider: CodifierOAuthProvider,
        check_key: SigninCheck,
        external_issuer: str | None = None,
    ) -> None:
        self.settings = settings
        self.external_issuer = external_issuer  # CODIFIER_OIDC_ISSUER, listed in the metadata
        self.bind_host = bind_host
        self.provider = provider
        self.check_key = check_key
        self.signer = FormSigner(settings.signin_seconds)
        self.throttle = FailureThrottle(
            settings.signin_failures,
            settings.signin_global_failures,
            settings.signin_window_seconds,
        )

    def issuer_for(self, scope: Any) -> Issuer | None:
        return request_issuer(scope, self.settings, self.bind_host)

    def challenge(self, scope: Any, token_sent: bool) -> bytes:
        """WWW-Authenticate for a 401 (RFC 6750 §3, RFC 9728 §5.1)."""
        parts = ['Bearer realm="codifier"']
        issuer = self.issuer_for(scope)
        if issuer is not None:
            parts.append(f'resource_metadata="{issuer.resource_metadata_url}"')
        if token_sent:
            parts.append('error="invalid_token"')
        return ", ".join(parts).encode("latin-1")

    def routes(self) -> list[Route]:
        if not self.settings.enabled:
            return []
        authenticator = ClientAuthenticator(self.provider)
        token = TokenHandler(self.provider, authenticator)
        register = RegistrationHandler(self.provider, ClientRegistrationOptions(enabled=True))
        revoke = RevocationEndpoint(self.provider)
        signin = SigninEndpoint(
            self.provider, self.signer, self.issuer_for, self.check_key, self.throttle
        )
        document = cors_middleware(self._resource_document, ["GET", "OPTIONS"])
        return [
            Route(RESOURCE_METADATA_PATH, document, methods=["GET", "OPTIONS"]),
            Route(RESOURCE_METADATA_PATH + MCP_PATH, document, methods=["GET", "OPTIONS"]),
            Route(
                SERVER_METADATA_PATH,
                cors_middleware(self._server_document, ["GET", "OPTIONS"]),
                methods=["GET", "OPTIONS"],
            ),
            # No CORS: a browser navigates to the sign-in page, no script calls it.
            Route(
                AUTHORIZE_PATH,
                _limited(request_response(self._guarded(signin))),
                methods=["GET", "POST"],
            ),
            self._client_route(TOKEN_PATH, self._token(token.handle)),
            self._client_route(REGISTER_PATH, _capped(register.handle)),
            self._client_route(REVOKE_PATH, revoke.handle),
        ]

    def _client_route(self, path: str, handler: Handler) -> Route:
        """An endpoint clients call with fetch, browser-based ones included (like the
        SDK's routes: any origin, no cookies)."""
        app = CORSMiddleware(
            _limited(request_response(self._guarded(handler))),
            allow_origins=["*"],
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["Content-Type", "Authorization", "Mcp-Protocol-Version"],
        )
        return Route(path, app, methods=["POST", "OPTIONS"])

    def _guarded(self, handler: Handler) -> Handler:
        """No issuer, no OAuth: the endpoints answer 404 (OAuth's shape); a database
        that is down is a 503, not a traceback."""

        async def guarded(request: Request) -> Response:
            if self.issuer_for(request.scope) is None:
                return _no_issuer()
            try:
                return await handler(request)
            except DatabaseUnavailable:
                return oauth_error(
                    503, "temporarily_unavailable", "the database is unavailable; try again"
                )
            except Exception:
                # OAuth's shape, never a bare 500; the log keeps the traceback.
                logger.exception("OAuth endpoint %s failed", request.url.path)
                return oauth_error(
                    500,
                    "server_error",
                    "[internal] the request failed on the server's side; try again, and tell"
                    " the server's operator if it keeps happening",
                )

        return guarded

    def _token(self, handler: Handler) -> Handler:
        async def token(request: Request) -> Response:
            issuer = self.issuer_for(request.scope)
            assert issuer is not None  # _guarded checked
            form = await request.form()  # cached: the SDK handler reads the same form
            asked = form.get("resource")
            context = token_request_resource.set(
                (asked if isinstance(asked, str) else None, issuer.resource)
            )
            try:
                return await handler(request)
            finally:
                token_request_resource.reset(context)

        return token

    async def _resource_document(self, request: Request) -> Response:
        issuer = self.issuer_for(request.scope)
        if issuer is None:
            return _no_issuer()
        document = resource_metadata(issuer, self.external_issuer)
        return JSONResponse(document, headers={"Cache-Control": "max-age=300"})

    async def _server_document(self, request: Request) -> Response:
        issuer = self.issuer_for(request.scope)
        if issuer is None:
            return _no_issuer()
        document = server_metadata(issuer, client_id_documents=self.provider.documents is not None)
        return JSONResponse(document, headers={"Cache-Control": "max-age=300"})


def _capped(handler: Handler) -> Handler:
    """Registration past CODIFIER_OAUTH_MAX_CLIENTS: 429 with Retry-After (when the oldest
    unused client expires) in OAuth's shape. RFC 7591 §3.2.2 names no code for "full", so
    the error is RFC 6749's `temporarily_unavailable`: the request itself was fine."""

    async def capped(request: Request) -> Response:
        try:
            return await handler(request)
        except ClientLimitReached as full:
            refused = oauth_error(
                429,
                "temporarily_unavailable",
                "this server holds as many registered OAuth clients as it keeps"
                " (CODIFIER_OAUTH_MAX_CLIENTS); nothing was registered. Try again later,"
                " or sign in with a client already registered",
            )
            refused.headers["Retry-After"] = str(math.ceil(full.retry_after))
            return refused

    return capped


def _limited(app: ASGIApp) -> ASGIApp:
    return RequestBodyLimitMiddleware(app, MAX_BODY)


def _no_issuer() -> JSONResponse:
    return oauth_error(
        404,
        "not_found",
        "this server has no public address for OAuth; its operator sets CODIFIER_PUBLIC_URL",
    )
