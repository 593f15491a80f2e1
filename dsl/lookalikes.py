"""Naming characters a reader cannot tell apart: `U+043E CYRILLIC SMALL LETTER O`."""

from __future__ import annotations

import unicodedata


def describe_char(char: str) -> str:
    """`U+000C (FORM FEED)` style: the code point and its Unicode name (or category)."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} ({name})" if name else code


# unicodedata has no names for control characters; these are the ones people meet.
_CONTROL_NAMES = {
    "\x00": "NULL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\x0b": "VERTICAL TAB",
    "\x0c": "FORM FEED",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


def lookalikes(word: str) -> list[str]:
    """`U+043E CYRILLIC SMALL LETTER O` for each distinct non-ASCII character of a name:
    what makes a name that looks right differ from the one it imitates."""
    seen = dict.fromkeys(c for c in word if not c.isascii())
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'UNKNOWN CHARACTER')}" for c in seen]


def ascii_twin(word: str) -> str:
    """The name with look-alike letters folded to ASCII where Unicode confusables make that
    obvious (Cyrillic and Greek letters shaped like Latin ones); others stay."""
    return "".join(_TWINS.get(c, c) for c in word)


_TWINS = {
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y",
    # Greek
    "ο": "o", "α": "a", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip
