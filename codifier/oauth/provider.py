"""The storage behind the SDK's token, registration and revocation endpoints
(`mcp.server.auth`'s OAuthAuthorizationServerProvider), over PostgreSQL.

Clients are public (PKCE is their proof of possession): a registration that asks for a
client secret gets `token_endpoint_auth_method: none` instead, which RFC 7591 §3.2.1
allows, so no client secret exists to be stored or leaked. Codes and tokens are kept as
hashes; a code is used once; a refresh token is used once and replaced (rotation); a code
or refresh token presented a second time ends its whole grant (OAuth 2.1 §4.1.3, §4.3.1:
a replay means it leaked)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from codifier.oauth.client_documents import ClientDocumentError, ClientDocuments, is_document_url
from codifier.oauth.settings import OAuthSettings
from codifier.oauth.tokens import (
    ACCESS_PREFIX,
    CODE_PREFIX,
    REFRESH_PREFIX,
    new_secret,
    secret_hash,
)
from codifier.store import oauth as store
from codifier.store.database import ADMIN, Database, DatabaseUnavailable

# The token request's RFC 8707 `resource` (None when it sent none) and this server's own
# resource as the request reached it, set by the token endpoint around the SDK handler:
# the SDK hands the provider the stored code, not the request.
token_request_resource: ContextVar[tuple[str | None, str] | None] = ContextVar(
    "oauth_token_request_resource", default=None
)


class ClientLimitReached(Exception):
    """Registration refused: CODIFIER_OAUTH_MAX_CLIENTS clients exist. `retry_after` is
    the seconds until the oldest unused one expires and makes room."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("the server has as many OAuth clients as it keeps")
        self.retry_after = retry_after


class StoredCode(AuthorizationCode):
    grant_id: UUID


class StoredRefreshToken(RefreshToken):
    grant_id: UUID


class StoredAccessToken(AccessToken):
    grant_id: UUID


def admin_token_hash(admin_token: str | None) -> str | None:
    """What a grant signed in with the admin token records: a new API_AUTH_TOKEN ends it."""
    return hashlib.sha256(admin_token.encode()).hexdigest() if admin_token else None


class CodifierOAuthProvider(
    OAuthAuthorizationServerProvider[StoredCode, StoredRefreshToken, StoredAccessToken]
):
    """OAuthAuthorizationServerProvider for the SDK's handlers. `database` returns the
    running server's database (None while it starts or stops: the handlers then answer
    503 through DatabaseUnavailable)."""

    def __init__(
        self,
        database: Callable[[], Database | None],
        settings: OAuthSettings,
        admin_token: str | None,
    ) -> None:
        self._database = database
        self.settings = settings
        self.admin_hash = admin_token_hash(admin_token)
        self.documents = (
            ClientDocuments(settings.client_documents_private)
            if settings.client_documents
            else None
        )

    def _db(self) -> Database:
        db = self._database()
        if db is None:
            raise DatabaseUnavailable()
        return db

    # Clients (RFC 7591) --------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        try:
            return await self.find_client(client_id)
        except ClientDocumentError:
            return None

    async def find_client(self, client_id: str) -> OAuthClientInformationFull | None:
        """A registered client, or the one a client ID metadata document describes
        (ClientDocumentError says why such a document cannot be used)."""
        if len(client_id) > 2000 or "\x00" in client_id:  # PostgreSQL text holds no NUL
            return None
        if is_document_url(client_id):
            if self.documents is None:
                raise ClientDocumentError(
                    "this server does not accept client metadata documents; register instead"
                )
            return await self.documents.get(client_id)
        async with self._db().transaction(ADMIN) as conn:
            stored = await store.load_client(conn, client_id, self.settings.unused_client_seconds)
        return None if stored is None else OAuthClientInformationFull.model_validate(stored)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        # Public clients only. The handler answers with this same object, so the client
        # learns the method it was given (RFC 7591 §3.2.1: the server may replace values).
        client_info.token_endpoint_auth_method = "none"
        client_info.client_secret = None
        client_info.client_secret_expires_at = None
        metadata = client_info.model_dump(mode="json", exclude_none=True)
        async with self._db().transaction(ADMIN) as conn:
            wait = await store.register_client(
                conn,
                client_info.client_id,
                metadata,
                max_clients=self.settings.max_clients,
                unused_seconds=self.settings.unused_client_seconds,
            )
        if wait is not None:
            raise ClientLimitReached(wait)

    # Authorization: the sign-in page (signin.py) issues codes through issue_code. --------

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        # The SDK's authorize handler redirects at once; ours shows a sign-in form first
        # (signin.py), so this hook is never reached.
        raise NotImplementedError("the sign-in page issues codes (codifier.oauth.signin)")

    async def issue_code(
        self,
        *,
        client: OAuthClientInformationFull,
        api_key_id: UUID | None,
        resource: str,
        scopes: list[str],
        code_challenge: str,
        redirect_uri: str,
        redirect_uri_explicit: bool,
    ) -> str:
        """A new grant for whoever signed in (a key, or the admin token when api_key_id is
        None) and its single-use code."""
        code = new_secret(CODE_PREFIX)
        async with self._db().transaction(ADMIN) as conn:
            await store.purge_expired(conn)
            if is_document_url(client.client_id):
                await store.remember_document_client(
                    conn, client.client_id, client.model_dump(mode="json", exclude_none=True)
                )
            else:
                await store.mark_signed_in(conn, client.client_id)
            grant = await store.create_grant(
                conn,
                client_id=client.client_id,
                api_key_id=api_key_id,
                admin_token_hash=None if api_key_id else self.admin_hash,
                resource=resource,
                scopes=scopes,
            )
            await store.save_code(
                conn,
                code_hash=secret_hash(code),
                grant_id=grant,
                code_challenge=code_challenge,
                redirect_uri=redirect_uri,
                redirect_uri_explicit=redirect_uri_explicit,
                seconds=self.settings.code_seconds,
            )
        return code

    # Token endpoint ---------------------------------------------------------------------

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> StoredCode | None:
        async with self._db().transaction(ADMIN) as conn:
            row = await store.load_code(conn, secret_hash(authorization_code), self.admin_hash)
            if row is None or row["client_id"] != client.client_id:
                return None
            if row["used"]:  # a replayed code: what it was exchanged for is compromised
                await store.revoke_grant(conn, row["grant_id"])
                return None
        return StoredCode(
            code=authorization_code,
            scopes=list(row["scopes"]),
            expires_at=float(row["expires_at"]),
            client_id=row["client_id"],
            code_challenge=row["code_challenge"],
            redirect_uri=AnyUrl(row["redirect_uri"]),
            redirect_uri_provided_explicitly=row["redirect_uri_explicit"],
            resource=row["resource"],
            grant_id=row["grant_id"],
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: StoredCode
    ) -> OAuthToken:
        _check_resource(authorization_code.resource)
        async with self._db().transaction(ADMIN) as conn:
            if not await store.use_code(conn, secret_hash(authorization_code.code)):
                raise TokenError("invalid_grant", "the authorization code was already used")
            return await self._issue(conn, authorization_code.grant_id, authorization_code.scopes)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> StoredRefreshToken | None:
        if not refresh_token.startswith(REFRESH_PREFIX):
            return None
        async with self._db().transaction(ADMIN) as conn:
            row = await store.load_token(
                conn, secret_hash(refresh_token), "refresh", self.admin_hash
            )
            if row is None or row["client_id"] != client.client_id:
                return None
            if row["used"]:  # a rotated-out refresh token came back: end the grant
                await store.revoke_grant(conn, row["grant_id"])
                return None
        return StoredRefreshToken(token=refresh_token, **_stored(row))

    async def exchange_refresh_token(
        self,
        client: OAuthClientInformationFull,
        refresh_token: StoredRefreshToken,
        scopes: list[str],
    ) -> OAuthToken:
        _check_resource(refresh_token.resource)
        async with self._db().transaction(ADMIN) as conn:
            if not await store.use_token(conn, secret_hash(refresh_token.token)):
                raise TokenError("invalid_grant", "the refresh token was already used")
            return await self._issue(conn, refresh_token.grant_id, scopes)

    async def _issue(self, conn: Any, grant_id: UUID, scopes: list[str]) -> OAuthToken:
        access, refresh = new_secret(ACCESS_PREFIX), new_secret(REFRESH_PREFIX)
        settings = self.settings
        await store.save_token(
            conn,
            token_hash=secret_hash(access),
            grant_id=grant_id,
            kind="access",
            seconds=settings.access_token_seconds,
        )
        await store.save_token(
            conn,
            token_hash=secret_hash(refresh),
            grant_id=grant_id,
            kind="refresh",
            seconds=settings.refresh_token_seconds,
        )
        return OAuthToken(
            access_token=access,
            expires_in=settings.access_token_seconds,
            refresh_token=refresh,
            scope=" ".join(scopes) or None,
        )

    async def load_access_token(self, token: str) -> StoredAccessToken | None:
        """For revocation only; the bearer check reads tokens in principal.authenticate."""
        if not token.startswith(ACCESS_PREFIX):
            return None
        async with self._db().transaction(ADMIN) as conn:
            row = await store.load_token(conn, secret_hash(token), "access", self.admin_hash)
        if row is None:
            return None
        return StoredAccessToken(token=token, **_stored(row))

    async def revoke_token(self, token: StoredAccessToken | StoredRefreshToken) -> None:
        """RFC 7009 §2.1: revoking either token of a grant revokes the grant, both kinds."""
        async with self._db().transaction(ADMIN) as conn:
            await store.revoke_grant(conn, token.grant_id)


def _stored(row: Any) -> dict[str, Any]:
    """What a stored token's row says about it, as both token models take it."""
    return {
        "client_id": row["client_id"],
        "scopes": list(row["scopes"]),
        "expires_at": int(row["expires_at"]),
        "resource": row["resource"],
        "grant_id": row["grant_id"],
    }


def _check_resource(bound: str | None) -> None:
    """RFC 8707 §2.2: a token request may name only the resource its grant is for, and
    the grant must be for this server as the request reached it."""
    context = token_request_resource.get()
    if context is None or bound is None:
        raise TokenError("invalid_target", "this token request names no resource of this server")
    asked, here = context
    if bound != here or (asked is not None and asked != bound):
        raise TokenError(
            "invalid_target",
            f"the resource must be {bound} (the one the authorization request named);"
            " tokens of this server are for its MCP endpoint only",
        )
