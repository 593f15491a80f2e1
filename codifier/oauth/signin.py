"""The authorization endpoint (`/authorize`): GET shows the sign-in form for a valid
authorization request, POST (the form, back to the same endpoint) checks the key and
redirects to the client with a code, its state and this issuer (RFC 9207).

Until the client and its redirect URI are known good, a problem is shown on the page and
never redirected (no open redirect). After that, OAuth's errors go back to the client on
its redirect URI (RFC 6749 §4.1.2.1). A wrong key shows the form again (HTTP 200) with
the error and issues nothing; the key itself is never echoed or logged. Too many wrong
keys (throttle.py) and the form comes back with 429 and Retry-After, the key unchecked.
Anything unexpected is logged with its traceback and shown as one `[internal]` line."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from mcp.server.auth.provider import construct_redirect_uri
from mcp.shared.auth import InvalidRedirectUriError, InvalidScopeError, OAuthClientInformationFull
from pydantic import AnyUrl, ValidationError
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from codifier.oauth.client_documents import ClientDocumentError
from codifier.oauth.csrf import COOKIE, FormSigner
from codifier.oauth.issuer import Issuer
from codifier.oauth.page import page_headers, signin_page
from codifier.oauth.provider import CodifierOAuthProvider
from codifier.oauth.throttle import FailureThrottle
from codifier.server.principal import SignIn
from codifier.store.database import DatabaseUnavailable

# The authorization request's parameters the form carries through (RFC 6749 §4.1.1,
# RFC 7636, RFC 8707); nothing else is read from the request.
PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
    "resource",
)
MAX_PARAM = 2000  # characters; a longer value is not an authorization request

ErrorCode = Literal[
    "invalid_request", "unsupported_response_type", "invalid_scope", "invalid_target"
]

logger = logging.getLogger("codifier.oauth")

INTERNAL_ERROR = (
    "[internal] Sign-in failed on the server's side and nothing was issued; try again, and"
    " tell the server's operator if it keeps happening."
)

# Who a key belongs to, if it is one that may sign in.
SigninCheck = Callable[[str], Awaitable[SignIn | None]]


@dataclass(frozen=True, slots=True)
class ValidRequest:
    client: OAuthClientInformationFull
    redirect_uri: str
    redirect_uri_explicit: bool
    params: dict[str, str]  # what the form carries, as the request sent it
    scopes: list[str]
    resource: str


class Refusal(Exception):
    """A request the page refuses: `page` (shown, status) or `redirect` (to the client)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class SigninEndpoint:
    def __init__(
        self,
        provider: CodifierOAuthProvider,
        signer: FormSigner,
        issuer: Callable[[Request], Issuer | None],
        check_key: SigninCheck,
        throttle: FailureThrottle,
    ) -> None:
        self.provider = provider
        self.signer = signer
        self.issuer = issuer
        self.check_key = check_key
        self.throttle = throttle

    async def __call__(self, request: Request) -> Response:
        try:
            return await self._answer(request)
        except DatabaseUnavailable:
            return signin_page(
                status=503, error="The server's database is unavailable; try again shortly."
            )
        except Exception:
            # Never a bare 500 or a traceback in the browser; the log keeps the details.
            logger.exception("the sign-in page failed on %s %s", request.method, request.url.path)
            return signin_page(status=500, error=INTERNAL_ERROR)

    async def _answer(self, request: Request) -> Response:
        issuer = self.issuer(request)
        if issuer is None:
            return signin_page(
                status=404,
                error="This server has no public address for sign-in; its operator sets"
                " CODIFIER_PUBLIC_URL.",
            )
        source: FormData | QueryParams
        address = request.client.host if request.client else ""
        # Decided in memory before anything else a post causes: no key is checked.
        wait = self.throttle.wait(address) if request.method == "POST" else 0
        try:
            source = request.query_params if request.method == "GET" else await request.form()
            valid = await self._validate(source, issuer)
        except Refusal as refusal:
            return refusal.response
        except DatabaseUnavailable:
            return signin_page(
                status=503, error="The server's database is unavailable; try again shortly."
            )
        if request.method == "GET":
            return self._form(valid, status=200)
        if wait:
            throttled = self._form(
                valid,
                status=429,
                error=f"Too many wrong keys were tried; wait {wait} seconds, then sign in"
                " again. Nothing was checked or issued.",
            )
            throttled.headers["Retry-After"] = str(wait)
            return throttled
        return await self._sign_in(request, source, valid, issuer, address)

    async def _validate(self, source: FormData | QueryParams, issuer: Issuer) -> ValidRequest:
        params: dict[str, str] = {}
        for name in PARAMS:
            value = source.get(name)
            if isinstance(value, str) and value:
                if len(value) > MAX_PARAM:
                    raise Refusal(
                        signin_page(status=400, error=f"The {name} parameter is too long.")
                    )
                if "\x00" in value:
                    raise Refusal(
                        signin_page(status=400, error=f"The {name} parameter holds a NUL.")
                    )
                params[name] = value
        client_id = params.get("client_id")
        try:
            client = await self.provider.find_client(client_id) if client_id else None
        except ClientDocumentError as error:
            raise Refusal(
                signin_page(status=400, error=f"This client cannot sign in here: {error}.")
            ) from None
        if client is None:
            raise Refusal(
                signin_page(
                    status=400,
                    error="This sign-in link names no client registered here; start again"
                    " from your MCP client.",
                )
            )
        raw_redirect = params.get("redirect_uri")
        try:
            redirect = client.validate_redirect_uri(AnyUrl(raw_redirect) if raw_redirect else None)
        except (InvalidRedirectUriError, ValidationError):
            raise Refusal(
                signin_page(
                    status=400,
                    error="The redirect URI is not one this client registered; nothing was sent"
                    " anywhere. Start again from your MCP client.",
                )
            ) from None
        redirect_uri = str(redirect)

        def refuse(error: ErrorCode, description: str) -> Refusal:
            location = construct_redirect_uri(
                redirect_uri,
                error=error,
                error_description=description,
                state=params.get("state"),
                iss=issuer.base,
            )
            return Refusal(_redirect(location))

        if params.get("response_type") != "code":
            raise refuse("unsupported_response_type", "response_type must be code")
        if not params.get("code_challenge"):
            raise refuse("invalid_request", "code_challenge is required (PKCE)")
        if params.get("code_challenge_method") != "S256":
            raise refuse("invalid_request", "code_challenge_method must be S256; plain is refused")
        resource = params.get("resource", issuer.resource)
        if resource != issuer.resource:
            raise refuse("invalid_target", f"this server's only resource is {issuer.resource}")
        try:
            scopes = client.validate_scope(params.get("scope")) or []
        except InvalidScopeError as error:
            raise refuse("invalid_scope", error.message) from None
        return ValidRequest(
            client=client,
            redirect_uri=redirect_uri,
            redirect_uri_explicit=raw_redirect is not None,
            params=params,
            scopes=scopes,
            resource=resource,
        )

    def _form(self, valid: ValidRequest, status: int, error: str | None = None) -> Response:
        nonce = self.signer.new_nonce()
        response = signin_page(
            status=status,
            params=valid.params,
            csrf_token=self.signer.token(nonce, valid.params),
            client_name=valid.client.client_name or "",
            redirect_uri=valid.redirect_uri,
            error=error,
        )
        secure = valid.redirect_uri.startswith("https://")
        response.set_cookie(
            COOKIE,
            nonce,
            max_age=self.signer.lifetime,
            path="/authorize",
            secure=secure,
            httponly=True,
            samesite="strict",
        )
        return response

    async def _sign_in(
        self,
        request: Request,
        form: FormData | QueryParams,
        valid: ValidRequest,
        issuer: Issuer,
        address: str,
    ) -> Response:
        token = form.get("csrf_token")
        if not isinstance(token, str) or not self.signer.valid(
            token, request.cookies.get(COOKIE), valid.params
        ):
            return signin_page(
                status=403,
                error="This form expired or did not come from this server's sign-in page;"
                " nothing was issued. Start again from your MCP client.",
                redirect_uri=valid.redirect_uri,
            )
        key = form.get("api_key")
        try:
            signed_in = await self.check_key(key.strip()) if isinstance(key, str) else None
        except DatabaseUnavailable:
            return signin_page(
                status=503, error="The server's database is unavailable; try again shortly."
            )
        if signed_in is None:
            self.throttle.failed(address)
            return self._form(
                valid,
                status=200,
                error="That key is not valid here (unknown or revoked). Enter a Codifier"
                " project key or the admin token.",
            )
        code = await self.provider.issue_code(
            client=valid.client,
            api_key_id=signed_in.api_key_id,
            resource=valid.resource,
            scopes=valid.scopes,
            code_challenge=valid.params["code_challenge"],
            redirect_uri=valid.redirect_uri,
            redirect_uri_explicit=valid.redirect_uri_explicit,
        )
        response = _redirect(
            construct_redirect_uri(
                valid.redirect_uri, code=code, state=valid.params.get("state"), iss=issuer.base
            )
        )
        response.delete_cookie(COOKIE, path="/authorize")
        return response


def _redirect(location: str) -> RedirectResponse:
    headers = page_headers(None)
    return RedirectResponse(location, status_code=302, headers=headers)
