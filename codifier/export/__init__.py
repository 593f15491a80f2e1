"""Export a project's current rule memories in the layouts other assistants read:
AGENTS.md, Claude Code's CLAUDE.md, Cursor's `.cursor/rules/*.mdc`.

`source` reads what is exported, `formats` renders it as files (pure), `writing` puts
them in a folder without touching files the export does not own. The CLI
(`codifier export`) and the MCP resource (`codifier://projects/{id}/export/{format}`)
share them.
"""

from codifier.export.formats import FORMATS, ExportFile, render, render_document
from codifier.export.settings import ExportSettings
from codifier.export.source import ExportSource, Rule, load_source

__all__ = [
    "FORMATS",
    "ExportFile",
    "ExportSettings",
    "ExportSource",
    "Rule",
    "load_source",
    "render",
    "render_document",
]
