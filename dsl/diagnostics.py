"""Diagnostics: what the checker reports, where, and how to fix it."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from dsl.codes import CATALOGUE, Severity
from dsl.lookalikes import ascii_twin, lookalikes
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


# Up to this many candidates, difflib compares against each of them (its own cheap bounds
# first); above it, an index built once per candidate set narrows the field, so that
# a file with many typos and many names stays linear (issue 13, point 4).
_SCAN_LIMIT = 64
_CUTOFF = 0.6


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option a misspelt name most likely meant, or None when nothing is close."""
    candidates = options if isinstance(options, (list, tuple, set, frozenset)) else list(options)
    if len(candidates) <= _SCAN_LIMIT:
        close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=_CUTOFF)
        return close[0] if close else None
    return _index(frozenset(candidates)).closest(word)


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    """A "did you mean" hint for a misspelt name, or None when nothing is close. A name
    with look-alike letters (a Cyrillic o among Latin ones) has them named."""
    if not isinstance(options, (list, tuple, set, frozenset)):
        options = list(options)
    if word.isascii():
        match = closest(word, options)
        return f"did you mean '{match}'?" if match else None
    named = ", ".join(lookalikes(word))
    twin = ascii_twin(word)
    match = twin if twin in options else closest(word, options)
    if match is None:
        return f"'{word}' contains {named}"
    return f"did you mean '{match}'? '{word}' contains {named}"


def _deletions(word: str) -> set[str]:
    """The word and every way of deleting one character from it."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


class _CandidateIndex:
    """A symmetric-deletion index (as in SymSpell) over one set of names: two names that
    share a one-deletion variant are one typo apart (a letter missing, doubled, changed,
    or two neighbours swapped). Built once per set; a query costs O(len(word)), not
    O(candidates), and only the few names found are ranked with difflib's ratio."""

    def __init__(self, names: frozenset[str]) -> None:
        self.variants: dict[str, list[str]] = {}
        for name in sorted(names):
            for variant in _deletions(name):
                self.variants.setdefault(variant, []).append(name)

    def closest(self, word: str) -> str | None:
        found: set[str] = set()
        for variant in _deletions(word):
            found.update(self.variants.get(variant, ()))
        best: tuple[float, str] | None = None
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(word)
        for name in found:
            matcher.set_seq1(name)
            score = matcher.ratio()
            if score >= _CUTOFF and (best is None or (score, name) > best):
                best = (score, name)
        return best[1] if best else None


@functools.lru_cache(maxsize=32)
def _index(names: frozenset[str]) -> _CandidateIndex:
    return _CandidateIndex(names)
