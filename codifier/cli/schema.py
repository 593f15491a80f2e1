"""`codifier schema`: the JSON Schema of the playbook format, for editors.

The enums list the templates, skills and memory types that ship (plus the templates of
any `--templates DIR`); `--write PATH` regenerates a schema file, e.g. the committed
schema/playbook.schema.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from codifier.cli.check import UsageError
from codifier.library import load_library
from dsl.schema import playbook_schema_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--write",
        type=Path,
        metavar="PATH",
        help="write the schema to PATH instead of printing it",
    )
    parser.add_argument(
        "--templates",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="also list the generator templates (*.md.j2) in DIR; may repeat",
    )


def shipped_schema_text(template_dirs: list[Path] | None = None) -> str:
    """The schema with the names of what ships (and of the templates in template_dirs)."""
    return playbook_schema_text(load_library(template_dirs or []))


def _write(path: Path, text: str) -> None:
    """Replace `path` whole (a reader never sees half a schema)."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"--write: no such directory: {directory}")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    for directory in args.templates:
        if not directory.is_dir():
            raise UsageError(f"--templates: no such directory: {directory}")
    text = shipped_schema_text(args.templates)
    if args.write is None:
        sys.stdout.write(text)
    else:
        _write(args.write, text)
    return 0
