"""The configured data sources, by name; one is the default.

Today: the embedded `duckdb` source over CODIFIER_DUCKDB_PATH (a folder of CSV/Parquet
files or a .duckdb file), or over the shipped sample warehouse when that is unset; and an
`athena` source (the `mcp` kind's built-in profile) when ATHENA_S3_OUTPUT_LOCATION is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from codifier.sources.base import DataSource
from codifier.sources.duckdb_source import SAMPLE, DuckDBSource
from codifier.sources.names import ATHENA_SOURCE, DEFAULT_SOURCE
from codifier.sources.query_settings import QuerySettings

__all__ = [
    "ATHENA_SOURCE",
    "DEFAULT_SOURCE",
    "add_athena_source",
    "default_source",
    "load_sources",
]


def default_source(
    sources: Mapping[str, DataSource], environ: Mapping[str, str] | None = None
) -> str:
    """The source a `data-query` without `source:` uses: CODIFIER_DEFAULT_SOURCE when it
    names a configured source, else the embedded duckdb."""
    wanted = (os.environ if environ is None else environ).get("CODIFIER_DEFAULT_SOURCE", "")
    if wanted and wanted not in sources:
        raise ValueError(
            f"CODIFIER_DEFAULT_SOURCE names '{wanted}', which is not configured "
            f"({', '.join(sorted(sources))})"
        )
    return wanted or DEFAULT_SOURCE


def load_sources() -> dict[str, DataSource]:
    """The configured sources. Raises ValueError naming a malformed query setting
    (codifier.sources.query_settings)."""
    settings = QuerySettings.from_env()
    path = Path(os.environ.get("CODIFIER_DUCKDB_PATH") or SAMPLE).expanduser()
    sources: dict[str, DataSource] = {DEFAULT_SOURCE: DuckDBSource(DEFAULT_SOURCE, path, settings)}
    add_athena_source(sources)
    return sources


def add_athena_source(
    sources: dict[str, DataSource], environ: Mapping[str, str] | None = None
) -> None:
    """Add the `athena` source when ATHENA_S3_OUTPUT_LOCATION is set.

    Its settings: ATHENA_S3_OUTPUT_LOCATION (s3://... for results), AWS_REGION,
    ATHENA_WORKGROUP, ATHENA_DATABASE (the default database, else `default`),
    ATHENA_TIMEOUT_SECONDS (per query, 60), AWS credentials from the usual chain (passed
    to the sidecar through its environment), CODIFIER_ATHENA_PYTHON (an interpreter that
    already has aws-athena-mcp; otherwise a virtualenv is made under CODIFIER_HOME at
    first use).
    """
    env = os.environ if environ is None else environ
    if not env.get("ATHENA_S3_OUTPUT_LOCATION"):
        return
    from codifier.sources.athena import AthenaSource

    sources[ATHENA_SOURCE] = AthenaSource.from_env(ATHENA_SOURCE, env)
