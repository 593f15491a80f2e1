"""The interpreter as a pure state machine: every transition from a JSON round-tripped
state, answers validated, server-side effects fed back, faults as step errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codifier.resources import playbooks_dir
from dsl.compiler import compile_playbook
from dsl.interpreter import (
    AnswerError,
    Ask,
    Done,
    Failed,
    Generate,
    InputError,
    Interpreter,
    InvokeSkill,
    QueryData,
    Transition,
)
from dsl.ir import Program
from dsl.library import Library
from tests.server_harness import EVALS_YAML

PROJECT = {"id": "p1", "name": "acme"}
SESSION = {"id": "s1"}
SCHEMA = [{"name": "orders", "database": "main", "columns": [{"name": "id", "type": "INT"}]}]


def _program(library: Library, name: str) -> Program:
    text = (playbooks_dir() / f"{name}.yaml").read_text(encoding="utf-8")
    result = compile_playbook(text, f"{name}.yaml", library)
    assert result.program is not None
    # Sessions keep the program as JSON: run exactly what comes back from it.
    return Program.from_json(result.program.to_json())


def _persisted(transition: Transition) -> dict[str, Any]:
    state = json.loads(json.dumps(transition.state))
    assert isinstance(state, dict)
    return state


def _result(sql: str) -> dict[str, Any]:
    return {
        "sql": sql,
        "columns": ["n"],
        "rows": [[1]],
        "row_count": 1,
        "truncated": False,
        "notice": None,
    }


def test_research_runs_start_to_finish(library: Library) -> None:
    machine = Interpreter(_program(library, "research-and-analyze"), library)
    t = machine.start({}, PROJECT, SESSION)
    assert isinstance(t.effect, Ask)
    assert t.effect.step.id == "objective"
    assert t.effect.step.count == 8
    assert t.state["inputs"] == {"database": "main"}
    t = machine.resume(_persisted(t), "Which customers churn?")
    assert isinstance(t.effect, InvokeSkill)
    assert t.effect.skill == "fetch_context"
    assert t.effect.args == {
        "memory_type": "research_finding",
        "query": "Which customers churn?",
        "limit": 10,
    }
    t = machine.resume(_persisted(t), [])
    assert isinstance(t.effect, QueryData)
    assert (t.effect.operation, t.effect.database) == ("list-tables", "main")
    t = machine.resume(_persisted(t), ["orders", "customers"])
    assert isinstance(t.effect, Ask)
    assert t.effect.choices == ["orders", "customers"]
    assert t.effect.prompt.endswith("Available: orders, customers")
    assert t.effect.expects == {
        "type": "array",
        "items": {"type": "string", "enum": t.effect.choices},
        "uniqueItems": True,
        "minItems": 1,
        "description": t.effect.prompt,
    }

    before = _persisted(t)
    with pytest.raises(AnswerError, match="not one of the choices"):
        machine.resume(before, ["invoices"])
    with pytest.raises(AnswerError, match="must be list<string>"):
        machine.resume(before, "orders")
    assert before == _persisted(t)  # a refused answer changes nothing

    t = machine.resume(before, ["orders"])
    assert isinstance(t.effect, QueryData)
    assert t.effect.tables == ["orders"]
    t = machine.resume(_persisted(t), SCHEMA)
    assert isinstance(t.effect, Generate)
    assert t.effect.template == "queries-from-objective"
    assert "Which customers churn?" in t.effect.prompt
    assert "`orders`" in t.effect.prompt
    queries = "### Q1\n```sql\nSELECT count(*) AS n FROM orders\n```\n"
    t = machine.resume(_persisted(t), queries)
    assert isinstance(t.effect, QueryData)
    assert t.effect.sql == ["SELECT count(*) AS n FROM orders"]
    t = machine.resume(_persisted(t), [_result("SELECT count(*) AS n FROM orders")])
    assert isinstance(t.effect, Generate)
    assert "SELECT count(*) AS n FROM orders" in t.effect.prompt
    t = machine.resume(_persisted(t), "## Summary\nChurn is low.")
    assert isinstance(t.effect, Done)
    assert t.state["status"] == "completed"
    assert t.effect.outputs == {
        "finding": "## Summary\nChurn is low.",
        "queries": ["SELECT count(*) AS n FROM orders"],
    }
    (memory,) = t.memories
    assert (memory.memory_type, memory.title, memory.tags) == (
        "research_finding",
        "Finding: Which customers churn?",
        ["research"],
    )


def test_a_false_condition_skips_the_step_and_its_output_is_null(library: Library) -> None:
    machine = Interpreter(_program(library, "research-and-analyze"), library)
    t = machine.start({"database": "analytics"}, PROJECT, SESSION)
    for answer in ("Why?", [], ["orders"], ["orders"], SCHEMA):
        t = machine.resume(_persisted(t), answer)
    assert isinstance(t.effect, Generate)
    t = machine.resume(_persisted(t), "No SQL here, sorry.")
    assert isinstance(t.effect, Generate)  # `results` was skipped
    assert t.effect.template == "research-synthesis"
    assert t.state["outputs"]["results"] is None


def test_initialize_project_remembers_each_artifact(library: Library) -> None:
    machine = Interpreter(_program(library, "initialize-project"), library)
    t = machine.start({}, PROJECT, SESSION)
    assert isinstance(t.effect, Ask)
    assert t.effect.default == "acme"
    t = machine.resume(t.state, "acme")
    t = machine.resume(t.state, "Billing for SaaS.")
    assert [m.title for m in t.memories] == ["Project description"]
    t = machine.resume(t.state, "none")
    t = machine.resume(t.state, [])  # no repositories: the pack step is skipped
    assert isinstance(t.effect, Generate)
    assert t.effect.template == "rules-from-context"
    kinds = []
    # The evals template declares its schema: an artifact must fit it.
    for artifact in ("## R1: Use cents", EVALS_YAML, "FR-1 ...", "Phase 0 ..."):
        t = machine.resume(t.state, artifact)
        kinds += [(m.memory_type, m.tags) for m in t.memories]
    assert kinds == [
        ("rule", ["rules"]),
        ("document", ["evals"]),
        ("document", ["requirements"]),
        ("document", ["roadmap"]),
    ]
    assert isinstance(t.effect, Done)
    assert t.effect.outputs["snapshots"] == []


def test_bad_inputs_are_refused_before_anything_runs(library: Library) -> None:
    machine = Interpreter(_program(library, "research-and-analyze"), library)
    with pytest.raises(InputError, match="unknown input 'db'"):
        machine.start({"db": "x"}, PROJECT, SESSION)
    with pytest.raises(InputError, match="input 'database' must be string"):
        machine.start({"database": 3}, PROJECT, SESSION)


def test_a_wrong_server_result_fails_the_step_with_a_clear_error(library: Library) -> None:
    machine = Interpreter(_program(library, "research-and-analyze"), library)
    t = machine.resume(machine.start({}, PROJECT, SESSION).state, "Why?")
    t = machine.resume(t.state, [])
    t = machine.resume(t.state, [{"not": "a table name"}])
    assert isinstance(t.effect, Failed)
    assert t.state["status"] == "failed"
    assert "step 'tables'" in t.effect.error
    with pytest.raises(AnswerError, match="failed"):
        machine.resume(t.state, ["orders"])


def test_runtime_faults_become_step_errors(library: Library) -> None:
    text = """\
id: fault
name: Fault
steps:
  - id: names
    store:
      prompt: Names?
      type: list<string>
  - id: pick
    store:
      prompt: "First is ${{ steps.names.output[0] }}"
"""
    result = compile_playbook(text, "fault.yaml", library)
    assert result.program is not None
    machine = Interpreter(result.program, library)
    t = machine.resume(machine.start({}, PROJECT, SESSION).state, [])
    assert isinstance(t.effect, Failed)
    assert t.effect.error == (
        "step 'pick': in `steps.names.output[0]`: index 0 is out of range for a list of 0"
    )


def test_current_effect_is_recomputed_identically(library: Library) -> None:
    machine = Interpreter(_program(library, "research-and-analyze"), library)
    t = machine.resume(machine.start({}, PROJECT, SESSION).state, "Why?")
    assert machine.current(_persisted(t)) == t.effect
