"""Data queries are bounded, refused queries are errors, and the warehouse cannot be
written (issue 8, points 7-10 and the SQL part of 15).

The server tests run `codifier serve` in its own process, with a 2 s query timeout, and
talk to it over real HTTP; the embedded DuckDB is the real one.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pytest
from mcp import Client

from codifier.sources.duckdb_source import SAMPLE
from codifier.sources.query_settings import QuerySettings
from codifier.sources.warehouse import open_warehouse
from codifier.sql_guard import judge
from tests.server_harness import (
    ADMIN_TOKEN,
    ServerProcess,
    ToolCallFailed,
    call,
    drive,
    http_client,
    polling_health,
    running,
)

pytestmark = pytest.mark.anyio

TIMEOUT_SECONDS = 2
ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT count(*) FROM r"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def data_server(server_home: Path) -> Iterator[ServerProcess]:
    extra = {"CODIFIER_QUERY_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS)}
    with running(server_home, extra=extra) as process:
        yield process


async def _query(client: Client, **arguments: Any) -> dict[str, Any]:
    return await call(client, "query_data", **arguments)


async def _error(client: Client, **arguments: Any) -> str:
    """The error text of a query_data call that must fail."""
    with pytest.raises(ToolCallFailed) as failure:
        await _query(client, **arguments)
    return str(failure.value)


def _memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


# Point 7: every query is bounded in time and memory.


async def test_an_endless_query_times_out_and_the_engine_answers_the_next(
    data_server: ServerProcess,
) -> None:
    async with http_client(data_server.url, ADMIN_TOKEN) as client:
        started = time.monotonic()
        with anyio.fail_after(60):  # today's code runs it until the server is killed
            text = await _error(client, operation="execute-query", sql=ENDLESS)
        elapsed = time.monotonic() - started
        assert text.startswith("[timeout] the query ran longer than the server's 2 s limit")
        assert elapsed < TIMEOUT_SECONDS + 8
        after = await _query(
            client, operation="execute-query", sql="SELECT count(*) AS n FROM plans"
        )
        assert after["result"]["rows"][0][0] > 0


async def test_a_huge_result_streams_to_the_cap_without_growing_the_server(
    data_server: ServerProcess,
) -> None:
    assert data_server.process is not None
    pid = data_server.process.pid
    async with http_client(data_server.url, ADMIN_TOKEN) as client:
        await _query(client, operation="execute-query", sql="SELECT 1 AS warm")
        before = _memory_kb(pid)["VmRSS"]
        with anyio.fail_after(60):
            answer = await _query(
                client, operation="execute-query", sql="SELECT i, i FROM range(40000000) t(i)"
            )
        peak = _memory_kb(pid)["VmHWM"]
    result = answer["result"]
    assert result["truncated"] is True
    assert 1000 < len(result["rows"]) < 40_000_000
    assert result["row_count"] > len(result["rows"])  # read past the cap: a lower bound
    assert "at least" in result["notice"]
    # Today's code fetched all 40 M rows first: 5 GB.
    assert (peak - before) * 1024 < 300 * MB, f"the server grew from {before} kB to {peak} kB"


# Point 8: big SQL is refused before it is parsed, and parsing runs off the event loop.


def _wide(count: int) -> str:
    """A query of `count` constant columns: slow to parse for its size, quick to run."""
    return "SELECT " + ", ".join(f"{i} AS c{i}" for i in range(count))


async def test_big_sql_is_refused_unparsed_and_health_stays_quick(
    data_server: ServerProcess,
) -> None:
    allowed = _wide(4_300)  # just under 64 KB: parsed, then run
    huge = _wide(150_000)  # over 2 MB: parsing it took seconds on the event loop
    assert 60 * 1024 < len(allowed) < 64 * 1024
    assert len(huge) > 2 * MB
    answers: list[dict[str, Any]] = []
    refusals: list[tuple[str, float]] = []
    # Twelve 64 KB queries queue for the parser's workers: on a loaded machine the last
    # ones wait longer than httpx's 5 s default. What is timed here is /health and the refusal.
    async with http_client(data_server.url, ADMIN_TOKEN, timeout=60) as client:

        async def run_allowed() -> None:
            answers.append(await _query(client, operation="execute-query", sql=allowed))

        async def run_huge() -> None:
            started = time.monotonic()
            text = await _error(client, operation="execute-query", sql=huge)
            refusals.append((text, time.monotonic() - started))

        with polling_health(data_server, interval=0.05) as health, anyio.fail_after(120):
            async with anyio.create_task_group() as group:
                for _ in range(6):
                    group.start_soon(run_allowed)
                group.start_soon(run_huge)
                for _ in range(6):
                    group.start_soon(run_allowed)
    assert len(answers) == 12
    assert all(a["result"]["rows"][0][4_299] == 4_299 for a in answers)
    ((text, seconds),) = refusals
    assert text == (
        "[invalid] the SQL is longer than 64 KB; send a shorter query "
        "(move long value lists into a table)"
    )
    assert seconds < 5
    assert set(health.statuses) == {200}, "the health poller did not get 200 every time"
    assert max(health.latencies) < 1.0, f"/health took {max(health.latencies):.2f} s"


# Point 9: settings and catalog views are refused; the engine cannot write.

PRIVATE_VIEWS = [
    "SELECT * FROM pg_catalog.pg_settings",
    "SELECT name, setting FROM pg_settings WHERE name LIKE '%directory%'",
    'SELECT * FROM "PG_CATALOG"."PG_SETTINGS"',
    "SELECT * FROM system.pg_catalog.pg_settings",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM duckdb_databases()",
    "SELECT path FROM duckdb_databases",
    "SELECT * FROM main.DUCKDB_DATABASES",
    "SELECT * FROM duckdb_secrets()",
    "SELECT * FROM duckdb_logs",
    "SELECT * FROM duckdb_memory()",
    "SELECT * FROM pragma_database_list",
    "SELECT * FROM pg_catalog.pg_database",
    "SELECT * FROM (SELECT * FROM pg_settings) s",
    "SELECT current_setting('home_directory')",
    "SELECT getenv('HOME')",
]


async def test_settings_and_catalog_views_are_refused(data_server: ServerProcess) -> None:
    async with http_client(data_server.url, ADMIN_TOKEN) as client:
        for sql in PRIVATE_VIEWS:
            text = await _error(client, operation="execute-query", sql=sql)
            assert text.startswith("[refused] the SQL is not one read-only query ("), (sql, text)
            assert "\n" not in text
        # Views of tables and columns only still answer.
        tables = await _query(
            client,
            operation="execute-query",
            sql="SELECT table_name FROM duckdb_tables() ORDER BY 1",
        )
        assert ["plans"] in tables["result"]["rows"]


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder the warehouse loads into, for this test alone."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


WRITES = [
    "CREATE TABLE stolen AS SELECT 1 AS n",
    "INSERT INTO plans SELECT * FROM plans",
    "UPDATE plans SET name = 'x'",
    "DELETE FROM plans",
    "DROP TABLE plans",
    "CREATE VIEW v AS SELECT 1",
    "CREATE MACRO m(a) AS a",
]


def test_the_loaded_warehouse_refuses_writes_at_the_engine(private_tmp: Path) -> None:
    """Past the guard, straight to the engine: every write fails, and the configuration
    is fixed with the settings' memory limit and threads."""
    db = open_warehouse(SAMPLE, QuerySettings(duckdb_memory_limit="256MB", duckdb_threads=1))
    assert list(private_tmp.iterdir()) == []  # the loaded file is gone from disk already
    for sql in WRITES:
        with pytest.raises(duckdb.Error, match="read-only mode"):
            db.cursor().execute(sql)
    cursor = db.cursor()
    memory, threads = cursor.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchone() or ("", 0)
    assert (memory, threads) == ("244.1 MiB", 1)
    for setting in ("SET memory_limit = '10GB'", "SET enable_external_access = true"):
        with pytest.raises(duckdb.Error, match="configuration has been locked"):
            cursor.execute(setting)
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        cursor.execute("SELECT * FROM read_csv('/etc/passwd')")
    assert cursor.execute("SELECT count(*) FROM plans").fetchone() == (
        len((SAMPLE / "plans.csv").read_text().splitlines()) - 1,
    )


def test_a_warehouse_file_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "sales.duckdb"
    writer = duckdb.connect(str(path))
    writer.execute("CREATE TABLE orders AS SELECT range AS id FROM range(5)")
    writer.close()
    content = path.read_bytes()
    db = open_warehouse(path, QuerySettings())
    for sql in ("CREATE TABLE stolen (n INT)", "INSERT INTO orders VALUES (9)"):
        with pytest.raises(duckdb.Error, match="read-only mode"):
            db.cursor().execute(sql)
    assert db.cursor().execute("SELECT count(*) FROM orders").fetchone() == (5,)
    db.close()
    assert path.read_bytes() == content


# Point 10: a refused query is an error; a playbook's list keeps per-query notices.


async def test_a_refused_or_failed_query_is_an_error(data_server: ServerProcess) -> None:
    async with http_client(data_server.url, ADMIN_TOKEN) as client:
        result = await client.call_tool(
            "query_data", {"operation": "execute-query", "sql": "DELETE FROM plans"}
        )
        assert result.is_error is True
        text = " ".join(getattr(c, "text", "") for c in result.content)
        assert text == (
            "[refused] the SQL is not one read-only query (DELETE is not a query); "
            "send a single SELECT or WITH ... SELECT"
        )
        text = await _error(client, operation="execute-query", sql="SELECT * FROM no_such_table")
        assert text.startswith("[invalid] the query failed: Catalog Error: Table with name")
        text = await _error(client, operation="execute-query", sql="SELECT 1", database="nope")
        assert text.startswith("[invalid] the query failed: Catalog Error: SET schema")


def _analyst(step_id: str, prompt: str) -> str:
    """The client's LLM for the research run: one good query, one refused by the guard,
    one that never ends; the synthesis must see each one's notice."""
    if step_id == "queries":
        return (
            "### Q1: Plans\n```sql\nSELECT count(*) AS plans FROM plans\n```\n"
            "### Q2: A write\n```sql\nDELETE FROM plans\n```\n"
            f"### Q3: Endless\n```sql\n{ENDLESS}\n```\n"
            "### Q4: Settings\n```sql\nSELECT * FROM pg_catalog.pg_settings\n```\n"
        )
    assert step_id == "synthesis"
    assert "- Notice: refused by the read-only guard: DELETE is not a query" in prompt
    assert "- Notice: timed out: the query ran longer than the server's 2 s limit" in prompt
    assert "- Notice: refused by the read-only guard: it reads pg_settings" in prompt
    assert "| plans |" in prompt  # Q1's rows
    return "## Summary\nThree of four queries gave no rows."


async def test_a_playbooks_list_of_queries_keeps_per_query_notices(
    data_server: ServerProcess,
) -> None:
    async with http_client(data_server.url, ADMIN_TOKEN) as client:
        created = await call(
            client, "manage_projects", operation="create", name=f"d-{uuid.uuid4().hex[:8]}"
        )
        run = await call(
            client,
            "run_playbook",
            playbook_id="research-and-analyze",
            project_id=created["project"]["id"],
        )
        answers = {"objective": "How many plans are there?", "chosen": ["plans"]}
        with anyio.fail_after(120):
            finished = await drive(client, run, answers, llm=_analyst)
    assert finished["status"] == "completed", finished
    assert finished["outputs"]["finding"].startswith("## Summary")


# Point 15 (SQL): bad input is `[invalid] ...`, one sentence.


async def test_bad_sql_and_table_lists_are_invalid(data_server: ServerProcess) -> None:
    nested = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    async with http_client(data_server.url, ADMIN_TOKEN) as client:
        # A NUL may be refused by the tool layer, for every argument, before the SQL
        # checks see it: the code and the word NUL are what matter.
        cases: list[tuple[dict[str, Any], str]] = [
            (
                {"operation": "execute-query", "sql": "SELECT 1\x00; DROP TABLE plans"},
                r"\[invalid\] .*\bNUL\b",
            ),
            (
                {"operation": "execute-query", "sql": nested},
                re.escape("[invalid] the SQL nests expressions too deeply to be checked"),
            ),
            (
                {"operation": "describe-tables", "tables": [f"t{i}" for i in range(10_000)]},
                re.escape("[invalid] describe-tables takes at most 100 tables per call, got 10000"),
            ),
            (
                {"operation": "describe-tables", "tables": ["plans", "x" * 100_000]},
                re.escape("[invalid] table 2 of the list is longer than 255 characters"),
            ),
            (
                {"operation": "describe-tables", "tables": ["plans\x00"]},
                r"\[invalid\] .*\bNUL\b",
            ),
            (
                {"operation": "list-tables", "database": "d" * 10_000},
                re.escape("[invalid] the database name is longer than 255 characters"),
            ),
            (
                {"operation": "describe-tables", "tables": ["no_such_table"]},
                re.escape("[invalid] no table 'no_such_table' in main"),
            ),
        ]
        for arguments, expected in cases:
            text = await _error(client, **arguments)
            assert re.match(expected, text), (expected, text[:300])
            assert "\n" not in text
            assert len(text) < 400
        # The server is fine afterwards.
        described = await _query(client, operation="describe-tables", tables=["plans"])
        assert described["schemas"][0]["name"] == "plans"


# The guard and the settings, without a server.


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT 1\x00", "invalid"),
        ("SELECT " + "(" * 3000 + "1" + ")" * 3000, "invalid"),
        ("SELECT " + "NOT " * 3000 + "true", "invalid"),
        ("SELECT 1 -- " + "x" * 70_000, "invalid"),
        ("SELECT 'é" + "é" * 33_000 + "'", "invalid"),  # under 64 K characters, over 64 KB
        ("SELECT * FROM pg_catalog.pg_settings", "refused"),
        ('SELECT * FROM "Pg_Settings"', "refused"),
        ("SELECT * FROM duckdb_logs", "refused"),
        ("SELECT * FROM duckdb_log_contexts()", "refused"),
        ("SELECT * FROM pragma_database_list", "refused"),
        ("SELECT * FROM duckdb_some_future_view", "refused"),
        ("SELECT * FROM pg_catalog.pg_stat_activity", "refused"),
    ],
)
def test_the_guard_tells_invalid_input_from_refused_queries(sql: str, code: str) -> None:
    verdict = judge(sql)
    assert verdict is not None
    assert verdict.code == code
    assert len(verdict.reason.splitlines()) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM pg_catalog.pg_tables",
        "SELECT relname FROM pg_class",
        "SELECT * FROM duckdb_columns() WHERE table_name = 'plans'",
        "SELECT * FROM information_schema.columns",
        _wide(4_300),
    ],
)
def test_the_guard_still_accepts_catalog_reads_of_tables(sql: str) -> None:
    assert judge(sql) is None


def test_query_settings_come_from_the_environment() -> None:
    assert QuerySettings.from_env({}) == QuerySettings()
    assert QuerySettings() == QuerySettings(
        timeout_seconds=30.0,
        sql_bytes=64 * 1024,
        queries_per_step=50,
        describe_tables=100,
        name_chars=255,
        duckdb_memory_limit="512MB",
        duckdb_threads=2,
    )
    tuned = QuerySettings.from_env(
        {
            "CODIFIER_QUERY_TIMEOUT_SECONDS": "2.5",
            "CODIFIER_MAX_SQL_BYTES": "1000",
            "CODIFIER_DUCKDB_MEMORY_LIMIT": "1GB",
            "CODIFIER_DUCKDB_THREADS": "4",
        }
    )
    assert (tuned.timeout_seconds, tuned.sql_bytes) == (2.5, 1000)
    assert (tuned.duckdb_memory_limit, tuned.duckdb_threads) == ("1GB", 4)
    for name, value in [
        ("CODIFIER_QUERY_TIMEOUT_SECONDS", "0"),
        ("CODIFIER_QUERY_TIMEOUT_SECONDS", "inf"),
        ("CODIFIER_QUERY_TIMEOUT_SECONDS", "soon"),
        ("CODIFIER_MAX_SQL_BYTES", "-1"),
        ("CODIFIER_DUCKDB_MEMORY_LIMIT", "lots"),
        ("CODIFIER_DUCKDB_MEMORY_LIMIT", "512MB'; SET x='"),
        ("CODIFIER_DUCKDB_THREADS", "two"),
    ]:
        with pytest.raises(ValueError, match=name):
            QuerySettings.from_env({name: value})


def test_no_warehouse_folder_is_left_when_loading_fails(tmp_path: Path, private_tmp: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(duckdb.Error):
        open_warehouse(data, QuerySettings())
    assert list(private_tmp.iterdir()) == []
