"""`codifier lsp`: the language server over stdio, for editors."""

from __future__ import annotations

import argparse
from pathlib import Path

from codifier.cli.check import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--templates",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="another folder of generator templates (*.md.j2); may repeat",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="treat NAME as a configured data source; may repeat",
    )


def run(args: argparse.Namespace) -> int:
    for directory in args.templates:
        if not directory.is_dir():
            raise UsageError(f"--templates: no such directory: {directory}")
    # Imported here: pygls is needed only by this command.
    from codifier.lsp.library import LibrarySource
    from codifier.lsp.server import build_server

    build_server(LibrarySource(args.templates, args.source)).start_io()
    return 0
