"""Query results as the stdlib's QueryResult, capped at 100 KB of UTF-8."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Iterable, Sequence, Sized
from typing import Any

MAX_RESULT_BYTES = 100 * 1024
_NOTICE_ROOM = 160  # bytes kept for the truncation notice
_LONGEST_COUNT = 10**18  # room for the row count of a stream, not known in advance


def _plain(value: Any) -> Any:
    """A JSON value for a cell (dates as ISO text, decimals as numbers)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _cut_text(text: str, budget: int) -> str:
    """The longest prefix of `text` whose UTF-8 fits in `budget` bytes (whole characters)."""
    return text.encode("utf-8")[: max(budget, 0)].decode("utf-8", errors="ignore")


def query_result(sql: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """Rows are kept while the result's JSON stays within MAX_RESULT_BYTES; a single
    oversized cell is cut on a character boundary. The notice says what was dropped.

    `rows` may be a list, whose length is the row count, or a stream (a DuckDB result read
    in batches): reading stops at the first row that does not fit, so an endless result
    costs no more than the cap. A stream cut short is not counted to its end: `row_count`
    is then the rows read, a lower bound, and the notice says "at least"."""
    total = len(rows) if isinstance(rows, Sized) else None
    kept: list[list[Any]] = []
    # The result with no rows and the longest notice, as it will be serialized; each row
    # then adds its own JSON and a ", " separator.
    skeleton = {
        "sql": sql,
        "columns": columns,
        "rows": [],
        "row_count": total if total is not None else _LONGEST_COUNT,
        "truncated": True,
        "notice": "x" * _NOTICE_ROOM,
    }
    used = len(json.dumps(skeleton, ensure_ascii=False).encode("utf-8"))
    truncated = False
    read = 0
    for row in rows:
        read += 1
        plain = [_plain(v) for v in row]
        size = len(json.dumps(plain, ensure_ascii=False).encode("utf-8")) + 2
        if used + size > MAX_RESULT_BYTES:
            truncated = True
            if not kept:  # one huge row: keep what fits of its text cells
                budget = MAX_RESULT_BYTES - used - 64 * len(plain)
                share = budget // max(len(plain), 1)
                kept.append([_cut_text(v, share) if isinstance(v, str) else v for v in plain])
            break
        kept.append(plain)
        used += size
    notice = None
    if truncated and total is not None:
        notice = (
            f"truncated: {len(kept)} of {total} rows fit in {MAX_RESULT_BYTES // 1024} KB;"
            " aggregate or add a LIMIT to see the rest"
        )
    elif truncated:
        notice = (
            f"truncated: the first {len(kept)} rows fit in {MAX_RESULT_BYTES // 1024} KB;"
            f" the query returns at least {read}; aggregate or add a LIMIT to see the rest"
        )
    return {
        "sql": sql,
        "columns": columns,
        "rows": kept,
        "row_count": total if total is not None else read,
        "truncated": truncated,
        "notice": notice,
    }


def no_rows(sql: str, notice: str) -> dict[str, Any]:
    """A query that gave no rows (refused, timed out, failed), as a result the playbook's
    later steps can still read."""
    return {
        "sql": sql,
        "columns": [],
        "rows": [],
        "row_count": 0,
        "truncated": False,
        "notice": notice,
    }


def table_schema(table: str, schema: str, rows: list[Any]) -> dict[str, Any]:
    """The stdlib's TableSchema from information_schema rows of
    (column_name, data_type, is_nullable)."""
    return {
        "name": table,
        "database": schema,
        "columns": [
            {
                "name": str(name),
                "type": str(kind),
                "nullable": nullable == "YES",
                "description": None,
            }
            for name, kind, nullable in rows
        ],
    }
