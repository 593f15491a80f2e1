"""The checker's own record validation against pydantic, the reference it replaced.

The playbook syntax used to be pydantic models (strict, extra keys forbidden); the checker
now validates plain data over a table of keys so that it never loads pydantic. The
diagnostics are made from the error items, so the items must be pydantic's: the same
locations, types, messages, inputs and contexts, in the same order; and what validates
must carry the same attributes. The old models are kept here, verbatim, as the oracle.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dsl import syntax
from dsl.check.validation import Problem, validate_record
from dsl.diagnostics import Reporter
from dsl.schema import playbook_schema_text, records_schema
from dsl.source import SourceFile, YMap, YNode, load_yaml, to_python

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- the oracle (verbatim)

PLAYBOOK_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
STEP_ID = r"^[a-z][a-z0-9_]*$"
NAME = r"^[a-z][a-z0-9_]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Remember(_Model):
    """Also save the step's result as a memory."""

    type: str = Field(description="Memory type: rule, document, api_contract, ...")
    title: Any = Field(None, description="Memory title (default: the step's title)")
    tags: Any = Field(None, description="List of tags")


class Store(_Model):
    """Ask the person for a value."""

    prompt: Any = Field(description="What to ask")
    type: str = Field("text", description="The answer's type (default text)")
    choices: Any = Field(None, description="Allowed answers (a list, or an expression)")
    default: Any = Field(None, description="Suggested answer")
    remember: Remember | None = None


class SkillInvoke(_Model):
    """Call a server-side skill declared in stdlib/."""

    skill: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class Generate(_Model):
    """Render a generator template into a prompt for the client's LLM."""

    template: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    remember: Remember | None = None


class DataQuery(_Model):
    """Query a configured data source (read-only)."""

    operation: Literal["list-tables", "describe-tables", "execute-query"]
    source: str | None = Field(None, description="Data source name (default: the server's)")
    database: Any = None
    tables: Any = Field(None, description="Tables to describe (describe-tables)")
    sql: Any = Field(None, description="One SQL query or a list (execute-query)")


class Step(_Model):
    id: Annotated[str, Field(pattern=STEP_ID)]
    title: str | None = None
    if_: Any = Field(None, alias="if", description="Run the step only when this is true")
    store: Store | None = None
    skill_invoke: SkillInvoke | None = Field(None, alias="skill-invoke")
    generate: Generate | None = None
    data_query: DataQuery | None = Field(None, alias="data-query")


class Input(_Model):
    type: str = Field("string", description="The input's type (default string)")
    default: Any = None
    description: str = ""


class _PlaybookBase(_Model):
    id: Annotated[str, Field(pattern=PLAYBOOK_ID, description="kebab-case; the file's stem")]
    name: Annotated[str, Field(min_length=1)]
    role: Literal["developer", "researcher", "any"] = "any"
    version: Annotated[int, Field(ge=1)] = 1
    description: str = ""
    outputs: dict[Annotated[str, Field(pattern=NAME)], Any] = Field(default_factory=dict)


class PlaybookHead(_PlaybookBase):
    """The playbook with its steps and inputs left unvalidated, so that each is checked on
    its own and one bad step does not hide the problems of the others."""

    inputs: dict[Annotated[str, Field(pattern=NAME)], Any] = Field(default_factory=dict)
    steps: Annotated[list[Any], Field(min_length=1)]


class Playbook(_PlaybookBase):
    """The whole playbook format (for the JSON Schema)."""

    inputs: dict[Annotated[str, Field(pattern=NAME)], Input] = Field(default_factory=dict)
    steps: Annotated[list[Step], Field(min_length=1)]


PAIRS: list[tuple[type[_Model], type[Any]]] = [
    (Remember, syntax.Remember),
    (Store, syntax.Store),
    (SkillInvoke, syntax.SkillInvoke),
    (Generate, syntax.Generate),
    (DataQuery, syntax.DataQuery),
    (Step, syntax.Step),
    (Input, syntax.Input),
    (PlaybookHead, syntax.PlaybookHead),
    (Playbook, syntax.Playbook),
]
NEW: dict[type[BaseModel], type[Any]] = {old: new for old, new in PAIRS}

# ---------------------------------------------------------------- the comparison


def _same_value(a: Any, b: Any) -> bool:
    """Equal, with nan equal to itself and bool/int/float told apart (1 == True == 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def _oracle_items(model: type[_Model], data: Any) -> tuple[_Model | None, list[dict[str, Any]]]:
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, [dict(item) for item in error.errors(include_url=False)]


def _as_item(problem: Problem) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": problem.type,
        "loc": problem.loc,
        "msg": problem.msg,
        "input": problem.input,
    }
    if problem.ctx is not None:
        item["ctx"] = problem.ctx
    return item


def _same_record(old: Any, new: Any) -> bool:
    """The new record carries the old model's attributes with equal values."""
    if isinstance(old, BaseModel):
        if type(new) is not NEW[type(old)]:
            return False
        return all(
            _same_record(getattr(old, name), getattr(new, name)) for name in type(old).model_fields
        )
    if isinstance(old, list):
        return (
            isinstance(new, list)
            and len(old) == len(new)
            and all(_same_record(o, n) for o, n in zip(old, new, strict=True))
        )
    if isinstance(old, dict):
        return (
            isinstance(new, dict)
            and list(old) == list(new)
            and all(_same_record(old[k], new[k]) for k in old)
        )
    return _same_value(old, new)


def _without_extras(data: Any, items: list[dict[str, Any]]) -> Any:
    """The data minus the unknown keys (what the checker validates after reporting them)."""
    data = json.loads(json.dumps(data))  # a deep copy (nan and inf survive)
    for item in items:
        target = data
        for part in item["loc"][:-1]:
            target = target[part]
        target.pop(item["loc"][-1], None)
    return data


def assert_same(model: type[_Model], data: Any) -> list[dict[str, Any]]:
    expected_model, expected = _oracle_items(model, data)
    record, problems = validate_record(NEW[model], data)
    actual = [_as_item(p) for p in problems]
    assert len(actual) == len(expected), (data, expected, actual)
    for want, got in zip(expected, actual, strict=True):
        assert got["loc"] == want["loc"], (data, expected, actual)
        assert got["type"] == want["type"], (data, expected, actual)
        assert got["msg"] == want["msg"], (data, want, got)
        assert got.get("ctx") == want.get("ctx"), (data, want, got)
        assert _same_value(got["input"], want["input"]), (data, want, got)
    if not expected:
        assert _same_record(expected_model, record), (data, expected_model, record)
    elif all(item["type"] == "extra_forbidden" for item in expected):
        # Only unknown keys: the checker keeps what pydantic gives once they are dropped.
        kept, again = _oracle_items(model, _without_extras(data, expected))
        assert again == []
        assert _same_record(kept, record), (data, kept, record)
    else:
        assert record is None, (data, expected, record)
    return expected


# ---------------------------------------------------------------- generated inputs

_TEXTS = st.sampled_from(
    [
        "",
        " ",
        "a",
        "x1",
        "ab-cd",
        "ab--cd",
        "-ab",
        "a_b",
        "A",
        "Ab",
        "1a",
        "a\n",
        "a\r",
        "ab-",
        "é",
        "a b",
        "${{ x }}",
        "list-tables",
        "describe-tables",
        "execute-query",
        "developer",
        "researcher",
        "any",
        "Any",
        "any ",
        "text",
        "string",
        "list<string>",
        "rule",
        "with",
        "if",
        "with_",
        "if_",
        "skill_invoke",
        "data_query",
        "skill-invoke",
        "data-query",
        "\u0430",  # CYRILLIC SMALL LETTER A
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.integers(),
    st.sampled_from([1.0, 0.0, 1.5, -2.0, float("inf"), float("-inf"), float("nan"), 1e300]),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXTS,
    st.text(max_size=6),
)


def _anything(depth: int = 2) -> st.SearchStrategy[Any]:
    if depth == 0:
        return _SCALARS
    inner = _anything(depth - 1)
    return st.one_of(
        _SCALARS,
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(_TEXTS, st.text(max_size=4)), inner, max_size=3),
    )


_ANY = _anything()


def _value_for(key: syntax.Key) -> st.SearchStrategy[Any]:
    """A value for one key: usually of its kind (right or nearly right), sometimes anything."""
    if key.kind == "record":
        assert key.record is not None
        fitting = _record(key.record)
    elif key.kind == "list":
        element = _record(key.record) if key.record is not None else _ANY
        fitting = st.lists(element, max_size=3)
    elif key.kind == "map":
        element = _record(key.record) if key.record is not None else _ANY
        fitting = st.dictionaries(st.one_of(_TEXTS, st.text(max_size=4)), element, max_size=3)
    elif key.kind == "int":
        fitting = st.one_of(st.integers(min_value=-2, max_value=4), st.integers())
    elif key.kind == "choice":
        fitting = st.one_of(st.sampled_from(key.choices), _TEXTS)
    else:
        fitting = _TEXTS
    return st.one_of(fitting, fitting, fitting, _ANY)


_RECORD_CACHE: dict[type[Any], st.SearchStrategy[Any]] = {}


def _record(cls: type[Any]) -> st.SearchStrategy[Any]:
    if cls not in _RECORD_CACHE:
        _RECORD_CACHE[cls] = st.deferred(lambda: _record_now(cls))
    return _RECORD_CACHE[cls]


@st.composite
def _mapping(draw: st.DrawFn, cls: type[Any]) -> dict[str, Any]:
    keys: tuple[syntax.Key, ...] = cls.KEYS
    entries: list[tuple[str, Any]] = []
    for key in keys:
        # Required keys are usually there, optional ones half the time.
        if draw(st.integers(0, 9)) < (8 if key.required else 5):
            entries.append((key.name, draw(_value_for(key))))
    for _ in range(draw(st.integers(0, 2))):
        extra = draw(st.one_of(_TEXTS, st.sampled_from([k.attr for k in keys])))
        if extra not in {k.name for k in keys}:
            entries.append((extra, draw(_ANY)))
    order = draw(st.permutations(range(len(entries))))
    return dict(entries[i] for i in order)


def _record_now(cls: type[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(_mapping(cls), _mapping(cls), _mapping(cls), _SCALARS)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_record_reports_what_pydantic_reported(data: st.DataObject) -> None:
    for old, new in PAIRS:
        assert_same(old, data.draw(_record(new), label=old.__name__))


# ---------------------------------------------------------------- the playbooks we have


def _playbook_files() -> list[Path]:
    found = [ROOT / "tests/testdata/ok", ROOT / "tests/testdata/err", ROOT / "playbooks"]
    return sorted(p for folder in found for p in folder.glob("*.yaml"))


def _trees(path: Path) -> YNode | None:
    return load_yaml(SourceFile(str(path), path.read_text(encoding="utf-8")), Reporter(str(path)))


def test_every_playbook_we_have_reports_what_pydantic_reported() -> None:
    compared = 0
    for path in _playbook_files():
        root = _trees(path)
        if root is None:
            continue
        data = to_python(root)
        for model in (PlaybookHead, Playbook):
            assert_same(model, data)
            compared += 1
        if not isinstance(root, YMap):
            continue
        steps = root.get("steps")
        for item in getattr(steps, "items", []):
            assert_same(Step, to_python(item))
            compared += 1
        inputs = root.get("inputs")
        for _, body in getattr(inputs, "entries", []):
            assert_same(Input, to_python(body))
            compared += 1
    assert compared > 500


def test_the_table_declares_the_records_attributes() -> None:
    for old, new in PAIRS:
        assert [k.attr for k in new.KEYS] == list(old.model_fields)
        assert [k.name for k in new.KEYS] == [f.alias or n for n, f in old.model_fields.items()]
        assert [f.name for f in dataclasses.fields(new)] == list(old.model_fields)
        assert new.__doc__ == old.__doc__ or old.__doc__ is None


def _editor_form(prop: dict[str, Any]) -> dict[str, Any]:
    """What dsl.schema made of a pydantic property: `X | None = None` as just `X`, no
    null default, no title (pydantic's repeat the key)."""
    options = prop.get("anyOf")
    if isinstance(options, list):
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1 and len(rest) < len(options):
            del prop["anyOf"]
            prop.update(rest[0])
    if "default" in prop and prop["default"] is None:
        del prop["default"]
    prop.pop("title", None)
    return prop


def test_the_schema_is_what_pydantic_built() -> None:
    """The schema built from the tables is the one built from the old models."""
    expected = Playbook.model_json_schema(by_alias=True, mode="validation")
    for definition in [expected, *expected["$defs"].values()]:
        for prop in definition["properties"].values():
            _editor_form(prop)
    assert records_schema(syntax.Playbook) == expected


def test_the_shipped_schema_file_is_unchanged() -> None:
    from codifier.library import load_library

    shipped = (ROOT / "schema/playbook.schema.json").read_text(encoding="utf-8")
    assert playbook_schema_text(load_library()) == shipped
