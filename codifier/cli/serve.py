"""`codifier serve`: the MCP server over HTTP (Streamable HTTP + legacy SSE) or stdio."""

from __future__ import annotations

import argparse
import dataclasses
import sys

import anyio

from codifier.cli.check import UsageError
from codifier.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=("http", "stdio"), default="http")
    parser.add_argument("--host", default=None, help="default 127.0.0.1 (CODIFIER_HOST)")
    parser.add_argument("--port", type=int, default=None, help="default 8000 (PORT)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
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
    """stdio is a local, trusted transport: the person at the terminal is the admin."""
    from codifier.server.app import build_mcp, open_services
    from codifier.server.principal import ADMIN_PRINCIPAL, current_principal
    from codifier.server.tools import ServicesHolder

    holder = ServicesHolder()
    mcp = build_mcp(holder)
    db, holder.services = await open_services(settings)
    current_principal.set(ADMIN_PRINCIPAL)
    try:
        await mcp.run_stdio_async()
    finally:
        await db.close()
