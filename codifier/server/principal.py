"""Who is calling: the admin (API_AUTH_TOKEN, or a local stdio user) or a project key,
directly or through an OAuth access token that one of them signed in for; or, when
CODIFIER_OIDC_ISSUER names one, a person with a JWT from that identity provider, scoped to
the project its token names (never the admin).

HTTP requests are authenticated once, in middleware, and the principal travels to the
tools in a context variable. Its default is nobody, so a path that skipped the
middleware can do nothing.
"""

from __future__ import annotations

import hmac
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID

from codifier.oauth.external import ExternalIssuer, looks_like_jwt
from codifier.oauth.provider import admin_token_hash
from codifier.oauth.tokens import ACCESS_PREFIX, secret_hash
from codifier.store import keys, projects
from codifier.store import oauth as oauth_store
from codifier.store.database import ADMIN, Database, Scope


@dataclass(frozen=True, slots=True)
class Principal:
    id: str  # "admin" or the key's id: whose default project `switch` sets
    project_id: UUID | None  # a project key's project; None for the admin
    name: str = "admin"  # who wrote a memory: "admin", or "key:<the key's name>"

    @property
    def is_admin(self) -> bool:
        return self.project_id is None

    def scope(self, project_id: UUID) -> Scope:
        return Scope.project(project_id)


ADMIN_PRINCIPAL = Principal("admin", None)

current_principal: ContextVar[Principal | None] = ContextVar("codifier_principal", default=None)


@dataclass(frozen=True, slots=True)
class SignIn:
    """Who signed in at the OAuth sign-in page."""

    principal: Principal
    api_key_id: UUID | None  # None: the admin token


async def authenticate(
    authorization: str | None,
    admin_token: str | None,
    db: Database,
    resource: str | None = None,
    external: ExternalIssuer | None = None,
) -> Principal | None:
    """The principal for an `Authorization: Bearer ...` header, or None. `resource` is
    this server's OAuth resource as the request reached it: an OAuth access token counts
    only if it was issued for exactly that (RFC 8707); None accepts no OAuth token.
    `external`: the OIDC issuer whose JWTs count too (tried last, for JWTs only)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    if token.startswith(ACCESS_PREFIX):
        return await _oauth_principal(token, admin_token, db, resource)
    signed_in = await signin_key(token, admin_token, db)
    if signed_in is not None:
        return signed_in.principal
    if external is not None and looks_like_jwt(token):
        return await _external_principal(token, external, db, resource)
    return None


async def signin_key(secret: str, admin_token: str | None, db: Database) -> SignIn | None:
    """The admin token or a live project key (the only things that sign in), or None."""
    if admin_token and hmac.compare_digest(secret.encode(), admin_token.encode()):
        return SignIn(ADMIN_PRINCIPAL, None)
    if not secret.startswith(keys.PREFIX):
        return None
    async with db.transaction(ADMIN) as conn:
        row = await keys.verify(conn, secret)
    if row is None:
        return None
    return SignIn(_key_principal(row["id"], row["project_id"], row["name"]), UUID(str(row["id"])))


async def _oauth_principal(
    token: str, admin_token: str | None, db: Database, resource: str | None
) -> Principal | None:
    """The principal of the key (or admin token) that signed in for this access token,
    while the token is unexpired, its grant and that key unrevoked, and it is for here."""
    if resource is None:
        return None
    async with db.transaction(ADMIN) as conn:
        row = await oauth_store.load_token(
            conn, secret_hash(token), "access", admin_token_hash(admin_token)
        )
    if row is None or row["resource"] != resource:
        return None
    if row["api_key_id"] is None:
        return ADMIN_PRINCIPAL
    return _key_principal(row["api_key_id"], row["project_id"], row["key_name"])


async def _external_principal(
    token: str, external: ExternalIssuer, db: Database, resource: str | None
) -> Principal | None:
    """A project-scoped principal for a valid JWT whose project claim names an existing
    project (by id, else by name); its name says who: `oidc:<sub>`."""
    identity = await external.verify(token, resource)
    if identity is None:
        return None
    project_id = _uuid(identity.project)
    async with db.transaction(ADMIN) as conn:
        project = await projects.get(conn, project_id) if project_id else None
        if project is None:
            project = await projects.find(conn, identity.project)
    if project is None:
        return None
    who = f"oidc:{identity.subject}"
    return Principal(who, UUID(str(project["id"])), who)


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _key_principal(key_id: object, project: object, name: str) -> Principal:
    if project is None:
        return Principal(f"key:{key_id}", None, f"key:{name}")
    return Principal(f"key:{key_id}", UUID(str(project)), f"key:{name}")
