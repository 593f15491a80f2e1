"""The checker's diagnostics as LSP diagnostics: exact ranges, codes, the hint as a second
line (editors show it under the message)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from codifier.lsp.documents import Document
from codifier.lsp.positions import PositionMap
from dsl.codes import CATALOGUE, Severity
from dsl.diagnostics import Diagnostic

SOURCE = "codifier"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
}


def to_lsp(diagnostic: Diagnostic, positions: PositionMap) -> types.Diagnostic:
    message = diagnostic.message
    if diagnostic.hint:
        message = f"{message}\n{diagnostic.hint}"
    code = CATALOGUE.get(diagnostic.code)
    return types.Diagnostic(
        range=positions.range(diagnostic.span),
        message=message,
        severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Error),
        code=diagnostic.code,
        source=SOURCE,
        data={"name": code.name} if code else None,
    )


def by_uri(document: Document) -> dict[str, list[Diagnostic]]:
    """The document's diagnostics grouped by the file they are in: its own, and those in
    the templates it uses (published to the template's file)."""
    grouped: dict[str, list[Diagnostic]] = {document.uri: []}
    for diagnostic in document.diagnostics:
        if diagnostic.path == document.path:
            grouped[document.uri].append(diagnostic)
        else:
            uri = from_fs_path(str(Path(diagnostic.path).resolve())) or diagnostic.path
            grouped.setdefault(uri, []).append(diagnostic)
    return grouped


def own(document: Document) -> list[types.Diagnostic]:
    return [to_lsp(d, document.positions) for d in by_uri(document)[document.uri]]
