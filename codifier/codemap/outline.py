"""A file's outline: its definitions' signatures and lines, no bodies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from codifier.codemap.definitions import Definition, definitions
from codifier.codemap.languages import DEFAULT_LIMITS, ParseLimits


@dataclass(frozen=True, slots=True)
class Symbol:
    kind: str  # class, function, method, constructor, interface, struct, enum, trait, impl,
    # module, namespace, type, record, union, macro, annotation
    name: str
    signature: str  # the header up to the body: parameters, return type, bases; <= 200 chars
    line: int  # 1-based line of the header (decorators and annotations above it excluded)
    end_line: int  # 1-based, inclusive: the definition's last line
    depth: int  # enclosing definitions: a method in a class is 1


def outline(language: str, text: str, limits: ParseLimits = DEFAULT_LIMITS) -> list[Symbol] | None:
    """The file's definitions in source order, nested ones after their parent.

    None when there is no grammar for `language` (a fence hint such as "python", "tsx",
    "cpp") or the parse is refused by `limits` (size or time)."""
    found = definitions(language, text, limits)
    if found is None:
        return None
    return list(_flatten(found))


def _flatten(items: Iterable[Definition]) -> Iterable[Symbol]:
    for item in items:
        yield Symbol(item.kind, item.name, item.signature, item.line, item.end_line, item.depth)
        yield from _flatten(item.children)
