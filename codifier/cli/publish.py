"""`codifier publish FILE... [--templates DIR] [--project NAME]`: publish playbooks to the
store the server uses, checked as `codifier check` checks them; each becomes the next
version of its id in the project (or server-wide without --project)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import anyio

from codifier.cli.check import UsageError
from codifier.config import Settings
from codifier.library import read_templates
from codifier.server.app import open_services
from codifier.server.errors import CallError
from codifier.server.principal import ADMIN_PRINCIPAL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", metavar="FILE", nargs="+", type=Path, help="playbook YAML files")
    parser.add_argument(
        "--templates",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of generator templates (*.md.j2) the playbooks use; may repeat",
    )
    parser.add_argument(
        "--project", help="the project to publish to (an existing one); server-wide without it"
    )


def template_sources(directories: list[Path]) -> dict[str, str]:
    for directory in directories:
        if not directory.is_dir():
            raise UsageError(f"--templates {directory}: not a directory")
    return {name: file.text for name, file in read_templates(directories).items()}


async def _publish(args: argparse.Namespace, out: TextIO) -> int:
    templates = template_sources(args.templates)
    sources = []
    for path in args.files:
        try:
            sources.append((path, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
    db, services = await open_services(Settings.from_env())
    failed = 0
    try:
        project_id = None
        if args.project is not None:
            listed = await services.projects.manage(ADMIN_PRINCIPAL, "list", None, None, None)
            found = [p for p in listed["projects"] if p["name"] == args.project]
            if not found:
                raise UsageError(f"no project named '{args.project}'; create it first")
            project_id = str(found[0]["id"])
        for path, source in sources:
            try:
                published = await services.runs.publisher.publish(
                    ADMIN_PRINCIPAL, source, templates, project_id
                )
            except CallError as error:
                failed += 1
                out.write(f"{path}: not published: {error.message}\n")
                continue
            where = f"project {args.project}" if args.project else "server-wide"
            out.write(
                f"{path}: published {published['playbook_id']} version"
                f" {published['version']} ({where})\n"
            )
            for warning in published["warnings"]:
                out.write(f"  warning {warning}\n")
    finally:
        await services.close()
        await db.close()
    return 1 if failed else 0


def run(args: argparse.Namespace) -> int:
    code: int = anyio.run(_publish, args, sys.stdout)
    return code
