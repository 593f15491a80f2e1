"""Packing a repository into a stored snapshot, and the Snapshot record playbooks see.

Local paths are packed only under the folders listed in CODIFIER_PACK_ROOTS (separated
like PATH): a key holder must not be able to read the server's own files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio

from codifier.packer import PackError, PackResult, pack
from codifier.packer.render import tree
from codifier.store import repositories
from codifier.store.database import Database, Scope

RESOURCE_PREFIX = "codifier://snapshots/"
PAGE_CHARS = 100_000  # one resource page: big enough to be useful, small enough to read
TREE_LINES = 400


class SnapshotError(RuntimeError):
    """A pack could not be made; the message is one line, safe to show."""


def _is_remote(source: str) -> bool:
    return source.startswith(("https://", "http://", "git@", "ssh://"))


def _local_source(source: str) -> Path:
    configured = os.environ.get("CODIFIER_PACK_ROOTS", "").split(os.pathsep)
    roots = [Path(r).resolve() for r in configured if r]
    path = Path(source).expanduser().resolve()
    if not any(path == root or root in path.parents for root in roots):
        raise SnapshotError(
            f"'{source}' is not a repository URL, and local paths are packed only under "
            "CODIFIER_PACK_ROOTS"
        )
    if not path.is_dir():
        raise SnapshotError(f"no directory {source}")
    return path


def snapshot_record(row: dict[str, Any]) -> dict[str, Any]:
    """A stored snapshot as the stdlib's Snapshot record."""
    summary = row["summary"]
    return {
        "id": row["id"],
        "url": row["url"],
        "version": row["version"],
        "label": row["label"],
        "commit": row["commit"],
        "file_count": row["file_count"],
        "token_count": row["token_count"],
        "resource_uri": f"{RESOURCE_PREFIX}{row['id']}",
        "tree": summary.get("tree", ""),
        "top_files": summary.get("top_files", []),
        "flagged_secrets": summary.get("flagged_secrets", []),
    }


def _summary(result: PackResult) -> dict[str, Any]:
    lines = tree(f.path for f in result.files)
    if len(lines) > TREE_LINES:
        lines = [*lines[:TREE_LINES], f"... ({len(lines) - TREE_LINES} more lines)"]
    return {
        "tree": "\n".join(lines),
        "top_files": [{"path": f.path, "tokens": f.tokens} for f in result.top_files],
        "flagged_secrets": sorted({s.path for s in result.flagged_secrets}),
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped][:500],
        "truncated": result.truncated,
    }


async def pack_and_store(
    db: Database,
    project_id: UUID,
    source: str,
    label: str | None,
    include: list[str] | None,
    exclude: list[str] | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    target: str | Path = source if _is_remote(source) else _local_source(source)

    def work() -> PackResult:
        return pack(
            target,
            include=include,
            exclude=exclude,
            on_progress=on_progress,
        )

    try:
        result = await anyio.to_thread.run_sync(work)
    except PackError as error:
        raise SnapshotError(str(error)) from None
    async with db.transaction(Scope.project(project_id)) as conn:
        row = await repositories.create(
            conn,
            project_id,
            url=result.source,
            label=label,
            commit=result.commit,
            content=result.text,
            file_count=result.file_count,
            token_count=result.token_count,
            summary=_summary(result),
        )
    return snapshot_record(row)
