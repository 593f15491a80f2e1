"""What the store can keep.

PostgreSQL's text and jsonb hold no NUL character, and UTF-8 has no unpaired surrogate
(JSON's "\\ud800" decodes to one). Such text fails deep inside a write; it is refused up
front instead, saying where it is. Sizes of JSON values are what their compact encoding
takes, the way jsonb receives them.
"""

from __future__ import annotations

import json
from typing import Any


def text_problem(text: str) -> str | None:
    """Why the store cannot keep `text`, or None."""
    position = text.find("\x00")
    if position >= 0:
        return f"contains a NUL character (\\u0000) at position {position}"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            code = ord(text[error.start])
            return f"contains an unpaired surrogate (\\u{code:04x}) at position {error.start}"
    return None


def value_problem(value: Any, name: str, noun: str = "") -> str | None:
    """The first string in a JSON value (dictionary keys too) the store cannot keep, as
    "where why", or None. `name` is the value's own name, the root of the path, and
    `noun` what it is ("argument").

    Iterative: a deeply nested value costs no recursion."""

    def where(path: tuple[str | int, ...]) -> str:
        return f"{noun} {place(name, path)}" if noun else place(name, path)

    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                return f"{where(path)} {problem}"
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and (problem := text_problem(key)):
                    return f"a key in {where(path)} {problem}"
                stack.append(((*path, str(key)), child))
        elif isinstance(item, list | tuple):
            # Reversed, so the first bad item is the one reported.
            stack.extend(((*path, i), item[i]) for i in range(len(item) - 1, -1, -1))
    return None


def place(name: str, path: tuple[str | int, ...]) -> str:
    """'tags[3]', 'metadata.owner': where in an argument a value is, quoted."""
    text = excerpt(name)
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{excerpt(part)}"
    return f"'{text}'"


def excerpt(text: str, width: int = 40) -> str:
    """A caller's text as shown back in a message: one printable line of at most `width`
    characters (and an ellipsis), so an echo never carries a payload or a line break."""
    cut = text[:width]
    if not cut.isprintable():
        cut = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in cut)
    return cut + ("..." if len(text) > width else "")


def json_bytes(value: Any) -> int:
    """The size of `value` as compact JSON in UTF-8."""
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(encoded.encode("utf-8", "surrogatepass"))


def text_bytes(text: str) -> int:
    """The size of `text` in UTF-8 (without encoding ASCII text to count it)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
