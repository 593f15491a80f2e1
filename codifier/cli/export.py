"""`codifier export`: write a project's current rule memories as AGENTS.md, CLAUDE.md or
Cursor's `.cursor/rules/*.mdc`, against the database the server uses (DATABASE_URL, or
the embedded one under CODIFIER_HOME)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from uuid import UUID

import anyio

from codifier.cli.check import UsageError
from codifier.config import Settings
from codifier.export import FORMATS, ExportSettings, ExportSource, load_source, render
from codifier.export.formats import CURSOR_RULES_DIR, Format
from codifier.export.writing import ExportRefused, write_export
from codifier.store import projects
from codifier.store.database import ADMIN, DatabaseUnavailable, Scope
from codifier.store.store import open_database


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="the project (name or id)")
    parser.add_argument("--format", required=True, choices=FORMATS, help="the layout to write")
    parser.add_argument(
        "--out", default=".", type=Path, help="the folder to write into (default: here)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a target file that codifier export did not write",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = ExportSettings.from_env()
    except ValueError as error:
        raise UsageError(str(error)) from None
    fmt: Format = args.format
    try:
        source = anyio.run(_load, args.project, settings)
    except DatabaseUnavailable as error:
        raise UsageError(f"{error.message} (DATABASE_URL or CODIFIER_HOME)") from None
    try:
        result = write_export(
            args.out,
            render(source, fmt),
            force=args.force,
            prune=CURSOR_RULES_DIR if fmt == "cursor-rules" else None,
        )
    except ExportRefused as error:
        raise UsageError(str(error)) from None
    for path in result.written:
        print(f"wrote {path}")
    for path in result.removed:
        print(f"removed {path}")
    if source.cut:
        sys.stderr.write(
            f"codifier export: {len(source.rules):,} of {source.total_rules:,} current rules"
            " exported (the newest); raise CODIFIER_EXPORT_MAX_RULES or"
            " CODIFIER_EXPORT_MAX_BYTES for more\n"
        )
    sys.stderr.write(
        f"codifier export: {len(source.rules):,} rules of '{source.project_name}' as {fmt}"
        f" in {args.out} ({len(result.written)} written, {len(result.unchanged)} unchanged,"
        f" {len(result.removed)} removed)\n"
    )
    return 0


async def _load(name_or_id: str, settings: ExportSettings) -> ExportSource:
    db = await open_database(Settings.from_env(), max_size=2)
    try:
        async with db.transaction(ADMIN) as conn:
            try:
                project = await projects.get(conn, UUID(name_or_id))
            except ValueError:
                project = await projects.find(conn, name_or_id)
        if project is None:
            raise UsageError(
                f"no project '{name_or_id}'; manage_projects(operation='list') names them"
            )
        # Read as that project, not as the admin: row-level security scopes the export.
        async with db.transaction(Scope.project(UUID(str(project["id"])))) as conn:
            return await load_source(conn, project, settings)
    finally:
        await db.close()
