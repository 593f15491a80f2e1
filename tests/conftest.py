from __future__ import annotations

import pytest

from codifier.library import load_library
from dsl.library import Library


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
