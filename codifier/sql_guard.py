"""The read-only SQL guard: every SQL text passes here before any engine sees it.

A query is accepted only if it parses as exactly one statement whose root is a query and
whose tree holds no write, DDL, command or file-reading node anywhere (a DELETE inside a
CTE, SELECT INTO, COPY, ATTACH, read_csv('/etc/passwd') ...). Functions used as tables
must be on a short allowed list: DuckDB has dozens of table functions that read files,
run serialized SQL or change settings, and a list of the bad ones is never complete. The
engines are locked down as well; this guard is the first of two walls, not the only one.
The cases it must refuse and accept are in tests/testdata/sql/.

Before parsing, a text is screened: over the size limit (64 KB by default), holding a NUL
character, or nested deeper than the parser can follow, it is invalid input rather than a
refused query (`judge` tells the two apart; `check_read_only` gives either reason). The
parser is compiled and holds the GIL for a whole parse: callers on an event loop run
`judge` in a worker thread, one at a time (codifier.sources.admission).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import expressions as exp
from sqlglot.errors import SqlglotError

# sqlglot warns on stderr when it keeps unknown syntax as a Command; the guard refuses
# those with its own message, so the warning is only noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

DEFAULT_MAX_SQL_BYTES = 64 * 1024

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

# Catalog views that show settings, extensions, attached databases (with their paths),
# secrets, logs or memory: refused by name in any schema, like the functions they wrap.
# Besides these, any duckdb_*, pragma_* or pg_* name not in _CATALOG_TABLES is refused, so
# a view a later engine version adds is refused until it is looked at.
_PRIVATE_TABLES = {
    "pg_settings",
    "pg_file_settings",
    "pg_database",
    "pg_tablespace",
    "pg_prepared_statements",
    "pg_stat_activity",
    "pg_roles",
    "pg_user",
    "pg_authid",
    "pg_shadow",
    "pg_config",
    "pg_hba_file_rules",
    "pg_extension",
    "pg_available_extensions",
    "duckdb_settings",
    "duckdb_extensions",
    "duckdb_extension_repositories",
    "duckdb_databases",
    "duckdb_secrets",
    "duckdb_secret_types",
    "duckdb_logs",
    "duckdb_log_contexts",
    "duckdb_memory",
    "duckdb_temporary_files",
    "duckdb_variables",
    "duckdb_prepared_statements",
    "duckdb_external_file_cache",
    "pragma_database_list",
    "pragma_database_size",
    "pragma_platform",
    "pragma_user_agent",
    "pragma_version",
    "pragma_show",
    "pragma_metadata_info",
    "pragma_storage_info",
    "which_secret",
}
_CATALOG_PREFIXES = ("duckdb_", "pragma_", "pg_")
# Catalog views that describe only tables, columns and types: what list-tables and
# describe-tables show anyway.
_CATALOG_TABLES = {name for name in _TABLE_FUNCTIONS if name.startswith(_CATALOG_PREFIXES)} | {
    "pg_am",
    "pg_attrdef",
    "pg_attribute",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_index",
    "pg_indexes",
    "pg_namespace",
    "pg_proc",
    "pg_sequence",
    "pg_sequences",
    "pg_tables",
    "pg_type",
    "pg_views",
}


def _private_table(table: exp.Table) -> str | None:
    """Why a catalog view named as a table is refused, if it is."""
    name = table.name.lower()
    if name in _PRIVATE_TABLES or (
        name.startswith(_CATALOG_PREFIXES) and name not in _CATALOG_TABLES
    ):
        return f"it reads {name}, a catalog view of the server's settings or state"
    return None


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


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a text does not run: `invalid` input (too big, NUL, too deep) is a bad argument;
    a `refused` text is a well-formed one the read-only rule does not allow."""

    code: Literal["invalid", "refused"]
    reason: str


def screen(sql: str, max_bytes: int = DEFAULT_MAX_SQL_BYTES) -> str | None:
    """Why `sql` is not even parsed, if it is not: the cheap checks, in linear time."""
    # Every character takes at least one byte: the length alone often settles it.
    if len(sql) > max_bytes or len(sql.encode("utf-8", errors="replace")) > max_bytes:
        size = f"{max_bytes // 1024} KB" if max_bytes % 1024 == 0 else f"{max_bytes} bytes"
        return (
            f"the SQL is longer than {size}; send a shorter query "
            "(move long value lists into a table)"
        )
    position = sql.find("\x00")
    if position >= 0:
        return f"the SQL holds a NUL character at position {position}; remove it"
    return None


def judge(
    sql: str, dialect: str = "duckdb", max_bytes: int = DEFAULT_MAX_SQL_BYTES
) -> Verdict | None:
    """None if `sql` is one read-only query; otherwise why it does not run."""
    problem = screen(sql, max_bytes)
    if problem is not None:
        return Verdict("invalid", problem)
    try:
        reason = _refusal(sql, dialect)
    except RecursionError:  # the parser recurses once per nesting level
        return Verdict(
            "invalid",
            "the SQL nests expressions too deeply to be checked (a few hundred levels at "
            "most); flatten it",
        )
    return None if reason is None else Verdict("refused", reason)


def check_read_only(
    sql: str, dialect: str = "duckdb", max_bytes: int = DEFAULT_MAX_SQL_BYTES
) -> str | None:
    """None if `sql` is one read-only query; otherwise why it does not run (one line)."""
    verdict = judge(sql, dialect, max_bytes)
    return None if verdict is None else verdict.reason


def _refusal(sql: str, dialect: str) -> str | None:
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
        elif isinstance(node, exp.Table):
            reason = _private_table(node)
        elif isinstance(node, exp.Func):
            reason = _check_function(node, as_table=False)
        if reason is not None:
            return reason
    return None
