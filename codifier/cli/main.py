"""The `codifier` console script: argument parsing and clean, one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from codifier import __version__
from codifier.cli import admin, check, export, publish, reindex, render, run, schema, serve
from codifier.cli.check import UsageError
from codifier.config import SettingsError, check_environment

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="codifier", description="Playbooks and shared memory for AI assistants")
    parser.add_argument("--version", action="version", version=f"codifier {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    table: list[
        tuple[
            str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]
        ]
    ] = [
        ("check", "lint playbooks", check.add_arguments, check.run),
        ("render", "show a generator's prompt", render.add_arguments, render.run),
        ("schema", "print the playbook JSON Schema", schema.add_arguments, schema.run),
        ("serve", "start the MCP server", serve.add_arguments, serve.run),
        ("run", "run a playbook in the terminal", run.add_arguments, run.run),
        ("publish", "publish playbooks to the server", publish.add_arguments, publish.run),
        ("migrate", "apply database migrations", admin.add_migrate_arguments, admin.run_migrate),
        ("keys", "manage API keys", admin.add_keys_arguments, admin.run_keys),
        ("reindex", "embed memories that lack a vector", reindex.add_arguments, reindex.run),
        ("export", "write rules for other assistants", export.add_arguments, export.run),
    ]
    for name, help_text, add, handler in table:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        add(sub)
        sub.set_defaults(run=handler)
    return parser


# Commands that read the server's settings; the others only read files.
_SERVER_COMMANDS = {"serve", "run", "publish", "migrate", "keys", "reindex", "export"}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in _SERVER_COMMANDS:
            try:
                check_environment()
            except SettingsError as error:
                raise UsageError(str(error)) from None
        code: int = args.run(args)
        return code
    except UsageError as error:
        sys.stderr.write(f"codifier {args.command}: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except OSError as error:  # a file or socket the command needed; never a traceback
        sys.stderr.write(f"codifier {args.command}: {error.strerror or error}\n")
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
