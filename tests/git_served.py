"""A real git repository (test_packer's TREE) served by `git http-backend` on loopback,
for tests that pack it through the server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.test_packer import GitServer, git, make_repo, serve


@contextlib.contextmanager
def served_repository(base: Path) -> Iterator[str]:
    """The clone URL of a bare copy of a fresh repository built under `base`."""
    make_repo(base / "work")
    git(base, "clone", "-q", "--bare", str(base / "work"), str(base / "root" / "repo.git"))
    server = GitServer(base / "root")
    httpd = serve(server)
    try:
        yield f"{server.url}/public.git"
    finally:
        httpd.shutdown()
        httpd.server_close()
