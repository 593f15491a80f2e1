"""Inline suppression: a trailing `# codifier: ignore[CODE, ...]` silences those warnings
for diagnostics that start on that line. Errors cannot be silenced (the program would not
run), and an ignore that silences nothing is itself reported."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsl.codes import CATALOGUE, Severity
from dsl.diagnostics import Diagnostic, Reporter, did_you_mean
from dsl.source import SourceFile
from dsl.span import Span

_IGNORE = re.compile(r"#\s*codifier:\s*ignore\[(?P<codes>[^\]]*)\]")


@dataclass(frozen=True, slots=True)
class _Ignore:
    line: int
    code: str
    span: Span


def _ignores(source: SourceFile, reporter: Reporter) -> list[_Ignore]:
    found: list[_Ignore] = []
    if "codifier:" not in source.text:
        return found
    for number, line in enumerate(source.lines, start=1):
        match = _IGNORE.search(line)
        if match is None:
            continue
        start = match.start("codes")
        for piece in re.finditer(r"[^,\s]+", match.group("codes")):
            code = piece.group(0)
            column = start + piece.start() + 1
            span = Span(number, column, number, column + len(code))
            if code not in CATALOGUE:
                reporter.report(
                    "C701",
                    span,
                    f"unknown code '{code}' in ignore comment",
                    did_you_mean(code.upper(), list(CATALOGUE)),
                )
                continue
            if CATALOGUE[code].severity is Severity.ERROR:
                reporter.report(
                    "C703",
                    span,
                    f"'{code}' is an error and cannot be ignored",
                    "fix the problem; only warnings can be silenced",
                )
                continue
            found.append(_Ignore(number, code, span))
    return found


def apply_ignores(source: SourceFile, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics left after inline ignores, plus any about the ignores themselves."""
    reporter = Reporter(source.path)
    ignores = _ignores(source, reporter)
    if not ignores:
        return diagnostics + reporter.items
    used: set[_Ignore] = set()
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        match = next(
            (
                i
                for i in ignores
                if diagnostic.path == source.path
                and i.line == diagnostic.span.line
                and i.code == diagnostic.code
            ),
            None,
        )
        if match is None:
            kept.append(diagnostic)
        else:
            used.add(match)
    for ignore in ignores:
        if ignore not in used:
            reporter.report(
                "C702",
                ignore.span,
                f"'{ignore.code}' is ignored here but not reported on this line",
                "remove it from the ignore comment",
            )
    return kept + reporter.items
