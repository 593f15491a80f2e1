"""A snapshot's file index: one row per packed file, in pack order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

from codifier.store.database import Connection, record


class IndexedFile(NamedTuple):
    path: str
    language: str
    lines: int
    tokens: int
    bytes: int
    text_offset: int  # character offset of the content in the snapshot's text
    text_length: int  # characters of content


async def insert(
    conn: Connection, snapshot_id: UUID, project_id: UUID, files: Sequence[IndexedFile]
) -> None:
    """All rows in one statement (COPY is refused on tables with row-level security)."""
    if not files:
        return
    await conn.execute(
        "INSERT INTO snapshot_files (snapshot_id, project_id, ordinal, path, language, lines,"
        " tokens, bytes, text_offset, text_length)"
        " SELECT $1, $2, o, p, l, n, t, b, s, c FROM unnest($3::int[], $4::text[],"
        " $5::text[], $6::int[], $7::int[], $8::int[], $9::bigint[], $10::bigint[])"
        " AS u(o, p, l, n, t, b, s, c)",
        snapshot_id,
        project_id,
        list(range(len(files))),
        [f.path for f in files],
        [f.language for f in files],
        [f.lines for f in files],
        [f.tokens for f in files],
        [f.bytes for f in files],
        [f.text_offset for f in files],
        [f.text_length for f in files],
    )


async def page(
    conn: Connection, snapshot_id: UUID, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT path, language, lines, tokens, bytes, text_offset FROM snapshot_files"
        " WHERE snapshot_id = $1 ORDER BY ordinal LIMIT $2 OFFSET $3",
        snapshot_id,
        limit,
        offset,
    )
    return [r for row in rows if (r := record(row)) is not None]


async def everything(conn: Connection, snapshot_id: UUID) -> list[IndexedFile]:
    rows = await conn.fetch(
        "SELECT path, language, lines, tokens, bytes, text_offset, text_length"
        " FROM snapshot_files WHERE snapshot_id = $1 ORDER BY ordinal",
        snapshot_id,
    )
    return [IndexedFile(*row) for row in rows]
