"""Data source names, apart from the sources themselves (the checker needs the names,
not DuckDB)."""

DEFAULT_SOURCE = "duckdb"
ATHENA_SOURCE = "athena"
