"""Token revocation (RFC 7009) for public clients. The SDK's RevocationHandler requires a
`client_secret` form field (its model declares it without a default), which a public
client does not have; this is the same handler with that field optional, built on the
SDK's client authenticator and our provider."""

from __future__ import annotations

from typing import Literal

from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codifier.oauth.provider import CodifierOAuthProvider, StoredAccessToken, StoredRefreshToken

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class RevocationRequest(BaseModel):
    token: str
    token_type_hint: Literal["access_token", "refresh_token"] | None = None
    client_id: str


class RevocationEndpoint:
    def __init__(self, provider: CodifierOAuthProvider) -> None:
        self.provider = provider
        self.authenticator = ClientAuthenticator(provider)

    async def handle(self, request: Request) -> Response:
        try:
            client = await self.authenticator.authenticate_request(request)
        except AuthenticationError as error:
            return JSONResponse(
                {"error": "invalid_client", "error_description": error.message},
                status_code=401,
                headers=NO_STORE,
            )
        try:
            asked = RevocationRequest.model_validate(dict(await request.form()))
        except ValidationError:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "send token and client_id"},
                status_code=400,
                headers=NO_STORE,
            )
        found: StoredAccessToken | StoredRefreshToken | None = None
        found = await self.provider.load_access_token(asked.token)
        if found is None:
            found = await self.provider.load_refresh_token(client, asked.token)
        # RFC 7009 §2.2: an unknown token, or another client's, is answered 200 all the same.
        if found is not None and found.client_id == client.client_id:
            await self.provider.revoke_token(found)
        return Response(status_code=200, headers=NO_STORE)
