"""Tree-sitter grammars by language name, and a bounded parse.

The grammars are the tree-sitter project's own PyPI wheels, compiled in: nothing is
fetched at run time. Language names are the packer's fence hints
(`codifier.packer.render.language`); "jsx" parses with the JavaScript grammar, which
covers JSX.

A `Language` is immutable and shared; a `Parser` is not thread-safe, so each thread gets
its own (`threading.local`). A parse is bounded twice: text over `max_bytes` is not parsed
at all, and a parse running past `timeout_seconds` is cancelled through tree-sitter's
progress callback (the 0.26 API has no `timeout_micros`). Both bounds are settings.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tree_sitter import Language, Parser, Point, Tree

from codifier.config import whole_number

# Language name -> (module, function returning the grammar's TSLanguage pointer).
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "jsx": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

SUPPORTED: frozenset[str] = frozenset(_GRAMMARS)

ENV_MAX_BYTES = "CODIFIER_CODEMAP_PARSE_MAX_BYTES"
ENV_TIMEOUT_MS = "CODIFIER_CODEMAP_PARSE_TIMEOUT_MS"

# Bytes handed to tree-sitter per read callback: large enough that the callback is cheap.
_READ_BLOCK = 1 << 16


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """How much one file's parse may cost; a file over a bound gets no syntax tree."""

    max_bytes: int = 1 << 20  # UTF-8 bytes of one file
    timeout_seconds: float = 1.0  # wall time of one parse (1 MB parses in about 0.1 s)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ParseLimits:
        """The limits the environment sets, the defaults for the rest.

        Raises ValueError naming the setting when a value is not a positive whole number."""
        env = os.environ if environ is None else environ
        default = cls()
        max_bytes = whole_number(env, ENV_MAX_BYTES, default.max_bytes)
        timeout_ms = whole_number(env, ENV_TIMEOUT_MS, int(default.timeout_seconds * 1000))
        return cls(max_bytes=max_bytes, timeout_seconds=timeout_ms / 1000)


DEFAULT_LIMITS = ParseLimits()


@functools.cache
def language_for(language: str) -> Language | None:
    """The grammar for a language name, or None when there is none."""
    entry = _GRAMMARS.get(language)
    if entry is None:
        return None
    module_name, function_name = entry
    module = importlib.import_module(module_name)
    pointer = getattr(module, function_name)()
    return Language(pointer)


class _ThreadParsers(threading.local):
    def __init__(self) -> None:
        self.parsers: dict[str, Parser] = {}


_local = _ThreadParsers()


def parser_for(language: str) -> Parser | None:
    """This thread's parser for a language name, or None when there is no grammar.

    Parsers are not thread-safe: the one returned belongs to the calling thread."""
    parser = _local.parsers.get(language)
    if parser is None:
        grammar = language_for(language)
        if grammar is None:
            return None
        parser = Parser(grammar)
        _local.parsers[language] = parser
    return parser


def parse(language: str, data: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> Tree | None:
    """The syntax tree of UTF-8 `data`, or None: no grammar, over `max_bytes`, or timed out.

    A tree may contain ERROR nodes: tree-sitter recovers from syntax errors, and callers
    take what it recognised."""
    if len(data) > limits.max_bytes:
        return None
    parser = parser_for(language)
    if parser is None:
        return None
    deadline = time.monotonic() + limits.timeout_seconds

    def read(offset: int, _point: Point) -> bytes:
        return data[offset : offset + _READ_BLOCK]

    def past_deadline(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() > deadline  # True cancels the parse

    cancel: Callable[[int, bool], bool] = past_deadline
    try:
        return parser.parse(read, progress_callback=cancel)
    except ValueError:  # "Parsing failed": cancelled by the callback
        parser.reset()
        return None
