"""YAML loading that keeps the exact span of every node.

PyYAML's composer (the C one when available) gives nodes with marks; we turn them into a
small tree of our own (`YMap`, `YSeq`, `YScalar`) that every later stage uses for
positions, and report what YAML itself allows but playbooks must not have: duplicate
keys, tabs, runaway aliases, oversized files, explicit tags.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import yaml

from dsl.diagnostics import Reporter
from dsl.span import WHOLE_FILE, Span

MAX_FILE_BYTES = 1024 * 1024
MAX_ALIASES = 16

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.constructor.SafeConstructor()

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": _constructor.construct_yaml_null,
}
# Scalars the resolver types as dates or binary stay the text the author wrote.
_TEXT_TAGS = {_STR, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}
_COLLECTION_TAGS = {"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
_KNOWN_TAGS = _TEXT_TAGS | _SCALAR_TAGS.keys() | _COLLECTION_TAGS

Scalar = str | int | float | bool | None


class SourceFile:
    """The text of one file with line offsets, for spans and snippets."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.lines = text.splitlines()
        self._line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self._line_starts.append(index + 1)

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based (line, column)."""
        line = min(max(line, 1), len(self._line_starts))
        return min(self._line_starts[line - 1] + column - 1, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return line_index + 1, offset - self._line_starts[line_index] + 1

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""


@dataclass(eq=False, slots=True)
class YNode:
    span: Span


@dataclass(eq=False, slots=True)
class YScalar(YNode):
    value: Scalar
    text: str  # the scalar as written, after YAML unescaping and folding
    style: str | None = None  # None for plain, or one of ' " | >
    source: SourceFile | None = None

    def sub_span(self, start: int, end: int) -> Span:
        """The span of `text[start:end]` in the file when it can be located exactly.

        Escapes and line folding make quoted and block scalars differ from their source; we
        find the piece in the raw source and fall back to the whole scalar when the two
        disagree, so a caret is never placed on the wrong characters.
        """
        if self.source is None or not isinstance(self.value, str):
            return self.span
        piece = self.text[start:end]
        if not piece:
            return self.span
        raw_start = self.source.offset(self.span.line, self.span.column)
        raw_end = self.source.offset(self.span.end_line, self.span.end_column)
        raw = self.source.text[raw_start:raw_end]
        occurrence = self.text.count(piece, 0, start)
        found = -1
        for _ in range(occurrence + 1):
            found = raw.find(piece, found + 1)
            if found < 0:
                return self.span
        line, column = self.source.position(raw_start + found)
        end_line, end_column = self.source.position(raw_start + found + len(piece))
        return Span(line, column, end_line, end_column)


@dataclass(eq=False, slots=True)
class YSeq(YNode):
    items: list[YNode] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class YMap(YNode):
    entries: list[tuple[YScalar, YNode]] = field(default_factory=list)

    def get(self, key: str) -> YNode | None:
        for k, v in self.entries:
            if k.text == key:
                return v
        return None

    def key(self, key: str) -> YScalar | None:
        for k, _ in self.entries:
            if k.text == key:
                return k
        return None

    def key_names(self) -> list[str]:
        return [k.text for k, _ in self.entries]


def _span(node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def to_python(node: YNode) -> Any:
    """Plain data for validation: mappings keyed by the keys' text."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_python(item) for item in node.items]
    if isinstance(node, YMap):
        return {k.text: to_python(v) for k, v in node.entries}
    raise TypeError(node)


class _Converter:
    def __init__(self, source: SourceFile, reporter: Reporter) -> None:
        self.source = source
        self.reporter = reporter
        self.seen: set[int] = set()
        self.aliases = 0
        self.alias_limit_reported = False

    def convert(self, node: yaml.Node) -> YNode:
        if id(node) in self.seen:
            # The composer hands back the anchored node itself for every alias.
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                self._report_alias_limit()
                return YScalar(_span(node), None, "", None, self.source)
        self.seen.add(id(node))
        if node.tag not in _KNOWN_TAGS:
            self.reporter.report(
                "Y007",
                _span(node),
                f"explicit YAML tag '{node.tag}' is not supported",
                "remove the tag; playbooks use plain YAML values",
            )
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return YSeq(_span(node), [self.convert(item) for item in node.value])
        assert isinstance(node, yaml.MappingNode)
        return self._mapping(node)

    def _scalar(self, node: yaml.ScalarNode) -> YScalar:
        value: Scalar = node.value
        if node.tag in _SCALAR_TAGS:
            try:
                value = _SCALAR_TAGS[node.tag](node)
            except (ValueError, yaml.YAMLError):
                value = node.value
        return YScalar(_span(node), value, node.value, node.style, self.source)

    def _mapping(self, node: yaml.MappingNode) -> YMap:
        result = YMap(_span(node))
        first_seen: dict[str, YScalar] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.reporter.report(
                    "Y007",
                    _span(key_node),
                    "complex mapping keys are not supported",
                    "use a plain name as the key",
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.reporter.report(
                    "Y007",
                    _span(key_node),
                    "YAML merge keys ('<<') are not supported",
                    "write the keys out; playbooks keep every value visible",
                )
                continue
            key = YScalar(_span(key_node), key_node.value, key_node.value, key_node.style)
            value = self.convert(value_node)
            if key.text in first_seen:
                first = first_seen[key.text]
                self.reporter.report(
                    "Y002",
                    key.span,
                    f"duplicate key '{key.text}'",
                    f"the first '{key.text}' is at line {first.span.line}; remove one of them",
                )
                continue
            first_seen[key.text] = key
            result.entries.append((key, value))
        return result

    def _report_alias_limit(self) -> None:
        if self.alias_limit_reported:
            return
        self.alias_limit_reported = True
        span = WHOLE_FILE
        # Error path only: the pure-Python scanner tells where the offending alias is.
        count = 0
        try:
            for token in yaml.scan(self.source.text, Loader=yaml.SafeLoader):
                if isinstance(token, yaml.AliasToken):
                    count += 1
                    if count > MAX_ALIASES:
                        span = Span(
                            token.start_mark.line + 1,
                            token.start_mark.column + 1,
                            token.end_mark.line + 1,
                            token.end_mark.column + 1,
                        )
                        break
        except yaml.YAMLError:
            pass
        self.reporter.report(
            "Y004",
            span,
            f"more than {MAX_ALIASES} YAML aliases",
            "write the values out instead of repeating anchors",
        )


def _yaml_error(source: SourceFile, error: yaml.YAMLError, reporter: Reporter) -> None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    span = WHOLE_FILE if mark is None else Span.point(mark.line + 1, mark.column + 1)
    problem = getattr(error, "problem", None) or str(error)
    offset = source.offset(span.line, span.column)
    if source.text[offset : offset + 1] == "\t" or "'\\t'" in problem:
        reporter.report(
            "Y003",
            span,
            "tab character used for indentation",
            "indent with spaces; YAML does not allow tabs here",
        )
        return
    hint = None
    if "mapping values are not allowed" in problem:
        hint = "quote the value if it contains ': '"
    elif "cannot start any token" in problem:
        hint = "quote the value"
    elif "undefined alias" in problem:
        hint = "define the anchor (&name) before using the alias (*name)"
    elif "expected a single document" in problem:
        hint = "a playbook file holds one YAML document; remove the extra '---'"
    elif "could not find expected ':'" in problem or "expected <block end>" in problem:
        hint = "check the indentation of this line and the ones above it"
    reporter.report("Y001", span, f"invalid YAML: {problem}", hint)


def load_yaml(source: SourceFile, reporter: Reporter) -> YNode | None:
    """The document's node tree, or None when the file cannot be read as YAML."""
    size = len(source.text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        reporter.report(
            "Y005",
            WHOLE_FILE,
            f"file is {size} bytes; playbooks are limited to {MAX_FILE_BYTES} bytes",
            "split the playbook, or move long text into a generator template",
        )
        return None
    try:
        node = yaml.compose(source.text, Loader=_Loader)
    except yaml.YAMLError as error:
        _yaml_error(source, error, reporter)
        return None
    if node is None:
        return None
    return _Converter(source, reporter).convert(node)
