"""Quick fixes: the checker's machine-applicable fixes as code actions, and its
"did you mean" hints where it offers no fix of its own."""

from __future__ import annotations

import re

from lsprotocol import types

from codifier.lsp.diagnostics import to_lsp
from codifier.lsp.documents import Document
from dsl.diagnostics import Diagnostic, Edit, Fix
from dsl.span import Span

_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")
_QUOTED = re.compile(r"'([^']+)'")


def _text_at(document: Document, span: Span) -> str:
    if span.line != span.end_line:
        return ""
    line = (
        document.positions.lines[span.line - 1]
        if span.line <= len(document.positions.lines)
        else ""
    )
    shift = document.positions.checked_text_offset if span.line == 1 else 0
    return line[span.column - 1 + shift : span.end_column - 1 + shift]


def suggested_fix(document: Document, diagnostic: Diagnostic) -> Fix | None:
    """A fix from a "did you mean 'X'?" hint, when the diagnostic's span holds exactly the
    name its message quotes (so the replacement lands on the misspelt word only)."""
    match = _DID_YOU_MEAN.search(diagnostic.hint or "")
    if match is None:
        return None
    written = _text_at(document, diagnostic.span)
    if not written or written not in _QUOTED.findall(diagnostic.message):
        return None
    return Fix(
        f"replace '{written}' with '{match.group(1)}'", (Edit(diagnostic.span, match.group(1)),)
    )


def fixes_of(document: Document, diagnostic: Diagnostic) -> tuple[Fix, ...]:
    if diagnostic.fixes:
        return diagnostic.fixes
    fix = suggested_fix(document, diagnostic)
    return (fix,) if fix else ()


def _overlaps(a: types.Range, b: types.Range) -> bool:
    start_a, end_a = (a.start.line, a.start.character), (a.end.line, a.end.character)
    start_b, end_b = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return start_a <= end_b and start_b <= end_a


def code_actions(document: Document, wanted: types.Range) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    for diagnostic in document.diagnostics:
        if diagnostic.path != document.path:
            continue
        shown = to_lsp(diagnostic, document.positions)
        if not _overlaps(shown.range, wanted):
            continue
        fixes = fixes_of(document, diagnostic)
        for rank, fix in enumerate(fixes):
            edits = [
                types.TextEdit(range=document.positions.range(e.span), new_text=e.replacement)
                for e in fix.edits
            ]
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[shown],
                    edit=types.WorkspaceEdit(changes={document.uri: edits}),
                    is_preferred=rank == 0 and len(fixes) == 1,
                )
            )
    return actions
