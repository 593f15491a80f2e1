"""JWTs from an external OpenID Connect issuer (CODIFIER_OIDC_ISSUER) as bearer tokens,
for teams that already run an identity provider.

A token counts when joserfc verifies its signature with one of the issuer's keys
(jwks.py) under RS256 or ES256 (never `none`, never a shared-secret HS*), its `iss` is
the issuer, its `aud` this server (CODIFIER_OIDC_AUDIENCE, else the resource identifier),
it has not expired and is not early (`exp`, `nbf`, with LEEWAY_SECONDS for clocks), and it
names a subject and, in CODIFIER_OIDC_PROJECT_CLAIM, one project. The header is read
first, unverified, only to refuse other algorithms and pick the key: nothing from it is
trusted before the signature is."""

from __future__ import annotations

import re
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError

from codifier.oauth.jwks import IssuerKeys
from codifier.oauth.settings import ExternalIssuerSettings

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 30
MAX_TOKEN = 16 * 1024  # characters; a JWT from an identity provider is a few KiB at most
MAX_CLAIM = 255  # characters of a subject or project name worth looking up
_COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    subject: str  # the token's `sub`
    project: str  # the project claim: a project's name or id


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts (a compact JWS), of a size an identity provider sends."""
    return len(token) <= MAX_TOKEN and _COMPACT_JWS.match(token) is not None


class ExternalIssuer:
    def __init__(self, settings: ExternalIssuerSettings, keys: IssuerKeys | None = None) -> None:
        assert settings.issuer is not None
        self.settings = settings
        self.issuer: str = settings.issuer
        self.keys = keys or IssuerKeys(settings)

    async def verify(self, token: str, resource: str | None) -> ExternalIdentity | None:
        """Who the token is for, or None when it does not count here. `resource` is this
        server's resource identifier as the request reached it (the default audience)."""
        audience = self.settings.audience or resource
        if audience is None or not looks_like_jwt(token):
            return None
        try:
            header = jws.extract_compact(token.encode("ascii")).protected
        except (JoseError, ValueError, UnicodeError):
            return None
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, (str, type(None))):
            return None  # refused before any key is fetched
        keys = await self.keys.key_set(kid)
        if keys is None:
            return None
        try:
            claims = jwt.decode(token, keys, algorithms=list(ALGORITHMS)).claims
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError, TypeError):
            return None
        subject, project = claims.get("sub"), claims.get(self.settings.project_claim)
        if not isinstance(subject, str) or not isinstance(project, str):
            return None
        if not (_usable(subject) and _usable(project)):
            return None
        return ExternalIdentity(subject, project)


def _usable(value: str) -> bool:
    return 0 < len(value) <= MAX_CLAIM and "\x00" not in value
