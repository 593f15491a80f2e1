"""A real git repository (test_packer's TREE) served by `git http-backend` on loopback,
for tests that pack it through the server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.test_packer import GitServer, git, make_repo, serve

# A server packing from the loopback git server must be allowed to reach it: by default
# packing refuses internal addresses.
LOOPBACK_GIT = {"CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1"}


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
