"""The JSON Schema of the playbook format, for editors (yaml-language-server and the like).

Generated from the syntax's tables of keys, then made useful in an editor: every key documented,
the names a playbook may use (templates, skills, memory types) as enums taken from a
`Library` (`codifier schema` passes the shipped one; `codifier schema --write PATH`
regenerates the committed file), `with:` closed per template and per skill, `inputs:`
and `outputs:` closed to well-formed names, and no `null` choice or default anywhere an
editor would insert it (choosing `store` must insert a mapping, never `store: null`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

from dsl.library import Library
from dsl.syntax import INSTRUCTIONS, Key, Playbook, described
from dsl.templates import read_signature
from dsl.types import PRIMITIVES, Type

SCHEMA_ID = "https://codifier.dev/schema/playbook.schema.json"
REGENERATE = "codifier schema --write schema/playbook.schema.json"

# What each key means, by the $defs entry (or "Playbook" for the top level) that holds it.
KEY_DOCS: dict[str, dict[str, str]] = {
    "Playbook": {
        "id": "The playbook's id: kebab-case, equal to the file's name without .yaml.",
        "name": "The playbook's name, shown to people.",
        "role": "Who the playbook is for: developer, researcher or any (default any).",
        "version": "The playbook's version, an integer >= 1 (default 1).",
        "description": "What the playbook does, shown in list_playbooks.",
        "inputs": "Values supplied to run_playbook, by name; read as ${{ inputs.NAME }}.",
        "steps": "The steps, run in order; each has an id and exactly one instruction.",
        "outputs": "Values evaluated when the run completes, by name (usually expressions).",
    },
    "Input": {
        "type": "The input's type (default string): string, text, int, number, bool, url, "
        "list<T>, T? or a record type.",
        "default": "The value used when the run supplies none; an input with a default is "
        "optional.",
        "description": "What the input is for, shown to people.",
    },
    "Step": {
        "id": "The step's id: [a-z][a-z0-9_]*, unique in the file; later steps read its "
        "output as ${{ steps.ID.output }}.",
        "title": "The step's title, shown to people (default: the id).",
        "if": "Run the step only when this bool expression is true; a skipped step's "
        "output is null.",
        "store": "Ask the person for a value (prompt), checked against type and choices.",
        "skill-invoke": "Call a server-side skill declared in stdlib/ with arguments.",
        "generate": "Render a generator template into a prompt for the client's LLM and "
        "keep the artifact it returns.",
        "data-query": "Query a configured data source, read-only.",
    },
    "Store": {
        "prompt": "What to ask the person.",
        "type": "The answer's type (default text).",
        "choices": "The allowed answers: a list, or an expression giving one.",
        "default": "The suggested answer.",
        "remember": "Also save the answer as a memory.",
    },
    "SkillInvoke": {
        "skill": "The skill to call (declared in stdlib/skills.yaml).",
        "with": "The skill's arguments, by name.",
    },
    "Generate": {
        "template": "The generator template to render (generators/NAME.md.j2).",
        "with": "The template's inputs, by name.",
        "remember": "Also save the generated artifact as a memory.",
    },
    "DataQuery": {
        "operation": "list-tables, describe-tables (needs tables) or execute-query (needs sql).",
        "source": "The data source's name (default: the server's default source).",
        "database": "The database (schema) to query.",
        "tables": "The tables to describe (describe-tables).",
        "sql": "One read-only SQL query, or a list of them (execute-query).",
    },
    "Remember": {
        "type": "The memory type.",
        "title": "The memory's title (default: the step's title).",
        "tags": "Tags for the memory, a list of strings.",
    },
}

# What choosing an instruction in an editor inserts (yaml-language-server's extension).
INSTRUCTION_SNIPPETS: dict[str, dict[str, Any]] = {
    "store": {"label": "store", "body": {"prompt": "$1", "type": "${2:text}"}},
    "skill-invoke": {"label": "skill-invoke", "body": {"skill": "$1", "with": {}}},
    "generate": {"label": "generate", "body": {"template": "$1", "with": {}}},
    "data-query": {
        "label": "data-query",
        "body": {"operation": "${1|list-tables,describe-tables,execute-query|}"},
    },
}
_INSTRUCTION_DEFS = {
    "store": "Store",
    "skill-invoke": "SkillInvoke",
    "generate": "Generate",
    "data-query": "DataQuery",
}


def _definitions(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "Playbook", schema
    yield from schema["$defs"].items()


def _value_schema(record: type[Any] | None) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{record.__name__}"} if record is not None else {}


def _key_schema(key: Key) -> dict[str, Any]:
    """One key's schema. A key that may be null is just its type here: an editor must
    never offer or insert null (choosing `store` inserts a mapping, never `store: null`)."""
    prop: dict[str, Any]
    if key.kind == "str":
        prop = {"type": "string"}
        if key.pattern is not None:
            prop["pattern"] = key.pattern
        if key.min_length is not None:
            prop["minLength"] = key.min_length
    elif key.kind == "int":
        prop = {"type": "integer"}
        if key.ge is not None:
            prop["minimum"] = key.ge
    elif key.kind == "choice":
        prop = {"enum": list(key.choices), "type": "string"}
    elif key.kind == "record":
        prop = _value_schema(key.record)
    elif key.kind == "map":
        prop = {"type": "object"}
        if key.pattern is not None:
            prop["patternProperties"] = {key.pattern: _value_schema(key.record)}
        else:
            prop["additionalProperties"] = _value_schema(key.record) if key.record else True
    elif key.kind == "list":
        prop = {"type": "array", "items": _value_schema(key.record)}
        if key.min_length is not None:
            prop["minItems"] = key.min_length
    else:
        prop = {}
    if not key.required and key.kind != "map" and key.default is not None:
        prop["default"] = key.default
    if key.description:
        prop["description"] = key.description
    return prop


def _record_schema(record: type[Any]) -> dict[str, Any]:
    keys: tuple[Key, ...] = record.KEYS
    schema: dict[str, Any] = {
        "type": "object",
        "title": record.__name__,
        "additionalProperties": False,
        "properties": {key.name: _key_schema(key) for key in keys},
    }
    required = [key.name for key in keys if key.required]
    if required:
        schema["required"] = required
    doc = described(record)
    if doc is not None:
        schema["description"] = inspect.cleandoc(doc)
    return schema


def records_schema(root: type[Any]) -> dict[str, Any]:
    """The schema of a record and, under $defs, of every record it holds."""
    schema = _record_schema(root)
    defs: dict[str, Any] = {}
    pending = [key.record for key in root.KEYS if key.record is not None]
    while pending:
        record = pending.pop(0)
        if record.__name__ not in defs:
            defs[record.__name__] = _record_schema(record)
            pending += [key.record for key in record.KEYS if key.record is not None]
    schema["$defs"] = defs
    return schema


def _type_examples(library: Library | None) -> list[str]:
    names = [name for name in PRIMITIVES if name != "repository"]
    names += ["list<string>", "string?"]
    if library is not None:
        names += sorted(library.records)
    return names


def _param_schema(description: str, type_: Type) -> dict[str, Any]:
    text = f"{type_}" + (f": {description}" if description else "")
    return {"description": text}


def _closed_with(key: str, name: str, params: list[tuple[str, str, Type, bool]]) -> dict[str, Any]:
    """An if/then that closes `with:` to the named template's or skill's parameters."""
    with_schema: dict[str, Any] = {
        "type": "object",
        "properties": {p: _param_schema(d, t) for p, d, t, _ in params},
        "additionalProperties": False,
    }
    required = [p for p, _, _, needed in params if needed]
    then: dict[str, Any] = {"properties": {"with": with_schema}}
    if required:
        with_schema["required"] = required
        then["required"] = ["with"]
    return {
        "if": {"properties": {key: {"const": name}}, "required": [key]},
        "then": then,
    }


def _add_library(defs: dict[str, Any], library: Library) -> None:
    templates = sorted(library.templates)
    generate = defs["Generate"]
    closures = []
    descriptions = []
    for name in templates:
        sig = read_signature(library.templates[name], library.records)
        descriptions.append(sig.description)
        if sig.problems:
            continue  # a broken header: leave its `with:` open rather than guess
        params = [(p.name, p.description, p.type, p.required) for p in sig.inputs]
        closures.append(_closed_with("template", name, params))
    # enumDescriptions: shown beside each name by VS Code and yaml-language-server.
    generate["properties"]["template"].update(enum=templates, enumDescriptions=descriptions)
    if closures:
        generate["allOf"] = closures

    skills = sorted(library.skills)
    skill_invoke = defs["SkillInvoke"]
    skill_invoke["properties"]["skill"].update(
        enum=skills, enumDescriptions=[library.skills[name].description for name in skills]
    )
    skill_invoke["allOf"] = [
        _closed_with(
            "skill",
            name,
            [(p.name, p.description, p.type, p.required) for p in library.skills[name].params],
        )
        for name in skills
    ]
    defs["Remember"]["properties"]["type"]["enum"] = list(library.memory_types)


def playbook_schema(library: Library | None = None) -> dict[str, Any]:
    """The schema; with `library`, its template, skill and memory-type names as enums."""
    schema = records_schema(Playbook)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Codifier playbook"
    schema["description"] = (
        "A Codifier playbook: a linear sequence of steps run with a person through their "
        "assistant. `codifier check` and `codifier lsp` check far more than this schema."
    )
    schema["$comment"] = f"Generated: regenerate with `{REGENERATE}`."
    defs: dict[str, Any] = schema["$defs"]
    for def_name, definition in _definitions(schema):
        docs = KEY_DOCS.get(def_name, {})
        for key, prop in definition.get("properties", {}).items():
            if key in docs:
                prop["description"] = docs[key]

    # Closed maps of well-formed names (a map's schema leaves other names open).
    for key in ("inputs", "outputs"):
        schema["properties"][key]["additionalProperties"] = False
    examples = _type_examples(library)
    defs["Store"]["properties"]["type"]["examples"] = examples
    defs["Input"]["properties"]["type"]["examples"] = examples

    step = defs["Step"]
    step["oneOf"] = [{"required": [name]} for name in INSTRUCTIONS]
    for name in INSTRUCTIONS:
        step["properties"][name]["defaultSnippets"] = [INSTRUCTION_SNIPPETS[name]]
        defs[_INSTRUCTION_DEFS[name]]["defaultSnippets"] = [INSTRUCTION_SNIPPETS[name]]
    if library is not None:
        _add_library(defs, library)
    return schema


def playbook_schema_text(library: Library | None = None) -> str:
    return json.dumps(playbook_schema(library), indent=2, sort_keys=True) + "\n"


def key_docs(definition: str) -> dict[str, str]:
    """The documentation of the keys of one part of a playbook (a $defs name)."""
    return KEY_DOCS.get(definition, {})
