"""The read-only SQL guard: every SQL text passes here before any engine sees it.

A query is accepted only if it parses as exactly one statement whose root is a query and
whose tree holds no write, DDL, command or file-reading node anywhere (a DELETE inside a
CTE, SELECT INTO, COPY, ATTACH, read_csv('/etc/passwd') ...). Functions used as tables
must be on a short allowed list: DuckDB has dozens of table functions that read files,
run serialized SQL or change settings, and a list of the bad ones is never complete. The
engines are locked down as well; this guard is the first of two walls, not the only one.
The cases it must refuse and accept are in tests/testdata/sql/.
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
    # DESCRIBE / SUMMARIZE are refused as statements, and inside a subquery they can name
    # a file: `FROM (SUMMARIZE 'data.csv')` returns each column's min and max.
    exp.Describe,
    exp.Summarize,
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
_STATEFUL_FUNCTIONS = {
    "nextval",
    "setval",
    "write_log",
    "pg_advisory_lock",
    "set_config",
    "lo_import",
}
# Functions that read the server's environment or settings (which may hold credentials).
_PRIVATE_FUNCTIONS = {"getenv", "current_setting"}
# The only functions allowed where a table goes (FROM, JOIN, LATERAL): they generate rows
# or read the catalog. Anything else there (checkpoint(), json_execute_serialized_sql(),
# duckdb_secrets(), parquet_full_metadata(), enable_logging() ...) is refused.
_TABLE_FUNCTIONS = {
    "range",
    "generate_series",
    "unnest",
    "json_each",
    "json_tree",
    "duckdb_tables",
    "duckdb_columns",
    "duckdb_views",
    "duckdb_schemas",
    "duckdb_types",
    "duckdb_functions",
    "duckdb_constraints",
    "duckdb_indexes",
    "duckdb_keywords",
    "pragma_table_info",
    "histogram",
    "histogram_values",
}


# DuckDB reads `FROM 'data.csv'` (sqlglot parses it as a quoted name) as a file, and so
# `FROM data.csv` and `FROM main."data.csv"`: it joins the parts of a name it cannot find
# with dots and looks for a reader for the last suffix (auto-installing one if it may).
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
    ".xls",
    ".sqlite3",
    ".ipc",
    ".feather",
    ".orc",
    ".shp",
    ".gpkg",
    ".geojson",
    ".fgb",
    ".vortex",
    ".lance",
)
# Characters no table name needs but paths, URLs and globs do.
_PATH_CHARACTERS = ("/", "\\", ":", "*", "?", "~")


def _looks_like_file(table: exp.Table) -> bool:
    if isinstance(table.this, exp.Literal):
        return True
    parts = [part.name.lower() for part in table.parts]
    if len(parts) == 1 and "." in parts[0]:  # one quoted name with a dot: 'f.txt', "x.y"
        return True
    joined = ".".join(parts)
    return any(c in joined for c in _PATH_CHARACTERS) or joined.endswith(_FILE_SUFFIXES)


def _function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()


def _check_function(node: exp.Func, as_table: bool) -> str | None:
    name = _function_name(node)
    if name in _FILE_FUNCTIONS or name.startswith("read_"):
        return f"it calls {name}(), which reads files"
    if name in _STATEFUL_FUNCTIONS:
        return f"it calls {name}(), which changes state"
    if name in _PRIVATE_FUNCTIONS:
        return f"it calls {name}(), which reads the server's environment or settings"
    if as_table and name not in _TABLE_FUNCTIONS:
        return f"it uses {name}() as a table; only {', '.join(sorted(_TABLE_FUNCTIONS))} may"
    return None


def _describe(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):  # syntax sqlglot keeps as text: EXPLAIN, VACUUM, ...
        return str(node.this).upper()
    if isinstance(node, exp.TruncateTable):
        return "TRUNCATE"
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
    # A bare VALUES list and DuckDB's PIVOT / UNPIVOT statements read only, like a SELECT.
    if not isinstance(root, (exp.Query, exp.Values, exp.Pivot)):
        if isinstance(root, exp.Condition):  # a lone word such as CHECKPOINT parses so
            return "it is a bare expression, not a query"
        return f"{_describe(root)} is not a query"
    for node in root.walk():
        if isinstance(node, _FORBIDDEN):
            return f"it contains {_describe(node)}"
        reason = None
        if isinstance(node, (exp.Table, exp.Lateral)) and isinstance(node.this, exp.Func):
            reason = _check_function(node.this, as_table=True)
        elif isinstance(node, exp.Table) and _looks_like_file(node):
            reason = "it reads a file path as a table"
        elif isinstance(node, exp.Func):
            reason = _check_function(node, as_table=False)
        if reason is not None:
            return reason
    return None
