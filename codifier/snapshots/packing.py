"""Packing a repository into a stored snapshot, and the Snapshot record playbooks see.

Local paths are packed only under the folders listed in CODIFIER_PACK_ROOTS (separated
like PATH): a key holder must not be able to read the server's own files. The path must
be absolute, and its real path (every symlink resolved) must lie inside a root's real
path; a source that is not a parsed remote URL (say `git@nothing`) is a local path like
any other. All packing work, the roots check included, runs on a worker thread: the
event loop only waits. Each project stores at most CODIFIER_PROJECT_SNAPSHOT_BYTES of
snapshot text (`[quota]` beyond).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio

from codifier.packer import PackError, PackResult, pack
from codifier.packer.clone import parse_remote
from codifier.packer.render import tree
from codifier.packer.result import PackBusy
from codifier.packer.settings import PackSettings, SettingsError
from codifier.snapshots.errors import (
    RESOURCE_PREFIX,
    PackersBusy,
    QuotaExceeded,
    SnapshotError,
)
from codifier.snapshots.texts import FileSpan, SnapshotText, layout
from codifier.store import repositories, snapshot_files
from codifier.store.database import Database, Scope
from codifier.store.snapshot_files import IndexedFile

if TYPE_CHECKING:
    from codifier.codemap.digest import Digest

TREE_LINES = 400


def _is_remote(source: str) -> bool:
    try:
        return parse_remote(source) is not None
    except PackError as error:
        raise SnapshotError(str(error)) from None


def _local_source(source: str, settings: PackSettings) -> Path:
    """The real path of `source` when it is a directory inside a pack root; blocking
    filesystem calls, so it runs on the worker thread."""
    refused = SnapshotError(
        f"'{source}' is not a repository URL, and local paths are packed only when"
        " absolute and under CODIFIER_PACK_ROOTS: give an https URL or such a path"
    )
    given = Path(source).expanduser()
    if not given.is_absolute():
        raise refused
    roots = [Path(root).resolve() for root in settings.roots if Path(root).is_absolute()]
    path = given.resolve()
    if not any(path == root or root in path.parents for root in roots):
        raise refused
    if not path.is_dir():
        raise SnapshotError(f"no directory {source}: give a directory under CODIFIER_PACK_ROOTS")
    return path


def snapshot_record(row: dict[str, Any]) -> dict[str, Any]:
    """A stored snapshot as the stdlib's Snapshot record."""
    summary = row["summary"]
    facts = row.get("code_facts") or {}
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
        "digest": row.get("digest") or "",
        "digest_uri": f"{RESOURCE_PREFIX}{row['id']}/digest",
        "languages": [str(x) for x in facts.get("languages", [])],
        "test_frameworks": [str(x) for x in facts.get("test_frameworks", [])],
    }


def code_facts(digest: Digest) -> dict[str, Any]:
    """What the digest found, kept beside it: for templates, tools and the embedder."""
    return {
        "languages": [name for name, _, _ in digest.languages],
        "test_frameworks": list(digest.test_frameworks),
        "central": list(digest.central),
        "digest_tokens": digest.tokens,
    }


def index_rows(result: PackResult) -> list[IndexedFile]:
    return [
        IndexedFile(f.path, f.language, f.lines, f.tokens, f.bytes, f.offset, f.length)
        for f in result.files
    ]


def text_layout(result: PackResult) -> SnapshotText:
    spans = [FileSpan(f.path, f.language, f.offset, f.length) for f in result.files]
    return layout(result.text, spans)


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
    *,
    digest_tokens: int = 8000,
    semantic: bool = False,
    keep_text: Callable[[UUID, SnapshotText], None] | None = None,
) -> dict[str, Any]:
    """Pack `source`, then store the snapshot with its file index and digest in one
    transaction. `semantic` marks it for the background chunk embedder; `keep_text`
    receives the laid-out text (the read and search cache) once it is stored."""
    try:
        settings = PackSettings.from_env()
    except SettingsError as error:
        raise SnapshotError(str(error)) from None
    async with db.transaction(Scope.project(project_id)) as conn:
        used = await repositories.stored_bytes(conn, project_id)
    _check_quota(used, 0, settings)  # already full: refuse before cloning anything
    cancel = threading.Event()

    def work() -> tuple[PackResult, dict[str, Any], int, Digest, SnapshotText]:
        # Imported here: tree-sitter and numpy load only in a process that packs, not in
        # every CLI command that imports the server (codifier check starts faster).
        from codifier.codemap.digest import build_digest

        target: str | Path = source if _is_remote(source) else _local_source(source, settings)
        result = pack(
            target,
            include=include,
            exclude=exclude,
            on_progress=on_progress,
            settings=settings,
            cancel=cancel,
        )
        digest = build_digest(result, digest_tokens)
        text = text_layout(result)
        return result, _summary(result), len(result.text.encode()), digest, text

    try:
        # Abandoned on cancellation (the client went away): `cancel` then stops the
        # worker at its next check and kills its git, instead of cloning on unseen.
        result, summary, size, digest, text = await anyio.to_thread.run_sync(
            work, abandon_on_cancel=True
        )
    except PackBusy as error:
        raise PackersBusy(str(error)) from None
    except PackError as error:
        raise SnapshotError(str(error)) from None
    finally:
        cancel.set()
    async with db.transaction(Scope.project(project_id)) as conn:
        await repositories.lock_project(conn, project_id)
        _check_quota(await repositories.stored_bytes(conn, project_id), size, settings)
        row = await repositories.create(
            conn,
            project_id,
            url=result.source,
            label=label,
            commit=result.commit,
            content=result.text,
            file_count=result.file_count,
            token_count=result.token_count,
            summary=summary,
            digest=digest.text,
            code_facts=code_facts(digest),
            semantic={"status": "pending" if semantic else "off"},
        )
        await snapshot_files.insert(conn, row["id"], project_id, index_rows(result))
    if keep_text is not None:
        keep_text(UUID(row["id"]), text)
    return snapshot_record(row)


def _check_quota(used: int, adding: int, settings: PackSettings) -> None:
    limit = settings.project_snapshot_bytes
    if adding == 0 and used >= limit:
        raise QuotaExceeded(
            f"this project already stores {used:,} bytes of snapshots, the limit"
            f" (CODIFIER_PROJECT_SNAPSHOT_BYTES) is {limit:,}: ask the operator to raise it"
        )
    if used + adding > limit:
        raise QuotaExceeded(
            f"this snapshot has {adding:,} bytes and the project already stores {used:,},"
            f" past the {limit:,}-byte limit (CODIFIER_PROJECT_SNAPSHOT_BYTES): pack less"
            " with include or exclude patterns, or ask the operator to raise the limit"
        )
