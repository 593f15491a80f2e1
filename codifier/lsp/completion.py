"""Completion: keys for the place being written, instruction names with a body, names a
value may take (templates, skills, memory types, types, operations), and inside `${{ }}`
the roots, functions with their signatures, earlier steps after `steps.` and record
fields after a `.`."""

from __future__ import annotations

import re

from lsprotocol import types

from codifier.lsp.docs import FUNCTION_DOCS, ROOT_DOCS
from codifier.lsp.documents import Document
from codifier.lsp.keys import is_instruction, key_path, keys_of, part_of
from codifier.lsp.locate import step_ids, step_index_at, steps_node, type_of
from dsl.expr.parser import CLOSE, OPEN
from dsl.functions import FUNCTIONS
from dsl.source import YMap, YScalar
from dsl.syntax import OPERATIONS, ROLES
from dsl.templates import read_signature
from dsl.types import PRIMITIVES, Opt, Record

TRIGGERS = [".", " ", ":", "-"]

_KEY_SO_FAR = re.compile(r"^(?P<indent> *)(?P<dashes>(?:- +)*)(?P<word>[\w-]*)$")
_VALUE_SO_FAR = re.compile(
    r"^(?P<indent> *)(?P<dashes>(?:- +)*)(?P<key>[\w-]+):\s+(?P<word>[\w-]*)$"
)
_MEMBER = re.compile(r"(?P<target>[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\.\s*(?P<word>\w*)$")

_BODIES = {
    "store": "prompt: $1\ntype: ${2:text}",
    "skill-invoke": "skill: $1\nwith:\n  $0",
    "generate": "template: $1\nwith:\n  $0",
    "data-query": "operation: ${1|list-tables,describe-tables,execute-query|}",
}
_MAPPING_KEYS = {"inputs", "outputs", "remember", "with"}


def _markdown(text: str) -> types.MarkupContent:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)


def _key_item(key: str, doc: str) -> types.CompletionItem:
    if is_instruction(key):
        body = _BODIES[key].replace("\n", "\n  ")
        return types.CompletionItem(
            label=key,
            kind=types.CompletionItemKind.Keyword,
            detail="instruction",
            documentation=_markdown(doc),
            insert_text=f"{key}:\n  {body}",
            insert_text_format=types.InsertTextFormat.Snippet,
            insert_text_mode=types.InsertTextMode.AdjustIndentation,
        )
    if key == "steps":
        text, form = "steps:\n  - id: $1\n    $0", types.InsertTextFormat.Snippet
    elif key in _MAPPING_KEYS:
        text, form = f"{key}:\n  $0", types.InsertTextFormat.Snippet
    else:
        text, form = f"{key}: ", types.InsertTextFormat.PlainText
    return types.CompletionItem(
        label=key,
        kind=types.CompletionItemKind.Property,
        documentation=_markdown(doc),
        insert_text=text,
        insert_text_format=form,
        insert_text_mode=types.InsertTextMode.AdjustIndentation,
    )


def _with_keys(document: Document, line: int) -> dict[str, str]:
    """The parameters of the template or skill of the step at `line`."""
    index = step_index_at(document, line)
    steps = steps_node(document)
    if index is None or index < 0 or steps is None or index >= len(steps.items):
        return {}
    step = steps.items[index]
    if not isinstance(step, YMap):
        return {}
    library = document.library
    for instruction, key in (("generate", "template"), ("skill-invoke", "skill")):
        body = step.get(instruction)
        name = body.get(key) if isinstance(body, YMap) else None
        if not (isinstance(name, YScalar) and isinstance(name.value, str)):
            continue
        if instruction == "generate" and name.value in library.templates:
            sig = read_signature(library.templates[name.value], library.records)
            return {p.name: f"`{p.type}` {p.description}".strip() for p in sig.inputs}
        if instruction == "skill-invoke" and name.value in library.skills:
            skill = library.skills[name.value]
            return {p.name: f"`{p.type}` {p.description}".strip() for p in skill.params}
    return {}


def _keys(document: Document, line: int, match: re.Match[str]) -> list[types.CompletionItem]:
    indent = len(match["indent"])
    dashes = [indent + d.start() for d in re.finditer("-", match["dashes"])]
    column = indent + len(match["dashes"])
    path = key_path(document.positions.lines, line, column, dashes)
    part = part_of(path)
    if part == "with":
        keys = _with_keys(document, line + 1)
    elif part is not None:
        keys = keys_of(part)
    else:
        return []
    return [_key_item(key, doc) for key, doc in keys.items()]


def _value_names(document: Document, part: str | None, key: str) -> list[tuple[str, str]]:
    library = document.library
    if part == "Generate" and key == "template":
        return [
            (name, read_signature(t, library.records).description)
            for name, t in sorted(library.templates.items())
        ]
    if part == "SkillInvoke" and key == "skill":
        return [(name, s.description) for name, s in sorted(library.skills.items())]
    if part == "Remember" and key == "type":
        return [(name, "memory type") for name in library.memory_types]
    if part in ("Store", "Input") and key == "type":
        names = [(name, "type") for name in PRIMITIVES if name != "repository"]
        return names + [(name, "record type") for name in sorted(library.records)]
    if part == "DataQuery" and key == "operation":
        return [(name, "operation") for name in OPERATIONS]
    if part == "DataQuery" and key == "source" and library.data_sources is not None:
        return [(name, "data source") for name in sorted(library.data_sources)]
    if part == "Playbook" and key == "role":
        return [(name, "role") for name in ROLES]
    return []


def _values(document: Document, line: int, match: re.Match[str]) -> list[types.CompletionItem]:
    indent = len(match["indent"])
    dashes = [indent + d.start() for d in re.finditer("-", match["dashes"])]
    column = indent + len(match["dashes"])
    part = part_of(key_path(document.positions.lines, line, column, dashes))
    return [
        types.CompletionItem(
            label=name, kind=types.CompletionItemKind.EnumMember, detail=detail or None
        )
        for name, detail in _value_names(document, part, match["key"])
    ]


def _expression(document: Document, line: int, prefix: str) -> list[types.CompletionItem]:
    step_index = step_index_at(document, line + 1)
    member = _MEMBER.search(prefix)
    if member is not None:
        target = re.sub(r"\s+", "", member["target"])
        if target == "steps":
            return [
                types.CompletionItem(
                    label=step_id,
                    kind=types.CompletionItemKind.Variable,
                    detail=f"step {index + 1}",
                )
                for index, (step_id, _) in enumerate(step_ids(document))
                if step_index == -1 or (step_index is not None and index < step_index)
            ]
        found = type_of(document, target, step_index)
        if isinstance(found, Opt):
            found = found.inner
        if not isinstance(found, Record):
            return []
        return [
            types.CompletionItem(
                label=name, kind=types.CompletionItemKind.Field, detail=str(field_type)
            )
            for name, field_type in found.fields
        ]
    items = [
        types.CompletionItem(
            label=root, kind=types.CompletionItemKind.Module, documentation=_markdown(doc)
        )
        for root, doc in ROOT_DOCS.items()
    ]
    for name, function in FUNCTIONS.items():
        items.append(
            types.CompletionItem(
                label=name,
                kind=types.CompletionItemKind.Function,
                detail=f"{name}{function.signature}",
                documentation=_markdown(FUNCTION_DOCS.get(name, "")),
                insert_text=f"{name}($1)",
                insert_text_format=types.InsertTextFormat.Snippet,
            )
        )
    items += [
        types.CompletionItem(label=word, kind=types.CompletionItemKind.Constant)
        for word in ("true", "false", "null")
    ]
    return items


def complete(document: Document, position: types.Position) -> list[types.CompletionItem]:
    if document.is_template:
        return []
    lines = document.positions.lines
    if position.line >= len(lines):
        return []
    before = lines[position.line][: document.positions.char_column(position)]
    opened = before.rfind(OPEN)
    if opened >= 0 and CLOSE not in before[opened:]:
        return _expression(document, position.line, before[opened + len(OPEN) :])
    if (match := _KEY_SO_FAR.match(before)) is not None:
        return _keys(document, position.line, match)
    if (match := _VALUE_SO_FAR.match(before)) is not None:
        return _values(document, position.line, match)
    return []
