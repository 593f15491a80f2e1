"""Positions between the checker and the client, in one place.

The checker counts lines the way editors do (only `\\n`, `\\r\\n` and `\\r` break a line) and
columns in characters (code points), 1-based with an exclusive end. LSP counts 0-based,
with columns in the code units of the encoding negotiated at start: UTF-16 unless the
client offers UTF-8 or UTF-32. A byte-order mark is not part of the checked text (the
checker never sees it) but is a character of the client's first line.
"""

from __future__ import annotations

import re

from lsprotocol import types

from dsl.span import Span

BOM = "\ufeff"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as an editor shows them (a final break ends an empty line)."""
    return _LINE_BREAK.split(text)


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class PositionMap:
    """Converts between checker spans/positions and LSP ranges/positions for one text."""

    def __init__(self, text: str, encoding: str) -> None:
        self.encoding = encoding
        self.bom = text.startswith(BOM)
        self.lines = split_lines(text)

    @property
    def checked_text_offset(self) -> int:
        """Characters of the client's first line that the checker does not see."""
        return 1 if self.bom else 0

    def _line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def _char_index(self, line: int, column: int) -> int:
        """0-based character index in the client's line of a 1-based checker column."""
        shift = self.checked_text_offset if line == 1 else 0
        return max(column - 1, 0) + shift

    def position(self, line: int, column: int) -> types.Position:
        """The LSP position of a checker (line, column), clamped to the text."""
        last = len(self.lines) - 1
        if line - 1 > last:  # past the last line: its end
            return types.Position(line=last, character=_units(self.lines[last], self.encoding))
        index = max(line - 1, 0)
        text = self.lines[index]
        chars = min(self._char_index(index + 1, column), len(text))
        return types.Position(line=index, character=_units(text[:chars], self.encoding))

    def range(self, span: Span) -> types.Range:
        start = self.position(span.line, span.column)
        end = self.position(span.end_line, span.end_column)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)

    def checker_position(self, position: types.Position) -> tuple[int, int]:
        """The checker's 1-based (line, column) of an LSP position. A position inside a
        character (half a surrogate pair, a byte inside UTF-8) counts as that character."""
        text = self._line(position.line)
        wanted = position.character
        count = 0
        chars = 0
        for char in text:
            width = _units(char, self.encoding)
            if count + width > wanted:
                break
            count += width
            chars += 1
        if position.line == 0:
            chars -= self.checked_text_offset
        return position.line + 1, max(chars, 0) + 1

    def char_column(self, position: types.Position) -> int:
        """0-based character index in the client's line (BOM included) of a position."""
        line, column = self.checker_position(position)
        return column - 1 + (self.checked_text_offset if line == 1 else 0)
