"""The built-in `athena` profile of the `mcp` source kind: AWS Athena via `aws-athena-mcp`.

aws-athena-mcp 1.0.1 pins fastmcp 2.5.2, which breaks with pydantic >= 2.12, so it runs
from its own virtualenv (`ensure_athena_venv`, under CODIFIER_HOME by default) as a stdio
sidecar. Its quirks, and what this module does about them:

- `list_tables` / `describe_table` run SHOW TABLES / DESCRIBE and drop the first row as
  if it were a header (upstream #48). They are not used: tables and columns come from
  `information_schema` SELECTs through `run_query`, whose results do carry a header row.
- `run_query` refuses any text containing `information_schema` (a regex blocklist, also
  against `--`, `/* */` and `UNION ... SELECT`). The catalog queries therefore run with
  `information_schema` as the query's database and name its views unqualified.
- Errors come back as ordinary results holding an `error` key; they become QueryFailed
  (QueryRefused for the sidecar's own blocklist), like the embedded source's.
- `run_query` waits up to ATHENA_TIMEOUT_SECONDS inside the sidecar, then hands back the
  execution id; `get_status` is polled until the query ends or our own deadline passes,
  then `get_result` reads it. One page of at most 1,000 rows is read per query. A query
  past the deadline is reported as timed out and the sidecar is stopped; the sidecar has
  no way to cancel it, so Athena's own workgroup timeout bounds it on the AWS side.

Every SQL text, ours included, passes the read-only guard (and its size limit) before it
is sent, parsed in a worker thread. AWS credentials and settings reach the sidecar through
its environment only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio

from codifier.config import Settings
from codifier.sources.admission import admit
from codifier.sources.base import QueryFailed, QueryRefused, QueryTimedOut, SourceError
from codifier.sources.query_settings import QuerySettings
from codifier.sources.results import query_result, table_schema
from codifier.sources.sidecar import Sidecar, SidecarSpec, open_sidecar

ATHENA_REQUIREMENTS = ("aws-athena-mcp==1.0.1", "pydantic<2.12")
_MARKER = ".codifier-athena-installed"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_PAGE = 1000  # rows per get_query_results page in Athena, the header row included
_TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
_PASSED_PREFIXES = ("AWS_", "ATHENA_")
_DIALECT = "athena"


def default_venv_path(environ: Mapping[str, str] | None = None) -> Path:
    env = dict(os.environ if environ is None else environ)
    return Settings.from_env(env).home / "athena-venv"


def _venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_athena_venv(path: Path | None = None) -> Path:
    """The python of a virtualenv holding aws-athena-mcp, made at `path` if need be.

    Idempotent: a marker file naming the installed requirements says the work is done.
    """
    path = (path or default_venv_path()).expanduser()
    python = _venv_python(path)
    marker = path / _MARKER
    wanted = "\n".join(ATHENA_REQUIREMENTS) + "\n"
    if python.exists() and marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return python
    steps = [
        [sys.executable, "-m", "venv", str(path)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            *ATHENA_REQUIREMENTS,
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            errors = [
                line
                for line in done.stderr.splitlines()
                if line.strip() and not line.startswith("WARNING:")
            ]
            last = errors[-1] if errors else f"exit status {done.returncode}"
            raise SourceError(f"could not set up the Athena sidecar in {path}: {last[:300]}")
    marker.write_text(wanted, encoding="utf-8")
    return python


def _sql_text(value: str) -> str:
    """A name already checked against _NAME, as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise SourceError(f"'{value[:80]}' is not a valid {what} name (letters, digits, _ only)")
    return value


def _answer(payload: Any) -> dict[str, Any]:
    """The sidecar's answer, or the error it carries as a QueryFailed."""
    if not isinstance(payload, dict):
        raise SourceError("the Athena sidecar gave an answer of an unexpected shape")
    if "error" in payload:
        text = str(payload.get("error") or "no detail").strip()
        first = text.splitlines()[0][:300] if text else "no detail"
        code = str(payload.get("code") or "")
        if code == "QUERY_FAILED":
            raise QueryFailed(f"the query failed in Athena: {first}")
        if code == "INVALID_REQUEST":
            raise QueryRefused(f"the Athena sidecar refused the query: {first}")
        raise QueryFailed(f"Athena reported an error ({code or 'unknown'}): {first}")
    return payload


class AthenaSource:
    """A DataSource over AWS Athena, through the aws-athena-mcp sidecar."""

    def __init__(
        self,
        name: str,
        *,
        env: Mapping[str, str],
        python: Path | None = None,
        venv: Path | None = None,
        database: str = "default",
        timeout_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        sidecar_wait_seconds: int | None = None,
        settings: QuerySettings | None = None,
    ) -> None:
        self.name = name
        self.settings = settings or QuerySettings()
        self.database = database
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._python = python
        self._venv = venv
        wait = sidecar_wait_seconds or max(1, min(10, int(timeout_seconds / 2)))
        self._env = self._sidecar_env(env, wait)
        self._setup = anyio.Lock()

    def __repr__(self) -> str:  # the environment holds credentials: never show it
        return f"AthenaSource(name={self.name!r}, database={self.database!r})"

    @classmethod
    def from_env(cls, name: str, environ: Mapping[str, str] | None = None) -> AthenaSource:
        """Settings from ATHENA_* / AWS_* variables (see the registry)."""
        env = os.environ if environ is None else environ
        python = env.get("CODIFIER_ATHENA_PYTHON")
        try:
            timeout = float(env.get("ATHENA_TIMEOUT_SECONDS") or 60)
        except ValueError:
            raise SourceError("ATHENA_TIMEOUT_SECONDS must be a number of seconds") from None
        return cls(
            name,
            env=env,
            python=Path(python) if python else None,
            venv=default_venv_path(env),
            database=env.get("ATHENA_DATABASE") or "default",
            timeout_seconds=timeout,
            settings=QuerySettings.from_env(env),
        )

    @staticmethod
    def _sidecar_env(environ: Mapping[str, str], wait: int) -> dict[str, str]:
        env = {k: v for k, v in environ.items() if k.startswith(_PASSED_PREFIXES)}
        if "AWS_REGION" not in env and "AWS_DEFAULT_REGION" in env:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"]  # the sidecar reads only AWS_REGION
        # The sidecar waits this long inside run_query; we poll for the rest of our deadline.
        env["ATHENA_TIMEOUT_SECONDS"] = str(wait)
        env["PYTHONUNBUFFERED"] = "1"  # so a failed start's reason arrives before the exit
        env["PYTHONWARNINGS"] = "ignore"
        env["FASTMCP_LOG_LEVEL"] = "ERROR"
        return env

    async def _python_path(self) -> Path:
        async with self._setup:
            if self._python is None:
                venv = self._venv
                self._python = await anyio.to_thread.run_sync(lambda: ensure_athena_venv(venv))
            return self._python

    async def _spec(self) -> SidecarSpec:
        python = await self._python_path()
        return SidecarSpec(
            label="Athena",
            command=str(python),
            args=["-m", "athena_mcp.server"],
            env=self._env,
            request_timeout=self.timeout_seconds + 30,
        )

    def _schema(self, database: str | None) -> str:
        return _check_name(database or self.database, "database")

    async def _run(
        self, sidecar: Sidecar, database: str, sql: str
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Columns and rows of one read-only query, within our deadline."""
        await admit(sql, _DIALECT, self.settings)
        payload: dict[str, Any] | None = None
        with anyio.move_on_after(self.timeout_seconds):
            payload = await self._run_to_end(sidecar, database, sql)
        if payload is None:
            message = f"the Athena query ran longer than the server's {self.timeout_seconds:g} s"
            raise QueryTimedOut(
                f"{message} limit and was abandoned; filter, aggregate or add a LIMIT",
                notice=f"timed out: {message} limit",
            )
        columns = [str(c) for c in payload.get("columns") or []]
        rows = [
            tuple(row.get(c) for c in columns)
            for row in payload.get("rows") or []
            if isinstance(row, dict)
        ]
        return columns, rows

    async def _run_to_end(self, sidecar: Sidecar, database: str, sql: str) -> dict[str, Any]:
        args = {"database": database, "query": sql, "max_rows": _PAGE}
        payload = _answer(await sidecar.call_json("run_query", args))
        if payload.get("status") != "timeout":
            return payload
        execution = str(payload.get("query_execution_id") or "")
        while True:
            status = _answer(
                await sidecar.call_json("get_status", {"query_execution_id": execution})
            )
            state = str(status.get("state") or "")
            if state == "SUCCEEDED":
                break
            if state in _TERMINAL:
                why = status.get("state_change_reason") or "no reason given"
                raise QueryFailed(f"the query {state.lower()} in Athena: {why}")
            await anyio.sleep(self.poll_seconds)
        return _answer(
            await sidecar.call_json(
                "get_result", {"query_execution_id": execution, "max_rows": _PAGE}
            )
        )

    async def list_tables(self, database: str | None) -> list[str]:
        schema = self._schema(database)
        tables: list[str] = []
        async with open_sidecar(await self._spec()) as sidecar:
            while True:  # page by name: one answer holds at most _PAGE - 1 rows
                after = f" AND table_name > {_sql_text(tables[-1])}" if tables else ""
                _, rows = await self._run(
                    sidecar,
                    "information_schema",
                    "SELECT table_name FROM tables"
                    f" WHERE table_schema = {_sql_text(schema)}{after} ORDER BY table_name",
                )
                tables.extend(str(row[0]) for row in rows)
                if len(rows) < _PAGE - 1:
                    return tables

    async def describe_tables(
        self, database: str | None, tables: list[str]
    ) -> list[dict[str, Any]]:
        schema = self._schema(database)
        names = [_check_name(table, "table") for table in tables]
        described: list[dict[str, Any]] = []
        async with open_sidecar(await self._spec()) as sidecar:
            for table in names:
                _, rows = await self._run(
                    sidecar,
                    "information_schema",
                    "SELECT column_name, data_type, is_nullable FROM columns"
                    f" WHERE table_schema = {_sql_text(schema)}"
                    f" AND table_name = {_sql_text(table)} ORDER BY ordinal_position",
                )
                if not rows:
                    raise SourceError(f"no table '{table}' in {schema}")
                described.append(table_schema(table, schema, rows))
        return described

    async def execute(self, database: str | None, sql: str) -> dict[str, Any]:
        schema = self._schema(database)
        await admit(sql, _DIALECT, self.settings)  # before a sidecar is started for it
        async with open_sidecar(await self._spec()) as sidecar:
            columns, rows = await self._run(sidecar, schema, sql)
        result = query_result(sql, columns, rows)
        if len(rows) >= _PAGE - 1:  # one page read: there may be more
            cut = f"Athena's first page holds only {len(rows)} rows; aggregate or add a LIMIT"
            result["truncated"] = True
            result["notice"] = f"{result['notice']}; {cut}" if result["notice"] else cut
        return result
