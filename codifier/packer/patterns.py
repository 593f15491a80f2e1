"""gitignore-style patterns, bounded and matched in linear time.

A caller's include/exclude patterns, and the .gitignore files of a tree packed without
git, become regular expressions. Python's `re` backtracks: `"a*" * 20 + "b"` against a
name of 29 `a`s takes seconds, doubling with each `a`, and holds the GIL while it runs.
So every spec is matched by RE2 (google-re2, through pathspec's "re2" backend), whose
time is linear in the path's length whatever the pattern; and a caller's patterns are
bounded in count and length before anything is compiled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pathspec import GitIgnoreSpec

from codifier.packer.result import PackError
from codifier.packer.settings import PackSettings

# pathspec's backend with a linear-time engine; without google-re2 compiling fails loudly
# rather than falling back to backtracking.
BACKEND = "re2"


def check_patterns(
    include: Sequence[str] | None, exclude: Sequence[str] | None, settings: PackSettings
) -> None:
    """PackError (one line, saying which limit and how to fix) for patterns beyond the
    limits: more than `max_patterns` in all, one longer than `max_pattern_chars`, or one
    holding a line break or NUL (a second pattern smuggled inside the first)."""
    given = [*(include or []), *(exclude or [])]
    if len(given) > settings.max_patterns:
        raise PackError(
            f"include and exclude hold {len(given)} patterns; at most {settings.max_patterns}"
            " are allowed: use fewer, broader patterns"
        )
    for name, patterns in (("include", include or []), ("exclude", exclude or [])):
        for index, pattern in enumerate(patterns):
            if not isinstance(pattern, str):
                raise PackError(f"{name}[{index}] is not a text pattern")
            if len(pattern) > settings.max_pattern_chars:
                raise PackError(
                    f"{name}[{index}] is {len(pattern)} characters long; patterns are limited"
                    f" to {settings.max_pattern_chars}: shorten it"
                )
            if any(ch in pattern for ch in "\0\r\n"):
                raise PackError(
                    f"{name}[{index}] holds a line break or NUL character; give one pattern"
                    " per list item"
                )
    compile_spec(given)  # a pattern RE2 cannot compile is refused here, before any work


def compile_spec(lines: Iterable[str]) -> GitIgnoreSpec:
    """A gitignore spec over `lines`, matched by RE2."""
    try:
        return GitIgnoreSpec.from_lines(lines, backend=BACKEND)
    except PackError:
        raise
    except Exception as error:  # pathspec and re2 raise a variety of types
        raise PackError(f"a pattern could not be compiled ({type(error).__name__})") from None
