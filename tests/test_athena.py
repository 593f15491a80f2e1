"""The `athena` source against the real aws-athena-mcp 1.0.1 sidecar and moto in server mode.

moto does not run SQL: each test queues canned results, shaped like real Athena answers
(a header row for SELECT, none for SHOW/DESCRIBE), in the order its queries run.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.athena.models import athena_backends
from moto.athena.responses import AthenaResponse
from moto.server import ThreadedMotoServer

from codifier.resources import playbooks_dir
from codifier.server.data import DataTools
from codifier.sources.athena import AthenaSource, ensure_athena_venv
from codifier.sources.base import (
    DataSource,
    QueryFailed,
    QueryRefused,
    QueryTimedOut,
    SourceError,
)
from codifier.sources.registry import ATHENA_SOURCE, add_athena_source
from codifier.sources.sidecar import SidecarSpec, open_sidecar
from dsl.compiler import compile_playbook
from dsl.interpreter import Ask, Done, Generate, Interpreter, InvokeSkill, QueryData
from dsl.library import Library

pytestmark = pytest.mark.anyio

ACCOUNT, REGION = "123456789012", "us-east-1"
SECRET = "fake-secret-key-for-moto"


@pytest.fixture(scope="session")
def athena_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_athena_venv(tmp_path_factory.mktemp("athena") / "venv")


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    yield f"http://{host}:{port}"
    server.stop()


def _post(url: str, body: dict[str, Any] | None = None, method: str = "POST") -> None:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture
def env(moto_url: str) -> dict[str, str]:
    """A clean moto (no queued results, no executions) with the output bucket."""
    _post(f"{moto_url}/moto-api/reset")
    _post(f"{moto_url}/bucket", method="PUT")
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFORMOTO",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": REGION,  # the source passes it on as AWS_REGION
        "ATHENA_S3_OUTPUT_LOCATION": "s3://bucket/out/",
        "UNRELATED_SECRET": "never-passed",
    }


@pytest.fixture
def source(env: dict[str, str], athena_python: Path) -> AthenaSource:
    return AthenaSource(
        "athena",
        env=env,
        python=athena_python,
        database="sales",
        timeout_seconds=20,
        poll_seconds=0.2,
        sidecar_wait_seconds=1,
    )


def _cell(value: str | None) -> dict[str, str]:
    return {} if value is None else {"VarCharValue": value}


def _column(name: str, kind: str = "varchar") -> dict[str, Any]:
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": 2147483647,
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }


def select_result(columns: list[tuple[str, str]], rows: list[list[str | None]]) -> dict[str, Any]:
    """What Athena answers to a SELECT: the column names come back as a first row."""
    header: list[str | None] = [name for name, _ in columns]
    return {
        "rows": [{"Data": [_cell(v) for v in row]} for row in [header, *rows]],
        "column_info": [_column(name, kind) for name, kind in columns],
    }


def show_result(column: str, values: list[str]) -> dict[str, Any]:
    """What Athena answers to SHOW TABLES / DESCRIBE: no header row."""
    return {
        "rows": [{"Data": [_cell(v)]} for v in values],
        "column_info": [_column(column, "string")],
    }


def queue(url: str, *results: dict[str, Any]) -> None:
    _post(
        f"{url}/moto-api/static/athena/query-results",
        {"account_id": ACCOUNT, "region": REGION, "results": list(results)},
    )


def executions() -> list[tuple[str, str]]:
    """(database, query text) of every query moto received, oldest first."""
    backend = athena_backends[ACCOUNT][REGION]
    ordered = sorted(backend.executions.values(), key=lambda e: e.start_time)
    contexts: list[Any] = [e.context for e in ordered]  # moto types it as text; it is a dict
    return [(str(c.get("Database")), e.query) for c, e in zip(contexts, ordered, strict=True)]


def _typed(source: AthenaSource) -> DataSource:
    return source  # AthenaSource implements the DataSource protocol


async def test_list_tables_returns_every_table(
    source: AthenaSource, moto_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    names = ["customers", "orders", "products"]
    queue(moto_url, select_result([("table_name", "varchar")], [[n] for n in names]))
    caplog.set_level(logging.DEBUG)

    assert await _typed(source).list_tables(None) == names  # the first one too (#48)

    assert executions() == [
        (
            "information_schema",
            "SELECT table_name FROM tables WHERE table_schema = 'sales' ORDER BY table_name",
        )
    ]
    # The sidecar's banner lines on stdout are not logged as parse errors.
    assert not [r for r in caplog.records if "Failed to parse" in r.getMessage()]


async def test_the_canned_shape_shows_the_upstream_first_row_bug(
    source: AthenaSource, moto_url: str
) -> None:
    """The sidecar's own list_tables loses the first table on a real SHOW TABLES answer:
    the fixtures are shaped closely enough to expose #48, which the source avoids."""
    queue(moto_url, show_result("tab_name", ["customers", "orders", "products"]))
    async with open_sidecar(await source._spec()) as sidecar:
        answer = await sidecar.call_json("list_tables", {"database": "sales"})
    assert answer["tables"] == ["orders", "products"]


async def test_describe_tables_returns_every_column(source: AthenaSource, moto_url: str) -> None:
    info = [("column_name", "varchar"), ("data_type", "varchar"), ("is_nullable", "varchar")]
    queue(
        moto_url,
        select_result(info, [["id", "bigint", "YES"], ["total", "decimal(10,2)", "NO"]]),
        select_result(info, [["sku", "varchar", "YES"]]),
    )

    described = await source.describe_tables("shop", ["orders", "products"])

    assert described == [
        {
            "name": "orders",
            "database": "shop",
            "columns": [
                {"name": "id", "type": "bigint", "nullable": True, "description": None},
                {"name": "total", "type": "decimal(10,2)", "nullable": False, "description": None},
            ],
        },
        {
            "name": "products",
            "database": "shop",
            "columns": [{"name": "sku", "type": "varchar", "nullable": True, "description": None}],
        },
    ]
    assert [query for _, query in executions()] == [
        "SELECT column_name, data_type, is_nullable FROM columns WHERE table_schema = 'shop'"
        f" AND table_name = '{table}' ORDER BY ordinal_position"
        for table in ("orders", "products")
    ]


async def test_describing_a_missing_table_is_a_clear_error(
    source: AthenaSource, moto_url: str
) -> None:
    queue(moto_url, select_result([("column_name", "varchar")], []))
    with pytest.raises(SourceError, match="no table 'ghost' in sales"):
        await source.describe_tables(None, ["ghost"])


async def test_execute_returns_rows(source: AthenaSource, moto_url: str) -> None:
    sql = "SELECT region, count(*) AS n, max(note) AS note FROM orders GROUP BY region"
    columns = [("region", "varchar"), ("n", "bigint"), ("note", "varchar")]
    queue(moto_url, select_result(columns, [["eu", "3", "late"], ["us", "5", None]]))

    result = await source.execute(None, sql)

    assert result["columns"] == ["region", "n", "note"]
    assert result["rows"] == [["eu", "3", "late"], ["us", "5", None]]
    assert result["row_count"] == 2
    assert result["truncated"] is False
    assert result["notice"] is None
    assert executions() == [("sales", sql)]


async def test_refused_queries_never_reach_athena(source: AthenaSource) -> None:
    data = DataTools(db=None, access=None, sources={"athena": source}, default="athena")  # type: ignore[arg-type]
    for sql in (
        "DROP TABLE orders",
        "INSERT INTO orders VALUES (1)",
        "CREATE TABLE x AS SELECT * FROM orders",
        "SELECT 1; SELECT 2",
        "SELECT * FROM pg_catalog.pg_settings",
    ):
        with pytest.raises(QueryRefused, match=r"^the SQL is not one read-only query \("):
            await source.execute(None, sql)
        # In a playbook's list of queries the refusal is that query's notice.
        (noted,) = await data.query(None, "execute-query", None, None, [sql])
        assert noted["rows"] == []
        assert noted["notice"].startswith("refused by the read-only guard:"), noted
    with pytest.raises(SourceError, match="not a valid table name"):
        await source.describe_tables(None, ["orders; DROP TABLE orders"])
    with pytest.raises(SourceError, match="not a valid database name"):
        await source.list_tables("sales' OR '1'='1")
    with pytest.raises(SourceError, match="not a valid database name"):
        await source.execute("a.b", "SELECT 1")
    assert executions() == []


async def test_a_failed_query_is_a_clear_refusal(
    source: AthenaSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.sales.missing' does not exist"
    original = AthenaResponse.get_query_execution

    def failing(self: AthenaResponse) -> str:
        answer = json.loads(original(self))
        execution = answer["QueryExecution"]
        if "missing" in execution["Query"]:  # as Athena reports a query that failed
            execution["Status"].update(State="FAILED", StateChangeReason=reason)
        return json.dumps(answer)

    monkeypatch.setattr(AthenaResponse, "get_query_execution", failing)

    with pytest.raises(QueryFailed) as failed:
        await source.execute(None, "SELECT * FROM missing")
    assert str(failed.value) == f"the query failed in Athena: {reason}"
    with pytest.raises(SourceError, match="the query failed in Athena: TABLE_NOT_FOUND"):
        await source.describe_tables("missing", ["t"])


async def test_the_sidecar_blocklist_is_reported(source: AthenaSource) -> None:
    with pytest.raises(QueryRefused, match=r"^the Athena sidecar refused the query:"):
        await source.execute(None, "SELECT 1 -- a comment")
    assert executions() == []


async def test_a_slow_query_is_polled_to_its_end(source: AthenaSource, moto_url: str) -> None:
    """The sidecar gives up waiting after 1 s; get_status is polled, then get_result."""
    transition = {"progression": "time", "seconds": 1}
    _post(
        f"{moto_url}/moto-api/state-manager/set-transition",
        {"model_name": "athena::execution", "transition": transition},
    )
    try:
        queue(moto_url, select_result([("n", "bigint")], [["42"]]))
        result = await source.execute(None, "SELECT 42 AS n")
    finally:
        _post(
            f"{moto_url}/moto-api/state-manager/unset-transition",
            {"model_name": "athena::execution"},
        )
    assert result["rows"] == [["42"]]


async def test_a_query_past_the_deadline_times_out(
    env: dict[str, str], athena_python: Path, moto_url: str
) -> None:
    source = AthenaSource(
        "athena",
        env=env,
        python=athena_python,
        timeout_seconds=1.5,
        poll_seconds=0.2,
        sidecar_wait_seconds=1,
    )
    _post(
        f"{moto_url}/moto-api/state-manager/set-transition",
        {"model_name": "athena::execution", "transition": {"progression": "manual", "times": 999}},
    )
    try:
        started = time.monotonic()
        with pytest.raises(QueryTimedOut) as timed_out:
            await source.execute(None, "SELECT 1")
        elapsed = time.monotonic() - started
        with pytest.raises(QueryTimedOut, match=r"longer than the server's 1\.5 s limit"):
            await source.list_tables(None)
    finally:
        _post(
            f"{moto_url}/moto-api/state-manager/unset-transition",
            {"model_name": "athena::execution"},
        )
    assert timed_out.value.code == "timeout"
    assert (
        timed_out.value.notice
        == "timed out: the Athena query ran longer than the server's 1.5 s limit"
    )
    assert elapsed < 10


async def test_a_sidecar_that_cannot_start_says_why(
    env: dict[str, str], athena_python: Path
) -> None:
    env["ATHENA_S3_OUTPUT_LOCATION"] = "bucket/out/"  # not an s3:// path: the sidecar exits
    source = AthenaSource("athena", env=env, python=athena_python)
    with pytest.raises(SourceError, match=r"did not start: .*must be a valid S3 path"):
        await source.list_tables("sales")


async def test_secrets_go_to_the_sidecar_by_environment_only(
    source: AthenaSource, env: dict[str, str]
) -> None:
    spec = await source._spec()
    assert spec.args == ["-m", "athena_mcp.server"]
    assert spec.env["AWS_SECRET_ACCESS_KEY"] == SECRET
    assert spec.env["AWS_REGION"] == REGION
    assert "UNRELATED_SECRET" not in spec.env
    for shown in (repr(spec), repr(source), str(SidecarSpec("x", "y", [], {"K": SECRET}))):
        assert SECRET not in shown


def test_the_registry_adds_athena_only_when_configured(tmp_path: Path) -> None:
    sources: dict[str, DataSource] = {}
    add_athena_source(sources, {"AWS_REGION": REGION})
    assert sources == {}
    add_athena_source(
        sources, {"ATHENA_S3_OUTPUT_LOCATION": "s3://b/o/", "CODIFIER_HOME": str(tmp_path)}
    )
    assert isinstance(sources[ATHENA_SOURCE], AthenaSource)
    assert sources[ATHENA_SOURCE].name == ATHENA_SOURCE


def test_the_sidecar_venv_is_made_once(athena_python: Path) -> None:
    started = time.monotonic()
    assert ensure_athena_venv(athena_python.parent.parent) == athena_python
    assert time.monotonic() - started < 1


async def test_the_research_playbooks_data_steps_run_against_athena(
    source: AthenaSource, moto_url: str, library: Library
) -> None:
    """research-and-analyze's data steps, driven by the interpreter and carried out by the
    same dispatch the server uses, with athena as the default source."""
    text = (playbooks_dir() / "research-and-analyze.yaml").read_text(encoding="utf-8")
    compiled = compile_playbook(text, "research-and-analyze.yaml", library)
    assert compiled.program is not None
    machine = Interpreter(compiled.program, library)
    data = DataTools(db=None, access=None, sources={"athena": source}, default="athena")  # type: ignore[arg-type]

    tables = ["customers", "orders"]
    varchar = "varchar"
    info = [("column_name", varchar), ("data_type", varchar), ("is_nullable", varchar)]
    queue(
        moto_url,
        select_result([("table_name", varchar)], [[t] for t in tables]),
        select_result(info, [["customer_id", "bigint", "NO"], ["country", "varchar", "YES"]]),
        select_result(info, [["order_id", "bigint", "NO"], ["customer_id", "bigint", "YES"]]),
        select_result([("country", varchar), ("n", "bigint")], [["DE", "7"], ["US", "12"]]),
    )

    async def carry_out(effect: Any) -> Any:
        return await data.query(
            effect.source, effect.operation, effect.database, effect.tables, effect.sql
        )

    t = machine.start({"database": "sales"}, {"id": "p", "name": "p"}, {"id": "s"})
    t = machine.resume(t.state, "Where are our customers?")
    assert isinstance(t.effect, InvokeSkill)
    t = machine.resume(t.state, [])
    assert isinstance(t.effect, QueryData)
    listed = await carry_out(t.effect)
    assert listed == tables  # every table, the first included
    t = machine.resume(t.state, listed)
    assert isinstance(t.effect, Ask)
    assert t.effect.choices == tables
    t = machine.resume(t.state, tables)
    assert isinstance(t.effect, QueryData)
    described = await carry_out(t.effect)
    assert [[c["name"] for c in s["columns"]] for s in described] == [
        ["customer_id", "country"],
        ["order_id", "customer_id"],
    ]
    t = machine.resume(t.state, described)
    assert isinstance(t.effect, Generate)
    sql = "SELECT country, count(*) AS n FROM customers GROUP BY country ORDER BY country"
    t = machine.resume(t.state, f"### Q1\n```sql\n{sql}\n```\n")
    assert isinstance(t.effect, QueryData)
    results = await carry_out(t.effect)
    assert results[0]["rows"] == [["DE", "7"], ["US", "12"]]
    t = machine.resume(t.state, results)
    assert isinstance(t.effect, Generate)
    assert "DE" in t.effect.prompt
    t = machine.resume(t.state, "## Summary\nMost customers are in the US.")
    assert isinstance(t.effect, Done)
    assert [db for db, _ in executions()] == ["information_schema"] * 3 + ["sales"]
