"""read_snapshot, search_snapshot, list_snapshots and the digest resource: the code
context of stored snapshots, for the calling principal."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from codifier.server.access import Access, parse_id
from codifier.server.errors import CallError, invalid
from codifier.server.principal import Principal
from codifier.snapshots import SnapshotError
from codifier.snapshots.service import SearchMode, SnapshotService

MAX_PATH_CHARS = 4096


class CodeTools:
    def __init__(self, access: Access, snapshots: SnapshotService) -> None:
        self.access = access
        self.snapshots = snapshots

    async def read(
        self,
        who: Principal,
        snapshot_id: str,
        path: str | None,
        start_line: int | None,
        end_line: int | None,
        offset: int,
        limit: int,
    ) -> dict[str, Any]:
        target = _snapshot_id(snapshot_id)
        scope = self.access.scope_for(who)
        try:
            if path is None or path == "":
                if start_line is not None or end_line is not None:
                    raise invalid("start_line and end_line need a path: the file to read")
                return await self.snapshots.index(scope, target, offset, limit)
            if len(path) > MAX_PATH_CHARS or "\0" in path:
                raise invalid("path is not a file path of the snapshot; list them without path")
            return await self.snapshots.read(scope, target, path, start_line, end_line)
        except SnapshotError as error:
            raise CallError(error.code, str(error)) from None

    async def search(
        self,
        who: Principal,
        snapshot_id: str,
        query: str,
        mode: SearchMode,
        path: str | None,
        limit: int,
    ) -> dict[str, Any]:
        target = _snapshot_id(snapshot_id)
        try:
            return await self.snapshots.search(
                self.access.scope_for(who), target, query, mode, path, limit
            )
        except SnapshotError as error:
            raise CallError(error.code, str(error)) from None

    async def listing(
        self, who: Principal, project_id: str | None, url: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        project = await self.access.project_for(who, project_id, None)
        try:
            return await self.snapshots.listing(
                self.access.scope_for(who), project, url, limit, offset
            )
        except SnapshotError as error:
            raise CallError(error.code, str(error)) from None

    async def digest(self, who: Principal, snapshot_id: str) -> str:
        target = _snapshot_id(snapshot_id)
        try:
            return await self.snapshots.digest(self.access.scope_for(who), target)
        except SnapshotError as error:
            raise CallError(error.code, str(error)) from None


def _snapshot_id(value: str) -> UUID:
    found = parse_id(value, "snapshot_id")
    if found is None:
        raise invalid("snapshot_id is empty; pack_repo and list_snapshots give snapshot ids")
    return found
