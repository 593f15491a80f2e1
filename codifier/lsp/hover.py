"""Hover: the type of the expression under the cursor (as the checker types it), the
documentation of a key or function, and what a template, skill or memory type is."""

from __future__ import annotations

from lsprotocol import types

from codifier.lsp.docs import ROOT_DOCS, function_doc
from codifier.lsp.documents import Document
from codifier.lsp.keys import keys_of, part_of
from codifier.lsp.locate import Found, expression_at, find_node, step_index_at, type_of
from dsl.expr import nodes as n
from dsl.functions import FUNCTIONS
from dsl.library import Library
from dsl.source import YScalar
from dsl.span import Span
from dsl.templates import read_signature


def _hover(document: Document, text: str, span: Span) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=document.positions.range(span),
    )


def _named_value(library: Library, part: str | None, key: str, name: str) -> str | None:
    if part == "Generate" and key == "template" and name in library.templates:
        sig = read_signature(library.templates[name], library.records)
        inputs = "\n".join(
            f"- `{p.name}`: `{p.type}`{'' if p.required else ' (optional)'}" for p in sig.inputs
        )
        return f"**template {name}** → `{sig.output}`\n\n{sig.description}\n\n{inputs}".strip()
    if part == "SkillInvoke" and key == "skill" and name in library.skills:
        skill = library.skills[name]
        params = "\n".join(
            f"- `{p.name}`: `{p.type}`{'' if p.required else ' (optional)'} {p.description}"
            for p in skill.params
        )
        return f"**skill {name}** → `{skill.result}`\n\n{skill.description}\n\n{params}".strip()
    if part == "Remember" and key == "type" and name in library.memory_types:
        return f"**memory type** `{name}`"
    return None


def _expression_hover(
    document: Document, found: Found, line: int, column: int
) -> types.Hover | None:
    assert isinstance(found.node, YScalar)
    at = expression_at(found.node, line, column)
    if at is None:
        return None
    node = at.node
    step_index = step_index_at(document, line)
    found_type = type_of(document, at.source, step_index)
    text = f"```\n{at.source}: {found_type}\n```"
    if isinstance(node, n.Call) and node.func in FUNCTIONS:
        text = f"{text}\n\n{function_doc(node.func)}"
    elif isinstance(node, n.Name) and node.name in ROOT_DOCS:
        text = f"{text}\n\n{ROOT_DOCS[node.name]}"
    return _hover(document, text, at.span)


def hover(document: Document, position: types.Position) -> types.Hover | None:
    if document.root is None:
        return None
    line, column = document.positions.checker_position(position)
    found = find_node(document.root, line, column)
    if found is None or not found.path:
        return None
    key = found.path[-1]
    part = part_of(found.path[:-1])
    if found.on_key:
        doc = keys_of(part).get(str(key)) if part else None
        if doc is None:
            return None
        return _hover(document, f"**{key}**\n\n{doc}", found.node.span)
    if not isinstance(found.node, YScalar):
        return None
    expression = _expression_hover(document, found, line, column)
    if expression is not None:
        return expression
    value = found.node.value
    if isinstance(key, str) and isinstance(value, str):
        text = _named_value(document.library, part, key, value)
        if text is not None:
            return _hover(document, text, found.node.span)
    return None
