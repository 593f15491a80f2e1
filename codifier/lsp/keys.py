"""Which part of a playbook a key path is in, and the keys that part accepts.

A path is the chain of keys (ints for list items) from the document's root; the part is
named like the schema's definitions (`dsl.schema.KEY_DOCS`), which document each key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dsl.schema import KEY_DOCS
from dsl.syntax import INSTRUCTIONS

Key = str | int

_INSTRUCTION_PARTS = {
    "store": "Store",
    "skill-invoke": "SkillInvoke",
    "generate": "Generate",
    "data-query": "DataQuery",
}


def part_of(path: Sequence[Key]) -> str | None:
    """The part whose keys a mapping at `path` holds: Playbook, Input, Step, Store, ...;
    "with" for the arguments of a template or skill; None where keys are free or unknown."""
    match list(path):
        case []:
            return "Playbook"
        case ["inputs", str()]:
            return "Input"
        case ["steps", int()]:
            return "Step"
        case ["steps", int(), str() as instruction] if instruction in _INSTRUCTION_PARTS:
            return _INSTRUCTION_PARTS[instruction]
        case ["steps", int(), "store" | "generate", "remember"]:
            return "Remember"
        case ["steps", int(), "generate" | "skill-invoke", "with"]:
            return "with"
    return None


def keys_of(part: str) -> dict[str, str]:
    """The keys a part accepts, each with its documentation."""
    return KEY_DOCS.get(part, {})


def is_instruction(key: str) -> bool:
    return key in INSTRUCTIONS


# One line of YAML as the outline sees it: indentation, list dashes, then a key.
_ENTRY = re.compile(
    r"^(?P<indent> *)(?P<dashes>(?:-(?: +|$))*)(?:(?P<key>[^\s:#'\"][^:#]*?)\s*:(?:\s|$))?"
)


def _entry(line: str) -> tuple[int, list[int], int, str | None] | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    match = _ENTRY.match(line)
    if match is None:
        return None
    indent = len(match["indent"])
    dashes = [indent + d.start() for d in re.finditer("-", match["dashes"])]
    return indent, dashes, indent + len(match["dashes"]), match["key"]


def key_path(lines: Sequence[str], index: int, column: int, dashes: Sequence[int]) -> list[Key]:
    """The path of the mapping that a key written at (line `index`, `column`) belongs to,
    read from indentation alone (so that it works while the YAML is broken mid-edit).
    `dashes` are the columns of the list dashes before the key on its own line."""
    path: list[Key] = []
    col = column
    in_sequence = False
    for dash in reversed(dashes):
        path.append(0)
        col, in_sequence = dash, True
    for i in range(index - 1, -1, -1):
        entry = _entry(lines[i])
        if entry is None:
            continue
        indent, line_dashes, key_col, key = entry
        if in_sequence and col in line_dashes:
            continue  # an earlier item of the same list
        if not in_sequence and key_col == col and key is not None:
            if not line_dashes:
                continue  # a sibling key
        elif indent < col or (in_sequence and indent == col and not line_dashes):
            if key is None:
                continue
            path.append(key)
        else:
            continue  # deeper content of an earlier key
        # This line's key holds (or shares) our mapping; its dashes make that an item.
        col, in_sequence = key_col, False
        for dash in reversed(line_dashes):
            path.append(0)
            col, in_sequence = dash, True
        if col == 0 and not in_sequence:
            break
    path.reverse()
    return path
