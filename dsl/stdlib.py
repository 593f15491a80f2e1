"""Reading the declarations in `stdlib/`: record types, memory types and skills.

These files are maintained with the code, so a mistake in them is a bug in Codifier, not
in a playbook: it raises `StdlibError` naming the file and the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from dsl.library import Param, SkillSig
from dsl.types import Record, Type, TypeSyntaxError, parse_type

# libyaml's loader when present: these files are read on every check (a third of a
# `codifier check` run's own time went to the pure-Python loader).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StdlibError(ValueError):
    pass


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # a safe loader


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StdlibError(f"{where}: expected a mapping")
    return value


def load_records(documents: Mapping[str, str]) -> dict[str, Record]:
    """Record types from every document's `records:` section, resolving references."""
    raw: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, text in documents.items():
        data = _mapping(_load(text) or {}, path)
        for name, body in _mapping(data.get("records", {}), f"{path}: records").items():
            if name in raw:
                raise StdlibError(f"{path}: record {name} is declared twice")
            raw[name] = (path, _mapping(body, f"{path}: records.{name}"))

    resolved: dict[str, Record] = {}
    pending = dict(raw)
    while pending:
        progress = False
        for name, (path, body) in list(pending.items()):
            fields = _mapping(body.get("fields", {}), f"{path}: records.{name}.fields")
            try:
                parsed = tuple((f, parse_type(str(t), resolved)) for f, t in fields.items())
            except TypeSyntaxError:
                continue  # refers to a record not resolved yet
            resolved[name] = Record(name, parsed, str(body.get("description", "")))
            del pending[name]
            progress = True
        if not progress:
            names = ", ".join(sorted(pending))
            raise StdlibError(f"records with unknown or circular field types: {names}")
    return resolved


def load_memory_types(documents: Mapping[str, str]) -> tuple[str, ...]:
    found: list[str] = []
    for path, text in documents.items():
        data = _mapping(_load(text) or {}, path)
        found.extend(str(t) for t in data.get("memory_types", []))
    return tuple(found)


def load_skills(documents: Mapping[str, str], records: Mapping[str, Record]) -> dict[str, SkillSig]:
    skills: dict[str, SkillSig] = {}
    for path, text in documents.items():
        data = _mapping(_load(text) or {}, path)
        for name, body in _mapping(data.get("skills", {}), f"{path}: skills").items():
            where = f"{path}: skills.{name}"
            body = _mapping(body, where)
            params = []
            for pname, pbody in _mapping(body.get("params", {}), f"{where}.params").items():
                pbody = _mapping(pbody, f"{where}.params.{pname}")
                params.append(
                    Param(
                        name=pname,
                        type=_type(pbody.get("type"), records, f"{where}.params.{pname}"),
                        required="default" not in pbody,
                        default=pbody.get("default"),
                        description=str(pbody.get("description", "")),
                    )
                )
            skills[name] = SkillSig(
                name=name,
                description=str(body.get("description", "")),
                params=tuple(params),
                result=_type(body.get("result"), records, f"{where}.result"),
            )
    return skills


def _type(text: Any, records: Mapping[str, Record], where: str) -> Type:
    try:
        return parse_type(str(text), records)
    except TypeSyntaxError as error:
        raise StdlibError(f"{where}: {error.message}") from None
