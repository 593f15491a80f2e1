"""OAuth clients, grants, codes and tokens (migration 0006). Every function runs in an
admin-scoped transaction; codes and tokens arrive here already hashed.

A grant is one sign-in: the client, the key (or admin token) that signed in, and the
resource. Its code and its tokens live and die with it: revoking the grant, or the key it
names, ends them all."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from codifier.store.database import Connection, record

# A grant is live while it is not revoked and its signer still is: the key not revoked,
# or, for the admin token, the token the server runs with now ($admin: its hash or NULL).
_LIVE_GRANT = """
    g.revoked_at IS NULL
    AND (
        (g.api_key_id IS NOT NULL AND k.revoked_at IS NULL)
        OR (g.api_key_id IS NULL AND g.admin_token_hash = {admin})
    )
"""
_GRANT_COLUMNS = (
    "g.id AS grant_id, g.client_id, g.resource, g.scopes, g.api_key_id,"
    " k.project_id, k.name AS key_name"
)


# Registrations take this transaction-scoped advisory lock, so two of them cannot both
# count room for one more client and both insert.
_REGISTRATION_LOCK = 0x0C0D_1F1E_0A07


async def register_client(
    conn: Connection,
    client_id: str,
    metadata: dict[str, Any],
    *,
    max_clients: int,
    unused_seconds: int,
) -> float | None:
    """Save a newly registered client, unless `max_clients` clients exist once unused
    ones older than `unused_seconds` are gone. None when saved; otherwise nothing is
    written and the answer is the seconds until room may come (the oldest unused client
    expires)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _REGISTRATION_LOCK)
    await purge_unused_clients(conn, unused_seconds)
    count: int = await conn.fetchval("SELECT count(*) FROM oauth_clients")
    if count >= max_clients:
        wait = await conn.fetchval(
            "SELECT extract(epoch FROM min(created_at) + make_interval(secs => $1)"
            " - clock_timestamp()) FROM oauth_clients WHERE signed_in_at IS NULL",
            float(unused_seconds),
        )
        return float(unused_seconds) if wait is None else max(1.0, float(wait))
    await conn.execute(
        "INSERT INTO oauth_clients (client_id, metadata) VALUES ($1, $2::jsonb)",
        client_id,
        json.dumps(metadata),
    )
    return None


async def purge_unused_clients(conn: Connection, unused_seconds: int) -> None:
    """Clients registered more than `unused_seconds` ago that no one ever signed in with."""
    await conn.execute(
        "DELETE FROM oauth_clients WHERE signed_in_at IS NULL"
        " AND created_at < clock_timestamp() - make_interval(secs => $1)",
        float(unused_seconds),
    )


async def mark_signed_in(conn: Connection, client_id: str) -> None:
    """A sign-in went through this client: it is in use and no longer expires unused."""
    await conn.execute(
        "UPDATE oauth_clients SET signed_in_at = clock_timestamp() WHERE client_id = $1",
        client_id,
    )


async def remember_document_client(
    conn: Connection, client_id: str, metadata: dict[str, Any]
) -> None:
    """A client known by its metadata document: its grants need a row to belong to (the
    document itself is fetched again when its cache time runs out, not read from here)."""
    await conn.execute(
        "INSERT INTO oauth_clients (client_id, metadata, signed_in_at)"
        " VALUES ($1, $2::jsonb, clock_timestamp())"
        " ON CONFLICT (client_id) DO UPDATE SET metadata = EXCLUDED.metadata,"
        " signed_in_at = EXCLUDED.signed_in_at",
        client_id,
        json.dumps(metadata),
    )


async def load_client(
    conn: Connection, client_id: str, unused_seconds: int
) -> dict[str, Any] | None:
    """A registered client; one never used for a sign-in counts only while it is younger
    than `unused_seconds` (past that it is deleted at the next registration)."""
    raw = await conn.fetchval(
        "SELECT metadata FROM oauth_clients WHERE client_id = $1"
        " AND (signed_in_at IS NOT NULL"
        " OR created_at >= clock_timestamp() - make_interval(secs => $2))",
        client_id,
        float(unused_seconds),
    )
    if raw is None:
        return None
    loaded: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    return loaded


async def create_grant(
    conn: Connection,
    *,
    client_id: str,
    api_key_id: UUID | None,
    admin_token_hash: str | None,
    resource: str,
    scopes: list[str],
) -> UUID:
    grant_id: UUID = await conn.fetchval(
        "INSERT INTO oauth_grants (client_id, api_key_id, admin_token_hash, resource, scopes)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        client_id,
        api_key_id,
        admin_token_hash,
        resource,
        scopes,
    )
    return grant_id


async def save_code(
    conn: Connection,
    *,
    code_hash: str,
    grant_id: UUID,
    code_challenge: str,
    redirect_uri: str,
    redirect_uri_explicit: bool,
    seconds: int,
) -> None:
    await conn.execute(
        "INSERT INTO oauth_codes (code_hash, grant_id, code_challenge, redirect_uri,"
        " redirect_uri_explicit, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, clock_timestamp() + make_interval(secs => $6))",
        code_hash,
        grant_id,
        code_challenge,
        redirect_uri,
        redirect_uri_explicit,
        float(seconds),
    )


async def load_code(
    conn: Connection, code_hash: str, admin_hash: str | None
) -> dict[str, Any] | None:
    """The code with its grant (live grants only), used or not: the caller tells a first
    use from a replay by `used`."""
    return record(
        await conn.fetchrow(
            f"SELECT {_GRANT_COLUMNS}, c.code_challenge, c.redirect_uri,"
            " c.redirect_uri_explicit, extract(epoch FROM c.expires_at) AS expires_at,"
            " c.used_at IS NOT NULL AS used"
            " FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id"
            " LEFT JOIN api_keys k ON k.id = g.api_key_id"
            f" WHERE c.code_hash = $1 AND {_LIVE_GRANT.format(admin='$2')}",
            code_hash,
            admin_hash,
        )
    )


async def use_code(conn: Connection, code_hash: str) -> bool:
    """Mark the code used; False if it already was or has expired (single use, even when
    two exchanges race: the row lock decides)."""
    used = await conn.fetchval(
        "UPDATE oauth_codes SET used_at = clock_timestamp()"
        " WHERE code_hash = $1 AND used_at IS NULL AND expires_at > clock_timestamp()"
        " RETURNING code_hash",
        code_hash,
    )
    return used is not None


async def save_token(
    conn: Connection, *, token_hash: str, grant_id: UUID, kind: str, seconds: int
) -> None:
    await conn.execute(
        "INSERT INTO oauth_tokens (token_hash, grant_id, kind, expires_at)"
        " VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))",
        token_hash,
        grant_id,
        kind,
        float(seconds),
    )


async def load_token(
    conn: Connection, token_hash: str, kind: str, admin_hash: str | None
) -> dict[str, Any] | None:
    """An unexpired token of this kind with its live grant, used or not (`used`)."""
    return record(
        await conn.fetchrow(
            f"SELECT {_GRANT_COLUMNS}, extract(epoch FROM t.expires_at) AS expires_at,"
            " t.used_at IS NOT NULL AS used"
            " FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id"
            " LEFT JOIN api_keys k ON k.id = g.api_key_id"
            " WHERE t.token_hash = $1 AND t.kind = $3 AND t.expires_at > clock_timestamp()"
            f" AND {_LIVE_GRANT.format(admin='$2')}",
            token_hash,
            admin_hash,
            kind,
        )
    )


async def use_token(conn: Connection, token_hash: str) -> bool:
    """Mark a refresh token used (rotation); False if it already was."""
    used = await conn.fetchval(
        "UPDATE oauth_tokens SET used_at = clock_timestamp()"
        " WHERE token_hash = $1 AND used_at IS NULL RETURNING token_hash",
        token_hash,
    )
    return used is not None


async def revoke_grant(conn: Connection, grant_id: UUID) -> None:
    await conn.execute(
        "UPDATE oauth_grants SET revoked_at = clock_timestamp()"
        " WHERE id = $1 AND revoked_at IS NULL",
        grant_id,
    )


async def purge_expired(conn: Connection) -> None:
    """Expired codes and tokens are of no use to anyone; revoked grants take theirs along."""
    await conn.execute("DELETE FROM oauth_codes WHERE expires_at < clock_timestamp()")
    await conn.execute("DELETE FROM oauth_tokens WHERE expires_at < clock_timestamp()")
    await conn.execute(
        "DELETE FROM oauth_grants g WHERE revoked_at IS NOT NULL"
        " OR NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id)"
        " AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.grant_id = g.id)"
    )
