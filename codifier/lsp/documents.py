"""One open document, checked: the checker's diagnostics plus what the editor features need
(the YAML tree with spans and the typed playbook).

Diagnostics come from `dsl.compiler`, exactly as `codifier check` computes them. The
typed model comes from a second pass through the same checker with its reports discarded
(`CompileResult` carries diagnostics and the IR, not the checked playbook).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pygls.uris import to_fs_path

from codifier.library import TEMPLATE_SUFFIX, template_name
from codifier.lsp.positions import PositionMap
from dsl.check.checked import CheckedPlaybook
from dsl.check.playbook import PlaybookChecker
from dsl.compiler import CompileResult, check_template_file, compile_playbook
from dsl.diagnostics import Diagnostic, Reporter
from dsl.library import Library
from dsl.lines import strip_bom
from dsl.source import SourceFile, YMap, YNode, load_yaml
from dsl.span import WHOLE_FILE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    uri: str
    path: str  # the file system path the checker names in its diagnostics
    text: str  # the text as the client has it (a BOM included)
    positions: PositionMap
    diagnostics: tuple[Diagnostic, ...]
    library: Library
    root: YNode | None = None  # None for a template, or YAML that does not parse
    checked: CheckedPlaybook | None = None

    @property
    def checked_text(self) -> str:
        return strip_bom(self.text)

    @property
    def is_template(self) -> bool:
        return self.path.endswith(TEMPLATE_SUFFIX)


def document_path(uri: str) -> str:
    return to_fs_path(uri) or uri


def _internal_error(path: str, error: Exception) -> Diagnostic:
    # The checker must never crash; if it does, the editor shows one line, not nothing.
    return Diagnostic(
        path,
        WHOLE_FILE,
        "Y001",
        f"internal error while checking this file ({type(error).__name__})",
        "please report it with the file that caused it",
    )


def _compile(text: str, path: str, library: Library) -> CompileResult:
    if path.endswith(TEMPLATE_SUFFIX):
        return check_template_file(text, path, template_name(Path(path)), library)
    return compile_playbook(text, path, library)


def _model(text: str, path: str, library: Library) -> tuple[YNode | None, CheckedPlaybook | None]:
    source = SourceFile(path, text)
    reporter = Reporter(path)  # discarded: the diagnostics come from compile_playbook
    root = load_yaml(source, reporter)
    if not isinstance(root, YMap):
        return root, None
    return root, PlaybookChecker(source, library, reporter).check(root)


def analyse(uri: str, text: str, encoding: str, library: Library) -> Document:
    path = document_path(uri)
    positions = PositionMap(text, encoding)
    checked_text = strip_bom(text)
    try:
        result = _compile(checked_text, path, library)
        diagnostics = result.diagnostics
    except Exception as error:
        log.exception("checking %s failed", path)
        diagnostics = (_internal_error(path, error),)
    root: YNode | None = None
    checked: CheckedPlaybook | None = None
    if not path.endswith(TEMPLATE_SUFFIX):
        try:
            root, checked = _model(checked_text, path, library)
        except Exception:
            log.exception("typing %s failed", path)
    return Document(uri, path, text, positions, diagnostics, library, root, checked)
