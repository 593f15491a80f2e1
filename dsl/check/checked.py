"""The checker's result: the playbook's validated parts with their types and values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsl.types import Type
from dsl.values import Value


@dataclass(frozen=True, slots=True)
class CheckedInput:
    name: str
    type: Type
    required: bool
    default: Any
    description: str


@dataclass(frozen=True, slots=True)
class CheckedRemember:
    memory_type: str
    title: Value | None
    tags: Value | None


@dataclass(frozen=True, slots=True)
class CheckedStep:
    id: str
    title: str  # as written
    title_value: Value | None  # when the title holds expressions
    index: int
    kind: str  # one of dsl.syntax.INSTRUCTIONS
    condition: Value | None
    args: tuple[tuple[str, Value], ...]  # value positions of the instruction
    static: tuple[tuple[str, Any], ...]  # fixed settings: skill, template, operation, ...
    output_type: Type
    remember: CheckedRemember | None = None


@dataclass(frozen=True, slots=True)
class CheckedPlaybook:
    id: str
    name: str
    role: str
    version: int
    description: str
    inputs: tuple[CheckedInput, ...]
    steps: tuple[CheckedStep, ...]
    outputs: tuple[tuple[str, Value], ...]
