"""Who is calling: the admin (API_AUTH_TOKEN, or a local stdio user) or a project key.

HTTP requests are authenticated once, in middleware, and the principal travels to the
tools in a context variable. Its default is nobody, so a path that skipped the
middleware can do nothing.
"""

from __future__ import annotations

import hmac
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID

from codifier.store import keys
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


async def authenticate(
    authorization: str | None, admin_token: str | None, db: Database
) -> Principal | None:
    """The principal for an `Authorization: Bearer ...` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return ADMIN_PRINCIPAL
    if not token.startswith(keys.PREFIX):
        return None
    async with db.transaction(ADMIN) as conn:
        row = await keys.verify(conn, token)
    if row is None:
        return None
    project = row["project_id"]
    name = f"key:{row['name']}"
    if project is None:
        return Principal(f"key:{row['id']}", None, name)
    return Principal(f"key:{row['id']}", UUID(project), name)
