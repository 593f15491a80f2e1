"""Benchmark: how well and how fast fetch_context finds memories, through the real server.

    ./dev bench search [--quick]       (or: .venv/bin/python bench/search.py [--quick])

Corpus (bench/search_corpus.py has the exact rules): the Python 3.11 documentation as
Debian's `python3.11-doc` package installs it (PSF License; reST sources under
/usr/share/doc/python3.11/html/_sources). The bench installs the package with apt-get
when it is missing and it runs as root; otherwise it says how. The pages are split into
sections on their reST headings. About 3,000 sections are stored, each with
`update_memory` as a "document" whose title is its PAGE's title, whose content is the
section's body and whose tag is the page's folder. The section's heading is stored
nowhere. The labels are the documentation authors', not ours:

- title-style queries: 300 section headings (fixed seed), each unique in the whole
  documentation, not a page title, not generic ("Examples", "Notes", ...) -> the
  section beneath. The words of a heading are not all in its body, so a search must
  match some words and the meaning;
- sentence-style queries: every FAQ question (a heading ending in "?" in faq/*.rst.txt)
  with an answer of at least 60 characters (169 of the 175) -> that answer. A question
  shares few words with its answer.

Each query has exactly one right answer. One server process (embedded PostgreSQL, admin
token, its own CODIFIER_HOME in a temp dir, the embedding settings of this environment):

1. Writes: every section through `update_memory`, one client, one call at a time:
   p50/p95 latency (with embedding, when the server embeds).
2. Quality: each query through `fetch_context(query=..., limit=10, mode=M)` for M in
   text, semantic and hybrid: recall@1, recall@10 and MRR@10 per query style, and the
   share of queries that found nothing.
3. Speed: the same calls' p50/p95, beside filter-only `fetch_context(memory_type=
   "document", limit=10)` called between them in the same run. Target: hybrid p50 <= 4x
   filter-only p50.
4. Scale (skipped with --quick): synthetic memories (a random section's body, at most
   1,200 characters, then the first paragraph of another, then a serial number; titled
   after the first one's page) until the project holds --scale memories (100,000), then
   every mode's p50/p95 beside filter-only again. Target: hybrid p50 <= 3x filter-only.
   They go in through `update_memory` from 8 concurrent clients; when that would take
   longer than --bulk-budget-minutes (measured on the first ones), the rest are copied
   straight into the project's rows in PostgreSQL and `codifier reindex` (when the
   server has it) embeds them; the report says which, and how many memories have a vector.
   PostgreSQL's statistics are refreshed (VACUUM ANALYZE) before measuring.

Servers without the `mode` argument (before issue 9) are measured in text mode only (the
report says so); results without `score`, `total` or `has_more` are noted, not refused.

Run time on 2 cores: --quick about 40 s without embedding, about 5 min with the local
model (each write embeds a section). The scale phase is bound by embedding 97,000 more
memories: about 25 min without vectors, well over an hour with them (--bulk sql and
`codifier reindex` embed at about the same rate as update_memory does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcp import Client  # noqa: E402

from bench.search_corpus import (  # noqa: E402
    DOCS_PACKAGE,
    DOCS_ROOT,
    Corpus,
    Query,
    Section,
    build_corpus,
    load_sections,
)
from tests.server_harness import (  # noqa: E402
    ADMIN_TOKEN,
    ServerProcess,
    ToolCallFailed,
    call,
    http_client,
    server_env,
    stop_embedded_postgres,
)

MODES = ("text", "semantic", "hybrid")
FILTER_ONLY = "filter-only"
LIMIT = 10
HYBRID_TARGET = 4.0
SCALE_TARGET = 3.0
WARM_UP = 10


def ensure_docs(root: Path) -> bool:
    """Whether the corpus is there, after installing it when it is missing and we may."""
    if root.is_dir() and any(root.rglob("*.rst.txt")):
        return True
    print(
        f"bench search: the corpus (the Python 3.11 documentation's reST sources, Debian"
        f" package {DOCS_PACKAGE}, PSF License) is not at {root}.",
        file=sys.stderr,
    )
    if root != DOCS_ROOT or os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"Install it with: sudo apt-get update && sudo apt-get install -y {DOCS_PACKAGE}"
            " (or pass --docs DIR, a folder of the documentation's *.rst.txt sources).",
            file=sys.stderr,
        )
        return False
    print(f"bench search: installing {DOCS_PACKAGE} with apt-get ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", DOCS_PACKAGE]):
        if subprocess.run(command, env=env, check=False).returncode != 0:
            print(f"bench search: `{' '.join(command)}` failed.", file=sys.stderr)
            return False
    return root.is_dir() and any(root.rglob("*.rst.txt"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


@dataclass
class Probe:
    """What the server's fetch_context can do."""

    modes: list[str]
    sends_mode: bool
    notes: list[str] = field(default_factory=list)

    def arguments(self, mode: str) -> dict[str, Any]:
        return {"mode": mode} if self.sends_mode else {}


async def probe_server(client: Client, project: str) -> Probe:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    properties = tools["fetch_context"].input_schema.get("properties", {})
    if "mode" not in properties:
        return Probe(
            ["text"],
            sends_mode=False,
            notes=[
                "fetch_context has no `mode` argument on this server: only its full-text"
                " search is measured (as mode text)"
            ],
        )
    probe = Probe([], sends_mode=True)
    for mode in MODES:
        try:
            result = await call(
                client, "fetch_context", project_id=project, query="probe", mode=mode, limit=1
            )
        except ToolCallFailed as error:
            probe.notes.append(f"mode {mode} refused: {error}")
            continue
        probe.modes.append(mode)
        for key in ("notice", "notices", "warning", "warnings"):
            if result.get(key):
                probe.notes.append(f"mode {mode}: the server says {result[key]!r}")
    if not probe.modes:
        probe.modes, probe.sends_mode = ["text"], False
        probe.notes.append("every mode was refused: measured without `mode` (as text)")
    return probe


async def store_sections(
    client: Client, project: str, sections: list[Section]
) -> tuple[dict[str, str], list[float]]:
    """Each section as a memory, one call at a time: (section key -> memory id, latencies)."""
    ids: dict[str, str] = {}
    latencies: list[float] = []
    for number, section in enumerate(sections, 1):
        start = time.perf_counter()
        result = await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="document",
            title=section.page_title,
            content=section.body,
            tags=[section.folder],
        )
        latencies.append(time.perf_counter() - start)
        if not result.get("created", True):
            raise RuntimeError(f"section {section.key} was merged into an existing memory")
        ids[section.key] = result["memory"]["id"]
        if number % 500 == 0:
            print(f"  stored {number:,} of {len(sections):,}", file=sys.stderr)
    return ids, latencies


@dataclass
class Run:
    """One pass of queries: ranks of the right answer (None: not in the top LIMIT),
    result counts, and latencies, per mode (and filter-only)."""

    ranks: dict[str, list[int | None]] = field(default_factory=dict)
    counts: dict[str, list[int]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    fields_seen: dict[str, bool] = field(default_factory=dict)


async def run_queries(
    client: Client, project: str, queries: list[Query], probe: Probe, ids: dict[str, str]
) -> Run:
    """Every query once in every mode, with a filter-only call among them (the order
    turns from one query to the next, so no mode always runs first)."""
    run = Run()
    kinds = [*probe.modes, FILTER_ONLY]
    for kind in kinds:
        run.latencies[kind] = []
        if kind != FILTER_ONLY:
            run.ranks[kind], run.counts[kind] = [], []

    async def one(kind: str, query: Query) -> tuple[float, dict[str, Any]]:
        if kind == FILTER_ONLY:
            arguments: dict[str, Any] = {"memory_type": "document"}
        else:
            arguments = {"query": query.text, **probe.arguments(kind)}
        start = time.perf_counter()
        result = await call(client, "fetch_context", project_id=project, limit=LIMIT, **arguments)
        return time.perf_counter() - start, result

    for query in queries[:WARM_UP]:
        for kind in kinds:
            await one(kind, query)
    for number, query in enumerate(queries):
        turn = number % len(kinds)
        for kind in kinds[turn:] + kinds[:turn]:
            elapsed, result = await one(kind, query)
            run.latencies[kind].append(elapsed)
            memories = result["memories"]
            run.fields_seen.setdefault("total", "total" in result)
            run.fields_seen.setdefault("has_more", "has_more" in result)
            if kind == FILTER_ONLY:
                continue
            if memories:
                run.fields_seen["score"] = run.fields_seen.get("score", True) and all(
                    "score" in m for m in memories
                )
            found = [m["id"] for m in memories]
            answer = ids[query.answer]
            run.ranks[kind].append(found.index(answer) + 1 if answer in found else None)
            run.counts[kind].append(len(found))
    return run


def quality(ranks: list[int | None], counts: list[int]) -> tuple[float, float, float, float]:
    """recall@1, recall@10, MRR@10, share of queries with no result."""
    n = len(ranks)
    hits = [r for r in ranks if r is not None and r <= LIMIT]
    return (
        sum(1 for r in hits if r == 1) / n,
        len(hits) / n,
        sum(1 / r for r in hits) / n,
        sum(1 for c in counts if c == 0) / n,
    )


def quality_table(run: Run, queries: list[Query]) -> tuple[list[str], dict[str, Any]]:
    lines = [
        f"{'mode':<9} {'style':<9} {'queries':>7} {'R@1':>6} {'R@10':>6} {'MRR@10':>7}"
        f" {'no hit':>7}"
    ]
    figures: dict[str, Any] = {}
    for mode, ranks in run.ranks.items():
        for style in ("title", "sentence"):
            picked = [i for i, q in enumerate(queries) if q.style == style]
            if not picked:
                continue
            r1, r10, mrr, empty = quality(
                [ranks[i] for i in picked], [run.counts[mode][i] for i in picked]
            )
            figures[f"{mode}/{style}"] = {
                "queries": len(picked),
                "recall@1": r1,
                "recall@10": r10,
                "mrr@10": mrr,
                "no_hit": empty,
            }
            lines.append(
                f"{mode:<9} {style:<9} {len(picked):>7} {r1:>6.3f} {r10:>6.3f} {mrr:>7.3f}"
                f" {empty:>7.3f}"
            )
    return lines, figures


def latency_table(run: Run, target: float) -> tuple[list[str], dict[str, Any]]:
    base = statistics.median(run.latencies[FILTER_ONLY])
    lines = [f"{'call':<12} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 / filter-only':>18}"]
    figures: dict[str, Any] = {}
    for kind, values in run.latencies.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        ratio = p50 / base
        verdict = ""
        if kind == "hybrid":
            verdict = f"  target <= {target:g}x: {'met' if ratio <= target else 'MISSED'}"
        figures[kind] = {"calls": len(values), "p50_ms": p50 * 1000, "p95_ms": p95 * 1000}
        figures[kind]["ratio"] = ratio
        lines.append(
            f"{kind:<12} {len(values):>6} {ms(p50):>8} {ms(p95):>8} {ratio:>17.2f}x{verdict}"
        )
    return lines, figures


# --- the scale phase ---------------------------------------------------------------


def synthetic_memory(pool: list[Section], number: int, seed: int) -> tuple[str, str, list[str]]:
    """(title, content, tags) of synthetic memory `number`: deterministic, and distinct
    from every other (its serial number ends it)."""
    rng = random.Random(seed * 1_000_003 + number)
    first, second = rng.sample(pool, 2)
    head = first.body[:1200]
    if len(first.body) > 1200 and "\n\n" in head:
        head = head.rsplit("\n\n", 1)[0]
    tail = second.body.split("\n\n", 1)[0][:300]
    return f"{first.page_title} ({number})", f"{head}\n\n{tail}\n\n[{number}]", [first.folder]


@dataclass
class Growth:
    through_tool: int = 0
    through_sql: int = 0
    tool_seconds: float = 0.0
    sql_seconds: float = 0.0
    reindex_seconds: float | None = None
    notes: list[str] = field(default_factory=list)


async def grow_through_tool(
    url: str,
    project: str,
    first: int,
    stop_at: int,
    pool: list[Section],
    seed: int,
    clients: int,
    budget: float,
    growth: Growth,
) -> int:
    """Insert synthetic memories through update_memory from `clients` concurrent clients
    until `stop_at`, or until the time so far plus the rest at the latest rate would pass
    `budget` seconds. The first number not inserted."""
    start = time.perf_counter()
    lock = asyncio.Lock()
    state = {"next": first, "done": 0, "stop": False}
    total = stop_at - state["next"]
    # Progress, and the budget, go by the rate of the last report's window: writes slow
    # down as the project grows, so the average since the start would promise too much.
    window = {"at": start, "done": 0}

    async def worker() -> None:
        async with http_client(url, ADMIN_TOKEN) as client:
            while True:
                async with lock:
                    if state["stop"] or state["next"] >= stop_at:
                        return
                    number = state["next"]
                    state["next"] += 1
                title, content, tags = synthetic_memory(pool, number, seed)
                await call(
                    client,
                    "update_memory",
                    project_id=project,
                    memory_type="document",
                    title=title,
                    content=content,
                    tags=tags,
                )
                state["done"] += 1
                now = time.perf_counter()
                if now - window["at"] >= 15:
                    rate = (state["done"] - window["done"]) / (now - window["at"])
                    window["at"], window["done"] = now, state["done"]
                    left = (total - state["done"]) / max(rate, 0.01)
                    print(
                        f"  {state['done']:,} of {total:,} through update_memory,"
                        f" {rate:.0f}/s, about {left / 60:.0f} min left",
                        file=sys.stderr,
                    )
                    projected = now - start + left
                    if state["done"] >= 500 and projected > budget and not state["stop"]:
                        state["stop"] = True
                        growth.notes.append(
                            f"update_memory from {clients} clients had slowed to {rate:.0f}/s"
                            f" after {state['done']:,}: all {total:,} would take about"
                            f" {projected / 60:.0f} min (budget {budget / 60:g}); the"
                            " rest were copied into PostgreSQL"
                        )

    await asyncio.gather(*(worker() for _ in range(clients)))
    growth.through_tool = state["done"]
    growth.tool_seconds = time.perf_counter() - start
    return int(state["next"])


async def owner_connection(home: Path) -> Any:
    """The embedded PostgreSQL's owner (the bench's own server's database)."""
    import asyncpg

    from codifier.db.embedded import embedded_url

    return await asyncpg.connect(embedded_url(home))


async def grow_through_sql(
    home: Path, project: str, first: int, stop_at: int, pool: list[Section], seed: int
) -> float:
    """Copy synthetic memories straight into the project's rows (the owner's connection;
    the project is set on every row). Returns the seconds it took."""
    from codifier.store.memories import content_hash

    start = time.perf_counter()
    conn = await owner_connection(home)
    try:
        present = {
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'memories'"
            )
        }
        columns = ["project_id", "type", "title", "content", "tags", "content_hash"]
        extra = [c for c in ("created_by", "updated_by") if c in present]
        for batch_start in range(first, stop_at, 5_000):
            records = []
            for number in range(batch_start, min(batch_start + 5_000, stop_at)):
                title, content, tags = synthetic_memory(pool, number, seed)
                row: tuple[Any, ...] = (
                    UUID(project),
                    "document",
                    title,
                    content,
                    tags,
                    content_hash("document", content),
                )
                records.append(row + tuple("bench (SQL bulk load)" for _ in extra))
            await conn.copy_records_to_table("memories", records=records, columns=columns + extra)
    finally:
        await conn.close()
    return time.perf_counter() - start


async def copy_vectors(home: Path, project: str, growth: Growth) -> None:
    """Give the bulk-loaded memories vectors copied from the real sections' (each with a
    little noise, so HNSW sees distinct points): the scale phase measures latency, for
    which realistic vectors are enough, in minutes instead of the hour embedding 97,000
    texts on two cores takes (`--scale-vectors embed` does that instead)."""
    start = time.perf_counter()
    conn = await owner_connection(home)
    try:
        await conn.execute(
            "WITH src AS (SELECT embedding, embedding_model,"
            "  row_number() OVER (ORDER BY id) - 1 AS k FROM memories"
            "  WHERE project_id = $1 AND embedding IS NOT NULL),"
            " n AS (SELECT count(*) AS c FROM src),"
            " bare AS (SELECT id, (row_number() OVER (ORDER BY id)) % (SELECT c FROM n) AS k"
            "  FROM memories WHERE project_id = $1 AND embedding IS NULL)"
            " UPDATE memories m SET embedding = (SELECT array_agg(x + (random() - 0.5) * 0.01)"
            "  FROM unnest(s.embedding::real[]) x)::vector, embedding_model = s.embedding_model"
            " FROM bare b JOIN src s USING (k) WHERE m.id = b.id",
            UUID(project),
        )
    finally:
        await conn.close()
    growth.notes.append(
        "vectors of the SQL-loaded memories are copies of the real sections' (with noise):"
        " latency at scale only; quality is measured on the real sections"
    )
    growth.reindex_seconds = time.perf_counter() - start


def reindex(home: Path, growth: Growth) -> None:
    """`codifier reindex` embeds what has no vector, when the server has the command."""
    command = [sys.executable, "-m", "codifier.cli.main", "reindex"]
    env = server_env(home)
    helped = subprocess.run(
        [*command, "--help"], cwd=ROOT, env=env, capture_output=True, check=False
    )
    if helped.returncode != 0:
        growth.notes.append(
            "this server has no `codifier reindex`: memories copied in by SQL have no vector"
        )
        return
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    growth.reindex_seconds = time.perf_counter() - start
    if done.returncode != 0:
        growth.notes.append(f"`codifier reindex` failed: {done.stderr.strip()[-300:]}")


async def project_rows(home: Path, project: str, analyze: bool) -> tuple[int, int | None]:
    """(memories in the project, how many have a vector or None without the column);
    with `analyze`, PostgreSQL's statistics are refreshed first."""
    conn = await owner_connection(home)
    try:
        if analyze:
            # As autovacuum leaves a table between bulk loads: statistics fresh, the
            # visibility map set (index-only counts), dead row versions gone.
            await conn.execute("VACUUM ANALYZE")
        has_vectors = await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'memories' AND column_name = 'embedding'"
        )
        if has_vectors:
            row = await conn.fetchrow(
                "SELECT count(*) AS n, count(embedding) AS v FROM memories WHERE project_id = $1",
                UUID(project),
            )
            return int(row["n"]), int(row["v"])
        n = await conn.fetchval(
            "SELECT count(*) FROM memories WHERE project_id = $1", UUID(project)
        )
        return int(n), None
    finally:
        await conn.close()


# --- the whole run -------------------------------------------------------------------


async def bench(args: argparse.Namespace, corpus: Corpus, pool: list[Section]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    home = Path(tempfile.mkdtemp(prefix="codifier-bench-search-"))
    extra = {name: value for name, _, value in (i.partition("=") for i in args.server_env)}
    if not args.quick:
        extra.setdefault("CODIFIER_MAX_MEMORIES_PER_PROJECT", str(max(args.scale, 100_000)))
    server = ServerProcess(home, extra=extra).start(timeout=180)
    try:
        async with http_client(server.url, ADMIN_TOKEN) as client:
            project = (
                await call(client, "manage_projects", operation="create", name="bench-search")
            )["project"]["id"]
            print(f"\n== writes: {len(corpus.sections):,} sections with update_memory, one client")
            started = time.perf_counter()
            ids, writes = await store_sections(client, project, corpus.sections)
            seconds = time.perf_counter() - started
            print(
                f"p50 {ms(statistics.median(writes))} ms, p95 {ms(percentile(writes, 0.95))} ms,"
                f" {len(writes) / seconds:.0f} writes/s ({seconds:.0f} s)"
            )
            report["writes"] = {
                "count": len(writes),
                "p50_ms": statistics.median(writes) * 1000,
                "p95_ms": percentile(writes, 0.95) * 1000,
                "seconds": seconds,
            }
            probe = await probe_server(client, project)
            report["modes"] = probe.modes
            report["notes"] = list(probe.notes)
            print(f"\n== modes measured: {', '.join(probe.modes)}")
            for note in probe.notes:
                print(f"note: {note}")

            print(
                f"\n== quality: {len(corpus.queries)} queries, fetch_context(query, limit={LIMIT},"
                " mode)"
            )
            run = await run_queries(client, project, corpus.queries, probe, ids)
            lines, report["quality"] = quality_table(run, corpus.queries)
            print("\n".join(lines))
            missing = [k for k in ("score", "total", "has_more") if not run.fields_seen.get(k)]
            if missing:
                note = f"results carry no {', '.join(missing)}"
                report["notes"].append(note)
                print(f"note: {note}")
            print(
                f"\n== query latency over HTTP, {len(corpus.sections):,} memories (filter-only ="
                ' fetch_context(memory_type="document", limit=10), same run)'
            )
            lines, report["latency"] = latency_table(run, HYBRID_TARGET)
            print("\n".join(lines))

        if not args.quick:
            report["scale"] = await scale_phase(
                args, server, home, project, len(corpus.sections), corpus, probe, ids, pool
            )
    finally:
        server.stop()
        stop_embedded_postgres(home)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        else:
            print(f"kept {home}", file=sys.stderr)
    return report


async def scale_phase(
    args: argparse.Namespace,
    server: ServerProcess,
    home: Path,
    project: str,
    stored: int,
    corpus: Corpus,
    probe: Probe,
    ids: dict[str, str],
    pool: list[Section],
) -> dict[str, Any]:
    print(f"\n== scale: growing the project to {args.scale:,} memories")
    growth = Growth()
    stop_at = args.scale - stored + 1  # synthetic memories are numbered from 1
    if args.bulk == "sql":
        next_number = 1
    else:
        budget = float("inf") if args.bulk == "tool" else args.bulk_budget_minutes * 60
        next_number = await grow_through_tool(
            server.url, project, 1, stop_at, pool, args.seed, 8, budget, growth
        )
    if next_number < stop_at:
        growth.through_sql = stop_at - next_number
        growth.sql_seconds = await grow_through_sql(
            home, project, next_number, stop_at, pool, args.seed
        )
        if args.scale_vectors == "copy":
            await copy_vectors(home, project, growth)
        else:
            reindex(home, growth)
    count, vectors = await project_rows(home, project, analyze=True)
    if growth.through_tool:
        print(
            f"update_memory x 8 clients: {growth.through_tool:,} in {growth.tool_seconds:.0f} s"
            f" ({growth.through_tool / growth.tool_seconds:.0f}/s)"
        )
    if growth.through_sql:
        print(f"copied into PostgreSQL: {growth.through_sql:,} in {growth.sql_seconds:.0f} s")
    if growth.reindex_seconds is not None:
        print(f"vectors for them: {growth.reindex_seconds:.0f} s ({args.scale_vectors})")
    vector_text = "no vector column" if vectors is None else f"{vectors:,} with a vector"
    print(f"the project holds {count:,} memories ({vector_text}); statistics refreshed")
    for note in growth.notes:
        print(f"note: {note}")
    async with http_client(server.url, ADMIN_TOKEN) as client:
        run = await run_queries(client, project, corpus.queries, probe, ids)
    print(f"\n== query latency at {count:,} memories")
    lines, latency = latency_table(run, SCALE_TARGET)
    print("\n".join(lines))
    return {
        "memories": count,
        "with_vector": vectors,
        "through_tool": growth.through_tool,
        "tool_seconds": growth.tool_seconds,
        "through_sql": growth.through_sql,
        "sql_seconds": growth.sql_seconds,
        "reindex_seconds": growth.reindex_seconds,
        "notes": growth.notes,
        "latency": latency,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-memory phase")
    parser.add_argument("--scale", type=int, default=100_000, help="memories in the scale phase")
    parser.add_argument(
        "--bulk",
        choices=["auto", "tool", "sql"],
        default="auto",
        help="how the scale phase inserts: update_memory (tool), SQL, or tool within a budget",
    )
    parser.add_argument("--bulk-budget-minutes", type=float, default=30.0)
    parser.add_argument(
        "--scale-vectors",
        choices=("copy", "embed"),
        default="copy",
        help="vectors of SQL-loaded memories: copied from real sections (fast) or embedded",
    )
    parser.add_argument("--sections", type=int, default=3_000, help="sections to store")
    parser.add_argument("--title-queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--docs", type=Path, default=DOCS_ROOT, help="the reST sources")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server (repeatable), e.g. CODIFIER_EMBEDDING_PROVIDER=off",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the server's home directory")
    args = parser.parse_args()
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    if not ensure_docs(args.docs):
        return 2

    started = time.perf_counter()
    corpus = build_corpus(args.docs, args.sections, args.title_queries, args.seed)
    _, every = load_sections(args.docs)
    pool = [s for s in every if len(s.body) >= 60]
    styles = {s: sum(1 for q in corpus.queries if q.style == s) for s in ("title", "sentence")}
    print(
        f"== corpus: Python 3.11 documentation ({DOCS_PACKAGE}, PSF License) at {args.docs}\n"
        f"{corpus.pages} pages, {corpus.parsed:,} sections, {corpus.eligible:,} storable;"
        f" storing {len(corpus.sections):,}; queries: {styles['title']} title-style,"
        f" {styles['sentence']} sentence-style (seed {args.seed})"
    )
    report = asyncio.run(bench(args, corpus, pool))
    report["corpus"] = {
        "pages": corpus.pages,
        "sections": corpus.parsed,
        "storable": corpus.eligible,
        "stored": len(corpus.sections),
        "queries": styles,
        "seed": args.seed,
    }
    report["seconds"] = time.perf_counter() - started
    print(f"\nran in {report['seconds']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
