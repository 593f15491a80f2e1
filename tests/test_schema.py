"""The playbook JSON Schema as editors use it (issue 13, point 7): `codifier schema` run as a
real process, its enums against what ships, no null instruction, closed maps, `--write`,
and the committed schema file kept current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from codifier.resources import generators_dir, playbooks_dir, schema_file, stdlib_dir
from tests.test_cli import codifier

ROOT = Path(__file__).resolve().parent.parent
STABLE_ID = "https://codifier.dev/schema/playbook.schema.json"


@pytest.fixture(scope="module")
def printed() -> str:
    result = codifier("schema")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def schema(printed: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(printed)
    jsonschema.Draft202012Validator.check_schema(parsed)
    return parsed


def _errors(schema: dict[str, Any], playbook: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(yaml.safe_load(playbook))]


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def test_the_id_is_stable(schema: dict[str, Any]) -> None:
    assert schema["$id"] == STABLE_ID
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_template_enum_is_the_shipped_generators(schema: dict[str, Any]) -> None:
    shipped = sorted(p.name.removesuffix(".md.j2") for p in generators_dir().glob("*.md.j2"))
    template = schema["$defs"]["Generate"]["properties"]["template"]
    assert template["enum"] == shipped
    assert len(template["enumDescriptions"]) == len(shipped)
    assert all(template["enumDescriptions"])


def test_skill_and_memory_type_enums_are_the_stdlib_declarations(
    schema: dict[str, Any],
) -> None:
    declared = yaml.safe_load((stdlib_dir() / "skills.yaml").read_text(encoding="utf-8"))
    types = yaml.safe_load((stdlib_dir() / "types.yaml").read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert defs["SkillInvoke"]["properties"]["skill"]["enum"] == sorted(declared["skills"])
    assert defs["Remember"]["properties"]["type"]["enum"] == types["memory_types"]


def test_no_instruction_can_be_null(schema: dict[str, Any]) -> None:
    step = schema["$defs"]["Step"]["properties"]
    for name in ("store", "skill-invoke", "generate", "data-query"):
        assert "anyOf" not in step[name], name
        assert "default" not in step[name], name
        (snippet,) = step[name]["defaultSnippets"]
        assert isinstance(snippet["body"], dict), name
        assert snippet["body"], name
    # Nowhere may an editor insert null: no null default, no null alternative.
    for node in _walk(schema):
        assert node.get("default", "unset") is not None, node
        assert node != {"type": "null"}
    assert _errors(schema, "id: a\nname: A\nsteps:\n  - id: s\n    store:\n")


def test_the_store_snippet_is_a_valid_step(schema: dict[str, Any]) -> None:
    body = schema["$defs"]["Step"]["properties"]["store"]["defaultSnippets"][0]["body"]
    filled = {key: "text" for key in body}
    playbook = {"id": "a", "name": "A", "steps": [{"id": "s", "store": filled}]}
    assert _errors(schema, json.dumps(playbook)) == []


def test_inputs_and_outputs_are_closed_to_well_formed_names(schema: dict[str, Any]) -> None:
    base = "id: a\nname: A\nsteps:\n  - id: s\n    store:\n      prompt: p\n"
    assert _errors(schema, base + "inputs:\n  repo_url:\n    type: url\n") == []
    assert _errors(schema, base + "inputs:\n  Repo-URL:\n    type: url\n")
    assert _errors(schema, base + "inputs:\n  repo:\n    typ: url\n")
    assert _errors(schema, base + "outputs:\n  answer: x\n") == []
    assert _errors(schema, base + "outputs:\n  Answer!: x\n")


def test_with_is_closed_per_template_and_per_skill(schema: dict[str, Any]) -> None:
    generate = (
        "id: a\nname: A\nsteps:\n  - id: g\n    generate:\n      template: evals-from-rules\n"
        "      with:\n        project_name: x\n        rules: y\n"
    )
    assert _errors(schema, generate) == []
    assert _errors(schema, generate + "        rulez: z\n")
    assert _errors(schema, generate.replace("        rules: y\n", ""))
    assert _errors(schema, generate.replace("evals-from-rules", "no-such-template"))
    skill = "id: a\nname: A\nsteps:\n  - id: k\n    skill-invoke:\n      skill: pack_repo\n"
    assert _errors(schema, skill + "      with:\n        url: https://example.com/r.git\n") == []
    assert _errors(schema, skill + "      with:\n        ur: https://example.com/r.git\n")


def test_every_key_is_documented(schema: dict[str, Any]) -> None:
    for name, definition in [("Playbook", schema), *schema["$defs"].items()]:
        for key, prop in definition.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{key}"


def test_shipped_playbooks_fit_the_schema(schema: dict[str, Any]) -> None:
    for path in sorted(playbooks_dir().glob("*.yaml")):
        assert _errors(schema, path.read_text(encoding="utf-8")) == [], path.name


def test_write_writes_the_printed_schema(tmp_path: Path, printed: str) -> None:
    target = tmp_path / "editor" / "playbook.schema.json"
    target.parent.mkdir()
    result = codifier("schema", "--write", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == printed
    assert [p.name for p in target.parent.iterdir()] == ["playbook.schema.json"]


def test_write_into_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = codifier("schema", "--write", str(tmp_path / "nowhere" / "s.json"))
    assert result.returncode == 2
    assert result.stderr.startswith("codifier schema: --write: no such directory")
    assert "Traceback" not in result.stderr


def test_templates_option_adds_a_project_template(tmp_path: Path) -> None:
    (tmp_path / "release-notes.md.j2").write_text(
        "{#-\ndescription: Release notes\noutput: markdown\ninputs:\n  changes: text\n-#}\n"
        "{{ changes }}\n",
        encoding="utf-8",
    )
    result = codifier("schema", "--templates", str(tmp_path))
    assert result.returncode == 0, result.stderr
    enum = json.loads(result.stdout)["$defs"]["Generate"]["properties"]["template"]["enum"]
    assert "release-notes" in enum
    assert "evals-from-rules" in enum


def test_the_committed_schema_is_current(printed: str) -> None:
    assert schema_file().read_text(encoding="utf-8") == printed, (
        "schema/playbook.schema.json is stale: run "
        "`codifier schema --write schema/playbook.schema.json`"
    )
