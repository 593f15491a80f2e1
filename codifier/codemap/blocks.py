"""Pieces of a digest that can be cut to a token allowance: lines whose token counts are
taken once, lazily, and fenced blocks of them with a heading that says what was cut."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from itertools import accumulate

from codifier.packer.tokens import count_tokens

LINE_CHARS = 400  # a longer line is shown cut, ending in "…": one line cannot eat a budget


def clip(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


class Lines:
    """Lines and their o200k token counts (each line with its newline), counted on demand.

    The sum over lines is an estimate of the joined text's count: it is a little high where
    blank lines follow each other (the encoder joins their newlines)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        self._prefix = [0]  # _prefix[n] = tokens of the first n lines

    def __len__(self) -> int:
        return len(self.lines)

    def cost(self, count: int) -> int:
        self._count_through(count)
        return self._prefix[count]

    def fit(self, allowance: int) -> int:
        """The most leading lines whose tokens stay within `allowance`."""
        if allowance <= 0:
            return 0
        while len(self._prefix) <= len(self.lines) and self._prefix[-1] <= allowance:
            self._count_through(min(len(self.lines), 2 * len(self._prefix) + 8))
        return bisect.bisect_right(self._prefix, allowance) - 1

    def _count_through(self, count: int) -> None:
        known = len(self._prefix) - 1
        if count > known:
            costs = [count_tokens(line + "\n") for line in self.lines[known:count]]
            self._prefix += list(accumulate(costs, initial=self._prefix[-1]))[1:]


def fence_for(lines: Sequence[str]) -> str:
    """A backtick fence longer than any fence inside the lines."""
    longest = 0
    for line in lines:
        stripped = line.lstrip(" \t")
        if stripped.startswith("```"):
            longest = max(longest, len(stripped) - len(stripped.lstrip("`")))
    return "`" * max(3, longest + 1)


class Block:
    """A heading and a fenced run of lines, shown whole or as its first n lines."""

    def __init__(
        self,
        heading: Callable[[int], str],
        body: Lines,
        *,
        hint: str = "",
        empty: str = "",
    ) -> None:
        self.heading = heading  # the heading for n lines shown (it says what was cut)
        self.body = body
        self.hint = hint  # the fence's language hint
        self.empty = empty  # the line shown instead of a fence when there are no lines
        self.fence = fence_for(body.lines)
        # Heading, fences and blank lines, counted once with the widest heading (n = 0).
        self.overhead = count_tokens("\n".join(self.frame(0)) + "\n")

    def frame(self, count: int) -> list[str]:
        if not self.body.lines:
            return (
                [self.heading(count), "", self.empty, ""]
                if self.empty
                else [self.heading(count), ""]
            )
        return [self.heading(count), "", self.fence + self.hint, self.fence, ""]

    def cost(self, count: int) -> int:
        return self.overhead + self.body.cost(count)

    def fit(self, allowance: int) -> int | None:
        """Lines shown within `allowance`; None when not even one line (or the heading of
        an empty block) fits."""
        if not self.body.lines:
            return 0 if self.overhead <= allowance else None
        count = self.body.fit(allowance - self.overhead)
        return count if count > 0 else None

    def render(self, count: int) -> list[str]:
        frame = self.frame(count)
        if not self.body.lines:
            return frame
        return [*frame[:3], *self.body.lines[:count], *frame[3:]]
