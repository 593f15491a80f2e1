"""Validating the YAML tree against the syntax models, with errors placed on exact spans."""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dsl.diagnostics import Reporter, did_you_mean
from dsl.source import YMap, YNode, YScalar, YSeq, to_python
from dsl.span import Span

M = TypeVar("M", bound=BaseModel)

_TYPE_ERRORS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}

_ID_HINTS = {
    "id": "use kebab-case: lowercase letters and digits joined by '-', e.g. 'my-playbook'",
}
_NAME_HINT = "use lowercase letters, digits and '_', starting with a letter, e.g. 'repo_urls'"


def describe_node(node: YNode | None) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    if isinstance(node, YScalar):
        value = node.value
        if value is None:
            return "nothing (null)"
        if isinstance(value, bool):
            return f"the boolean {str(value).lower()}"
        if isinstance(value, int):
            return f"the integer {value}"
        if isinstance(value, float):
            return f"the number {value}"
        return f"the string '{value}'"
    return "nothing"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that validates the value at `loc` (for listing its keys)."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str):
                return None
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return None
            current = field.annotation
        else:
            current = _unwrap(current)
            if current is None:
                return None
    current = _unwrap(current) if not isinstance(current, type) else current
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X, list[X] -> X, dict[str, X] -> X, Annotated[X, ...] -> X."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    if origin in (list, dict):
        return typing.get_args(annotation)[-1]
    return annotation


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _place(root: YNode, loc: tuple[Any, ...]) -> tuple[YNode | None, YScalar | None, YNode]:
    """(value node, key node, parent node) at `loc`; missing parts give None."""
    node: YNode | None = root
    key: YScalar | None = None
    parent: YNode = root
    for part in loc:
        if part == "[key]":
            return key, key, parent
        if node is None:
            break
        parent = node
        if isinstance(node, YMap) and isinstance(part, str):
            key = node.key(part)
            node = node.get(part)
        elif isinstance(node, YSeq) and isinstance(part, int) and 0 <= part < len(node.items):
            key = None
            node = node.items[part]
        else:
            node = None
    return node, key, parent


def _where(loc: tuple[Any, ...], label: str) -> str:
    names = [p for p in loc if isinstance(p, str) and p != "[key]"]
    return f"'{names[-1]}'" if names else label


def _start(node: YNode) -> Span:
    return Span.point(node.span.line, node.span.column)


def validate(
    model: type[M], node: YNode, reporter: Reporter, label: str, field_prefix: tuple[Any, ...] = ()
) -> M | None:
    """The validated model, or None after reporting every error against its span."""
    try:
        return model.model_validate(to_python(node))
    except ValidationError as error:
        for item in error.errors(include_url=False):
            _report(model, node, item, reporter, label)
        return None


def _report(model: type[BaseModel], root: YNode, item: Any, reporter: Reporter, label: str) -> None:
    loc: tuple[Any, ...] = tuple(item["loc"])
    kind: str = item["type"]
    value_node, key_node, parent = _place(root, loc)
    key_text = str(loc[-1]) if loc else label
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        options = allowed_keys(owner) if owner else []
        hint = did_you_mean(key_text, options) or (
            f"allowed keys: {', '.join(options)}" if options else None
        )
        span = key_node.span if key_node else root.span
        reporter.report(
            "S101", span, f"unknown key '{key_text}' in {_where(loc[:-1], label)}", hint
        )
    elif kind == "missing":
        owner_key = _place(root, loc[:-1])[1]
        span = owner_key.span if owner_key is not None else _start(parent)
        reporter.report(
            "S102",
            span,
            f"missing required key '{key_text}' in {_where(loc[:-1], label)}",
            f"add '{key_text}:'",
        )
    elif kind in _TYPE_ERRORS:
        target = value_node or key_node or root
        reporter.report(
            "S103",
            target.span,
            f"'{key_text}' must be {_TYPE_ERRORS[kind]}, found {describe_node(value_node)}",
        )
    elif kind == "string_pattern_mismatch":
        target = value_node or key_node or root
        what = "name" if loc and loc[-1] == "[key]" else "id"
        text = key_node.text if loc and loc[-1] == "[key]" and key_node else item["input"]
        hint = _ID_HINTS.get(str(loc[-1])) if len(loc) == 1 else _NAME_HINT
        reporter.report("S104", target.span, f"invalid {what} '{text}'", hint)
    elif kind == "literal_error":
        expected = item.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        got = str(item["input"])
        target = value_node or root
        hint = did_you_mean(got, options) or f"use one of: {', '.join(options)}"
        reporter.report("S109", target.span, f"invalid {key_text} '{got}'", hint)
    elif kind == "too_short":
        target = value_node or key_node or root
        reporter.report("S109", target.span, f"'{key_text}' must not be empty", None)
    elif kind in ("greater_than_equal", "greater_than"):
        target = value_node or root
        limit = item.get("ctx", {}).get("ge", item.get("ctx", {}).get("gt"))
        reporter.report("S109", target.span, f"'{key_text}' must be at least {limit}", None)
    else:
        target = value_node or key_node or root
        reporter.report("S103", target.span, f"invalid value for '{key_text}': {item['msg']}")
