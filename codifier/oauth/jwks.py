"""An external OpenID Connect issuer's signing keys: its discovery document
(`<issuer>/.well-known/openid-configuration`) names its `jwks_uri`, whose key set is
fetched and kept for a while.

A caller without credentials decides when a fetch happens (by sending a token signed with
a key the set lacks), so fetching is bounded: a few seconds, a small body, no redirects,
one fetch at a time, and a refetch for an unknown key at most once per
`refetch_seconds`. A failed fetch keeps the keys already known (the issuer being down for
a moment does not lock everyone out) and is logged."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx2
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from codifier.oauth.settings import ExternalIssuerSettings

MAX_BYTES = 256 * 1024
TIMEOUT_SECONDS = 5.0
# Only keys that can verify the algorithms accepted (external.py): RSA and EC.
KEY_TYPES = ("RSA", "EC")
MAX_KEYS = 100

logger = logging.getLogger("codifier.oauth")


class IssuerUnreachable(Exception):
    """Why the issuer's discovery document or keys could not be used (one sentence)."""


class IssuerKeys:
    def __init__(
        self, settings: ExternalIssuerSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        assert settings.issuer is not None
        self.issuer = settings.issuer
        self.settings = settings
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None  # the last attempt, successful or not
        self._loaded_at: float | None = None  # the last success
        self._lock = anyio.Lock()

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    async def key_set(self, kid: str | None) -> KeySet | None:
        """The issuer's keys, fetched again when they are older than jwks_seconds, or
        when `kid` is not among them and no fetch happened in the last refetch_seconds.
        None when no keys were ever fetched."""
        if self._fresh() and self._knows(kid):
            return self._keys
        async with self._lock:  # one fetch at a time; the others use its result
            if self._fresh() and self._knows(kid):
                return self._keys
            if self._may_fetch():
                await self._refresh()
        return self._keys

    def _fresh(self) -> bool:
        loaded = self._loaded_at
        return loaded is not None and self._clock() - loaded < self.settings.jwks_seconds

    def _knows(self, kid: str | None) -> bool:
        keys = self._keys
        if keys is None:
            return False
        return kid is None or any(key.kid == kid for key in keys.keys)

    def _may_fetch(self) -> bool:
        """Whatever the reason (stale keys, an unknown kid, nothing loaded yet), the
        issuer is asked at most once per refetch_seconds, failing or not."""
        last = self._fetched_at
        return last is None or self._clock() - last >= self.settings.refetch_seconds

    async def _refresh(self) -> None:
        self._fetched_at = self._clock()
        try:
            with anyio.fail_after(2 * TIMEOUT_SECONDS + 1):
                keys = await self._fetch_keys()
        except (IssuerUnreachable, TimeoutError) as error:
            reason = str(error) or "it did not answer in time"
            logger.warning("the OIDC issuer's keys could not be fetched: %s", reason)
            return
        self._keys = keys
        self._loaded_at = self._clock()

    async def _fetch_keys(self) -> KeySet:
        async with httpx2.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
            discovery = await _get_json(http, self.discovery_url)
            if discovery.get("issuer") != self.issuer:  # OIDC Discovery §4.3
                raise IssuerUnreachable(
                    "its discovery document names another issuer than CODIFIER_OIDC_ISSUER"
                )
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not _same_scheme_rules(jwks_uri, self.issuer):
                raise IssuerUnreachable("its discovery document has no usable jwks_uri")
            document = await _get_json(http, jwks_uri)
        found = document.get("keys")
        if not isinstance(found, list):
            raise IssuerUnreachable("its jwks_uri holds no key set")
        usable = [
            key
            for key in found[:MAX_KEYS]
            if isinstance(key, dict)
            and key.get("kty") in KEY_TYPES
            and key.get("use", "sig") == "sig"
            and "d" not in key  # a private key published by mistake is not used
        ]
        try:
            return KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError):
            raise IssuerUnreachable("its key set holds a key that cannot be read") from None


def _same_scheme_rules(url: str, issuer: str) -> bool:
    """https, or http when the issuer itself is a loopback http one (tests, local IdPs)."""
    return url.startswith("https://") or (
        url.startswith("http://") and issuer.startswith("http://")
    )


async def _get_json(http: httpx2.AsyncClient, url: str) -> dict[str, Any]:
    try:
        async with http.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise IssuerUnreachable(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_BYTES:
                    raise IssuerUnreachable(f"{url} answered more than {MAX_BYTES} bytes")
    except httpx2.HTTPError:
        raise IssuerUnreachable(f"{url} could not be fetched") from None
    try:
        loaded = json.loads(bytes(body))
    except ValueError:
        raise IssuerUnreachable(f"{url} did not answer JSON") from None
    if not isinstance(loaded, dict):
        raise IssuerUnreachable(f"{url} did not answer a JSON object")
    return loaded
