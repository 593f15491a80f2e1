"""Shared by the tool-surface, prompt and Inspector tests: a server whose projects hold a
published playbook and a packed repository each, and checks of schemas and results."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

# A published playbook with inputs, a question and a generated artifact.
PLAYBOOK = """\
id: surface-check
name: Check the surface
role: developer
description: A two-step playbook that asks about a topic and writes notes on it.
inputs:
  topic:
    type: string
    description: What the notes are about.
  depth:
    type: int
    default: 2
    description: How many levels of detail to go into.
steps:
  - id: question
    title: Ask about the topic
    store:
      prompt: What should the notes on ${{ inputs.topic }} say?
      type: text
  - id: notes
    title: Write the notes
    generate:
      template: surface-notes
      with:
        answer: ${{ steps.question.output }}
outputs:
  notes: ${{ steps.notes.output }}
"""

TEMPLATE = """\
{#-
description: Notes from an answer.
output: markdown
inputs:
  answer: text
-#}
Write short notes from this answer:
{{ answer | trim }}
"""

ONE_SENTENCE = r"^\[[a-z_]+\] [^\n]+$"


def small_repository(root: Path, name: str) -> Path:
    """A committed git repository with a README and a Python module."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(f"# {name}\n\nA small service that greets people.\n")
    (folder / "app.py").write_text(
        "def greet(name: str) -> str:\n    return f'hello {name}'\n\n\n"
        "class Greeter:\n    def run(self) -> str:\n        return greet('world')\n"
    )
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
    ):
        subprocess.run(command, cwd=folder, check=True)
    return folder


def resolved(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = str(schema["$ref"]).removeprefix("#/$defs/")
        schema = root["$defs"][name]
    return schema


def undeclared_keys(
    schema: dict[str, Any], value: Any, root: dict[str, Any], where: str = "$"
) -> list[str]:
    """Keys of `value` (recursively) that its schema's `properties` do not name: a result
    must not carry what its output schema does not say."""
    schema = resolved(schema, root)
    if "anyOf" in schema:
        for branch in schema["anyOf"]:
            if Draft202012Validator({**branch, "$defs": root.get("$defs", {})}).is_valid(value):
                return undeclared_keys(branch, value, root, where)
        return []
    found: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        for key, item in value.items():
            if key not in properties:
                found.append(f"{where}.{key}")
            else:
                found += undeclared_keys(properties[key], item, root, f"{where}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for number, item in enumerate(value):
            found += undeclared_keys(schema["items"], item, root, f"{where}[{number}]")
    return found


def untyped_nodes(node: Any, where: str = "$") -> list[str]:
    """Schema nodes that constrain nothing (no type, enum, const, $ref, anyOf...): what
    the Inspector's --strict lint reports as untyped."""
    constraining = {"type", "enum", "const", "$ref", "anyOf", "oneOf", "allOf", "not"}
    found: list[str] = []
    if not isinstance(node, dict):
        return found
    if not constraining & set(node):
        found.append(where)
    for key in ("properties", "$defs"):
        for name, child in (node.get(key) or {}).items():
            found += untyped_nodes(child, f"{where}.{key}.{name}")
    for key in ("anyOf", "oneOf", "allOf"):
        for number, child in enumerate(node.get(key) or []):
            found += untyped_nodes(child, f"{where}.{key}[{number}]")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            found += untyped_nodes(node[key], f"{where}.{key}")
    return found
