"""Every shipped generator: a valid header, only declared variables, and a rendered prompt
that matches its reviewed snapshot (tests/snapshots/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_snapshot.plugin import Snapshot

from codifier.resources import generators_dir
from dsl.conform import mismatch
from dsl.library import Library
from dsl.templates import read_signature, render

FIXTURES = Path(__file__).parent / "fixtures" / "generator_inputs"
NAMES = sorted(p.name[: -len(".md.j2")] for p in generators_dir().glob("*.md.j2"))


def _fixture(name: str) -> dict[str, Any]:
    data = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_issue_generators_ship() -> None:
    required = {
        "rules-from-context",
        "evals-from-rules",
        "requirements-from-context",
        "roadmap-from-requirements",
        "queries-from-objective",
        "research-synthesis",
    }
    assert required <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_header_is_clean(name: str, library: Library) -> None:
    sig = read_signature(library.templates[name], library.records)
    assert sig.problems == ()
    assert sig.description
    assert sig.output in {"markdown", "yaml"}


@pytest.mark.parametrize("name", NAMES)
def test_fixture_supplies_every_input_with_the_declared_type(name: str, library: Library) -> None:
    sig = read_signature(library.templates[name], library.records)
    values = _fixture(name)
    assert set(values) == {p.name for p in sig.inputs}
    for param in sig.inputs:
        assert mismatch(values[param.name], param.type, param.name) is None


@pytest.mark.parametrize("name", NAMES)
def test_rendered_prompt_matches_snapshot(name: str, library: Library, snapshot: Snapshot) -> None:
    template = library.templates[name]
    sig = read_signature(template, library.records)
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "generators"
    snapshot.assert_match(render(template, sig, _fixture(name)), f"{name}.md")


@pytest.mark.parametrize("name", NAMES)
def test_renders_with_only_required_inputs(name: str, library: Library) -> None:
    template = library.templates[name]
    sig = read_signature(template, library.records)
    values = {p.name: v for p, v in ((p, _fixture(name)[p.name]) for p in sig.inputs) if p.required}
    prompt = render(template, sig, values)
    assert "None" not in prompt
    assert prompt.strip()


def test_people_supplied_values_are_never_rendered_as_templates(library: Library) -> None:
    template = library.templates["evals-from-rules"]
    sig = read_signature(template, library.records)
    hostile = "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} {{ ''.__class__ }}"
    prompt = render(template, sig, {"project_name": "p", "rules": hostile})
    assert hostile in prompt
    assert "49" not in prompt
