"""Keeping the embedded PostgreSQL up: a task that restarts it when its postmaster dies.

Requests meanwhile get `[unavailable]` (codifier.store.database.DatabaseUnavailable) and
`/health` answers 503; the connection pools reconnect by themselves once it is back.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import anyio

from codifier.db.embedded import postmaster_running, restart_embedded

log = logging.getLogger("codifier.database")

# After a crash the old server's processes can hold its shared memory for a moment, and a
# start fails until they are gone: wait longer between failed starts, up to this.
_MAX_BACKOFF = 30.0


async def supervise_embedded(home: Path, interval: float) -> None:
    """Check every `interval` seconds; restart a dead server. Runs until cancelled."""
    delay = interval
    while True:
        await anyio.sleep(delay)
        if await anyio.to_thread.run_sync(postmaster_running, home):
            delay = interval
            continue
        log.warning("codifier: the embedded PostgreSQL is not running; restarting it")
        try:
            restarted = await anyio.to_thread.run_sync(restart_embedded, home)
        except (subprocess.SubprocessError, OSError, AssertionError) as error:
            delay = min(max(delay, interval) * 2, _MAX_BACKOFF)
            log.warning(
                "codifier: restarting the embedded PostgreSQL failed (%s); retrying in %.0f s,"
                " see %s",
                type(error).__name__,
                delay,
                home / "pgdata" / "log",
            )
            continue
        if not restarted:  # its data directory is gone: nothing to start
            delay = _MAX_BACKOFF
            log.error("codifier: cannot restart the embedded PostgreSQL: %s", home / "pgdata")
            continue
        log.warning("codifier: the embedded PostgreSQL is running again")
        delay = interval
