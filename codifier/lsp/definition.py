"""Go to definition: from `steps.ID` to that step's id, from `inputs.NAME` to the input,
and from a template's name to its file."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from codifier.lsp.documents import Document
from codifier.lsp.keys import part_of
from codifier.lsp.locate import expression_at, find_node, step_ids
from dsl.expr import nodes as n
from dsl.source import YMap, YScalar


def _referenced(node: n.Expr, parents: tuple[n.Expr, ...]) -> tuple[str, str] | None:
    """("steps", id) or ("inputs", name) for the reference the cursor is on."""
    chain: list[n.Expr] = [*reversed(parents), node]
    target: n.Expr = node
    while isinstance(target, n.Attr):  # the cursor on `output` of steps.x.output
        chain.append(target.target)
        target = target.target
    for candidate in chain:
        if (
            isinstance(candidate, n.Attr)
            and isinstance(candidate.target, n.Name)
            and candidate.target.name in ("steps", "inputs")
        ):
            return candidate.target.name, candidate.name
    return None


def definition(document: Document, position: types.Position) -> list[types.Location]:
    if document.root is None:
        return []
    line, column = document.positions.checker_position(position)
    found = find_node(document.root, line, column)
    if found is None or found.on_key or not isinstance(found.node, YScalar):
        return []
    at = expression_at(found.node, line, column)
    if at is not None:
        reference = _referenced(at.node, at.parents)
        if reference is None:
            return []
        root, name = reference
        if root == "steps":
            for step_id, node in step_ids(document):
                if step_id == name:
                    return [types.Location(document.uri, document.positions.range(node.span))]
            return []
        inputs = document.root.get("inputs") if isinstance(document.root, YMap) else None
        key = inputs.key(name) if isinstance(inputs, YMap) else None
        if key is None:
            return []
        return [types.Location(document.uri, document.positions.range(key.span))]
    value = found.node.value
    if (
        found.path
        and found.path[-1] == "template"
        and part_of(found.path[:-1]) == "Generate"
        and isinstance(value, str)
        and value in document.library.templates
    ):
        path = Path(document.library.templates[value].path).resolve()
        uri = from_fs_path(str(path)) or str(path)
        start = types.Position(line=0, character=0)
        return [types.Location(uri, types.Range(start=start, end=start))]
    return []
