"""The read-only SQL guard: every SQL text passes here before any engine sees it.

A query is accepted only if it parses as exactly one statement whose root is a query and
whose tree holds no write, DDL, command or file-reading node anywhere (a DELETE inside a
CTE, SELECT INTO, COPY, ATTACH, read_csv('/etc/passwd') ...). The engines are locked down
as well; this guard is the first of two walls, not the only one.
"""

from __future__ import annotations

import logging

import sqlglot
from sqlglot import expressions as exp
from sqlglot.errors import SqlglotError

# sqlglot warns on stderr when it keeps unknown syntax as a Command; the guard refuses
# those with its own message, so the warning is only noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_FORBIDDEN: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Set,
    exp.Pragma,
    exp.Into,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.LoadData,
    exp.Grant,
    exp.Revoke,
    exp.Analyze,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.Export,
)

# Table functions that read files or URLs (DuckDB and friends).
_FILE_FUNCTIONS = {
    "read_csv",
    "read_csv_auto",
    "read_parquet",
    "parquet_scan",
    "read_json",
    "read_json_auto",
    "read_json_objects",
    "read_ndjson",
    "read_ndjson_auto",
    "read_ndjson_objects",
    "read_text",
    "read_blob",
    "read_xlsx",
    "glob",
    "sniff_csv",
    "parquet_metadata",
    "parquet_schema",
    "parquet_file_metadata",
    "parquet_kv_metadata",
    "iceberg_scan",
    "delta_scan",
    "sqlite_scan",
    "postgres_scan",
    "mysql_scan",
    "query_table",
    "query",
}
# Functions that change state although they sit inside a SELECT.
_STATEFUL_FUNCTIONS = {"nextval", "setval", "pg_advisory_lock", "set_config", "lo_import"}


# DuckDB reads `FROM 'data.csv'` (sqlglot parses it as a quoted name) as a file.
_FILE_SUFFIXES = (
    ".csv",
    ".tsv",
    ".parquet",
    ".json",
    ".ndjson",
    ".jsonl",
    ".txt",
    ".gz",
    ".zst",
    ".xlsx",
    ".db",
    ".duckdb",
    ".sqlite",
    ".arrow",
    ".avro",
)


def _looks_like_file(table: exp.Table) -> bool:
    name = table.name.lower()
    if isinstance(table.this, exp.Literal):
        return True
    return "/" in name or "\\" in name or "://" in name or name.endswith(_FILE_SUFFIXES)


def _describe(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):  # syntax sqlglot keeps as text: EXPLAIN, VACUUM, ...
        return str(node.this).upper()
    return node.key.replace("_", " ").upper()


def check_read_only(sql: str, dialect: str = "duckdb") -> str | None:
    """None if `sql` is one read-only query; otherwise why it is refused."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as error:
        first = str(error).splitlines()[0] if str(error) else "syntax error"
        return f"it does not parse ({first})"
    if not statements:
        return "it holds no statement"
    if len(statements) > 1:
        return f"it holds {len(statements)} statements; send one at a time"
    root = statements[0]
    if not isinstance(root, exp.Query):
        return f"{_describe(root)} is not a query"
    for node in root.walk():
        if isinstance(node, _FORBIDDEN):
            return f"it contains {_describe(node)}"
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in _FILE_FUNCTIONS or name.startswith("read_"):
                return f"it calls {name}(), which reads files"
            if name in _STATEFUL_FUNCTIONS:
                return f"it calls {name}(), which changes state"
        if isinstance(node, exp.Table) and _looks_like_file(node):
            return "it reads a file path as a table"
    return None
