"""Benchmark: the server's tools over Streamable HTTP, and fetch_context in the store.

    ./dev bench server            (or: .venv/bin/python bench/server.py)

1. A server in its own process (embedded PostgreSQL, admin token). For 1, 8 and 32
   concurrent clients, each with its own MCP connection: p50/p99 latency and throughput of
   `fetch_context`, `advance_step` and, as the baseline, `echo` (the same auth and MCP
   path, no work) — all in the same run. Target: p50 <= 1.5x echo.
2. The store's `fetch_context` at 100,000 memories (row-level security, scoped
   transaction) beside the same SQL on a plain connection. Target: p50 <= 1.3x raw SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from codifier.db.embedded import embedded_url  # noqa: E402
from codifier.search import MemoryFilter  # noqa: E402
from codifier.store import memories, projects  # noqa: E402
from codifier.store.database import ADMIN, Database, Scope  # noqa: E402
from tests.server_harness import (  # noqa: E402
    ADMIN_TOKEN,
    INIT_ANSWERS,
    ServerProcess,
    call,
    http_client,
    stop_embedded_postgres,
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def measure(
    clients: int, per_client: int, make: Callable[[Any, int], Awaitable[None]], url: str
) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def worker(n: int) -> None:
        async with http_client(url, ADMIN_TOKEN) as client:
            await make(client, -1)  # warm the connection
            for i in range(per_client):
                start = time.perf_counter()
                await make(client, n * per_client + i)
                latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    return latencies, time.perf_counter() - start


async def server_bench(requests: int) -> list[str]:
    lines = []
    home = Path(tempfile.mkdtemp(prefix="codifier-bench-"))
    os.environ["CODIFIER_BENCH_ECHO"] = "1"
    server = ServerProcess(home).start()
    try:
        async with http_client(server.url, ADMIN_TOKEN) as client:
            project = (await call(client, "manage_projects", operation="create", name="bench"))[
                "project"
            ]["id"]
            for i in range(200):
                await call(
                    client,
                    "update_memory",
                    project_id=project,
                    memory_type="learning",
                    title=f"Learning {i}",
                    content=f"Observation number {i} about churn, billing and invoices.",
                    tags=["bench", f"t{i % 10}"],
                )

        async def echo(client: Any, n: int) -> None:
            await call(client, "echo", text="hello")

        async def fetch(client: Any, n: int) -> None:
            await call(client, "fetch_context", project_id=project, limit=20)

        lines.append(
            f"{'clients':>7} {'tool':<14} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}"
            f" {'p50 vs echo':>12}"
        )
        for clients in (1, 8, 32):
            per_client = max(requests // clients, 5)
            results: dict[str, tuple[list[float], float]] = {}
            results["echo"] = await measure(clients, per_client, echo, server.url)
            results["fetch_context"] = await measure(clients, per_client, fetch, server.url)
            # Each client walks its own runs: eight answered steps per run.
            results["advance_step"] = await _advance_per_client(
                server.url, clients, per_client, project
            )
            echo_p50 = statistics.median(results["echo"][0])
            for name, (lat, wall) in results.items():
                p50 = statistics.median(lat)
                p99 = percentile(lat, 0.99)
                lines.append(
                    f"{clients:>7} {name:<14} {p50 * 1000:>8.2f} {p99 * 1000:>8.2f}"
                    f" {len(lat) / wall:>8.0f} {p50 / echo_p50:>11.2f}x"
                )
    finally:
        server.stop()
        stop_embedded_postgres(home)
    return lines


async def _advance_per_client(
    url: str, clients: int, per_client: int, project: str
) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def worker() -> None:
        async with http_client(url, ADMIN_TOKEN) as client:
            current = await call(
                client, "run_playbook", playbook_id="initialize-project", project_id=project
            )
            for _ in range(per_client):
                if current["status"] == "completed":
                    current = await call(
                        client, "run_playbook", playbook_id="initialize-project", project_id=project
                    )
                step = current["step"]["id"]
                answer = INIT_ANSWERS.get(step, f"# {step}\nartifact")
                start = time.perf_counter()
                current = await call(
                    client,
                    "advance_step",
                    session_id=current["session_id"],
                    step_id=step,
                    input=answer,
                )
                latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, time.perf_counter() - start


# The same two statements the store runs for a filtered page: the count behind `total`,
# then the page (current memories only).
RAW_COUNT = "SELECT count(*) FROM memories WHERE project_id = $1 AND superseded_by IS NULL {extra}"
RAW_SQL = (
    "SELECT id, project_id, type, title, content, tags, source_role, metadata, content_hash,"
    " created_at, updated_at, created_by, updated_by, superseded_by FROM memories"
    " WHERE project_id = $1 AND superseded_by IS NULL {extra}"
    " ORDER BY {order} LIMIT 20 OFFSET 0"
)


async def store_bench(count: int, rounds: int) -> list[str]:
    home = Path(tempfile.mkdtemp(prefix="codifier-bench-store-"))
    lines = []
    try:
        url = embedded_url(home)
        db = await Database.connect(url, max_size=2)
        async with db.transaction(ADMIN) as conn:
            project = UUID((await projects.create(conn, "big", ""))["id"])
            other = UUID((await projects.create(conn, "other", ""))["id"])
        raw = await asyncpg.connect(url)
        topics = ["churn", "billing", "invoices", "refunds", "latency", "pricing", "onboarding"]
        kinds = ["rule", "document", "learning", "research_finding", "api_contract"]
        rows = []
        for i in range(count):
            owner = project if i % 2 == 0 else other
            topic = topics[i % len(topics)]
            content = f"Finding {i}: {topic} moved {i % 97} points; see report {uuid.uuid4().hex}."
            rows.append(
                (
                    owner,
                    kinds[i % len(kinds)],
                    f"{topic} note {i}",
                    content,
                    [topic, f"t{i % 20}"],
                    memories.content_hash(kinds[i % len(kinds)], content),
                )
            )
        await raw.copy_records_to_table(
            "memories",
            records=rows,
            columns=["project_id", "type", "title", "content", "tags", "content_hash"],
        )
        await raw.execute("VACUUM ANALYZE memories")  # as autovacuum leaves it
        cases: list[tuple[str, dict[str, Any], str, str, list[Any]]] = [
            ("newest first", {}, "", "created_at DESC, id DESC", []),
            (
                "type filter",
                {"memory_type": "rule"},
                "AND type = $2",
                "created_at DESC, id DESC",
                ["rule"],
            ),
            (
                "tags",
                {"tags": ["churn", "t4"]},
                "AND tags_key @> $2",
                "created_at DESC, id DESC",
                [["churn", "t4"]],
            ),
        ]
        lines.append(f"{count:,} memories (half in the measured project), p50 of {rounds} calls")
        lines.append(f"{'query':<14} {'store ms':>9} {'raw SQL ms':>11} {'ratio':>7}")
        for name, kwargs, extra, order, args in cases:
            store_times, raw_times = [], []
            sql = RAW_SQL.format(extra=extra, order=order)
            count_sql = RAW_COUNT.format(extra=extra)
            where = MemoryFilter(project, **kwargs)
            for _ in range(rounds):
                start = time.perf_counter()
                async with db.transaction(Scope.project(project)) as conn:
                    await memories.fetch(conn, where)
                store_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                async with raw.transaction():
                    await raw.fetchval(count_sql, project, *args)
                    await raw.fetch(sql, project, *args)
                raw_times.append(time.perf_counter() - start)
            s, r = statistics.median(store_times), statistics.median(raw_times)
            lines.append(f"{name:<14} {s * 1000:>9.3f} {r * 1000:>11.3f} {s / r:>6.2f}x")
        await raw.close()
        await db.close()
    finally:
        stop_embedded_postgres(home)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=160, help="requests per tool and level")
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print("== tools over Streamable HTTP (target: p50 <= 1.5x echo)")
    for line in asyncio.run(server_bench(args.requests)):
        print(line)
    print("\n== store fetch_context vs raw SQL (target: <= 1.3x)")
    for line in asyncio.run(store_bench(args.memories, args.rounds)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
