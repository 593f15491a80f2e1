"""Validating the YAML tree against the syntax models, with errors placed on exact spans."""

from __future__ import annotations

import re
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dsl.diagnostics import Reporter, closest, did_you_mean
from dsl.expr.parser import OPEN
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


def _id_hint(text: str, *, playbook: bool) -> str:
    """The naming rule, with the offending name rewritten to follow it."""
    joiner = "-" if playbook else "_"
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text).lower())
    suggestion = joiner.join(words)
    if not suggestion or not suggestion[0].isalpha():
        suggestion = ("p" if playbook else "x") + joiner + suggestion
    if playbook:
        return f"use kebab-case: lowercase letters and digits joined by '-', e.g. '{suggestion}'"
    return f"use lowercase letters, digits and '_', starting with a letter, e.g. '{suggestion}'"


# Keys people put one level off: where they belong.
_STEP_KEYS = {"id", "title", "if"}
_INSTRUCTION_KEYS = {"with", "prompt", "template", "skill", "operation", "sql", "remember"}


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
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]  # the element; `part` is an index or key
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Annotated[X, ...] -> X and Optional[X] -> X, repeatedly."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
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


def validate(model: type[M], node: YNode, reporter: Reporter, label: str) -> M | None:
    """The validated model, or None after reporting every error against its span.

    When the only errors are unknown keys, they are reported and the model is built
    without them, so that one misspelt key does not hide the other problems.
    """
    data = to_python(node)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        items = error.errors(include_url=False)
        explained = _explained_missing(model, items)
        for item in items:
            if item["type"] == "missing" and tuple(item["loc"]) in explained:
                continue  # the unknown key's "did you mean" names it: one cause, one report
            _report(model, node, item, reporter, label)
        if any(item["type"] != "extra_forbidden" for item in items):
            return None
        for item in items:
            _drop(data, tuple(item["loc"]))
        try:
            return model.model_validate(data)
        except ValidationError:
            return None


def _explained_missing(model: type[BaseModel], items: list[Any]) -> set[tuple[Any, ...]]:
    """Locations of missing keys that a misspelt key beside them was meant to be."""
    explained: set[tuple[Any, ...]] = set()
    missing = {tuple(i["loc"]) for i in items if i["type"] == "missing"}
    if not missing:
        return explained
    for item in items:
        loc = tuple(item["loc"])
        if item["type"] != "extra_forbidden" or not loc:
            continue
        owner = _model_at(model, loc[:-1])
        meant = closest(str(loc[-1]), allowed_keys(owner)) if owner else None
        if meant is not None and (*loc[:-1], meant) in missing:
            explained.add((*loc[:-1], meant))
    return explained


def _drop(data: Any, loc: tuple[Any, ...]) -> None:
    for part in loc[:-1]:
        data = data[part]
    if isinstance(data, dict):
        data.pop(loc[-1], None)


def _report(model: type[BaseModel], root: YNode, item: Any, reporter: Reporter, label: str) -> None:
    loc: tuple[Any, ...] = tuple(item["loc"])
    kind: str = item["type"]
    if isinstance(item.get("input"), str) and OPEN in item["input"] and kind != "extra_forbidden":
        return  # an expression in a fixed-value key: S110 already says what is wrong
    value_node, key_node, parent = _place(root, loc)
    key_text = str(loc[-1]) if loc else label
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        options = allowed_keys(owner) if owner else []
        hint = did_you_mean(key_text, options)
        if hint is None and key_text in _STEP_KEYS and len(loc) > 1:
            hint = f"'{key_text}' belongs on the step, beside 'id'"
        elif hint is None and key_text in _INSTRUCTION_KEYS and len(loc) == 1 and label == "step":
            hint = f"'{key_text}' belongs inside the instruction (store, generate, ...)"
        elif hint is None and options:
            hint = f"allowed keys: {', '.join(options)}"
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
        what = f"'{key_text}'" if loc else label
        hint = None
        if not loc and label.startswith("input ") and isinstance(root, YScalar):
            hint = f"write the input as a mapping: {{type: {root.text or 'string'}}}"
        reporter.report(
            "S103",
            target.span,
            f"{what} must be {_TYPE_ERRORS[kind]}, found {describe_node(value_node or root)}",
            hint,
        )
    elif kind == "string_pattern_mismatch":
        target = value_node or key_node or root
        what = "name" if loc and loc[-1] == "[key]" else "id"
        text = key_node.text if loc and loc[-1] == "[key]" and key_node else item["input"]
        hint = _id_hint(str(text), playbook=loc == ("id",) and label == "playbook")
        reporter.report("S104", target.span, f"invalid {what} '{text}'", hint)
    elif kind == "literal_error":
        expected = item.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        got = str(item["input"])
        target = value_node or root
        close = did_you_mean(got, options)
        hint = f"use one of: {', '.join(options)}" + (f" ({close})" if close else "")
        reporter.report("S109", target.span, f"invalid {key_text} '{got}'", hint)
    elif kind == "string_too_short" or kind == "too_short":
        target = value_node or key_node or root
        reporter.report("S109", target.span, f"'{key_text}' must not be empty", None)
    elif kind in ("greater_than_equal", "greater_than"):
        target = value_node or root
        limit = item.get("ctx", {}).get("ge", item.get("ctx", {}).get("gt"))
        reporter.report("S109", target.span, f"'{key_text}' must be at least {limit}", None)
    else:
        target = value_node or key_node or root
        reporter.report("S103", target.span, f"invalid value for '{key_text}': {item['msg']}")
