"""What is at a position of a checked document: the YAML node and key path, the step it
belongs to, and the expression under the cursor with its type."""

from __future__ import annotations

from dataclasses import dataclass

from codifier.lsp.documents import Document
from dsl.check.expressions import ExprChecker, Scope, StepInfo
from dsl.diagnostics import Reporter
from dsl.expr import nodes as n
from dsl.expr.parser import OPEN, ParseError, split_template
from dsl.source import YMap, YNode, YScalar, YSeq
from dsl.span import Span
from dsl.types import ANY, PRIMITIVES, Type, TypeSyntaxError, parse_type

Key = str | int  # a mapping key, or a list index


def contains(span: Span, line: int, column: int) -> bool:
    """Whether (line, column) is inside the span or just after its last character (where
    the cursor is after typing a word)."""
    return span.start <= (line, column) <= (span.end_line, span.end_column)


@dataclass(frozen=True)
class Found:
    path: tuple[Key, ...]  # keys from the root to the node
    node: YNode
    on_key: bool  # the position is on the key of the last path element


def find_node(root: YNode, line: int, column: int) -> Found | None:
    """The innermost node at the position, with its path from the root."""
    if not contains(root.span, line, column):
        return None
    path: list[Key] = []
    node = root
    while True:
        if isinstance(node, YMap):
            for key, value in node.entries:
                if contains(key.span, line, column):
                    return Found((*path, key.text), key, True)
                if contains(value.span, line, column) and not (
                    isinstance(value, YScalar) and value.value is None
                ):
                    path.append(key.text)
                    node = value
                    break
            else:
                return Found(tuple(path), node, False)
        elif isinstance(node, YSeq):
            for index, item in enumerate(node.items):
                if contains(item.span, line, column):
                    path.append(index)
                    node = item
                    break
            else:
                return Found(tuple(path), node, False)
        else:
            return Found(tuple(path), node, False)


def steps_node(document: Document) -> YSeq | None:
    root = document.root
    steps = root.get("steps") if isinstance(root, YMap) else None
    return steps if isinstance(steps, YSeq) else None


def step_ids(document: Document) -> list[tuple[str, YScalar]]:
    """Every step's id with its node, in order (from the tree: works when typing fails)."""
    found: list[tuple[str, YScalar]] = []
    steps = steps_node(document)
    for item in steps.items if steps else []:
        id_node = item.get("id") if isinstance(item, YMap) else None
        if isinstance(id_node, YScalar) and isinstance(id_node.value, str):
            found.append((id_node.value, id_node))
    return found


def step_index_at(document: Document, line: int) -> int | None:
    """The index of the step whose lines hold `line`; -1 after the steps (outputs, which
    may use every step); None before them (inputs, which may use none)."""
    steps = steps_node(document)
    if steps is None:
        return None
    if line > steps.span.end_line or (steps.items and line > steps.items[-1].span.end_line):
        return -1
    current: int | None = None
    for index, item in enumerate(steps.items):
        if item.span.line <= line:
            current = index
    return current


def scope_at(document: Document, step_index: int | None) -> Scope:
    """What expressions at a step may refer to, with the checker's types where known."""
    steps: dict[str, StepInfo] = {}
    inputs: dict[str, Type] = {}
    checked = document.checked
    if checked is not None:
        inputs = {i.name: i.type for i in checked.inputs}
        typed = {s.id: s for s in checked.steps}
    else:
        typed = {}
        root = document.root
        node = root.get("inputs") if isinstance(root, YMap) else None
        for key, body in node.entries if isinstance(node, YMap) else []:
            inputs[key.text] = _declared_type(body, document)
    for index, (step_id, _) in enumerate(step_ids(document)):
        step = typed.get(step_id)
        steps.setdefault(step_id, StepInfo(index, step.output_type if step else ANY))
    current = -1 if step_index is None else step_index
    current_id = None
    if step_index is not None and step_index >= 0:
        current_id = next((s for s, i in steps.items() if i.index == step_index), None)
    return Scope(inputs, steps, current, current_id)


def _declared_type(body: YNode, document: Document) -> Type:
    type_node = body.get("type") if isinstance(body, YMap) else None
    if isinstance(type_node, YScalar) and isinstance(type_node.value, str):
        try:
            return parse_type(type_node.value, document.library.records)
        except TypeSyntaxError:
            return ANY
    return PRIMITIVES["string"]


class _Mark:
    __slots__ = ("column", "line")

    def __init__(self) -> None:
        self.line = 0
        self.column = 0


def type_of(document: Document, expression: str, step_index: int | None) -> Type:
    """The type the checker gives `expression` at a step (its reports are discarded)."""
    text = f"{OPEN} {expression} }}}}"
    scalar = YScalar(_Mark(), _Mark(), text, text)
    checker = ExprChecker(Reporter(document.path), scope_at(document, step_index))
    try:
        return checker.value(scalar, None, "the expression")[0]
    except Exception:
        return ANY


@dataclass(frozen=True)
class ExprAt:
    """The innermost expression node under the cursor."""

    scalar: YScalar
    node: n.Expr
    source: str  # the node's text
    span: Span
    parents: tuple[n.Expr, ...]  # enclosing nodes, outermost first


def _children(node: n.Expr) -> tuple[n.Expr, ...]:
    if isinstance(node, n.Attr):
        return (node.target,)
    if isinstance(node, n.Index):
        return (node.target, node.index)
    if isinstance(node, n.Call | n.ListLit):
        return node.args if isinstance(node, n.Call) else node.items
    if isinstance(node, n.Not):
        return (node.operand,)
    if isinstance(node, n.Logic | n.Compare):
        return (node.left, node.right)
    return ()


def expression_at(scalar: YScalar, line: int, column: int) -> ExprAt | None:
    value = scalar.value
    if not isinstance(value, str) or OPEN not in value:
        return None
    try:
        parts = split_template(value).parts
    except ParseError:
        return None
    for part in parts:
        if not isinstance(part, n.Embedded):
            continue
        base = part.offset
        node: n.Expr = part.expr
        span = scalar.sub_span(base + node.start, base + node.end)
        if not contains(span, line, column):
            continue
        parents: list[n.Expr] = []
        descended = True
        while descended:
            descended = False
            for child in _children(node):
                child_span = scalar.sub_span(base + child.start, base + child.end)
                if contains(child_span, line, column):
                    parents.append(node)
                    node, span, descended = child, child_span, True
                    break
        source = value[base + node.start : base + node.end]
        return ExprAt(scalar, node, source, span, tuple(parents))
    return None
