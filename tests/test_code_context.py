"""Code context on real repositories of real size (issue 10): the snapshot index, exact
reads, literal/regex/semantic search, the digest, listings, and a local path in a
playbook. Django's and Jinja2's PyPI sdists, committed as git repositories, are packed by
a real server from a local path under CODIFIER_PACK_ROOTS."""

from __future__ import annotations

import random
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from codifier.packer.tokens import count_tokens
from tests.demo_support import project_key
from tests.real_repos import DJANGO, JINJA2, cache_dir, repository
from tests.server_harness import (
    ADMIN_TOKEN,
    EVALS_YAML,
    ServerProcess,
    ToolCallFailed,
    call,
    drive,
    http_client,
    polling_health,
    running,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def repos() -> dict[str, Path]:
    return {"django": repository(DJANGO), "jinja2": repository(JINJA2)}


@pytest.fixture(scope="module")
def plain(server_home: Path, repos: dict[str, Path]) -> Iterator[ServerProcess]:
    """No chunk embedding: Django's would keep a core busy for the rest of the run."""
    extra = {"CODIFIER_PACK_ROOTS": str(cache_dir()), "CODIFIER_SNAPSHOT_EMBED_CHUNKS": "0"}
    with running(server_home, extra=extra) as process:
        yield process


@pytest.fixture(scope="module")
def semantic(server_home: Path, repos: dict[str, Path]) -> Iterator[ServerProcess]:
    with running(server_home, extra={"CODIFIER_PACK_ROOTS": str(cache_dir())}) as process:
        yield process


async def _project(server: ServerProcess) -> str:
    async with http_client(server.url, ADMIN_TOKEN) as admin:
        name = f"code-{uuid.uuid4().hex[:8]}"
        created = await call(admin, "manage_projects", operation="create", name=name)
    return str(created["project"]["id"])


async def _tool(server: ServerProcess, tool: str, token: str = ADMIN_TOKEN, **args: Any) -> Any:
    # Packing Django takes longer than httpx's default 5 s without a byte of response.
    async with http_client(server.url, token, timeout=120) as client:
        return await call(client, tool, **args)


async def _refusal(server: ServerProcess, tool: str, token: str = ADMIN_TOKEN, **args: Any) -> str:
    async with http_client(server.url, token, timeout=120) as client:
        with pytest.raises(ToolCallFailed) as failed:
            await call(client, tool, **args)
    return str(failed.value)


@pytest.fixture(scope="module")
def django(plain: ServerProcess, repos: dict[str, Path]) -> dict[str, Any]:
    async def pack() -> dict[str, Any]:
        project = await _project(plain)
        result = await _tool(plain, "pack_repo", url=str(repos["django"]), project_id=project)
        return {**result, "project_id": project}

    return anyio.run(pack)


def _split(text: str) -> list[str]:
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    return lines


async def _index(server: ServerProcess, snapshot_id: str) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    while True:
        page = await _tool(
            server, "read_snapshot", snapshot_id=snapshot_id, offset=len(files), limit=1000
        )
        files += page["files"]
        if not page["has_more"]:
            assert len(files) == page["total"]
            return files


# -- the index and exact reads ---------------------------------------------------------


async def test_the_index_lists_every_packed_file_with_its_lines(
    plain: ServerProcess, django: dict[str, Any], repos: dict[str, Path]
) -> None:
    files = await _index(plain, django["snapshot_id"])
    assert len(files) == django["file_count"] > 2000
    by_path = {f["path"]: f for f in files}
    assert by_path["django/db/models/query.py"]["language"] == "python"
    for entry in random.Random(7).sample(files, 200):
        on_disk = repos["django"] / entry["path"]
        assert entry["lines"] == len(_split(on_disk.read_bytes().decode("utf-8", "replace")))
        assert entry["tokens"] > 0
        assert entry["page"] >= 1


async def test_line_ranges_are_the_files_exact_lines(
    plain: ServerProcess, django: dict[str, Any], repos: dict[str, Path]
) -> None:
    files = [f for f in await _index(plain, django["snapshot_id"]) if f["lines"] > 0]
    rng = random.Random(11)
    for entry in rng.sample(files, 40):
        lines = _split((repos["django"] / entry["path"]).read_bytes().decode("utf-8", "replace"))
        start = rng.randint(1, len(lines))
        end = rng.randint(start, min(len(lines), start + 300))
        got = await _tool(
            plain,
            "read_snapshot",
            snapshot_id=django["snapshot_id"],
            path=entry["path"],
            start_line=start,
            end_line=end,
        )
        assert (got["start_line"], got["end_line"], got["total_lines"]) == (
            start,
            end,
            len(lines),
        )
        assert got["text"] == "".join(lines[start - 1 : end]), entry["path"]


async def test_a_long_file_is_read_in_capped_pieces_that_join_exactly(
    plain: ServerProcess, django: dict[str, Any], repos: dict[str, Path]
) -> None:
    files = await _index(plain, django["snapshot_id"])
    longest = max(files, key=lambda f: f["lines"])
    assert longest["lines"] > 2000
    pieces: list[str] = []
    start: int | None = 1
    calls = 0
    while start is not None:
        got = await _tool(
            plain,
            "read_snapshot",
            snapshot_id=django["snapshot_id"],
            path=longest["path"],
            start_line=start,
        )
        assert got["end_line"] - got["start_line"] + 1 <= 2000
        assert len(got["text"].encode()) <= 100 * 1024
        pieces.append(got["text"])
        start = got.get("next_start_line")
        calls += 1
    assert calls >= 2
    on_disk = (repos["django"] / longest["path"]).read_bytes().decode("utf-8", "replace")
    assert "".join(pieces) == on_disk


async def test_reads_outside_the_file_are_clear_errors(
    plain: ServerProcess, django: dict[str, Any]
) -> None:
    snapshot = django["snapshot_id"]
    path = "django/db/models/query.py"
    error = await _refusal(
        plain, "read_snapshot", snapshot_id=snapshot, path=path, start_line=10**6
    )
    assert error.startswith("[invalid]")
    assert "the file has" in error
    error = await _refusal(plain, "read_snapshot", snapshot_id=snapshot, path="no/such.py")
    assert error.startswith("[not_found]")
    assert "no file" in error
    error = await _refusal(plain, "read_snapshot", snapshot_id=str(uuid.uuid4()))
    assert error.startswith("[not_found]")


# -- literal and regular-expression search -------------------------------------------


def _git_grep(
    repo: Path, flags: list[str], pattern: str, pathspec: str | None, packed: set[str]
) -> set[tuple[str, int]]:
    out = subprocess.run(
        ["git", "grep", "-n", "-I", *flags, "-e", pattern, *(["--", pathspec] if pathspec else [])],
        cwd=repo,
        capture_output=True,
        text=True,
        errors="replace",
    ).stdout
    found = set()
    for line in out.splitlines():
        path, number, _ = line.split(":", 2)
        if path in packed:
            found.add((path, int(number)))
    return found


@pytest.mark.parametrize(
    ("mode", "query", "flags", "glob", "pathspec"),
    [
        ("literal", "def get_absolute_url", ["-F"], None, None),
        ("literal", "class QuerySet", ["-F"], None, None),
        ("literal", "select_for_update(", ["-F"], "docs/**", "docs/"),
        ("regex", r"^class [A-Za-z]+Field\(Field\)", ["-E"], None, None),
        (
            "regex",
            r"^\s*def as_[a-z]+\(self, compiler, connection",
            ["-P"],
            "django/db/models/functions/**",
            "django/db/models/functions/",
        ),
        ("regex", r"^\s+def __init__\(self, \*args, \*\*kwargs\)", ["-P"], "*.py", "*.py"),
    ],
)
async def test_literal_and_regex_hits_carry_git_greps_line_numbers(
    plain: ServerProcess,
    django: dict[str, Any],
    repos: dict[str, Path],
    mode: str,
    query: str,
    flags: list[str],
    glob: str | None,
    pathspec: str | None,
) -> None:
    packed = {f["path"] for f in await _index(plain, django["snapshot_id"])}
    expected = _git_grep(repos["django"], flags, query, pathspec, packed)
    assert 0 < len(expected) <= 100, len(expected)
    got = await _tool(
        plain, "search_snapshot", snapshot_id=django["snapshot_id"], query=query, mode=mode,
        path=glob, limit=100,
    )  # fmt: skip
    assert got["truncated"] is False
    assert {(h["path"], h["line"]) for h in got["hits"]} == expected
    for hit in got["hits"][:10]:
        line = _split((repos["django"] / hit["path"]).read_text())[hit["line"] - 1]
        assert hit["text"] == line.rstrip("\n").rstrip("\r")[:400]


async def test_a_path_glob_narrows_and_limit_truncates(
    plain: ServerProcess, django: dict[str, Any]
) -> None:
    snapshot = django["snapshot_id"]
    got = await _tool(
        plain, "search_snapshot", snapshot_id=snapshot, query="import", mode="literal", limit=5
    )
    assert len(got["hits"]) == 5
    assert got["truncated"] is True
    narrowed = await _tool(
        plain, "search_snapshot", snapshot_id=snapshot, query="class ", mode="literal",
        path="django/contrib/auth/**/*.py", limit=100,
    )  # fmt: skip
    assert narrowed["hits"]
    assert all(h["path"].startswith("django/contrib/auth/") for h in narrowed["hits"])
    assert all(h["path"].endswith(".py") for h in narrowed["hits"])


HOSTILE = [r"(a*)*b", r"(x+x+)+y", r"(.*a){20}z", r"^(\w+\s?)*$", r"([a-z]+)*[0-9]{30}"]


async def test_hostile_regexes_cannot_stall_the_server(
    plain: ServerProcess, django: dict[str, Any]
) -> None:
    with polling_health(plain) as health:
        for pattern in HOSTILE:
            started = time.monotonic()
            await _tool(
                plain, "search_snapshot", snapshot_id=django["snapshot_id"], query=pattern,
                mode="regex", limit=100,
            )  # fmt: skip
            assert time.monotonic() - started < 5, pattern
    assert set(health.statuses) == {200}
    assert max(health.latencies) < 1, health.latencies


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (r"(?<=a)b", "RE2"),  # look-behind: not linear-time, refused
        (r"(a)\1", "RE2"),  # backreference
        ("a{1000}{1000}", "RE2"),  # a program too large to run in linear time
        ("x" * 1001, "characters"),
    ],
)
async def test_regexes_re2_refuses_are_one_clear_error(
    plain: ServerProcess, django: dict[str, Any], query: str, expected: str
) -> None:
    error = await _refusal(
        plain, "search_snapshot", snapshot_id=django["snapshot_id"], query=query, mode="regex"
    )
    assert error.startswith("[invalid]")
    assert expected in error
    assert "\n" not in error
    assert "Traceback" not in error


# -- the digest -----------------------------------------------------------------------


def test_the_digest_fits_its_budget_and_names_djangos_central_modules(
    django: dict[str, Any],
) -> None:
    digest = django["digest"]
    assert 0.97 * 8000 <= count_tokens(digest) <= 8000
    # Written before the ranking existed (see the issue's "write the expectations before
    # you look"): at least four of these seven central parts of Django are outlined.
    groups = [
        ["django/db/models/__init__.py", "django/db/models/base.py",
         "django/db/models/fields/__init__.py", "django/db/models/query.py"],
        ["django/utils/translation/__init__.py"],
        ["django/conf/__init__.py"],
        ["django/core/exceptions.py"],
        ["django/utils/functional.py"],
        ["django/http/__init__.py", "django/http/request.py", "django/http/response.py"],
        ["django/apps/registry.py", "django/apps/config.py"],
    ]  # fmt: skip
    named = [group for group in groups if any(f"### {path}" in digest for path in group)]
    assert len(named) >= 4, named
    assert "Django" in digest
    assert "pyproject.toml" in digest
    assert "read_snapshot" in digest
    assert "search_snapshot" in digest


async def test_the_digest_is_a_resource_and_takes_other_budgets(
    plain: ServerProcess, django: dict[str, Any], repos: dict[str, Path]
) -> None:
    async with http_client(plain.url, ADMIN_TOKEN) as client:
        read = await client.read_resource(django["digest_uri"])
    assert read.contents[0].text == django["digest"]  # type: ignore[union-attr]
    project = await _project(plain)
    small = await _tool(
        plain, "pack_repo", url=str(repos["jinja2"]), project_id=project, digest_tokens=2000
    )
    assert 0.97 * 2000 <= count_tokens(small["digest"]) <= 2000
    assert "pytest" in small["test_frameworks"]
    error = await _refusal(
        plain, "pack_repo", url=str(repos["jinja2"]), project_id=project, digest_tokens=10
    )
    assert error.startswith("[invalid]")
    assert "digest_tokens" in error


# -- listing and isolation ------------------------------------------------------------


async def test_snapshots_are_listed_and_other_projects_see_none_of_them(
    plain: ServerProcess, server_home: Path, django: dict[str, Any]
) -> None:
    listed = await _tool(plain, "list_snapshots", project_id=django["project_id"])
    assert [s["snapshot_id"] for s in listed["snapshots"]] == [django["snapshot_id"]]
    assert listed["snapshots"][0]["languages"][0] == "python"
    other = await _project(plain)
    async with http_client(plain.url, ADMIN_TOKEN) as admin:
        name = (await call(admin, "manage_projects", operation="get", project_id=other))["project"][
            "name"
        ]
    key = project_key(server_home, name, "other")
    snapshot = django["snapshot_id"]
    assert (await _tool(plain, "list_snapshots", key))["snapshots"] == []
    for tool, args in [
        ("read_snapshot", {"snapshot_id": snapshot}),
        ("read_snapshot", {"snapshot_id": snapshot, "path": "django/__init__.py"}),
        ("search_snapshot", {"snapshot_id": snapshot, "query": "import", "mode": "literal"}),
    ]:
        error = await _refusal(plain, tool, key, **args)
        assert error.startswith("[not_found]"), (tool, error)
    async with http_client(plain.url, key) as client:
        with pytest.raises(Exception, match="not_found"):
            await client.read_resource(django["digest_uri"])


# -- semantic search and playbooks ---------------------------------------------------


@pytest.fixture(scope="module")
def jinja2_semantic(semantic: ServerProcess, repos: dict[str, Path]) -> dict[str, Any]:
    async def pack_and_wait() -> dict[str, Any]:
        project = await _project(semantic)
        packed = await _tool(semantic, "pack_repo", url=str(repos["jinja2"]), project_id=project)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            listed = await _tool(semantic, "list_snapshots", project_id=project)
            state = listed["snapshots"][0]["semantic"]
            if state["status"] not in ("pending", "running"):
                return {**packed, "semantic": state, "project_id": project}
            await anyio.sleep(2)
        raise AssertionError(f"embedding did not finish: {state}")

    return anyio.run(pack_and_wait)


@pytest.mark.parametrize(
    ("question", "module"),
    [
        ("split the template source text into a stream of tokens", "src/jinja2/lexer.py"),
        ("restrict access to unsafe attributes of objects in templates", "src/jinja2/sandbox.py"),
        ("load templates from a directory on the file system", "src/jinja2/loaders.py"),
    ],
)
async def test_a_question_finds_the_right_module(
    semantic: ServerProcess, jinja2_semantic: dict[str, Any], question: str, module: str
) -> None:
    state = jinja2_semantic["semantic"]
    assert state["status"] == "complete", state
    got = await _tool(
        semantic, "search_snapshot", snapshot_id=jinja2_semantic["snapshot_id"], query=question,
        mode="semantic", limit=5,
    )  # fmt: skip
    assert module in [hit["path"] for hit in got["hits"][:3]], got["hits"]
    for hit in got["hits"]:
        assert hit["line"] <= hit["end_line"]
        assert hit["text"]


async def test_a_local_path_works_in_a_playbook_and_its_digest_reaches_the_prompt(
    plain: ServerProcess, repos: dict[str, Path]
) -> None:
    project = await _project(plain)
    prompts: dict[str, str] = {}

    def llm(step: str, prompt: str) -> str:
        prompts[step] = prompt
        if step == "evals":
            return EVALS_YAML
        return f"# {step}\n\n## R1: something\n"

    async with http_client(plain.url, ADMIN_TOKEN, timeout=120) as client:
        started = await call(
            client, "run_playbook", playbook_id="initialize-project", project_id=project
        )
        answers = {
            "project_name": "templating",
            "description": "A template engine.",
            "statement_of_work": "none",
            "repositories": [str(repos["jinja2"])],
        }
        result = await drive(client, started, answers, llm)
    assert result["status"] == "completed", result
    [snapshot] = result["outputs"]["snapshots"]
    assert snapshot["url"] == str(repos["jinja2"])
    for step in ("rules", "requirements"):
        assert f'<digest snapshot="{snapshot["id"]}">' in prompts[step]
        assert "src/jinja2/environment.py" in prompts[step]
        assert "read_snapshot" in prompts[step]
    assert "pytest" in prompts["evals"]
    assert "python" in prompts["evals"]
