"""Validating plain data from the YAML tree against a record's table of keys.

Strict, like the pydantic models this replaces: a bool is not an integer, a number is not
a string, a float is never an integer, and unknown keys are errors. The problems are
pydantic's error items, field for field (`loc`, `type`, `msg`, `input`, `ctx`) and in its
order: each key in declaration order, then the unknown keys in the order written
(tests/test_syntax_validation.py holds the two to each other).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from dsl.syntax import Key

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    loc: Loc
    type: str  # pydantic's error type: missing, extra_forbidden, string_type, ...
    msg: str
    input: Any
    ctx: dict[str, Any] | None = None


@cache
def _matcher(pattern: str) -> re.Pattern[str]:
    # pydantic's (Rust) regex: `$` is the end of the text, never before a final newline.
    return re.compile(pattern.removesuffix("$") + r"\Z")


def _choices_text(choices: tuple[str, ...]) -> str:
    """'a', 'b' or 'c', as pydantic words a literal's expected values."""
    quoted = [repr(c) for c in choices]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


_INVALID: Any = object()  # stands for the value of something that did not validate


def validate_record(record: type[Any], data: Any) -> tuple[Any, list[Problem]]:
    """The record built from `data` and every problem found in it.

    The record is None when a problem other than an unknown key was found; with only
    unknown keys it is built without them, so that one misspelt key hides nothing else.
    """
    problems: list[Problem] = []
    value = _record(record, data, (), problems)
    return (None if value is _INVALID else value), problems


def _record(record: type[Any], data: Any, loc: Loc, problems: list[Problem]) -> Any:
    if not isinstance(data, dict):
        problems.append(
            Problem(
                loc,
                "model_type",
                f"Input should be a valid dictionary or instance of {record.__name__}",
                data,
                {"class_name": record.__name__},
            )
        )
        return _INVALID
    keys: tuple[Key, ...] = record.KEYS
    values: dict[str, Any] = {}
    valid = True
    for key in keys:
        if key.name in data:
            value = _value(key, data[key.name], (*loc, key.name), problems)
            valid = valid and value is not _INVALID
            values[key.attr] = value
        elif key.required:
            problems.append(Problem((*loc, key.name), "missing", "Field required", data))
            valid = False
        elif key.kind == "map":
            values[key.attr] = {}
        else:
            values[key.attr] = key.default
    known = {key.name for key in keys}
    for name, value in data.items():
        if name not in known:
            problems.append(
                Problem((*loc, name), "extra_forbidden", "Extra inputs are not permitted", value)
            )
    return record(**values) if valid else _INVALID


def _value(key: Key, value: Any, loc: Loc, problems: list[Problem]) -> Any:
    kind = key.kind
    if kind == "any":
        return value
    if value is None and key.nullable:
        return None
    if kind == "str":
        return _string(key, value, loc, problems)
    if kind == "int":
        return _integer(key, value, loc, problems)
    if kind == "choice":
        if isinstance(value, str) and value in key.choices:
            return value
        expected = _choices_text(key.choices)
        problems.append(
            Problem(
                loc, "literal_error", f"Input should be {expected}", value, {"expected": expected}
            )
        )
        return _INVALID
    if kind == "record":
        assert key.record is not None
        return _record(key.record, value, loc, problems)
    if kind == "map":
        return _mapping(key, value, loc, problems)
    return _list(key, value, loc, problems)


def _string(key: Key, value: Any, loc: Loc, problems: list[Problem]) -> Any:
    if not isinstance(value, str):
        problems.append(Problem(loc, "string_type", "Input should be a valid string", value))
        return _INVALID
    if key.min_length is not None and len(value) < key.min_length:
        count = key.min_length
        problems.append(
            Problem(
                loc,
                "string_too_short",
                f"String should have at least {count} character{'' if count == 1 else 's'}",
                value,
                {"min_length": count},
            )
        )
        return _INVALID
    if key.pattern is not None and not _pattern_matches(key.pattern, value, loc, problems):
        return _INVALID
    return value


def _pattern_matches(pattern: str, text: str, loc: Loc, problems: list[Problem]) -> bool:
    if _matcher(pattern).match(text):
        return True
    problems.append(
        Problem(
            loc,
            "string_pattern_mismatch",
            f"String should match pattern '{pattern}'",
            text,
            {"pattern": pattern},
        )
    )
    return False


def _integer(key: Key, value: Any, loc: Loc, problems: list[Problem]) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(Problem(loc, "int_type", "Input should be a valid integer", value))
        return _INVALID
    if key.ge is not None and value < key.ge:
        problems.append(
            Problem(
                loc,
                "greater_than_equal",
                f"Input should be greater than or equal to {key.ge}",
                value,
                {"ge": key.ge},
            )
        )
        return _INVALID
    return value


def _mapping(key: Key, value: Any, loc: Loc, problems: list[Problem]) -> Any:
    if not isinstance(value, dict):
        problems.append(Problem(loc, "dict_type", "Input should be a valid dictionary", value))
        return _INVALID
    result: dict[str, Any] = {}
    valid = True
    for name, item in value.items():
        if key.pattern is not None and not _pattern_matches(
            key.pattern, name, (*loc, name, "[key]"), problems
        ):
            valid = False
        if key.record is not None:
            item = _record(key.record, item, (*loc, name), problems)
            valid = valid and item is not _INVALID
        result[name] = item
    return result if valid else _INVALID


def _list(key: Key, value: Any, loc: Loc, problems: list[Problem]) -> Any:
    if not isinstance(value, list):
        problems.append(Problem(loc, "list_type", "Input should be a valid list", value))
        return _INVALID
    result: list[Any] = []
    valid = True
    for index, item in enumerate(value):
        if key.record is not None:
            item = _record(key.record, item, (*loc, index), problems)
            valid = valid and item is not _INVALID
        result.append(item)
    if valid and key.min_length is not None and len(result) < key.min_length:
        count = key.min_length
        problems.append(
            Problem(
                loc,
                "too_short",
                f"List should have at least {count} item{'' if count == 1 else 's'} after "
                f"validation, not {len(result)}",
                value,
                {"field_type": "List", "min_length": count, "actual_length": len(result)},
            )
        )
        return _INVALID
    return result if valid else _INVALID
