"""OAuth settings from the environment; each has a safe default."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from codifier.config import whole_number

HOUR = 3600
DAY = 24 * HOUR

# scheme://host[:port], no path: the address clients reach this server at.
_BASE_URL = re.compile(r"^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True, slots=True)
class OAuthSettings:
    # CODIFIER_OAUTH: "off" removes the authorization server and the metadata (bearer keys
    # keep working). On by default: clients whose only auth is OAuth need it.
    enabled: bool = True
    # CODIFIER_PUBLIC_URL: scheme://host[:port] clients reach the server at (behind a
    # proxy). Unset, a loopback-bound server uses the request's loopback Host; any other
    # server has no issuer (a Host header from the network is not trusted to name one).
    public_url: str | None = None
    access_token_seconds: int = HOUR  # CODIFIER_OAUTH_ACCESS_TOKEN_SECONDS
    refresh_token_seconds: int = 30 * DAY  # CODIFIER_OAUTH_REFRESH_TOKEN_SECONDS
    code_seconds: int = 300  # CODIFIER_OAUTH_CODE_SECONDS: an authorization code's life
    signin_seconds: int = 900  # CODIFIER_OAUTH_SIGNIN_SECONDS: how long a sign-in form is good
    # CODIFIER_OAUTH_CIMD: clients identified by an https URL to their metadata document
    # (client_documents.py), fetched from public addresses only. "off" closes it.
    client_documents: bool = True
    # CODIFIER_OAUTH_CIMD_ALLOW_PRIVATE: also fetch documents from private, loopback and
    # link-local addresses (and over http:// there). Off: such URLs are refused.
    client_documents_private: bool = False
    # Registration (/register) needs no credentials, so what it can store is bounded:
    # CODIFIER_OAUTH_MAX_CLIENTS clients at most (past it: 429, nothing written), and a
    # client never used for a sign-in is deleted after CODIFIER_OAUTH_UNUSED_CLIENT_SECONDS.
    max_clients: int = 10_000
    unused_client_seconds: int = DAY
    # Wrong keys at the sign-in page: at most CODIFIER_OAUTH_SIGNIN_FAILURES from one
    # address and CODIFIER_OAUTH_SIGNIN_GLOBAL_FAILURES from all addresses together within
    # CODIFIER_OAUTH_SIGNIN_WINDOW_SECONDS; past either, sign-in answers 429 until the
    # window moves on (throttle.py).
    signin_failures: int = 10
    signin_global_failures: int = 100
    signin_window_seconds: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OAuthSettings:
        """Raises ValueError naming the setting when a value cannot be used."""
        env = os.environ if environ is None else environ
        enabled = _switch(env, "CODIFIER_OAUTH", True)
        documents = _switch(env, "CODIFIER_OAUTH_CIMD", True)
        private = _switch(env, "CODIFIER_OAUTH_CIMD_ALLOW_PRIVATE", False)
        code_seconds = whole_number(env, "CODIFIER_OAUTH_CODE_SECONDS", 300, minimum=10)
        if code_seconds > 600:
            raise ValueError(
                f"CODIFIER_OAUTH_CODE_SECONDS must be at most 600 (RFC 6749), got {code_seconds}"
            )
        return cls(
            enabled=enabled,
            public_url=_public_url(env.get("CODIFIER_PUBLIC_URL", "")),
            access_token_seconds=whole_number(env, "CODIFIER_OAUTH_ACCESS_TOKEN_SECONDS", HOUR),
            refresh_token_seconds=whole_number(
                env, "CODIFIER_OAUTH_REFRESH_TOKEN_SECONDS", 30 * DAY
            ),
            code_seconds=code_seconds,
            signin_seconds=whole_number(env, "CODIFIER_OAUTH_SIGNIN_SECONDS", 900, minimum=60),
            client_documents=documents,
            client_documents_private=private,
            max_clients=whole_number(env, "CODIFIER_OAUTH_MAX_CLIENTS", 10_000),
            unused_client_seconds=whole_number(env, "CODIFIER_OAUTH_UNUSED_CLIENT_SECONDS", DAY),
            signin_failures=whole_number(env, "CODIFIER_OAUTH_SIGNIN_FAILURES", 10),
            signin_global_failures=whole_number(env, "CODIFIER_OAUTH_SIGNIN_GLOBAL_FAILURES", 100),
            signin_window_seconds=whole_number(env, "CODIFIER_OAUTH_SIGNIN_WINDOW_SECONDS", 300),
        )


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "1", "true", "yes"):
        return True
    if raw in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{name} must be on or off, got '{raw[:20]}'")


def _public_url(raw: str) -> str | None:
    value = raw.strip().rstrip("/")
    if not value:
        return None
    match = _BASE_URL.match(value)
    if not match:
        raise ValueError(
            f"CODIFIER_PUBLIC_URL holds '{value[:80]}', which is not a base URL;"
            " write https://host[:port] (no path)"
        )
    if match.group(1) != "https" and match.group(2).lower() not in _LOOPBACK_NAMES:
        raise ValueError(
            "CODIFIER_PUBLIC_URL must be https:// (OAuth sends tokens to it);"
            " http:// is accepted for 127.0.0.1, localhost and [::1] only"
        )
    return value


# An issuer URL: scheme://host[:port][/path], no query or fragment (OIDC Discovery §2).
_ISSUER_URL = re.compile(
    r"^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[^?#\s]*)?$"
)


@dataclass(frozen=True, slots=True)
class ExternalIssuerSettings:
    """An OpenID Connect issuer whose JWTs are accepted as bearer tokens (external.py).
    Unset (the default), no JWT counts."""

    # CODIFIER_OIDC_ISSUER: its issuer identifier, exactly as its tokens' `iss` says it.
    issuer: str | None = None
    # CODIFIER_OIDC_AUDIENCE: the `aud` its tokens must carry; unset: this server's
    # resource identifier (<public URL>/mcp, RFC 8707), as the MCP spec asks.
    audience: str | None = None
    # CODIFIER_OIDC_PROJECT_CLAIM: the claim naming the one project (by name or id) a
    # token may use; a token without it, or naming no project, is refused.
    project_claim: str = "codifier_project"
    # CODIFIER_OIDC_JWKS_SECONDS: how long its keys are used before being fetched again.
    jwks_seconds: int = 3600
    # CODIFIER_OIDC_REFETCH_SECONDS: a token signed with a key not in the set fetches the
    # set again (a rotation), at most once per this many seconds.
    refetch_seconds: int = 60

    @property
    def enabled(self) -> bool:
        return self.issuer is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExternalIssuerSettings:
        """Raises ValueError naming the setting when a value cannot be used."""
        env = os.environ if environ is None else environ
        claim = env.get("CODIFIER_OIDC_PROJECT_CLAIM", "").strip() or "codifier_project"
        if len(claim) > 200:
            raise ValueError("CODIFIER_OIDC_PROJECT_CLAIM must be a claim name (200 characters)")
        audience = env.get("CODIFIER_OIDC_AUDIENCE", "").strip() or None
        if audience is not None and len(audience) > 2000:
            raise ValueError("CODIFIER_OIDC_AUDIENCE must be at most 2000 characters")
        return cls(
            issuer=_issuer_url(env.get("CODIFIER_OIDC_ISSUER", "")),
            audience=audience,
            project_claim=claim,
            jwks_seconds=whole_number(env, "CODIFIER_OIDC_JWKS_SECONDS", 3600),
            refetch_seconds=whole_number(env, "CODIFIER_OIDC_REFETCH_SECONDS", 60),
        )


def _issuer_url(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    match = _ISSUER_URL.match(value)
    if not match or len(value) > 2000 or not value.isascii():
        raise ValueError(
            f"CODIFIER_OIDC_ISSUER holds '{value[:80]}', which is not an issuer URL;"
            " write https://host[:port][/path] (no query or fragment)"
        )
    if match.group(1) != "https" and match.group(2).lower() not in _LOOPBACK_NAMES:
        raise ValueError(
            "CODIFIER_OIDC_ISSUER must be https:// (its keys decide who gets in);"
            " http:// is accepted for 127.0.0.1, localhost and [::1] only"
        )
    return value
