"""The compiled program: immutable and JSON-serializable, so a session can keep the exact
program it started with.

Types are kept as their written form (`list<TableSchema>?`) and values as parsed value
trees; `to_json`/`from_json` round-trip both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from dsl.expr import nodes
from dsl.values import Ex, Interp, ListV, Lit, MapV, Value


@dataclass(frozen=True, slots=True)
class InputIR:
    name: str
    type: str
    required: bool
    default: Any
    description: str


@dataclass(frozen=True, slots=True)
class RememberIR:
    memory_type: str
    title: Value | None
    tags: Value | None


@dataclass(frozen=True, slots=True)
class StepIR:
    id: str
    title: str  # as written; `title_value` when it holds expressions
    title_value: Value | None
    index: int
    kind: str  # store | skill-invoke | generate | data-query
    condition: Value | None
    args: tuple[tuple[str, Value], ...]
    static: tuple[tuple[str, Any], ...]
    output_type: str
    remember: RememberIR | None

    def arg(self, name: str) -> Value | None:
        return next((v for k, v in self.args if k == name), None)

    def setting(self, name: str) -> Any:
        return next((v for k, v in self.static if k == name), None)


@dataclass(frozen=True, slots=True)
class Program:
    id: str
    name: str
    role: str
    version: int
    description: str
    inputs: tuple[InputIR, ...]
    steps: tuple[StepIR, ...]
    outputs: tuple[tuple[str, Value], ...]
    source_hash: str

    def to_json(self) -> str:
        return json.dumps(_encode(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Program:
        program = _decode(json.loads(text))
        if not isinstance(program, Program):
            raise ValueError("not a compiled program")
        return program


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Program,
        InputIR,
        StepIR,
        RememberIR,
        Lit,
        Ex,
        Interp,
        ListV,
        MapV,
        nodes.Name,
        nodes.Attr,
        nodes.Index,
        nodes.Call,
        nodes.Literal,
        nodes.ListLit,
        nodes.Not,
        nodes.Logic,
        nodes.Compare,
    )
}


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        body = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$": type(value).__name__, **body}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$map": [[k, _encode(v)] for k, v in value.items()]}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        if "$map" in value:
            return {k: _decode(v) for k, v in value["$map"]}
        cls = _CLASSES[value["$"]]
        return cls(**{k: _decode(v) for k, v in value.items() if k != "$"})
    return value
