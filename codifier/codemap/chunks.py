"""A file cut into chunks for semantic code search: one per definition where a parser
knows the language, windows of lines elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codifier.codemap.definitions import Definition, definitions
from codifier.codemap.languages import DEFAULT_LIMITS, ParseLimits


@dataclass(frozen=True, slots=True)
class Chunk:
    start_line: int  # 1-based
    end_line: int  # 1-based, inclusive
    symbol: str  # the enclosing definition, dotted ("Cache.get"); "" outside definitions


def chunks(
    language: str,
    text: str,
    *,
    max_lines: int = 80,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> list[Chunk]:
    """The file's chunks in line order; together they cover every non-blank line once.

    With a grammar: each function or method is a chunk (with its decorators and the
    comments right above it); a class's own lines (header, docstring, attributes between
    methods) are chunks named after the class; lines outside any definition are grouped
    into runs between definitions. Declarations without a body (an interface's method
    signatures, prototypes) stay with their enclosing lines. A class's closing lines
    (`}`, `end`) join its last chunk when that stays within `max_lines`. Any chunk longer
    than `max_lines` is split into windows of `max_lines` that keep its symbol. Leading
    and trailing blank lines of a run are left out.

    Without a grammar, or when the parse is refused by `limits`: consecutive windows of
    `max_lines` lines, windows of blank lines left out. Lines are "\\n"-separated."""
    if max_lines < 1:
        raise ValueError("max_lines must be at least 1")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text's final newline ends the last line, it starts none
    found = definitions(language, text, limits)
    out: list[Chunk] = []
    if found is None:
        blank = [not line.strip() for line in lines]
        for start in range(1, len(lines) + 1, max_lines):
            end = min(start + max_lines - 1, len(lines))
            if not all(blank[start - 1 : end]):
                out.append(Chunk(start, end, ""))
        return out
    _Cutter(lines, max_lines, out).cover(found, 1, len(lines), "")
    return out


class _Cutter:
    def __init__(self, lines: list[str], max_lines: int, out: list[Chunk]) -> None:
        self.lines = lines
        self.blank = [not line.strip() for line in lines]
        self.max_lines = max_lines
        self.out = out

    def cover(self, items: Sequence[Definition], low: int, high: int, symbol: str) -> None:
        """Chunks for lines low..high holding `items`; the lines between them get `symbol`."""
        cursor = low
        for item in sorted(items, key=lambda d: (d.start_line, d.end_line)):
            if not item.standalone:
                continue  # stays with the lines around it
            start = max(item.start_line, cursor)
            end = min(item.end_line, high)
            if start > end:
                continue  # on lines an earlier definition already took
            self.run(cursor, start - 1, symbol)
            name = f"{symbol}.{item.name}" if symbol else item.name
            if any(child.standalone for child in item.children):
                self.cover(item.children, start, end, name)
            else:
                self.run(start, end, name)
            cursor = end + 1
        if not (symbol and self.closing(cursor, high) and self.extend_last(high)):
            self.run(cursor, high, symbol)

    def closing(self, start: int, end: int) -> bool:
        """Whether lines start..end only close a definition (`}`, `};`, `end`)."""
        for index in range(start - 1, end):
            if self.blank[index]:
                continue
            line = self.lines[index].strip()
            if not (line[:1] in ("}", ")", "]") or line == "end" or line[:4] in ("end ", "end#")):
                return False
        return True

    def extend_last(self, end: int) -> bool:
        """Give the lines up to `end` to the last chunk when it stays within max_lines."""
        if not self.out:
            return False
        last = self.out[-1]
        if end - last.start_line + 1 > self.max_lines:
            return False
        self.out[-1] = Chunk(last.start_line, max(end, last.end_line), last.symbol)
        return True

    def run(self, start: int, end: int, symbol: str) -> None:
        """Lines start..end as windows of at most max_lines, blank edges trimmed."""
        while start <= end and self.blank[start - 1]:
            start += 1
        while end >= start and self.blank[end - 1]:
            end -= 1
        while start <= end:
            stop = min(start + self.max_lines - 1, end)
            self.out.append(Chunk(start, stop, symbol))
            start = stop + 1
            while start <= end and self.blank[start - 1]:
                start += 1
