"""`codifier check`: lint playbooks (and generator templates) like a compiler."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from codifier import __version__
from codifier.library import TEMPLATE_SUFFIX, display_path, load_library, template_name
from codifier.resources import playbooks_dir
from dsl.codes import Severity
from dsl.compiler import CompileResult, check_template_file, compile_playbook
from dsl.diagnostics import Diagnostic
from dsl.fixes import apply_edits, unambiguous_edits
from dsl.formats import FORMATS, to_github, to_json, to_sarif, to_text
from dsl.library import Library
from dsl.source import SourceFile
from dsl.span import WHOLE_FILE


class UsageError(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="playbook files or directories (default: the shipped playbooks)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--strict", action="store_true", help="warnings also make the exit code 1")
    parser.add_argument(
        "--fix",
        action="store_true",
        help="apply the fixes that are unambiguous and rewrite the files, then report the rest",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text format (auto: on a terminal, unless NO_COLOR is set)",
    )
    parser.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="the file name to report for '-' (standard input); it also names the playbook",
    )
    add_library_arguments(parser)


def add_library_arguments(parser: argparse.ArgumentParser) -> None:
    """What a checker needs beyond the shipped library (check and lsp take the same)."""
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


STDIN = Path("-")


def collect(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path == STDIN:
            files.append(path)
        elif path.is_dir():
            found = [
                p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix in (".yaml", ".yml")
            ]
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such file or directory: {path}")
    return files


def check_file(path: Path, library: Library, stdin_name: str | None = None) -> CompileResult:
    shown = (stdin_name or "<stdin>") if path == STDIN else display_path(path)
    try:
        if path == STDIN:
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            # newline="" keeps \r and \r\n as written: the line model and --fix need them.
            with path.open(encoding="utf-8", newline="") as handle:
                text = handle.read()
    except UnicodeDecodeError as error:
        source = SourceFile(shown, "")
        problem = Diagnostic(
            shown,
            WHOLE_FILE,
            "Y001",
            f"the file is not UTF-8 text (byte {error.start})",
            "save it as UTF-8",
        )
        return CompileResult(source, (problem,), None)
    except OSError as error:
        raise UsageError(f"cannot read {shown}: {error.strerror}") from None
    if path.name.endswith(TEMPLATE_SUFFIX):
        return check_template_file(text, shown, template_name(path), library)
    return compile_playbook(text, shown, library)


EXIT_INTERNAL = 3  # distinct from 1 (problems found) and 2 (usage)


def run(args: argparse.Namespace) -> int:
    """Check, and turn any internal fault into one line on stderr and exit code 3, whatever
    the output format: a caller must never mistake a crash for "problems found"."""
    try:
        return _run(args)
    except (UsageError, OSError):
        raise  # the command line's own one-line answers (exit 2, or the OS error)
    except Exception as error:  # the last line of defence, by design
        sys.stdout.flush()
        where = f" ({error.__class__.__name__})"
        detail = " ".join(str(error).split())[:200]
        sys.stderr.write(
            f"codifier check: [internal-error] the checker failed{where}: {detail or 'no detail'};"
            " please report this with the file that caused it\n"
        )
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [playbooks_dir()]
    for directory in args.templates:
        if not directory.is_dir():
            raise UsageError(f"--templates: no such directory: {directory}")
    files = collect(paths)
    if files.count(STDIN) > 1:
        raise UsageError("'-' (standard input) may be given once")
    if args.fix and STDIN in files:
        raise UsageError("--fix rewrites files; it cannot rewrite standard input")
    library = load_library(args.templates, args.source)
    results = [check_file(path, library, args.stdin_filename) for path in files]
    if args.fix:
        results = [
            _fixed(path, result, library) for path, result in zip(files, results, strict=True)
        ]
    diagnostics = sorted(
        dict.fromkeys(d for r in results for d in r.diagnostics), key=Diagnostic.sort_key
    )
    sources = {r.source.path: r.source for r in results}
    for path in {d.path for d in diagnostics} - sources.keys():
        # Diagnostics in templates that a playbook uses: show their source too.
        candidate = Path(path)
        if candidate.is_file():
            sources[path] = SourceFile(path, candidate.read_text(encoding="utf-8"))
    output = {
        "text": lambda: to_text(diagnostics, sources, len(files), color=_color(args.color)),
        "json": lambda: to_json(diagnostics),
        "github": lambda: to_github(diagnostics),
        "sarif": lambda: to_sarif(diagnostics, __version__),
    }[args.format]()
    sys.stdout.write(output)
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    return 1 if any(d.severity in failing for d in diagnostics) else 0


def _color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _fixed(path: Path, result: CompileResult, library: Library) -> CompileResult:
    """Apply the file's unambiguous fixes, rewrite it, and check it again (a fix may let
    the checker see further); the result is what is left to report."""
    for _ in range(3):  # a fix can reveal another (YAML that now parses); a few rounds
        edits = unambiguous_edits(result.source, result.diagnostics)
        if not edits:
            break
        path.write_text(apply_edits(result.source, edits), encoding="utf-8", newline="")
        sys.stderr.write(
            f"codifier check: fixed {len(edits)} problem{'s' if len(edits) != 1 else ''}"
            f" in {result.source.path}\n"
        )
        result = check_file(path, library)
    return result
