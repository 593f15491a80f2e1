"""CSRF protection for the sign-in form: the page sets a random cookie (HttpOnly,
SameSite=Strict) and carries a token that is an HMAC of that cookie, the time, and every
authorization parameter. A post must bring both and they must match: another site can
neither read the token nor make the browser send the cookie, and a token cannot be moved
to other parameters (another client, redirect URI or PKCE challenge)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping

COOKIE = "codifier_signin"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class FormSigner:
    """Signs with a key made at start: a form outlives neither the process nor
    `lifetime` seconds (a restarted server asks the person to start again)."""

    def __init__(self, lifetime: int, key: bytes | None = None) -> None:
        self.lifetime = lifetime
        self._key = key or secrets.token_bytes(32)

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(32)

    def token(self, nonce: str, params: Mapping[str, str], issued: int | None = None) -> str:
        issued = int(time.time()) if issued is None else issued
        return f"{issued}.{self._mac(nonce, params, issued)}"

    def valid(self, token: str, nonce: str | None, params: Mapping[str, str]) -> bool:
        if not token or not nonce:
            return False
        issued_text, _, mac = token.partition(".")
        if not issued_text.isdigit() or len(issued_text) > 12:
            return False
        issued = int(issued_text)
        if not 0 <= time.time() - issued <= self.lifetime:
            return False
        return hmac.compare_digest(mac.encode(), self._mac(nonce, params, issued).encode())

    def _mac(self, nonce: str, params: Mapping[str, str], issued: int) -> str:
        message = json.dumps([nonce, issued, sorted(params.items())], separators=(",", ":"))
        return _b64(hmac.new(self._key, message.encode(), hashlib.sha256).digest())
