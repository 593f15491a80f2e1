"""Rendering diagnostics: text (rustc/ruff style), JSON, GitHub annotations, SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from dsl.codes import CATALOGUE, Severity
from dsl.diagnostics import Diagnostic
from dsl.source import SourceFile
from dsl.span import Span

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def header(d: Diagnostic) -> str:
    """`path:line:col: severity[CODE] message` — the first line of the text format."""
    return f"{d.path}:{d.span.line}:{d.span.column}: {d.severity}[{d.code}] {d.message}"


def _visible(line: str) -> str:
    """Control characters as their Unicode control pictures (U+240C for a form feed), one
    column each, so that the caret stays aligned and the terminal is not driven by them."""
    return "".join(
        chr(0x2400 + ord(c)) if ord(c) < 0x20 and c != "\t" else "\u2421" if c == "\x7f" else c
        for c in line
    )


def _caret_line(line: str, start: int, end: int) -> str:
    prefix = "".join("\t" if ch == "\t" else " " for ch in line[: start - 1])
    width = max(end - start, 1)
    return prefix + "^" * width


SNIPPET_WIDTH = 100  # characters of a long line shown around the caret
_CONTEXT_BEFORE = 40


def _window(line: str, start: int, end: int) -> tuple[str, int, int]:
    """A long line cut around the caret: (shown text, caret start, caret end), with '…'
    where text was cut; a short line as it is."""
    if len(line) <= SNIPPET_WIDTH:
        return line, start, end
    first = max(0, min(start - 1 - _CONTEXT_BEFORE, len(line) - SNIPPET_WIDTH))
    last = first + SNIPPET_WIDTH
    shown = line[first:last]
    shift = first
    if first > 0:
        shown = "…" + shown
        shift -= 1
    if last < len(line):
        shown += "…"
    caret_end = min(end - shift, len(shown) + 1)
    return shown, start - shift, max(caret_end, start - shift + 1)


_RED, _YELLOW, _CYAN, _BOLD, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[1m", "\x1b[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def render_text(d: Diagnostic, source: SourceFile | None, *, color: bool = False) -> str:
    """The diagnostic as rustc/ruff show one; ANSI colours when `color` (for a terminal)."""
    tone = _RED if d.severity is Severity.ERROR else _YELLOW
    if color:
        where = f"{d.path}:{d.span.line}:{d.span.column}:"
        label = _paint(f"{d.severity}[{d.code}]", _BOLD + tone, color)
        text = render_text(d, source)
        body = text.split("\n", 1)[1] if "\n" in text else ""
        out = [f"{_paint(where, _BOLD, color)} {label} {_paint(d.message, _BOLD, color)}"]
        for line in body.split("\n") if body else []:
            if line.lstrip().startswith("= hint:") or line.startswith("  = hint:"):
                out.append(_paint(line, _CYAN, color))
            elif (
                "^" in line
                and line.replace(" ", "").replace("|", "").replace("\t", "").strip("^") == ""
            ):
                out.append(_paint(line, tone, color))
            else:
                out.append(line)
        return "\n".join(out)
    lines = [header(d)]
    if source is not None and 1 <= d.span.line <= source.index.line_count:
        line_text = source.line_text(d.span.line)
        end = d.span.end_column if d.span.end_line == d.span.line else len(line_text) + 1
        end = min(max(end, d.span.column + 1), max(len(line_text) + 1, d.span.column + 1))
        shown, start, end = _window(line_text, d.span.column, end)
        gutter = " " * len(str(d.span.line))
        lines.append(f"{gutter} |")
        lines.append(f"{d.span.line} | {_visible(shown)}")
        lines.append(f"{gutter} | {_caret_line(shown, start, end)}")
        if d.hint:
            lines.append(f"{gutter} = hint: {d.hint}")
    elif d.hint:
        lines.append(f"  = hint: {d.hint}")
    return "\n".join(lines)


def summary(files: int, diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    noun = "file" if files == 1 else "files"
    if not diagnostics:
        return f"checked {files} {noun}: no problems"
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"checked {files} {noun}: {', '.join(parts)}"


def to_text(
    diagnostics: Sequence[Diagnostic],
    sources: Mapping[str, SourceFile],
    files: int,
    *,
    color: bool = False,
) -> str:
    blocks = [render_text(d, sources.get(d.path), color=color) for d in diagnostics]
    blocks.append(summary(files, diagnostics))
    return "\n\n".join(blocks) + "\n"


def to_json(diagnostics: Iterable[Diagnostic]) -> str:
    items = [
        {
            "path": d.path,
            "line": d.span.line,
            "column": d.span.column,
            "end_line": d.span.end_line,
            "end_column": d.span.end_column,
            "severity": str(d.severity),
            "code": d.code,
            "message": d.message,
            "hint": d.hint,
            "fixes": [
                {
                    "title": fix.title,
                    "edits": [
                        {
                            "line": e.span.line,
                            "column": e.span.column,
                            "end_line": e.span.end_line,
                            "end_column": e.span.end_column,
                            "replacement": e.replacement,
                        }
                        for e in fix.edits
                    ],
                }
                for fix in d.fixes
            ],
        }
        for d in diagnostics
    ]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(diagnostics: Iterable[Diagnostic]) -> str:
    out = []
    for d in diagnostics:
        level = "error" if d.severity is Severity.ERROR else "warning"
        props = ",".join(
            [
                f"file={_escape_property(d.path)}",
                f"line={d.span.line}",
                f"col={d.span.column}",
                f"endLine={d.span.end_line}",
                f"endColumn={d.span.end_column}",
                f"title={_escape_property(d.code)}",
            ]
        )
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{level} {props}::{_escape_data(message)}")
    return "".join(line + "\n" for line in out)


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


def to_sarif(diagnostics: Iterable[Diagnostic], version: str) -> str:
    codes = sorted(CATALOGUE)
    index = {code: i for i, code in enumerate(codes)}
    rules = [
        {
            "id": code,
            "name": CATALOGUE[code].name,
            "shortDescription": {"text": CATALOGUE[code].summary},
            "defaultConfiguration": {
                "level": "error" if CATALOGUE[code].severity is Severity.ERROR else "warning"
            },
            "helpUri": f"docs/diagnostics.md#{code.lower()}",
        }
        for code in codes
    ]
    results = []
    for d in diagnostics:
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        uri = d.path.replace("\\", "/")
        fixes = [
            {
                "description": {"text": fix.title},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": uri},
                        "replacements": [
                            {
                                "deletedRegion": _region(e.span),
                                "insertedContent": {"text": e.replacement},
                            }
                            for e in fix.edits
                        ],
                    }
                ],
            }
            for fix in d.fixes
        ]
        results.append(
            {
                **({"fixes": fixes} if fixes else {}),
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": "error" if d.severity is Severity.ERROR else "warning",
                "message": {"text": message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": d.path.replace("\\", "/")},
                            "region": {
                                "startLine": d.span.line,
                                "startColumn": d.span.column,
                                "endLine": d.span.end_line,
                                "endColumn": d.span.end_column,
                            },
                        }
                    }
                ],
            }
        )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "codifier",
                        "version": version,
                        "informationUri": "https://github.com/codifier/codifier",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
