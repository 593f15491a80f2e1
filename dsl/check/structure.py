"""Validating the YAML tree against the syntax's records, with errors placed on exact spans."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from dsl.check.validation import Problem, validate_record
from dsl.diagnostics import Reporter, closest, did_you_mean
from dsl.expr.parser import OPEN
from dsl.source import YMap, YNode, YScalar, YSeq, to_python
from dsl.span import Span
from dsl.syntax import Key, allowed_keys

R = TypeVar("R")

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


def _record_at(record: type[Any], loc: tuple[Any, ...]) -> type[Any] | None:
    """The record class that validates the value at `loc` (for listing its keys)."""
    current: type[Any] | Key | None = record
    for part in loc:
        if isinstance(current, Key):
            current = current.record  # a map or list: `part` names or numbers an element
        elif current is not None:
            key = next((k for k in current.KEYS if k.name == part), None)
            if key is None:
                return None
            current = key if key.kind in ("map", "list") else key.record
        else:
            return None
    return current if isinstance(current, type) else None


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


def validate(record: type[R], node: YNode, reporter: Reporter, label: str) -> R | None:
    """The validated record, or None after reporting every error against its span.

    When the only errors are unknown keys, they are reported and the record is built
    without them, so that one misspelt key does not hide the other problems.
    """
    built, problems = validate_record(record, to_python(node))
    explained = _explained_missing(record, problems)
    for problem in problems:
        if problem.type == "missing" and problem.loc in explained:
            continue  # the unknown key's "did you mean" names it: one cause, one report
        _report(record, node, problem, reporter, label)
    result: R | None = built
    return result


def _explained_missing(record: type[Any], problems: list[Problem]) -> set[tuple[Any, ...]]:
    """Locations of missing keys that a misspelt key beside them was meant to be."""
    explained: set[tuple[Any, ...]] = set()
    missing = {p.loc for p in problems if p.type == "missing"}
    if not missing:
        return explained
    for problem in problems:
        loc = problem.loc
        if problem.type != "extra_forbidden" or not loc:
            continue
        owner = _record_at(record, loc[:-1])
        meant = closest(str(loc[-1]), allowed_keys(owner)) if owner else None
        if meant is not None and (*loc[:-1], meant) in missing:
            explained.add((*loc[:-1], meant))
    return explained


def _report(
    record: type[Any], root: YNode, problem: Problem, reporter: Reporter, label: str
) -> None:
    loc: tuple[Any, ...] = problem.loc
    kind = problem.type
    if isinstance(problem.input, str) and OPEN in problem.input and kind != "extra_forbidden":
        return  # an expression in a fixed-value key: S110 already says what is wrong
    value_node, key_node, parent = _place(root, loc)
    key_text = str(loc[-1]) if loc else label
    if kind == "extra_forbidden":
        owner = _record_at(record, loc[:-1])
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
        text = key_node.text if loc and loc[-1] == "[key]" and key_node else problem.input
        hint = _id_hint(str(text), playbook=loc == ("id",) and label == "playbook")
        reporter.report("S104", target.span, f"invalid {what} '{text}'", hint)
    elif kind == "literal_error":
        expected = (problem.ctx or {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        got = str(problem.input)
        target = value_node or root
        close = did_you_mean(got, options)
        hint = f"use one of: {', '.join(options)}" + (f" ({close})" if close else "")
        reporter.report("S109", target.span, f"invalid {key_text} '{got}'", hint)
    elif kind == "string_too_short" or kind == "too_short":
        target = value_node or key_node or root
        reporter.report("S109", target.span, f"'{key_text}' must not be empty", None)
    elif kind in ("greater_than_equal", "greater_than"):
        target = value_node or root
        limit = (problem.ctx or {}).get("ge", (problem.ctx or {}).get("gt"))
        reporter.report("S109", target.span, f"'{key_text}' must be at least {limit}", None)
    else:
        target = value_node or key_node or root
        reporter.report("S103", target.span, f"invalid value for '{key_text}': {problem.msg}")
