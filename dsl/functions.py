"""The built-in functions of the expression language: signatures and implementations.

Typing rules live with each function so that the checker and the interpreter cannot
disagree about what a function accepts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dsl.types import (
    ANY,
    BOOL,
    INT,
    STRING,
    Fit,
    ListT,
    Opt,
    Prim,
    Type,
    fits,
    optional,
    strip_optional,
)

_STRINGY = (STRING, Prim("text"), Prim("url"), Prim("repository"))


class EvalError(Exception):
    """A runtime fault in an expression (the interpreter turns it into a step error)."""


class Args(Protocol):
    """What a typing rule sees of a call's arguments."""

    types: Sequence[Type]

    def expect(self, index: int, expected: Type) -> None:
        """Report unless argument `index` fits `expected`."""

    def fail(self, index: int, message: str, hint: str | None = None) -> None:
        """Report a type mismatch on argument `index`."""

    def maybe_null(self, index: int) -> Type:
        """The argument's type, warning (once) if it may be null."""


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    signature: str
    arity: int
    infer: Callable[[Args], Type]
    call: Callable[..., Any]


def _length_type(args: Args) -> Type:
    t = args.maybe_null(0)
    if not (t == ANY or isinstance(t, ListT) or t in _STRINGY):
        args.fail(0, f"length() takes a list or a string, found {t}")
    return INT


def _default_type(args: Args) -> Type:
    value, fallback = args.types
    inner = strip_optional(value)
    if inner == ANY:
        return fallback if fallback != ANY else ANY
    if fits(fallback, inner) is Fit.YES:
        return inner
    if fits(inner, fallback) is Fit.YES:
        return fallback
    args.fail(1, f"default() fallback must be {inner}, found {fallback}")
    return inner


def _contains_type(args: Args) -> Type:
    haystack = args.maybe_null(0)
    needle = args.types[1]
    if isinstance(haystack, ListT):
        elem = haystack.elem
        if fits(needle, elem) is Fit.NO and fits(elem, needle) is Fit.NO:
            args.fail(1, f"contains() looks for {elem} in this list, found {needle}")
    elif haystack in _STRINGY:
        args.expect(1, STRING)
    elif haystack != ANY:
        args.fail(0, f"contains() takes a list or a string, found {haystack}")
    return BOOL


def _first_type(args: Args) -> Type:
    t = args.maybe_null(0)
    if isinstance(t, ListT):
        return optional(t.elem)
    if t != ANY:
        args.fail(0, f"first() takes a list, found {t}")
    return ANY


def _string_to_list(args: Args) -> Type:
    args.expect(0, STRING)
    return ListT(STRING)


def _join_type(args: Args) -> Type:
    args.expect(0, ListT(ANY))
    args.expect(1, STRING)
    return STRING


def _to_json_type(args: Args) -> Type:
    return STRING


def to_text(value: Any) -> str:
    """How a value reads inside a string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _need(value: Any, function: str, what: str) -> None:
    if value is None:
        raise EvalError(f"{function}() got null where {what} is needed")


def _length(value: Any) -> int:
    _need(value, "length", "a list or a string")
    if not isinstance(value, list | str):
        raise EvalError(f"length() takes a list or a string, got {type(value).__name__}")
    return len(value)


def _join(items: Any, separator: Any) -> str:
    _need(items, "join", "a list")
    if not isinstance(items, list):
        raise EvalError("join() takes a list")
    return to_text(separator).join(to_text(item) for item in items)


def _default(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


def _contains(haystack: Any, needle: Any) -> bool:
    _need(haystack, "contains", "a list or a string")
    if isinstance(haystack, str):
        return to_text(needle) in haystack
    if isinstance(haystack, list):
        return needle in haystack
    raise EvalError("contains() takes a list or a string")


def _lines(text: Any) -> list[str]:
    _need(text, "lines", "a string")
    return [line.strip() for line in str(text).splitlines() if line.strip()]


_SQL_BLOCK = re.compile(
    r"^[ \t]*(?P<fence>```|~~~)[ \t]*sql\b[^\n]*\n(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)


def _sql_blocks(text: Any) -> list[str]:
    _need(text, "sql_blocks", "a string")
    bodies = (m.group("body").strip() for m in _SQL_BLOCK.finditer(str(text)))
    return [body for body in bodies if body]


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _first(items: Any) -> Any:
    _need(items, "first", "a list")
    if not isinstance(items, list):
        raise EvalError("first() takes a list")
    return items[0] if items else None


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("length", "(list<any> | string) -> int", 1, _length_type, _length),
        Function("join", "(list<any>, string) -> string", 2, _join_type, _join),
        Function("default", "(T?, T) -> T", 2, _default_type, _default),
        Function(
            "contains", "(list<T> | string, T | string) -> bool", 2, _contains_type, _contains
        ),
        Function("lines", "(string) -> list<string>", 1, _string_to_list, _lines),
        Function("sql_blocks", "(string) -> list<string>", 1, _string_to_list, _sql_blocks),
        Function("to_json", "(any) -> string", 1, _to_json_type, _to_json),
        Function("first", "(list<T>) -> T?", 1, _first_type, _first),
    )
}

__all__ = ["FUNCTIONS", "EvalError", "Function", "Opt", "to_text"]
