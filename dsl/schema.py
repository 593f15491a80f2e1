"""The JSON Schema of the playbook format, generated from the syntax models."""

from __future__ import annotations

import json
from typing import Any

from dsl.syntax import INSTRUCTIONS, Playbook

SCHEMA_ID = "https://codifier.dev/schema/playbook.schema.json"


def playbook_schema() -> dict[str, Any]:
    schema = Playbook.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Codifier playbook"
    # Editors should know that a step holds exactly one instruction.
    step = schema["$defs"]["Step"]
    step["oneOf"] = [{"required": [name]} for name in INSTRUCTIONS]
    return schema


def playbook_schema_text() -> str:
    return json.dumps(playbook_schema(), indent=2, sort_keys=True) + "\n"
