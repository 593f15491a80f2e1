"""Checking runtime values against types (answers, skill results, template inputs)."""

from __future__ import annotations

from typing import Any

from dsl.types import (
    ANY,
    BOOL,
    INT,
    NULL,
    NUMBER,
    REPOSITORY,
    REPOSITORY_PATTERN,
    STRING,
    TEXT,
    URL,
    URL_PATTERN,
    ListT,
    Opt,
    Record,
    Type,
)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int):
        return "an int"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def mismatch(value: Any, expected: Type, where: str = "value") -> str | None:
    """None if `value` conforms to `expected`; otherwise what is wrong and where."""
    if expected == ANY:
        return None
    if isinstance(expected, Opt):
        return None if value is None else mismatch(value, expected.inner, where)
    if value is None:
        return f"{where} is null, but {expected} is required"
    if expected in (STRING, TEXT):
        ok = isinstance(value, str)
    elif expected == URL:
        if not isinstance(value, str):
            return f"{where} must be a URL, found {_kind(value)}"
        return None if URL_PATTERN.match(value) else f"{where} is not an http(s):// or git@ URL"
    elif expected == REPOSITORY:
        if not isinstance(value, str):
            return f"{where} must be a repository, found {_kind(value)}"
        if REPOSITORY_PATTERN.match(value):
            return None
        return f"{where} is not an http(s):// or git@ URL, nor an absolute path on the server"
    elif expected == INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected == NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif expected == BOOL:
        ok = isinstance(value, bool)
    elif expected == NULL:
        ok = value is None
    elif isinstance(expected, ListT):
        if not isinstance(value, list):
            return f"{where} must be {expected}, found {_kind(value)}"
        for index, item in enumerate(value):
            problem = mismatch(item, expected.elem, f"{where}[{index}]")
            if problem:
                return problem
        return None
    elif isinstance(expected, Record):
        if not isinstance(value, dict):
            return f"{where} must be {expected}, found {_kind(value)}"
        for name, field_type in expected.fields:
            problem = mismatch(value.get(name), field_type, f"{where}.{name}")
            if problem:
                return problem
        return None
    else:
        ok = False
    return None if ok else f"{where} must be {expected}, found {_kind(value)}"


def json_schema(expected: Type) -> dict[str, Any]:
    """The JSON Schema of values of a type (what an MCP client should send)."""
    if expected == ANY:
        return {}
    if isinstance(expected, Opt):
        return {"anyOf": [json_schema(expected.inner), {"type": "null"}]}
    if expected in (STRING, TEXT):
        schema: dict[str, Any] = {"type": "string"}
        if expected == TEXT:
            schema["contentMediaType"] = "text/plain"
        return schema
    if expected == URL:
        return {"type": "string", "pattern": URL_PATTERN.pattern}
    if expected == REPOSITORY:
        return {"type": "string", "pattern": REPOSITORY_PATTERN.pattern}
    if expected == INT:
        return {"type": "integer"}
    if expected == NUMBER:
        return {"type": "number"}
    if expected == BOOL:
        return {"type": "boolean"}
    if isinstance(expected, ListT):
        return {"type": "array", "items": json_schema(expected.elem)}
    if isinstance(expected, Record):
        return {
            "type": "object",
            "properties": {name: json_schema(t) for name, t in expected.fields},
            "required": [name for name, t in expected.fields if not isinstance(t, Opt)],
        }
    return {}


def complete(value: Any, expected: Type) -> Any:
    """`value` with the absent optional fields of its records filled in as null, so that
    templates and expressions can read every declared field. Assumes `value` conforms."""
    if isinstance(expected, Opt):
        return None if value is None else complete(value, expected.inner)
    if isinstance(expected, ListT) and isinstance(value, list):
        return [complete(item, expected.elem) for item in value]
    if isinstance(expected, Record) and isinstance(value, dict):
        filled = dict(value)
        for name, field_type in expected.fields:
            filled[name] = complete(value.get(name), field_type)
        return filled
    return value
