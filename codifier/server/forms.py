"""A store step's question as an MCP elicitation form (form mode), and the form's answer
back as the step's answer.

An elicitation's `requestedSchema` is a flat object whose properties are primitives:
string, number, integer, boolean, a single choice of strings, or (2025-11-25 and later) a
list of choices of strings. A store step's answer is one value, so the form has one
property, named after the step, and its answer is that property's value. A step whose
`expects` cannot be said that way (a list without choices, choices that are not strings,
a record, any) is not asked in a form: the explicit step result stays.

Nothing here validates an answer: the form's answer goes through advance_step's own
validation, exactly as an explicit answer does (`expects` keeps what the form cannot
carry, such as a URL's pattern).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp_types import ElicitRequest, ElicitRequestFormParams

PRIMITIVES = ("string", "integer", "number", "boolean")


@dataclass(frozen=True, slots=True)
class Question:
    """A store step the client can show as a form."""

    session_id: str
    step_id: str
    message: str
    requested_schema: dict[str, Any]

    def request(self) -> ElicitRequest:
        """The `elicitation/create` request (the same shape on both protocols)."""
        return ElicitRequest(
            params=ElicitRequestFormParams(
                message=self.message, requested_schema=self.requested_schema
            )
        )


def answer_of(content: Mapping[str, Any] | None, step_id: str) -> Any:
    """A step's answer from its form's content: the one property, or null when the form
    left it out (an optional answer)."""
    return None if content is None else content.get(step_id)


def question_for(result: Mapping[str, Any]) -> Question | None:
    """The form for a step result awaiting input, or None when its answer cannot be a
    form's one primitive property."""
    if result.get("status") != "awaiting_input":
        return None
    expects = result.get("expects")
    if not isinstance(expects, Mapping):
        return None
    field = form_field(expects)
    if field is None:
        return None
    prop, required = field
    step = result["step"]
    prop["title"] = str(step["title"])
    schema: dict[str, Any] = {"type": "object", "properties": {step["id"]: prop}}
    if required:
        schema["required"] = [step["id"]]
    prompt = str(result["prompt"])
    notice = result.get("notice")
    message = f"{notice}\n\n{prompt}" if isinstance(notice, str) and notice else prompt
    return Question(str(result["session_id"]), str(step["id"]), message, schema)


def form_field(expects: Mapping[str, Any]) -> tuple[dict[str, Any], bool] | None:
    """The elicitation property for an answer schema and whether it is required; None
    when the schema is not one of the spec's primitive property schemas."""
    required = True
    schema: Mapping[str, Any] = expects
    options = expects.get("anyOf")
    if options is not None:  # `T?`: [T, null]; an optional answer is a field left empty
        if not (
            isinstance(options, list)
            and len(options) == 2
            and options[1] == {"type": "null"}
            and isinstance(options[0], Mapping)
        ):
            return None
        schema = options[0]
        required = False
    prop = _primitive(schema)
    if prop is None:
        return None
    default = expects.get("default", schema.get("default"))
    if default is not None and _fits(default, prop):
        prop["default"] = default
    return prop, required


def _primitive(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = schema.get("type")
    choices = schema.get("enum")
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, Mapping) or items.get("type") != "string":
            return None
        listed = items.get("enum")
        if not _strings(listed):
            return None  # a free list has no form field
        prop: dict[str, Any] = {"type": "array", "items": {"type": "string", "enum": listed}}
        if isinstance(schema.get("minItems"), int):
            prop["minItems"] = schema["minItems"]
        return prop
    if kind not in PRIMITIVES:
        return None
    if choices is not None:
        if kind != "string" or not _strings(choices):
            return None  # only strings can be a form's choices
        return {"type": "string", "enum": list(choices)}
    # A pattern (url, repository) and a media type are not form keywords; advance_step's
    # validation still holds the answer to them.
    return {"type": kind}


def _strings(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)


def _fits(value: Any, prop: Mapping[str, Any]) -> bool:
    """Whether a default can stand in the form's field (else the form shows none)."""
    kind = prop["type"]
    if kind == "array":
        return isinstance(value, list) and all(v in prop["items"]["enum"] for v in value)
    if "enum" in prop:
        return value in prop["enum"]
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)
