"""The shipped playbooks, compiled once at start: a server refuses to start with a
playbook that does not check clean."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codifier.resources import playbooks_dir
from dsl.compiler import compile_playbook
from dsl.formats import header
from dsl.ir import Program
from dsl.library import Library


class CatalogError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    program: Program
    source: str


def load_catalog(library: Library, folder: Path | None = None) -> dict[str, Entry]:
    folder = folder or playbooks_dir()
    catalog: dict[str, Entry] = {}
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        result = compile_playbook(text, path.name, library)
        if result.program is None:
            problems = "; ".join(header(d) for d in result.errors[:3])
            raise CatalogError(f"playbook {path.name} does not check clean: {problems}")
        catalog[result.program.id] = Entry(result.program, text)
    return catalog
