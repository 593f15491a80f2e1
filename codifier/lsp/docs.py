"""Words for what the checker's tables leave bare: the expression roots and functions."""

from __future__ import annotations

from dsl.functions import FUNCTIONS

ROOT_DOCS: dict[str, str] = {
    "inputs": "The playbook's inputs, by name: `inputs.NAME`.",
    "steps": "Earlier steps' outputs: `steps.ID.output`.",
    "project": "The project the run belongs to: `project.id`, `project.name`.",
    "session": "The current run: `session.id`.",
}

FUNCTION_DOCS: dict[str, str] = {
    "length": "The number of items in a list, or of characters in a string.",
    "join": "The items of a list as one string, with the separator between them.",
    "default": "The value, or the fallback when the value is null.",
    "contains": "Whether a list holds an item, or a string holds a substring.",
    "lines": "The non-empty lines of a string, trimmed.",
    "sql_blocks": "The bodies of the fenced ```sql code blocks in a string.",
    "to_json": "Any value as JSON text.",
    "first": "The first item of a list, or null when it is empty.",
}


def function_doc(name: str) -> str:
    function = FUNCTIONS[name]
    text = FUNCTION_DOCS.get(name, "")
    return f"```\n{name}{function.signature}\n```\n{text}".rstrip()
