"""Positions between the checker and the client, in one place.

The checker counts lines the way editors do (`dsl.lines`: only `\\n`, `\\r\\n` and `\\r`
break a line) and columns in characters (code points), 1-based with an exclusive end.
LSP counts 0-based, with columns in the code units of the encoding negotiated at start:
UTF-16 unless the client offers UTF-8 or UTF-32. `dsl.lines.LineIndex` converts; what this
adds is the byte-order mark: the checker never sees it, but a client that sends one counts
it on the first line.
"""

from __future__ import annotations

from lsprotocol import types

from dsl.lines import BOM, Encoding, LineIndex, code_units, split_lines
from dsl.span import Span

_ENCODINGS: dict[str, Encoding] = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


class PositionMap:
    """Converts between checker spans/positions and LSP ranges/positions for one text."""

    def __init__(self, text: str, encoding: str) -> None:
        self.encoding: Encoding = _ENCODINGS.get(str(encoding), "utf-16")
        self.bom = text.startswith(BOM)
        self.index = LineIndex(text)  # drops the BOM, as the checker does
        self.lines = split_lines(text)  # the client's lines (a BOM kept)

    @property
    def checked_text_offset(self) -> int:
        """Characters of the client's first line that the checker does not see."""
        return 1 if self.bom else 0

    def _bom_units(self, line: int) -> int:
        return code_units(BOM, self.encoding) if self.bom and line == 0 else 0

    def position(self, line: int, column: int) -> types.Position:
        """The LSP position of a checker (line, column), clamped to the text."""
        lsp_line, character = self.index.to_lsp(line, column, self.encoding)
        return types.Position(line=lsp_line, character=character + self._bom_units(lsp_line))

    def range(self, span: Span) -> types.Range:
        start = self.position(span.line, span.column)
        end = self.position(span.end_line, span.end_column)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)

    def checker_position(self, position: types.Position) -> tuple[int, int]:
        """The checker's 1-based (line, column) of an LSP position. A position inside a
        character (half a surrogate pair, a byte inside UTF-8) counts as that character."""
        character = max(position.character - self._bom_units(position.line), 0)
        return self.index.from_lsp(position.line, character, self.encoding)

    def char_column(self, position: types.Position) -> int:
        """0-based character index in the client's line (BOM included) of a position."""
        line, column = self.checker_position(position)
        return column - 1 + (self.checked_text_offset if line == 1 else 0)
