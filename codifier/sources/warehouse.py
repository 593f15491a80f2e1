"""The embedded warehouse: a DuckDB database opened read-only and locked down.

A folder of CSV/Parquet files is loaded into a fresh database file in a private temporary
folder; the file is then reopened with `read_only=True` and unlinked at once (the open
database keeps it readable, and nothing is left on disk, even after a crash). A `.duckdb`
file is opened read-only in place. Either way the engine itself refuses every write
(CREATE, INSERT, ...) whatever slips past the SQL guard.

Then, before the configuration is locked: `memory_limit` and `threads` are set from the
settings (DuckDB's defaults are 80% of the host's RAM and every core), spilling to a temp
directory is off (so a query's memory is bounded, and no disk is used), extensions are
never installed or loaded, and external access (files, URLs, attaching) is off.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import duckdb

from codifier.sources.query_settings import QuerySettings

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOADERS = {".csv": "read_csv_auto", ".tsv": "read_csv_auto", ".parquet": "read_parquet"}
_DATABASE_SUFFIXES = (".duckdb", ".db")
# The catalog name queries see (`warehouse.main.plans`): the file's stem.
_LOADED_FILE = "warehouse.duckdb"


def _config(settings: QuerySettings) -> dict[str, str | bool | int | float | list[str]]:
    """Settings that must hold from the first statement on."""
    return {
        "memory_limit": settings.duckdb_memory_limit,
        "threads": settings.duckdb_threads,
        "temp_directory": "",  # no spilling: the memory limit is a limit, and no disk use
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
    }


def _load(folder: Path, target: Path, settings: QuerySettings) -> None:
    """Tables from the folder's CSV/Parquet files into a new database file."""
    db = duckdb.connect(str(target), config=_config(settings))
    try:
        for file in sorted(folder.iterdir()):
            loader = _LOADERS.get(file.suffix.lower())
            if loader is None or not NAME.match(file.stem):
                continue
            db.execute(f'CREATE TABLE "{file.stem}" AS SELECT * FROM {loader}(?)', [str(file)])
    finally:
        db.close()  # checkpoints: the file alone holds the tables


def _lock(db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # In this order: external access off, then no setting may change again (it cannot be
    # given at connect time, where DuckDB applies the options in an order of its own).
    db.execute("SET enable_external_access = false")
    db.execute("SET lock_configuration = true")
    return db


def open_warehouse(path: Path, settings: QuerySettings) -> duckdb.DuckDBPyConnection:
    """The read-only, locked-down warehouse for `path` (a folder or a database file)."""
    if path.is_file() and path.suffix in _DATABASE_SUFFIXES:
        return _lock(duckdb.connect(str(path), read_only=True, config=_config(settings)))
    folder = Path(tempfile.mkdtemp(prefix="codifier-warehouse-"))  # mode 0700
    try:
        target = folder / _LOADED_FILE
        _load(path, target, settings)
        db = duckdb.connect(str(target), read_only=True, config=_config(settings))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _lock(db)
