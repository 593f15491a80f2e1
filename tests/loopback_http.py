"""A stand-in HTTP service on loopback (a fake identity provider, a document host, a
misbehaving embeddings endpoint), served from a thread for as long as a test needs it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import HTTPServer
from typing import TypeVar

Served = TypeVar("Served", bound=HTTPServer)


@contextlib.contextmanager
def serving(server: Served) -> Iterator[Served]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
