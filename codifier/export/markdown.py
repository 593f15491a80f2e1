"""Putting stored text inside a generated Markdown file without breaking its outline."""

from __future__ import annotations

import re

_ATX_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^ {0,3}([-+*>]|\d{1,9}[.)]|#{1,6}([ \t]|$)|`{3,}|~{3,})")
_WHITESPACE = re.compile(r"\s+")
_BACKTICKS = re.compile(r"`+")


def one_line(text: str) -> str:
    """A title as a heading: whitespace runs (newlines too) become one space."""
    return _WHITESPACE.sub(" ", text).strip()


def demoted(text: str, levels: int) -> str:
    """`text` with its headings `levels` deeper (at most ######), outside fenced code: a
    rule's own "# Heading" then sits under the rule's heading, not beside the file's. A
    setext heading (a line underlined with === or ---) becomes the ATX heading it is, and
    a code fence left open is closed."""
    out: list[str] = []
    fence: str | None = None
    paragraph = False  # the previous line continues a paragraph an underline would head
    for line in text.strip("\n").splitlines():
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
            paragraph = False
        elif fence is not None:
            if opening and opening.group(1).startswith(fence):
                fence = None
        elif paragraph and (underline := _SETEXT_UNDERLINE.match(line)):
            level = 1 if underline.group(1).startswith("=") else 2
            out[-1] = "#" * min(6, level + levels) + " " + out[-1].strip()
            paragraph = False
            continue
        else:
            heading = _ATX_HEADING.match(line)
            line = _ATX_HEADING.sub(
                lambda m: m.group(1) + "#" * min(6, len(m.group(2)) + levels), line
            )
            paragraph = bool(line.strip()) and not heading and not _NOT_PARAGRAPH.match(line)
        out.append(line.rstrip())
    if fence is not None:  # a fence left open would swallow the rest of the file
        out.append(fence)
    return "\n".join(out)


def fenced(text: str, info: str) -> str:
    """`text` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip(chr(10))}\n{fence}"


def yaml_quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar: `\\` and `"` escaped, and every character
    YAML does not allow as printable (controls, DEL, C1, NEL, line and paragraph
    separators, a BOM) written as an escape, so any YAML parser reads back `text`."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif _yaml_printable(code):
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


def _yaml_printable(code: int) -> bool:
    # YAML 1.2 c-printable, less the line breaks and the BOM that would change the text.
    return (
        0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or code >= 0x10000
    ) and code not in (0x2028, 0x2029)
