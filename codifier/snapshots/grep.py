"""Literal and regular-expression search over a snapshot's text.

Regular expressions run on RE2 (google-re2): matching is linear in the text whatever the
pattern, and RE2 refuses patterns whose compiled program would pass its memory bound, so
no pattern can stall the server. Patterns use RE2's syntax (close to Python's, without
backreferences or look-around), line by line as grep does: `^` and `$` match at line
ends, and nothing (`.`, `\\s`, `[^x]`, `\\n`) matches a newline, so a match never spans
lines. A literal is an exact, case-sensitive substring.

Hits are lines: the first match on a line gives that line's hit, then the search goes on
from the next line, so a pattern that matches everywhere costs at most `limit` + 1
searches. A match starts in one file; one that would run on into the next file is looked
for again inside its own file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import re2

from codifier.snapshots.texts import SnapshotText

Mode = Literal["literal", "regex"]
MAX_QUERY_CHARS = 1000
MAX_HIT_CHARS = 400  # a hit's text: the line, or a window of it around the match
REGEX_MEMORY = 32 * 1024 * 1024  # RE2's bound for one compiled pattern (its max_mem)


class PatternProblem(ValueError):
    """The query cannot be searched for; the message says why and how to fix it."""


@dataclass(frozen=True)
class Hit:
    path: str
    line: int  # 1-based
    column: int  # 1-based, in characters, where the match starts
    text: str


@dataclass(frozen=True)
class Found:
    hits: list[Hit]
    truncated: bool  # more hits exist than were returned
    timed_out: bool  # the deadline passed before the whole snapshot was searched


Finder = Callable[[bytes, int, int], "tuple[int, int] | None"]


def finder(query: str, mode: Mode) -> Finder:
    """A function giving the (start, end) of the first match in blob[pos:endpos]."""
    if not query:
        raise PatternProblem("query is empty; give the text or pattern to look for")
    if len(query) > MAX_QUERY_CHARS:
        raise PatternProblem(
            f"query has {len(query):,} characters, more than the {MAX_QUERY_CHARS} allowed;"
            " search for a shorter, more distinctive piece"
        )
    if "\0" in query:
        raise PatternProblem("query holds a NUL character; remove it")
    if mode == "literal":
        needle = query.encode()

        def find_literal(blob: bytes, pos: int, endpos: int) -> tuple[int, int] | None:
            start = blob.find(needle, pos, endpos)
            return None if start < 0 else (start, start + len(needle))

        return find_literal
    options = re2.Options()
    options.max_mem = REGEX_MEMORY
    options.log_errors = False
    options.never_nl = True  # line by line, as grep: `\s` or `[^x]` never crosses a line
    try:
        compiled = re2.compile(("(?m)" + query).encode(), options)
    except re2.error as error:
        raise PatternProblem(
            f"query is not a regular expression RE2 accepts ({error}); RE2 has no"
            " backreferences or look-around, and refuses patterns too large to run"
            " in linear time (a{1000}{1000}, say): simplify it, or use mode literal"
        ) from None

    def find_regex(blob: bytes, pos: int, endpos: int) -> tuple[int, int] | None:
        match = compiled.search(blob, pos, endpos)
        return None if match is None else match.span()

    return find_regex


def search(
    text: SnapshotText,
    find: Finder,
    *,
    files: list[int] | None,
    limit: int,
    deadline: float,
) -> Found:
    """Up to `limit` hits, in file order, then by line. `files` (indices, ascending)
    narrows the search to those files; None searches every file."""
    hits: list[Hit] = []
    regions = (
        [(0, len(text.blob))]
        if files is None
        else [(text.starts[number], text.starts[number + 1]) for number in files]
    )
    for region_start, region_end in regions:
        position = region_start
        while position < region_end:
            if time.monotonic() > deadline:
                return Found(hits, truncated=True, timed_out=True)
            span = find(text.blob, position, region_end)
            if span is None:
                break
            start, end = span
            number = text.file_at(start)
            file_end = text.starts[number + 1]
            if end > file_end:  # ran on into the next file: look again inside this one
                span = find(text.blob, start, file_end)
                if span is None:
                    position = file_end
                    continue
                start, end = span
            if len(hits) == limit:
                return Found(hits, truncated=True, timed_out=False)
            hits.append(_hit(text, number, start))
            newline = text.blob.find(b"\n", start)
            position = region_end if newline < 0 else newline + 1
    return Found(hits, truncated=False, timed_out=False)


def _hit(text: SnapshotText, number: int, start: int) -> Hit:
    blob = text.blob
    file_start = text.starts[number]
    line_start = blob.rfind(b"\n", file_start, start) + 1 or file_start
    line_start = max(line_start, file_start)
    line = blob.count(b"\n", file_start, line_start) + 1
    line_end = blob.find(b"\n", start, text.starts[number + 1])
    if line_end < 0:
        line_end = text.starts[number + 1]
    before = blob[line_start:start].decode("utf-8", errors="replace")
    whole = blob[line_start:line_end].decode("utf-8", errors="replace")
    column = len(before) + 1
    if len(whole) > MAX_HIT_CHARS:  # a window around the match, marked as cut
        left = max(0, column - 1 - MAX_HIT_CHARS // 4)
        piece = whole[left : left + MAX_HIT_CHARS]
        whole = ("…" if left else "") + piece + ("…" if left + MAX_HIT_CHARS < len(whole) else "")
    return Hit(text.paths[number], line, column, whole.rstrip("\r"))
