"""The playbooks the server runs without a publish: the shipped ones, and those of the
folders CODIFIER_PLAYBOOK_DIRS lists (separated like PATH), compiled once at start. A
server refuses to start with one that does not check clean.

A listed folder holds playbooks (`*.yaml`) and their generator templates (`*.md.j2`, in
the folder or its `templates/` subfolder); its playbooks are server-wide (`source`
`server` in list_playbooks), may not reuse a shipped id, and keep their templates to
themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codifier.library import library_with, read_templates
from codifier.resources import playbooks_dir
from dsl.compiler import compile_playbook
from dsl.formats import header
from dsl.ir import Program
from dsl.library import Library


class CatalogError(ValueError):
    """A playbook of the catalog does not check; the message names it and why."""


@dataclass(frozen=True, slots=True)
class Entry:
    program: Program
    source: str
    origin: str = "shipped"  # shipped | server (a CODIFIER_PLAYBOOK_DIRS folder)
    templates: dict[str, str] | None = None  # a folder's own templates


def load_catalog(
    library: Library, folder: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Entry]:
    catalog = _load(library, folder or playbooks_dir(), "shipped", None)
    env = os.environ if environ is None else environ
    for extra in (p for p in env.get("CODIFIER_PLAYBOOK_DIRS", "").split(os.pathsep) if p):
        directory = Path(extra).expanduser()
        if not directory.is_dir():
            raise CatalogError(f"CODIFIER_PLAYBOOK_DIRS names {extra}, which is not a folder")
        templates = {
            name: file.text
            for name, file in read_templates([directory, directory / "templates"]).items()
        }
        for program_id, entry in _load(library, directory, "server", templates).items():
            if program_id in catalog:
                raise CatalogError(
                    f"playbook '{program_id}' of {directory} has the id of a playbook the server"
                    " already has; give it another id"
                )
            catalog[program_id] = entry
    return catalog


def _load(
    library: Library, folder: Path, origin: str, templates: dict[str, str] | None
) -> dict[str, Entry]:
    checked_with = library_with(library, templates)
    catalog: dict[str, Entry] = {}
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        result = compile_playbook(text, path.name, checked_with)
        if result.program is None:
            problems = "; ".join(header(d) for d in result.errors[:3])
            raise CatalogError(f"playbook {path} does not check clean: {problems}")
        catalog[result.program.id] = Entry(result.program, text, origin, templates or None)
    return catalog
