"""What a playbook can refer to: record types, skills, templates, memory types, sources.

The checker and the interpreter take a `Library`; the application builds it from the
shipped `stdlib/` and `generators/` folders and its configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.types import Record, Type


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: Type
    required: bool
    default: Any = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class SkillSig:
    name: str
    description: str
    params: tuple[Param, ...]
    result: Type

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True, slots=True)
class TemplateFile:
    """A generator template as found on disk; its header is read when it is used."""

    name: str
    path: str
    text: str


# Returns None for a single read-only query, else the reason it is refused.
SqlGuard = Callable[[str], str | None]


@dataclass(frozen=True)
class Library:
    records: Mapping[str, Record]
    skills: Mapping[str, SkillSig]
    templates: Mapping[str, TemplateFile]
    memory_types: tuple[str, ...]
    # Names of configured data sources; None when the configuration is not known.
    data_sources: frozenset[str] | None = None
    sql_guard: SqlGuard | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
