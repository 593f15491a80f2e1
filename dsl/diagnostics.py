"""Diagnostics: what the checker reports, where, and how to fix it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from dsl.codes import CATALOGUE, Severity
from dsl.span import Span


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text at `span` (in the diagnostic's file) with `replacement`."""

    span: Span
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A machine-applicable change: edits that never overlap, applied together."""

    title: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: str
    span: Span
    code: str
    message: str
    hint: str | None = None
    severity: Severity = field(default=Severity.ERROR)
    # Machine-applicable fixes, best first. Exactly one means it is unambiguous
    # (`codifier check --fix` applies it); several are choices for an editor.
    fixes: tuple[Fix, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.column, self.code)


class Reporter:
    """Collects diagnostics for one file; severity comes from the catalogue."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Diagnostic] = []

    def report(
        self,
        code: str,
        span: Span,
        message: str,
        hint: str | None = None,
        fixes: tuple[Fix, ...] = (),
    ) -> None:
        self.report_in(self.path, code, span, message, hint, fixes)

    def report_in(
        self,
        path: str,
        code: str,
        span: Span,
        message: str,
        hint: str | None = None,
        fixes: tuple[Fix, ...] = (),
    ) -> None:
        """Report against another file (a template the playbook uses)."""
        severity = CATALOGUE[code].severity
        self.items.append(Diagnostic(path, span, code, message, hint, severity, fixes))

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)


def closest(word: str, options: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The option a misspelt name most likely meant, or None when nothing is close."""
    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, options: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """A "did you mean" hint for a misspelt name, or None when nothing is close."""
    match = closest(word, options)
    return f"did you mean '{match}'?" if match else None
