"""Issue 11, point 4: a generated artifact is checked against what its template declares
(`output:` yaml/json/markdown and an optional `schema:`). A misfit is refused with the
exact problem, nothing is stored, and the session stays at the step."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from mcp import Client

from codifier.library import load_library
from dsl.artifacts import MAX_DEPTH, MAX_VALUES, check_artifact
from dsl.compiler import compile_playbook
from dsl.interpreter import AnswerError, Ask, Generate, Interpreter
from dsl.library import Library, TemplateFile
from dsl.source import MAX_ALIASES
from dsl.templates import read_signature
from tests.server_harness import (
    ADMIN_TOKEN,
    INIT_ANSWERS,
    ROOT,
    ServerProcess,
    ToolCallFailed,
    call,
    drive,
    http_client,
    scripted_llm,
)

ONE_SENTENCE = re.compile(r"^\[invalid\] [^\n]+$")

EVAL = {
    "id": "E1",
    "rule": "R1",
    "title": "Amounts are integer cents",
    "pass": ["rg -n float src/billing/ finds no matches"],
    "fail": ["a float amount in src/billing/"],
    "how_to_check": "grep",
}
GOOD_EVALS = (
    "evals:\n"
    "  - id: E1\n"
    "    rule: R1\n"
    '    title: "Amounts are integer cents"\n'
    '    pass: ["rg -n float src/billing/ finds no matches"]\n'
    '    fail: ["a float amount in src/billing/"]\n'
    "    how_to_check: grep\n"
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["x"],
    "additionalProperties": False,
    "properties": {
        "x": {"enum": ["a", "b"]},
        "y": {"type": "string", "pattern": "^E[0-9]+$"},
    },
}


@pytest.fixture(scope="module")
def evals_schema() -> dict[str, Any]:
    library = load_library()
    sig = read_signature(library.templates["evals-from-rules"], library.records)
    assert sig.output == "yaml"
    assert sig.schema is not None
    return sig.schema


# -- YAML and JSON syntax: the line and column in the text as sent ----------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('title: "unclosed', "line 1, column 8"),
        ('```yaml\ntitle: "unclosed\n```', "line 2, column 8"),
        ('evals:\n  - id: E1\n    title: "x\n', "line 3, column 12"),
        ("\n\n```yml\nok: 1\nitems: [1, 2\n```\n", "line 5, column 8"),
        ("a: 1\n b: 2\n", "line 2, column 3"),
    ],
)
def test_broken_yaml_is_located_in_the_text_as_sent(text: str, where: str) -> None:
    problem = check_artifact(text, "yaml", None)
    assert problem is not None
    assert problem.startswith(f"is not valid YAML at {where}: "), problem


def test_an_unclosed_quote_is_reported_where_it_opens_with_a_hint() -> None:
    assert check_artifact('title: "unclosed', "yaml", None) == (
        "is not valid YAML at line 1, column 8: found unexpected end of stream, in the quoted"
        " scalar that starts here; close the quote"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": [1, 2,]}', "line 1, column 13"),
        ('```json\n{"a":\n [1, 2,]}\n```', "line 3, column 8"),
        ('{"a": 1}\n{"b": 2}', "line 2, column 1"),
    ],
)
def test_broken_json_is_located_in_the_text_as_sent(text: str, where: str) -> None:
    problem = check_artifact(text, "json", None)
    assert problem is not None
    assert problem.startswith(f"is not valid JSON at {where}: "), problem


def test_valid_documents_pass_with_or_without_one_fence() -> None:
    assert check_artifact("a: 1\n", "yaml", None) is None
    assert check_artifact("```yaml\na: 1\n```\n", "yaml", None) is None
    assert check_artifact("  ```YAML\na: 1\n```  \n\n", "yaml", None) is None
    assert check_artifact("```\na: 1\n```", "yaml", None) is None
    assert check_artifact('```json\n{"a": 1}\n```', "json", None) is None
    assert check_artifact("[1, 2]", "json", None) is None
    block = "```yaml\nsql: |\n  ```sql\n  SELECT 1\n  ```\n```\n"  # indented: not fences
    assert check_artifact(block, "yaml", {"required": ["sql"]}) is None


@pytest.mark.parametrize(
    ("text", "output", "problem"),
    [
        ("```python\na: 1\n```", "yaml", "is fenced as 'python' at line 1, not yaml"),
        ("```yaml\na: 1\n```", "json", "is fenced as 'yaml' at line 1, not json"),
        ("\n```yaml\na: 1\n", "yaml", "opens a ``` fence at line 2 that does not close"),
        ("```yaml\na: 1\n```\nThanks!", "yaml", "opens a ``` fence at line 1 that does not"),
        ("Here it is:\n```json\n[1]\n```", "json", "has text before its ``` fence at line 2"),
        (
            "```yaml\na: 1\n```\n```yaml\nb: 2\n```",
            "yaml",
            "holds more than one ``` block (another fence at line 3)",
        ),
    ],
)
def test_only_a_single_fence_around_the_whole_reply_is_taken_off(
    text: str, output: str, problem: str
) -> None:
    found = check_artifact(text, output, None)
    assert found is not None
    assert found.startswith(problem), found


def test_a_document_must_be_there() -> None:
    assert check_artifact("# only a comment\n", "yaml", None) == (
        "holds no YAML document (only comments or blank lines); send the YAML"
    )
    assert check_artifact("```json\n\n```", "json", None) == (
        "holds no JSON document; send the JSON"
    )
    assert check_artifact("[NaN]", "json", None) == (
        "holds NaN, which JSON does not allow; write a number or null"
    )


def test_yaml_tags_and_duplicate_keys_are_refused_like_in_playbooks() -> None:
    tagged = check_artifact("a: !!python/object:os.system ls\n", "yaml", None)
    assert tagged is not None
    assert "line 1, column 4: explicit YAML tag" in tagged
    duplicate = check_artifact("```yaml\na: 1\na: 2\n```", "yaml", None)
    assert duplicate is not None
    assert "line 3, column 1: duplicate key 'a'" in duplicate


# -- markdown ---------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["markdown", "yaml", "json"])
def test_an_empty_or_blank_artifact_is_refused_whatever_the_output(output: str) -> None:
    for blank in ("", "  \n\t\n"):
        assert check_artifact(blank, output, None) == (
            "is empty or only whitespace; send the generated text"
        )


def test_markdown_takes_any_text() -> None:
    assert check_artifact('title: "unclosed', "markdown", None) is None
    assert check_artifact("# Rules\n\n- R1: use cents\n", "markdown", None) is None


# -- the schema -------------------------------------------------------------------------


def test_schema_misfits_name_the_json_path_and_the_schemas_message() -> None:
    assert check_artifact("x: a\ny: E12\n", "yaml", SCHEMA) is None
    assert check_artifact("y: E1", "yaml", SCHEMA) == (
        "does not fit the template's schema: $: 'x' is a required property"
    )
    several = check_artifact("x: c\ny: F1\nz: 1\n", "yaml", SCHEMA)
    assert several == (
        "does not fit the template's schema: $: Additional properties are not allowed ('z' was"
        " unexpected); $.x: 'c' is not one of ['a', 'b']; $.y: 'F1' does not match '^E[0-9]+$'"
    )
    assert check_artifact('{"x": "b", "y": 7}', "json", SCHEMA) == (
        "does not fit the template's schema: $.y: 7 is not of type 'string'"
    )


def test_the_shipped_evals_schema(evals_schema: dict[str, Any]) -> None:
    assert check_artifact(GOOD_EVALS, "yaml", evals_schema) is None
    assert check_artifact(f"```yaml\n{GOOD_EVALS}```\n", "yaml", evals_schema) is None
    assert check_artifact(scripted_llm("evals", ""), "yaml", evals_schema) is None
    criterion = '["rg -n float src/billing/ finds no matches"]'
    misfits = [
        (
            ("how_to_check: grep", "how_to_check: sometimes"),
            "$.evals[0].how_to_check: 'sometimes' is not one of ['manual', 'grep', 'test',"
            " 'review']",
        ),
        (("id: E1", "id: eval-1"), "$.evals[0].id: 'eval-1' does not match '^E[0-9]+$'"),
        (("rule: R1", "rule: rule one"), "$.evals[0].rule: 'rule one' does not match '^R[0-9]+$'"),
        (
            ('    fail: ["a float amount in src/billing/"]\n', ""),
            "$.evals[0]: 'fail' is a required property",
        ),
        (
            ("how_to_check: grep\n", "how_to_check: grep\n    severity: high\n"),
            "$.evals[0]: Additional properties are not allowed ('severity' was unexpected)",
        ),
        ((f"pass: {criterion}", "pass: []"), "$.evals[0].pass: [] should be non-empty"),
        (
            (f"pass: {criterion}", 'pass: ["a", "b", "c", "d", "e"]'),
            "$.evals[0].pass: ['a', 'b', 'c', 'd', 'e'] is too long",
        ),
        (
            ('title: "Amounts are integer cents"', "title: 10"),
            "$.evals[0].title: 10 is not of type 'string'",
        ),
    ]
    for (old, new), expected in misfits:
        problem = check_artifact(GOOD_EVALS.replace(old, new), "yaml", evals_schema)
        assert problem == f"does not fit the template's schema: {expected}", problem
    assert check_artifact("evals: []", "yaml", evals_schema) == (
        "does not fit the template's schema: $.evals: [] should be non-empty"
    )
    assert check_artifact("# evals\n\nSome prose.", "yaml", evals_schema) == (
        "does not fit the template's schema: $: 'Some prose.' is not of type 'object'"
    )


def test_the_evals_schema_says_what_the_evals_prompt_asks_for(
    library: Library, evals_schema: dict[str, Any]
) -> None:
    prompt = library.templates["evals-from-rules"].text
    keys = re.search(r"Each item has exactly the keys (.*?);", prompt)
    assert keys is not None
    item = evals_schema["properties"]["evals"]["items"]
    assert re.findall(r"`(\w+)`", keys.group(1)) == item["required"] == list(item["properties"])
    choices = re.search(r"`how_to_check` is one of (.*?)\.\n", prompt)
    assert choices is not None
    assert re.findall(r"`(\w+)`", choices.group(1)) == item["properties"]["how_to_check"]["enum"]
    assert "1–4 criteria" in prompt
    for criteria in ("pass", "fail"):
        assert (
            item["properties"][criteria]["minItems"],
            item["properties"][criteria]["maxItems"],
        ) == (1, 4)
    assert item["additionalProperties"] is False
    assert evals_schema["properties"]["evals"]["minItems"] == 1


def test_schema_refs_are_never_fetched() -> None:
    problem = check_artifact("x: a", "yaml", {"$ref": "https://example.com/schema.json"})
    assert problem == (
        "cannot be checked: the template's schema is unusable"
        " (Unresolvable: https://example.com/schema.json)"
    )


# -- bounds: nothing an artifact holds can expand or stall the check --------------------


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.perf_counter()
    problem = check_artifact("\n".join(laughs), "yaml", {"type": "object"})
    assert time.perf_counter() - started < 1
    assert problem == (
        f"is not valid YAML at line 3, column 45: it uses more than {MAX_ALIASES} YAML aliases"
        f" (at most {MAX_ALIASES}); write the values out instead of repeating anchors"
    )


def test_a_few_aliases_cannot_multiply_a_large_value() -> None:
    wide = "a: &a [" + ", ".join(["x"] * 60_000) + "]\nb: [*a, *a, *a]\n"
    started = time.perf_counter()
    problem = check_artifact(wide, "yaml", {"type": "object"})
    assert time.perf_counter() - started < 2
    assert problem == (
        f"has more than {MAX_VALUES:,} values (each use of a YAML alias counted); write a"
        " smaller document"
    )
    assert check_artifact("a: &a [1, 2]\nb: *a\n", "yaml", {"type": "object"}) is None


@pytest.mark.parametrize("output", ["yaml", "json"])
def test_deep_nesting_is_refused(output: str) -> None:
    for depth in (MAX_DEPTH + 1, 50_000):
        problem = check_artifact("[" * depth + "]" * depth, output, None)
        assert problem is not None
        assert "nest" in problem  # libyaml stops at 1,000 levels with its own message
    problem = check_artifact("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), output, None)
    assert problem is not None
    assert problem.endswith(f"more than {MAX_DEPTH} deep; flatten it")
    assert check_artifact("[" * MAX_DEPTH + "]" * MAX_DEPTH, output, None) is None


def test_schema_patterns_run_in_linear_time() -> None:
    # Python's re would backtrack for ages on this; RE2 does not.
    schema = {"type": "object", "properties": {"x": {"type": "string", "pattern": "^(a+)+$"}}}
    started = time.perf_counter()
    problem = check_artifact("x: " + "a" * 100_000 + "b", "yaml", schema)
    assert time.perf_counter() - started < 2
    assert problem is not None
    assert problem.startswith("does not fit the template's schema: $.x: 'aaaa")


# -- the header: schema: is checked where it is written ---------------------------------


def _sig(header: str) -> Any:
    text = "{#-\n" + header + "-#}\nWrite it.\n"
    return read_signature(TemplateFile("t", "generators/t.md.j2", text), {})


def _problems(header: str) -> list[str]:
    return [f"{p.span.line}:{p.span.column} {p.code} {p.message}" for p in _sig(header).problems]


def test_a_valid_schema_is_kept_in_the_signature() -> None:
    sig = _sig("output: json\nschema:\n  type: array\n  items: {type: integer}\n")
    assert sig.problems == ()
    assert sig.output == "json"
    assert sig.schema == {"type": "array", "items": {"type": "integer"}}
    assert _sig("output: markdown\n").schema is None


def test_header_schema_problems_are_t305_at_their_place() -> None:
    assert _problems("output: markdown\nschema: {type: object}\n") == [
        "3:1 T305 'schema' applies to output yaml or json, not markdown"
    ]
    assert _problems("schema: {type: object}\n") == [
        "2:1 T305 'schema' applies to output yaml or json, not markdown"
    ]
    assert _problems("output: yaml\nschema: [object]\n") == [
        "3:1 T305 'schema' must be a mapping (a JSON Schema object)"
    ]
    assert _problems("output: yaml\nschema:\n  properties:\n    name:\n      minLength: -1\n") == [
        "6:7 T305 'schema' is not a valid JSON Schema: -1 is less than the minimum of 0"
    ]
    assert _problems("output: yaml\nschema:\n  type: dict\n") == [
        "4:3 T305 'schema' is not a valid JSON Schema: 'dict' is not a JSON Schema type"
        " (array, boolean, integer, null, number, object, string)"
    ]
    assert _problems("output: json\nschema:\n  pattern: '(?<=a)b'\n") == [
        "4:3 T305 'schema' is not a valid JSON Schema: '(?<=a)b' is not a 'regex'"
    ]
    assert _problems("output: yml\n") == ["2:1 T305 unknown output 'yml'"]


def test_codifier_check_lints_the_shipped_templates_with_their_schemas(library: Library) -> None:
    for template in library.templates.values():
        sig = read_signature(template, library.records)
        assert sig.problems == (), template.name
        assert sig.output in ("markdown", "yaml", "json")


# -- the interpreter: a refused artifact changes nothing --------------------------------


def test_resume_refuses_a_misfit_and_leaves_the_state_as_it_was(library: Library) -> None:
    source = ROOT / "playbooks" / "initialize-project.yaml"
    result = compile_playbook(source.read_text(encoding="utf-8"), source.name, library)
    assert result.program is not None
    machine = Interpreter(result.program, library)
    t = machine.start({}, {"id": "p", "name": "acme"}, {"id": "s"})
    answers: list[Any] = ["acme", "Billing.", "none", []]
    for answer in answers:
        assert isinstance(t.effect, Ask)
        t = machine.resume(t.state, answer)
    t = machine.resume(t.state, "# Rules\n\n## R1: use cents\n")
    assert isinstance(t.effect, Generate)
    assert (t.effect.step.id, t.effect.output_format) == ("evals", "yaml")
    saved = repr(t.state)
    with pytest.raises(AnswerError) as refused:
        machine.resume(t.state, 'title: "unclosed')
    assert str(refused.value).startswith(
        "step 'evals': the artifact is not valid YAML at line 1, column 8: "
    )
    assert repr(t.state) == saved
    done = machine.resume(t.state, GOOD_EVALS)
    assert [m.title for m in done.memories] == ["Evals for the coding rules"]
    assert done.state["outputs"]["evals"] == GOOD_EVALS


# -- over HTTP, against a real server ---------------------------------------------------


async def _refused(client: Client, **arguments: Any) -> str:
    with pytest.raises(ToolCallFailed) as failure:
        await call(client, "advance_step", **arguments)
    text = str(failure.value)
    assert ONE_SENTENCE.match(text), text
    assert "Traceback" not in text
    return text


async def _memories(client: Client, project: str) -> list[dict[str, Any]]:
    found = await call(client, "fetch_context", project_id=project, limit=100)
    return list(found["memories"])


@pytest.mark.anyio
async def test_advance_step_refuses_a_broken_artifact_and_keeps_a_valid_one(
    server: ServerProcess,
) -> None:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        created = await call(
            client, "manage_projects", operation="create", name=f"evals-{uuid.uuid4().hex[:8]}"
        )
        project = created["project"]["id"]
        started = await call(
            client, "run_playbook", playbook_id="initialize-project", project_id=project
        )
        sid = started["session_id"]
        at_rules = await drive(client, started, INIT_ANSWERS, stop_at="rules")
        assert at_rules["generate_request"]["output_format"] == "markdown"
        # markdown: any text, but not none.
        blank = await _refused(client, session_id=sid, step_id="rules", input=" \n\t ")
        assert blank == (
            "[invalid] step 'rules': the artifact is empty or only whitespace; send the"
            " generated text"
        )
        at_evals = await drive(client, at_rules, INIT_ANSWERS, stop_at="evals")
        assert at_evals["step"]["id"] == "evals", at_evals
        assert at_evals["generate_request"]["output_format"] == "yaml"
        before = await _memories(client, project)
        assert len(before) == 3  # description, statement of work, rules

        broken = await _refused(client, session_id=sid, step_id="evals", input='title: "unclosed')
        assert broken == (
            "[invalid] step 'evals': the artifact is not valid YAML at line 1, column 8: found"
            " unexpected end of stream, in the quoted scalar that starts here; close the quote"
        )
        fenced = await _refused(
            client,
            session_id=sid,
            step_id="evals",
            input="```yaml\n" + GOOD_EVALS.replace("E1", "E1\n    bad: [") + "```\n",
        )
        assert fenced == (  # line 1 is the fence; the '[' opens on line 4
            "[invalid] step 'evals': the artifact is not valid YAML at line 4, column 10: did"
            " not find expected ',' or ']', in the flow sequence that starts here; close the"
            " list with ']'"
        )
        misfit = await _refused(
            client,
            session_id=sid,
            step_id="evals",
            input=GOOD_EVALS.replace("how_to_check: grep", "how_to_check: sometimes"),
        )
        assert misfit == (
            "[invalid] step 'evals': the artifact does not fit the template's schema:"
            " $.evals[0].how_to_check: 'sometimes' is not one of ['manual', 'grep', 'test',"
            " 'review']"
        )
        # Nothing was stored, and the session is still at evals.
        assert await _memories(client, project) == before
        accepted = await call(
            client,
            "advance_step",
            session_id=sid,
            step_id="evals",
            input=f"```yaml\n{GOOD_EVALS}```\n",
        )
        assert accepted["step"]["id"] == "requirements", accepted
        evals = await call(client, "fetch_context", project_id=project, tags=["evals"])
        [memory] = evals["memories"]
        assert memory["title"] == "Evals for the coding rules"
        assert memory["content"] == f"```yaml\n{GOOD_EVALS}```\n"
        assert len(await _memories(client, project)) == len(before) + 1
        finished = await drive(client, accepted, INIT_ANSWERS)
        assert finished["status"] == "completed", finished
