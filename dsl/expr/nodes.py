"""Expression syntax nodes: immutable, positioned (offsets into the expression text)."""

from __future__ import annotations

from dataclasses import dataclass

LiteralValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Attr(Node):
    target: Expr
    name: str
    name_start: int


@dataclass(frozen=True, slots=True)
class Index(Node):
    target: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: str
    func_end: int
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: LiteralValue


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Logic(Node):
    op: str  # "&&" or "||"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str
    left: Expr
    right: Expr


Expr = Name | Attr | Index | Call | Literal | ListLit | Not | Logic | Compare


@dataclass(frozen=True, slots=True)
class Embedded:
    """One `${{ expr }}` inside a string: the expression and where its text starts."""

    expr: Expr
    offset: int  # offset of the expression text within the containing string
    source: str  # the expression text, for messages


@dataclass(frozen=True, slots=True)
class Interpolation:
    """A string mixing literal text and embedded expressions."""

    parts: tuple[str | Embedded, ...]
