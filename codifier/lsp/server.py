"""The language server's wiring: pygls features -> the modules that answer them.

Documents are synchronised whole (TextDocumentSyncKind.Full): the checker reads the whole
text anyway, and it keeps pygls's own line model (which splits at U+2028 and friends) out
of the way. Positions are converted in `codifier.lsp.positions` for the encoding pygls
negotiated with the client.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codifier import __version__
from codifier.lsp.code_actions import code_actions
from codifier.lsp.completion import TRIGGERS, complete
from codifier.lsp.definition import definition
from codifier.lsp.diagnostics import by_uri, to_lsp
from codifier.lsp.documents import Document, analyse
from codifier.lsp.hover import hover
from codifier.lsp.library import LibrarySource
from codifier.lsp.positions import PositionMap

log = logging.getLogger(__name__)


class PlaybookServer(LanguageServer):
    def __init__(self, library: LibrarySource) -> None:
        super().__init__(
            "codifier", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full
        )
        self.library = library
        self.documents: dict[str, Document] = {}
        # Other files (templates) each document published diagnostics to, to clear them.
        self.published: dict[str, set[str]] = {}

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def check(self, uri: str) -> None:
        text_document = self.workspace.get_text_document(uri)
        document = analyse(uri, text_document.source, self.encoding, self.library.get())
        self.documents[uri] = document
        grouped = by_uri(document)
        for other in self.published.get(uri, set()) - grouped.keys():
            self.publish(other, [], None)
        self.published[uri] = set(grouped) - {uri}
        for target, diagnostics in grouped.items():
            if target == uri:
                positions = document.positions
                version = text_document.version
            else:
                positions = PositionMap(_read(target), self.encoding)
                version = None
            self.publish(target, [to_lsp(d, positions) for d in diagnostics], version)

    def publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def forget(self, uri: str) -> None:
        self.documents.pop(uri, None)
        for other in self.published.pop(uri, set()):
            self.publish(other, [], None)
        self.publish(uri, [], None)


def _read(uri: str) -> str:
    from pygls.uris import to_fs_path

    path = to_fs_path(uri)
    try:
        with open(path or uri, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""


def build_server(library: LibrarySource) -> PlaybookServer:
    server = PlaybookServer(library)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PlaybookServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PlaybookServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PlaybookServer, params: types.DidSaveTextDocumentParams) -> None:
        # A saved template changes what every open playbook that uses it means.
        for uri in list(ls.documents):
            ls.check(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PlaybookServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS)
    )
    def on_completion(
        ls: PlaybookServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return None
        return types.CompletionList(is_incomplete=False, items=complete(document, params.position))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: PlaybookServer, params: types.HoverParams) -> types.Hover | None:
        document = ls.documents.get(params.text_document.uri)
        return hover(document, params.position) if document else None

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(
        ls: PlaybookServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:
        document = ls.documents.get(params.text_document.uri)
        return definition(document, params.position) if document else None

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def on_code_action(
        ls: PlaybookServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        document = ls.documents.get(params.text_document.uri)
        return code_actions(document, params.range) if document else None

    return server
