"""The `codifier` console script: argument parsing and clean, one-line errors.

Each command's module is imported only when that command runs: `codifier check` must not
pay for the MCP server, asyncpg or sqlglot (a pre-commit hook or an editor starts it
every time). tests/test_layering.py guards this.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from codifier import __version__

EXIT_USAGE = 2


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: its help and where its `add_arguments`/`run` functions live."""

    name: str
    help: str
    module: str
    add: str = "add_arguments"
    run: str = "run"


COMMANDS = (
    Command("check", "lint playbooks", "codifier.cli.check"),
    Command("render", "show a generator's prompt", "codifier.cli.render"),
    Command("schema", "print the playbook JSON Schema", "codifier.cli.schema"),
    Command("serve", "start the MCP server", "codifier.cli.serve"),
    Command("run", "run a playbook in the terminal", "codifier.cli.run"),
    Command("publish", "publish playbooks to the server", "codifier.cli.publish"),
    Command(
        "migrate",
        "apply database migrations",
        "codifier.cli.admin",
        "add_migrate_arguments",
        "run_migrate",
    ),
    Command("keys", "manage API keys", "codifier.cli.admin", "add_keys_arguments", "run_keys"),
    Command("reindex", "embed memories that lack a vector", "codifier.cli.reindex"),
    Command("export", "write rules for other assistants", "codifier.cli.export"),
    Command("lsp", "a language server for playbooks over stdio", "codifier.lsp.command"),
)

# Commands that read the server's settings; the others only read files. `run --url`
# talks to a remote server and is exempted in main().
_SERVER_COMMANDS = {"serve", "run", "publish", "migrate", "keys", "reindex", "export"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _named_command(argv: Sequence[str]) -> str | None:
    """The subcommand argv names: its first word that is not an option (the top-level
    options, --help and --version, take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's module is imported and its arguments
    added (the others are listed by name and help, which is all `codifier --help` shows)."""
    parser = _Parser(prog="codifier", description="Playbooks and shared memory for AI assistants")
    parser.add_argument("--version", action="version", version=f"codifier {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        if only is None or only == command.name:
            module = importlib.import_module(command.module)
            cast(Callable[[argparse.ArgumentParser], None], getattr(module, command.add))(sub)
            sub.set_defaults(run=getattr(module, command.run))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_named_command(words) or "").parse_args(words)
    # The usage error every command raises; imported after parsing, with the command.
    from codifier.cli.check import UsageError

    try:
        if args.command in _SERVER_COMMANDS and getattr(args, "url", None) is None:
            from codifier.config import SettingsError, check_environment

            try:
                check_environment()
            except SettingsError as error:
                raise UsageError(str(error)) from None
        run = cast(Callable[[argparse.Namespace], int], args.run)
        code: int = run(args)
        return code
    except UsageError as error:
        sys.stderr.write(f"codifier {args.command}: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:  # a file or socket the command needed; never a traceback
        sys.stderr.write(f"codifier {args.command}: {error.strerror or error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
