"""Building the language's `Library` from the shipped folders and the configuration."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable
from pathlib import Path

from codifier.resources import generators_dir, stdlib_dir
from codifier.sources.names import ATHENA_SOURCE, DEFAULT_SOURCE
from dsl.library import Library, TemplateFile
from dsl.stdlib import load_memory_types, load_records, load_skills

TEMPLATE_SUFFIX = ".md.j2"


def display_path(path: Path) -> str:
    """A path as people should read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def template_name(path: Path) -> str:
    return path.name[: -len(TEMPLATE_SUFFIX)]


def read_templates(directories: Iterable[Path]) -> dict[str, TemplateFile]:
    """Templates by name; a later directory overrides an earlier one."""
    templates: dict[str, TemplateFile] = {}
    for directory in directories:
        for path in sorted(directory.glob(f"*{TEMPLATE_SUFFIX}")):
            name = template_name(path)
            templates[name] = TemplateFile(
                name, display_path(path), path.read_text(encoding="utf-8")
            )
    return templates


@functools.lru_cache(maxsize=1)
def _stdlib_documents() -> tuple[tuple[str, str], ...]:
    return tuple(
        (path.name, path.read_text(encoding="utf-8"))
        for path in sorted(stdlib_dir().glob("*.yaml"))
    )


def configured_sources() -> frozenset[str]:
    """Names of the data sources this configuration has (what `source:` may name): the
    embedded duckdb source, athena when ATHENA_S3_OUTPUT_LOCATION is set, and any names in
    CODIFIER_DATA_SOURCES (comma-separated) for checking playbooks meant for another
    server's configuration."""
    names = {DEFAULT_SOURCE}
    if os.environ.get("ATHENA_S3_OUTPUT_LOCATION"):
        names.add(ATHENA_SOURCE)
    extra = os.environ.get("CODIFIER_DATA_SOURCES", "")
    names.update(n.strip() for n in extra.split(",") if n.strip())
    return frozenset(names)


def _check_read_only(sql: str) -> str | None:
    # sqlglot costs ~150 ms to import: only a playbook with literal SQL pays for it.
    from codifier.sql_guard import check_read_only

    return check_read_only(sql)


def load_library(template_dirs: Iterable[Path] = (), extra_sources: Iterable[str] = ()) -> Library:
    documents = dict(_stdlib_documents())
    records = load_records(documents)
    return Library(
        records=records,
        skills=load_skills(documents, records),
        templates=read_templates([generators_dir(), *template_dirs]),
        memory_types=load_memory_types(documents),
        data_sources=configured_sources() | frozenset(extra_sources),
        sql_guard=_check_read_only,
    )


def library_with(library: Library, templates: dict[str, str] | None) -> Library:
    """The library plus a playbook's own templates (which win by name, for it only)."""
    if not templates:
        return library
    extra = {
        name: TemplateFile(name, f"templates/{name}{TEMPLATE_SUFFIX}", text)
        for name, text in templates.items()
    }
    return dataclasses.replace(library, templates={**library.templates, **extra})
