"""Client ID Metadata Documents (MCP 2025-11-25 authorization, "Client ID Metadata
Documents"): a client whose client_id is an https URL is described by the JSON document
at that URL, which this server fetches.

The fetch is the server reaching out on behalf of whoever sent the authorization
request, so it is bounded: https only, no redirects, a few seconds, a small body, and no
address on a private, loopback or link-local network unless the operator opens that
(CODIFIER_OAUTH_CIMD_ALLOW_PRIVATE, for clients inside the same network and for tests;
it also lets http:// URLs through). Documents are cached briefly (their max-age, kept
between one minute and an hour).

Known limit: the name is resolved and checked, then resolved again by the HTTP client, so a
DNS answer that changes between the two (rebinding) is not caught."""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlsplit

import anyio
import httpx2
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import ValidationError

MAX_BYTES = 64 * 1024
TIMEOUT_SECONDS = 5.0
CACHE_SECONDS = (60, 3600)  # bounds on how long a document is trusted without refetching
CACHE_DEFAULT = 300
CACHE_ENTRIES = 1000


class ClientDocumentError(Exception):
    """Why a client_id URL does not describe a client (one sentence)."""


def is_document_url(client_id: str) -> bool:
    return client_id.startswith(("https://", "http://"))


class ClientDocuments:
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._cache: dict[str, tuple[float, OAuthClientInformationFull]] = {}

    async def get(self, client_id: str) -> OAuthClientInformationFull:
        cached = self._cache.get(client_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        client, seconds = await self._fetch(client_id)
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache.clear()
        self._cache[client_id] = (time.monotonic() + seconds, client)
        return client

    async def _fetch(self, url: str) -> tuple[OAuthClientInformationFull, float]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.fragment or parts.username or parts.password or parts.path in ("", "/"):
            raise ClientDocumentError(
                "a client_id URL must have a path and no fragment or credentials"
            )
        if parts.scheme != "https" and not self.allow_private:
            raise ClientDocumentError("a client_id URL must be https")
        await self._check_host(host, parts.port or (443 if parts.scheme == "https" else 80))
        try:
            async with (
                httpx2.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http,
                http.stream("GET", url, headers={"Accept": "application/json"}) as response,
            ):
                if response.status_code != 200:
                    raise ClientDocumentError(
                        f"the client_id URL answered HTTP {response.status_code}, not a document"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_BYTES:
                        raise ClientDocumentError(
                            f"the client metadata document is larger than {MAX_BYTES} bytes"
                        )
                max_age = _max_age(response.headers.get("cache-control", ""))
        except httpx2.HTTPError:
            raise ClientDocumentError("the client_id URL could not be fetched") from None
        try:
            client = OAuthClientInformationFull.model_validate_json(bytes(body))
        except ValidationError:
            raise ClientDocumentError(
                "the client metadata document is not valid JSON client metadata"
            ) from None
        if client.client_id != url:
            raise ClientDocumentError("the document's client_id is not the URL it was fetched from")
        if client.client_secret or client.token_endpoint_auth_method not in (None, "none"):
            raise ClientDocumentError("a client metadata document describes a public client only")
        if not client.redirect_uris:
            raise ClientDocumentError("the client metadata document lists no redirect_uris")
        client.token_endpoint_auth_method = "none"
        return client, max_age

    async def _check_host(self, host: str, port: int) -> None:
        """Every address the name resolves to must be public (unless opened)."""
        if self.allow_private:
            return
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise ClientDocumentError("the client_id URL's host does not resolve") from None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if not address.is_global:
                raise ClientDocumentError(
                    "the client_id URL points into a private network, which this server does"
                    " not fetch from"
                )


def _max_age(cache_control: str) -> float:
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.isdigit():
            low, high = CACHE_SECONDS
            return float(min(max(int(value), low), high))
    return float(CACHE_DEFAULT)
