"""`codifier serve`: the MCP server over HTTP (Streamable HTTP + legacy SSE) or stdio."""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from codifier.cli.check import UsageError
from codifier.config import Settings, SettingsError

if TYPE_CHECKING:
    from codifier.store.database import Database


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=("http", "stdio"), default="http")
    parser.add_argument("--host", default=None, help="default 127.0.0.1 (CODIFIER_HOST)")
    parser.add_argument("--port", type=int, default=None, help="default 8000 (PORT)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise UsageError(str(error)) from None
    if args.host:
        settings = dataclasses.replace(settings, host=args.host)
    if args.port:
        settings = dataclasses.replace(settings, port=args.port)
    if args.transport == "stdio":
        anyio.run(_stdio, settings)
        return 0
    import uvicorn

    from codifier.server.app import StartupError, create_app

    try:
        app = create_app(settings)
    except StartupError as error:
        raise UsageError(str(error)) from None
    sys.stderr.write(
        f"codifier: serving MCP on http://{settings.host}:{settings.port}/mcp "
        f"(legacy SSE at /sse), health at /health\n"
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


async def _stdio(settings: Settings) -> None:
    """stdio is a local, trusted transport: the person at the terminal is the admin.

    SIGTERM and SIGINT stop the server and let go of the embedded database. Reading stdin
    blocks a worker thread that cancellation cannot interrupt, so a signal does not wait
    for the client's next line: it closes the connections, releases the database and
    exits at once.
    """
    from codifier.db.embedded import release_embedded
    from codifier.db.supervisor import supervise_embedded
    from codifier.server.app import build_mcp, open_services
    from codifier.server.principal import ADMIN_PRINCIPAL, current_principal
    from codifier.server.tools import ServicesHolder

    embedded = settings.database_url is None
    holder = ServicesHolder()
    mcp = build_mcp(holder)
    opened: list[Database] = []  # for the signal handler, once the database is open
    try:
        async with anyio.create_task_group() as tasks:
            await tasks.start(_exit_on_signal, opened, settings)  # before the database starts
            db, holder.services = await open_services(settings)
            opened.append(db)
            try:
                if embedded:
                    interval = settings.db_watchdog_seconds
                    tasks.start_soon(supervise_embedded, settings.home, interval)
                current_principal.set(ADMIN_PRINCIPAL)
                await mcp.run_stdio_async()  # until the client closes stdin
                tasks.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True):
                    await holder.services.close()
                    await db.close()
    finally:
        if embedded:
            release_embedded(settings.home)


async def _exit_on_signal(
    opened: list[Database],
    settings: Settings,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    from codifier.db.embedded import release_embedded

    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        task_status.started()
        async for signum in signals:
            for db in opened:
                db.terminate()
            if settings.database_url is None:
                await anyio.to_thread.run_sync(release_embedded, settings.home)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(128 + signum)
