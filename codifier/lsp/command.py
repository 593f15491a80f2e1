"""`codifier lsp`: the language server over stdio, for editors."""

from __future__ import annotations

import argparse

from codifier.cli.check import UsageError, add_library_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_library_arguments(parser)


def run(args: argparse.Namespace) -> int:
    for directory in args.templates:
        if not directory.is_dir():
            raise UsageError(f"--templates: no such directory: {directory}")
    # Imported here: pygls is needed only by this command.
    from codifier.lsp.library import LibrarySource
    from codifier.lsp.server import build_server

    build_server(LibrarySource(args.templates, args.source)).start_io()
    return 0
