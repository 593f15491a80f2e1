"""Evaluating parsed values and expressions against a run's data.

Never raises anything but `EvalError`, whose message names the expression: the
interpreter turns it into a step error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl.expr import nodes as n
from dsl.functions import FUNCTIONS, EvalError, to_text
from dsl.values import Ex, Interp, ListV, Lit, MapV, Value


class Env:
    """What expressions can see: inputs, finished steps' outputs, project and session."""

    def __init__(
        self,
        inputs: Mapping[str, Any],
        outputs: Mapping[str, Any],
        project: Mapping[str, Any],
        session: Mapping[str, Any],
    ) -> None:
        self.roots: dict[str, Any] = {
            "inputs": dict(inputs),
            "steps": {k: {"output": v} for k, v in outputs.items()},
            "project": dict(project),
            "session": dict(session),
        }


def evaluate(value: Value, env: Env) -> Any:
    if isinstance(value, Lit):
        return value.value
    if isinstance(value, Ex):
        return _expr(value, env)
    if isinstance(value, Interp):
        pieces = []
        for part in value.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            result = _expr(part, env)
            if result is None:
                raise EvalError(f"`{part.text}` is null and cannot be put into text")
            pieces.append(to_text(result))
        return "".join(pieces)
    if isinstance(value, ListV):
        return [evaluate(item, env) for item in value.items]
    assert isinstance(value, MapV)
    return {key: evaluate(item, env) for key, item in value.entries}


def _expr(ex: Ex, env: Env) -> Any:
    try:
        return _eval(ex.expr, env)
    except EvalError as error:
        raise EvalError(f"in `{ex.text}`: {error}") from None
    except (TypeError, ValueError, KeyError, IndexError, RecursionError) as error:
        # Values of type `any` reach here unchecked; say what went wrong, not how.
        raise EvalError(f"in `{ex.text}`: {type(error).__name__}: {error}") from None


def _eval(node: n.Expr, env: Env) -> Any:
    if isinstance(node, n.Literal):
        return node.value
    if isinstance(node, n.Name):
        if node.name not in env.roots:
            raise EvalError(f"unknown name '{node.name}'")
        return env.roots[node.name]
    if isinstance(node, n.Attr):
        target = _eval(node.target, env)
        if target is None:
            raise EvalError(f"cannot read '{node.name}' of null")
        if not isinstance(target, dict):
            raise EvalError(f"cannot read '{node.name}' of a {type(target).__name__}")
        if node.name not in target:
            if isinstance(node.target, n.Name) and node.target.name == "steps":
                raise EvalError(f"step '{node.name}' has not run")
            return None  # an absent optional field
        return target[node.name]
    if isinstance(node, n.Index):
        target = _eval(node.target, env)
        index = _eval(node.index, env)
        if target is None:
            raise EvalError("cannot index null")
        if isinstance(target, list):
            if not isinstance(index, int) or isinstance(index, bool):
                raise EvalError("a list index must be an int")
            if not -len(target) <= index < len(target):
                raise EvalError(f"index {index} is out of range for a list of {len(target)}")
            return target[index]
        if isinstance(target, dict) and isinstance(index, str):
            return target.get(index)
        raise EvalError(f"cannot index a {type(target).__name__}")
    if isinstance(node, n.Call):
        function = FUNCTIONS.get(node.func)
        if function is None:
            raise EvalError(f"unknown function '{node.func}'")
        return function.call(*(_eval(arg, env) for arg in node.args))
    if isinstance(node, n.ListLit):
        return [_eval(item, env) for item in node.items]
    if isinstance(node, n.Not):
        return not _truth(_eval(node.operand, env), "!")
    if isinstance(node, n.Logic):
        left = _truth(_eval(node.left, env), node.op)
        if node.op == "&&":
            return left and _truth(_eval(node.right, env), node.op)
        return left or _truth(_eval(node.right, env), node.op)
    assert isinstance(node, n.Compare)
    return _compare(node.op, _eval(node.left, env), _eval(node.right, env))


def _truth(value: Any, op: str) -> bool:
    if not isinstance(value, bool):
        shown = "null" if value is None else type(value).__name__
        raise EvalError(f"'{op}' needs a bool, got {shown}")
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        raise EvalError(f"cannot compare null with '{op}'")
    numbers = (int, float)
    comparable = (
        isinstance(left, numbers)
        and isinstance(right, numbers)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    ) or (isinstance(left, str) and isinstance(right, str))
    if not comparable:
        raise EvalError(f"cannot compare {type(left).__name__} with {type(right).__name__}")
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)
