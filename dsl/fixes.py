"""Applying machine-applicable fixes to a file's text (`codifier check --fix`)."""

from __future__ import annotations

from collections.abc import Iterable

from dsl.diagnostics import Diagnostic, Edit
from dsl.lines import BOM
from dsl.source import SourceFile


def unambiguous_edits(source: SourceFile, diagnostics: Iterable[Diagnostic]) -> list[Edit]:
    """The edits of every diagnostic in this file that has exactly one fix (several fixes
    are choices for a person), minus any that overlap an edit already taken."""
    taken: list[tuple[int, int, Edit]] = []
    for d in diagnostics:
        if d.path != source.path or len(d.fixes) != 1:
            continue
        ranges = [
            (
                source.offset(e.span.line, e.span.column),
                source.offset(e.span.end_line, e.span.end_column),
                e,
            )
            for e in d.fixes[0].edits
        ]
        if any(_overlap(r, t) for r in ranges for t in taken):
            continue
        taken.extend(ranges)
    return [edit for _, _, edit in sorted(taken, key=lambda r: (r[0], r[1]))]


def _overlap(a: tuple[int, int, Edit], b: tuple[int, int, Edit]) -> bool:
    # Two insertions at one place would depend on their order: treat them as overlapping.
    return (a[0] < b[1] and b[0] < a[1]) or a[0] == b[0]


def apply_edits(source: SourceFile, edits: list[Edit]) -> str:
    """The file's text with the edits applied (a byte-order mark kept as it was)."""
    text = source.text
    for edit in sorted(
        edits, key=lambda e: source.offset(e.span.line, e.span.column), reverse=True
    ):
        start = source.offset(edit.span.line, edit.span.column)
        end = source.offset(edit.span.end_line, edit.span.end_column)
        text = text[:start] + edit.replacement + text[end:]
    return (BOM if source.had_bom else "") + text
