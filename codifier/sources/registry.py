"""The configured data sources, by name; one is the default.

Today: the embedded `duckdb` source over CODIFIER_DUCKDB_PATH (a folder of CSV/Parquet
files or a .duckdb file), or over the shipped sample warehouse when that is unset.
"""

from __future__ import annotations

import os
from pathlib import Path

from codifier.sources.base import DataSource
from codifier.sources.duckdb_source import SAMPLE, DuckDBSource

DEFAULT_SOURCE = "duckdb"


def load_sources() -> dict[str, DataSource]:
    path = Path(os.environ.get("CODIFIER_DUCKDB_PATH") or SAMPLE).expanduser()
    return {DEFAULT_SOURCE: DuckDBSource(DEFAULT_SOURCE, path)}
