"""Exact line ranges of one file.

Lines are what editors show for a "\\n"-separated file: a final line without its newline
counts, an empty file has none, "\\r" stays part of its line. A read returns at most
MAX_LINES lines or MAX_BYTES bytes of UTF-8 (whichever comes first) and says where to
continue; a single line longer than MAX_BYTES is returned cut, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LINES = 2000
MAX_BYTES = 100 * 1024


class RangeProblem(ValueError):
    """The requested lines do not exist; the message says what does."""


@dataclass(frozen=True)
class Excerpt:
    start_line: int
    end_line: int  # inclusive; start_line - 1 for an empty file
    total_lines: int
    text: str
    next_start_line: int | None  # where to continue when the read was capped
    line_cut: bool = False  # the one line returned was longer than MAX_BYTES


def total_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def excerpt(
    data: bytes,
    start_line: int | None,
    end_line: int | None,
    *,
    max_lines: int = MAX_LINES,
    max_bytes: int = MAX_BYTES,
) -> Excerpt:
    total = total_lines(data)
    start = 1 if start_line is None else start_line
    if start < 1:
        raise RangeProblem(f"start_line must be 1 or more, got {start}")
    if end_line is not None and end_line < start:
        raise RangeProblem(f"end_line ({end_line}) is before start_line ({start})")
    if total == 0:
        if start != 1:
            raise RangeProblem("the file is empty: it has no lines")
        return Excerpt(1, 0, 0, "", None)
    if start > total:
        raise RangeProblem(f"start_line {start} is past the end: the file has {total} lines")
    end = total if end_line is None else min(end_line, total)
    begin = _line_start(data, start)
    position = begin
    line = start
    while line <= end and line - start < max_lines:
        newline = data.find(b"\n", position)
        after = len(data) if newline < 0 else newline + 1
        if after - begin > max_bytes:
            break
        position = after
        line += 1
    if line == start:  # one line longer than the cap: cut it at a character boundary
        piece = data[begin : begin + max_bytes].decode("utf-8", errors="ignore")
        following = start + 1 if start < end else None
        return Excerpt(start, start, total, piece, following, line_cut=True)
    following = line if line <= end else None
    text = data[begin:position].decode("utf-8", errors="replace")
    return Excerpt(start, line - 1, total, text, following)


def _line_start(data: bytes, line: int) -> int:
    position = 0
    for _ in range(line - 1):
        position = data.index(b"\n", position) + 1
    return position
