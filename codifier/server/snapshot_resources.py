"""Snapshots as listed MCP resources: resources/list gives the caller's newest snapshots,
each as its packed text (codifier://snapshots/<id>, read in pages) and its digest
(codifier://snapshots/<id>/digest). A project key lists its project's snapshots only
(row-level security holds underneath); the admin lists every project's. The list is
bounded (CODIFIER_LISTED_SNAPSHOTS, newest first); list_snapshots pages through all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp_types import Resource

from codifier.config import whole_number
from codifier.server.principal import Principal
from codifier.server.services import Services
from codifier.snapshots import PAGE_CHARS, RESOURCE_PREFIX
from codifier.store import repositories

LISTED_SNAPSHOTS_SETTING = "CODIFIER_LISTED_SNAPSHOTS"
DEFAULT_LISTED_SNAPSHOTS = 100
MOST_LISTED_SNAPSHOTS = 1000


@dataclass(frozen=True, slots=True)
class ListingSettings:
    snapshots: int = DEFAULT_LISTED_SNAPSHOTS  # newest snapshots resources/list names

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ListingSettings:
        env = os.environ if environ is None else environ
        count = whole_number(env, LISTED_SNAPSHOTS_SETTING, DEFAULT_LISTED_SNAPSHOTS)
        if count > MOST_LISTED_SNAPSHOTS:
            raise ValueError(
                f"{LISTED_SNAPSHOTS_SETTING} must be at most {MOST_LISTED_SNAPSHOTS}, got {count}"
            )
        return cls(count)


async def snapshot_resources(who: Principal, services: Services) -> list[Resource]:
    most = ListingSettings.from_env().snapshots
    project = who.project_id  # None for the admin: every project
    async with services.db.transaction(services.access.scope_for(who)) as conn:
        rows, _ = await repositories.listing(conn, project, None, most, 0)
    listed: list[Resource] = []
    for row in rows:
        listed.extend(_resources(row))
    return listed


def _resources(row: dict[str, Any]) -> list[Resource]:
    snapshot = f"{RESOURCE_PREFIX}{row['id']}"
    label = f" ({row['label']})" if row.get("label") else ""
    what = f"{row['url']} v{row['version']}{label}"
    pages = f"{PAGE_CHARS:,} characters a page; the first names the next"
    return [
        Resource(
            uri=snapshot,
            name=f"snapshot {what}",
            title=f"Snapshot of {what}",
            description=(
                f"The packed text of {what}: {row['file_count']:,} files,"
                f" {row['token_count']:,} tokens, packed {row['created_at']} ({pages})."
            ),
            mime_type="text/markdown",
        ),
        Resource(
            uri=f"{snapshot}/digest",
            name=f"digest {what}",
            title=f"Digest of {what}",
            description=(
                f"A token-budgeted overview of {what}: README head, manifests, tree,"
                " outlines of the central modules."
            ),
            mime_type="text/markdown",
        ),
    ]
