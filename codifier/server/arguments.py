"""A tool call's arguments before the tool sees them: text the store cannot keep is
refused, and the SDK's argument validation errors become one `[invalid]` sentence that
names the argument and what it must be."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from codifier.server.errors import CallError, invalid
from codifier.storable import excerpt, place, value_problem

# What an argument must be, by pydantic error type; others are derived from the message.
_MUST_BE = {
    "string_type": "must be a string",
    "string_unicode": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
}


def unstorable_argument(arguments: Mapping[str, Any]) -> CallError | None:
    """A refusal for the first argument holding text the store cannot keep (a NUL
    character, an unpaired surrogate), or None."""
    for name, value in arguments.items():
        if problem := value_problem(value, name, "argument"):
            return invalid(f"{problem}; remove it and call again")
    return None


def validation_refusal(error: ValidationError) -> CallError:
    """One sentence for the first problem pydantic found, and how many more there are."""
    errors = error.errors(include_url=False)
    if not errors:
        return invalid("the arguments do not match the tool's input schema; check them")
    sentence = _sentence(errors[0])
    if len(errors) > 1:
        more = len(errors) - 1
        sentence += f" (and {more} more problem{'s' if more > 1 else ''} in the arguments)"
    return invalid(sentence)


def _sentence(detail: ErrorDetails) -> str:
    location = tuple(p if isinstance(p, int) else str(p) for p in detail["loc"])
    if not location:
        return "the arguments must be an object of named values"
    root = location[0] if isinstance(location[0], str) else "arguments"
    where = "argument " + place(root, location[1:])
    kind = detail["type"]
    if kind == "missing":
        return f"{where} is required; pass it"
    if kind == "literal_error":
        # A closed vocabulary (an enum in the input schema): name the value refused, then
        # the values allowed.
        expected = str((detail.get("ctx") or {}).get("expected", "one of the listed values"))
        name = next((p for p in reversed(location) if isinstance(p, str)), root)
        return f"unknown {name} {_got(detail['input'])}; {where} must be one of {expected}"
    if kind in _MUST_BE:
        must = _MUST_BE[kind]
    else:
        message = detail["msg"]
        must = (
            "must be " + message.removeprefix("Input should be ")
            if message.startswith("Input should be ")
            else f"is not valid ({message[:1].lower()}{message[1:]})"
        )
    return f"{where} {must} (got {_got(detail['input'])})"


def _got(value: Any) -> str:
    """What the caller sent, briefly: never a payload echoed back whole."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return excerpt(str(value))
    if isinstance(value, str):
        return f"'{excerpt(value)}'"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return excerpt(type(value).__name__)
