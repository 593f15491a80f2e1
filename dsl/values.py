"""Parsed values: what a YAML value position holds once its `${{ }}` pieces are parsed.

These are syntax, shared by the checker (which types them) and the IR (which keeps them
for the interpreter). They are immutable and carry no positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsl.expr.nodes import Expr


@dataclass(frozen=True, slots=True)
class Lit:
    """A plain YAML scalar: string, number, bool or null."""

    value: Any


@dataclass(frozen=True, slots=True)
class Ex:
    """A scalar that is exactly one `${{ expr }}`: evaluates to the expression's value."""

    expr: Expr
    text: str


@dataclass(frozen=True, slots=True)
class Interp:
    """A string mixing text and expressions: evaluates to a string."""

    parts: tuple[str | Ex, ...]


@dataclass(frozen=True, slots=True)
class ListV:
    items: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class MapV:
    entries: tuple[tuple[str, Value], ...]


Value = Lit | Ex | Interp | ListV | MapV
