"""The one line model every position in the checker uses: the editors'.

Only `\\n`, `\\r\\n` and `\\r` break a line (NEL, U+2028, U+2029, form feed and vertical
tab are ordinary characters, as in VS Code, Neovim and the LSP). Lines and columns are
1-based; a column counts characters (code points) of the line; an end column is
exclusive. A leading byte-order mark is not part of the text: `LineIndex` drops it, so it
neither counts in columns nor shows in snippets.

For a language server: `LineIndex.to_lsp` and `LineIndex.from_lsp` map a checker
(line, column) to an LSP (line, character) in UTF-16, UTF-8 or UTF-32 code units and back.
"""

from __future__ import annotations

import bisect
import re
from typing import Literal

BOM = "\ufeff"
LINE_BREAK = re.compile(r"\r\n|\r|\n")

Encoding = Literal["utf-16", "utf-8", "utf-32"]


def strip_bom(text: str) -> str:
    """The text without a leading byte-order mark."""
    return text[1:] if text.startswith(BOM) else text


def split_lines(text: str) -> list[str]:
    """The lines as an editor shows them, without their breaks; a final break ends an
    empty last line (so "a\\n" has two lines, the second empty)."""
    return LINE_BREAK.split(text)


def code_units(text: str, encoding: Encoding = "utf-16") -> int:
    """The length of `text` in the code units of `encoding`."""
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class LineIndex:
    """Line starts of one text (BOM dropped), for offsets <-> (line, column) both ways."""

    def __init__(self, text: str) -> None:
        self.text = strip_bom(text)
        self.starts = [0, *(m.end() for m in LINE_BREAK.finditer(self.text))]
        self._ends: list[int] | None = None

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def _line_end(self, index: int) -> int:
        """Offset where 0-based line `index`'s text ends (before its break)."""
        if self._ends is None:
            # The break before each next start is \r\n (2 characters) or one character.
            text = self.text
            ends = [s - 2 if text[s - 2 : s] == "\r\n" else s - 1 for s in self.starts[1:]]
            ends.append(len(text))
            self._ends = ends
        return self._ends[index]

    def line_text(self, line: int) -> str:
        """The text of 1-based `line` without its break ("" outside the file)."""
        if not 1 <= line <= self.line_count:
            return ""
        return self.text[self.starts[line - 1] : self._line_end(line - 1)]

    def line_length(self, line: int) -> int:
        return len(self.line_text(line))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset, clamped to the text."""
        offset = min(max(offset, 0), len(self.text))
        index = bisect.bisect_right(self.starts, offset) - 1
        # An offset inside a \r\n pair is the end of that line.
        column = min(offset, self._line_end(index)) - self.starts[index] + 1
        return index + 1, column

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based (line, column), clamped into that line."""
        if line < 1:
            return 0
        if line > self.line_count:
            return len(self.text)
        start = self.starts[line - 1]
        return min(start + max(column, 1) - 1, self._line_end(line - 1))

    def clamp(self, line: int, column: int) -> tuple[int, int]:
        """The nearest position inside the file (a column at most one past the line end)."""
        return self.position(self.offset(line, column))

    def to_lsp(self, line: int, column: int, encoding: Encoding = "utf-16") -> tuple[int, int]:
        """The 0-based LSP (line, character) of a checker (line, column), clamped."""
        line, column = self.clamp(line, column)
        text = self.line_text(line)
        return line - 1, code_units(text[: column - 1], encoding)

    def from_lsp(self, line: int, character: int, encoding: Encoding = "utf-16") -> tuple[int, int]:
        """The checker's 1-based (line, column) of an LSP position, clamped. A position
        inside a character (half a surrogate pair, a byte of UTF-8) is that character."""
        if line < 0:
            return 1, 1
        if line >= self.line_count:
            last = self.line_count
            return last, self.line_length(last) + 1
        text = self.line_text(line + 1)
        units = 0
        for index, char in enumerate(text):
            if units >= character:
                return line + 1, index + 1
            units += code_units(char, encoding)
            if units > character:
                return line + 1, index + 1
        return line + 1, len(text) + 1
