"""YAML loading that keeps the exact span of every node.

PyYAML's composer (the C one when available) gives nodes with marks; we turn them into a
small tree of our own (`YMap`, `YSeq`, `YScalar`) that every later stage uses for
positions, and report what YAML itself allows but playbooks must not have: duplicate
keys, tabs, runaway aliases, oversized files, explicit tags.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from dsl.diagnostics import Edit, Fix, Reporter
from dsl.lines import BOM, LineIndex, strip_bom
from dsl.lookalikes import describe_char
from dsl.span import WHOLE_FILE, Span

MAX_FILE_BYTES = 1024 * 1024
MAX_ALIASES = 16
# A playbook needs a handful of levels; a deep enough tree would exhaust Python's stack in
# the stages that walk it (libyaml itself only refuses 1,000 levels).
MAX_DEPTH = 64

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
_MERGE = "tag:yaml.org,2002:merge"

Scalar = str | int | float | bool | None


class SourceFile:
    """The text of one file with its line model (dsl.lines: the editors'), for spans and
    snippets. A leading byte-order mark is dropped: it neither counts nor shows."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.had_bom = text.startswith(BOM)
        self.text = strip_bom(text)
        self._index: LineIndex | None = None

    @property
    def index(self) -> LineIndex:
        # Built on first use: only diagnostics need positions from offsets.
        if self._index is None:
            self._index = LineIndex(self.text)
        return self._index

    @property
    def lines(self) -> list[str]:
        """The lines without their breaks (a final break ends an empty last line)."""
        return [self.index.line_text(n) for n in range(1, self.index.line_count + 1)]

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based (line, column), clamped into the file."""
        return self.index.offset(line, column)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        return self.index.position(offset)

    def line_text(self, line: int) -> str:
        return self.index.line_text(line)

    def mark_position(self, mark: Any) -> tuple[int, int]:
        """(line, column) of a YAML mark in this file's line model. YAML also breaks lines
        at NEL, U+2028 and U+2029, so its line numbers are not ours; its character index
        is (and a mark past the end, as at an unterminated last line, stays on it)."""
        index = getattr(mark, "index", None)
        if isinstance(index, int):
            return self.position(index)
        return self.index.clamp(mark.line + 1, mark.column + 1)

    def mark_span(self, start: Any, end: Any | None = None, width: int = 1) -> Span:
        """The span between two YAML marks, or `width` characters from one."""
        line, column = self.mark_position(start)
        if end is None:
            return Span.point(line, column, width)
        end_line, end_column = self.mark_position(end)
        return Span(line, column, end_line, end_column)


class _Mark:
    """A position in the form PyYAML's marks have (0-based line and column)."""

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


class YNode:
    """A node of the YAML tree. The span is computed on first use from the parser's marks:
    only diagnostics need it, and a good file has none."""

    __slots__ = ("_end", "_span", "_start", "invalid", "source")

    def __init__(self, start: Any, end: Any, source: SourceFile | None = None) -> None:
        self._start = start
        self._end = end
        self._span: Span | None = None
        self.source = source
        # Set when YAML could not give this value as written (a broken alias, a mapping
        # that lost an entry): the problem is reported, and later stages accept the node
        # as anything rather than pile follow-on errors on it.
        self.invalid = False

    @property
    def span(self) -> Span:
        if self._span is None:
            start, end = self._start, self._end
            if self.source is not None:
                self._span = self.source.mark_span(start, end)
            else:
                self._span = Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)
        return self._span


class YScalar(YNode):
    __slots__ = ("style", "text", "value")

    def __init__(
        self,
        start: Any,
        end: Any,
        value: Scalar,
        text: str,
        style: str | None = None,
        source: SourceFile | None = None,
    ) -> None:
        self._start = start  # (the base initializer, inlined: this runs per scalar)
        self._end = end
        self._span = None
        self.value = value
        self.text = text  # the scalar as written, after YAML unescaping and folding
        self.style = style  # None for plain, or one of ' " | >
        self.source = source
        self.invalid = False

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
        span = self.span
        raw_start = self.source.offset(span.line, span.column)
        raw_end = self.source.offset(span.end_line, span.end_column)
        raw = self.source.text[raw_start:raw_end]
        # Search from the `${{` that holds the piece, so that the same characters earlier
        # in the scalar (a block indicator '|', an earlier expression) are not taken.
        text_from = raw_from = 0
        anchor = self.text.rfind("${{", 0, start + 1)
        if anchor >= 0:
            raw_from = -1
            for _ in range(self.text.count("${{", 0, anchor) + 1):
                raw_from = raw.find("${{", raw_from + 1)
                if raw_from < 0:
                    return span
            text_from = anchor
        found = raw_from - 1
        for _ in range(self.text.count(piece, text_from, start) + 1):
            found = raw.find(piece, found + 1)
            if found < 0:
                return span
        line, column = self.source.position(raw_start + found)
        end_line, end_column = self.source.position(raw_start + found + len(piece))
        return Span(line, column, end_line, end_column)


class YSeq(YNode):
    __slots__ = ("items",)

    def __init__(
        self,
        start: Any,
        end: Any,
        items: list[YNode] | None = None,
        source: SourceFile | None = None,
    ) -> None:
        super().__init__(start, end, source)
        self.items: list[YNode] = items if items is not None else []


class YMap(YNode):
    __slots__ = ("entries",)

    def __init__(
        self,
        start: Any,
        end: Any,
        entries: list[tuple[YScalar, YNode]] | None = None,
        source: SourceFile | None = None,
    ) -> None:
        super().__init__(start, end, source)
        self.entries: list[tuple[YScalar, YNode]] = entries if entries is not None else []

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


def to_python(node: YNode) -> Any:
    """Plain data for validation: mappings keyed by the keys' text."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_python(item) for item in node.items]
    if isinstance(node, YMap):
        return {k.text: to_python(v) for k, v in node.entries}
    raise TypeError(node)


_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers


def _resolve_plain(text: str) -> str:
    """The tag YAML 1.1 gives a plain scalar (what PyYAML's resolver does, minus paths)."""
    for tag, pattern in _IMPLICIT.get(text[:1], ()):
        if pattern.match(text):
            return str(tag)
    return _STR


def _placeholder(start: Any, end: Any, source: SourceFile) -> YScalar:
    node = YScalar(start, end, None, "", None, source)
    node.invalid = True
    return node


def _scalar_value(tag: str, text: str) -> Scalar:
    construct = _SCALAR_TAGS.get(tag)
    if construct is None:
        return text
    try:
        value: Scalar = construct(yaml.ScalarNode(tag, text))
    except (ValueError, yaml.YAMLError):
        return text
    return value


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__()
        self.mark = mark


class _Builder:
    """Builds the tree straight from the parser's events (no intermediate yaml.Node tree)."""

    def __init__(self, source: SourceFile, reporter: Reporter, max_depth: int) -> None:
        self.source = source
        self.reporter = reporter
        self.max_depth = max_depth
        self.anchors: dict[str, YNode] = {}
        self.open: set[int] = set()  # ids of collections still being built
        self.aliases = 0

    def _check_tag(self, event: Any, implicit: bool) -> None:
        tag = event.tag
        if tag is None or implicit or tag == "!" or tag in _KNOWN_TAGS:
            return
        self.reporter.report(
            "Y007",
            self.source.mark_span(event.start_mark),
            f"explicit YAML tag '{tag}' is not supported",
            "remove the tag; playbooks use plain YAML values",
        )

    def build(self, loader: Any) -> YNode | None:
        get = loader.get_event
        stack: list[Any] = []  # YMap / YSeq being built
        pending_keys: list[YScalar | bool | None] = []  # per open mapping: its pending key
        seen_keys: list[dict[str, YScalar]] = []
        root: YNode | None = None
        source = self.source
        while True:
            event = get()
            kind = type(event)
            node: YNode | None
            if kind is yaml.ScalarEvent:
                text = event.value
                style = event.style or None  # libyaml says '' for plain, PyYAML None
                tag = event.tag
                if style is None and (tag is None or tag == "!" or event.implicit[0]):
                    resolved = _resolve_plain(text) if tag != "!" else _STR
                else:
                    self._check_tag(event, event.implicit[0] or event.implicit[1])
                    resolved = tag if tag in _SCALAR_TAGS else _STR
                value = text if resolved in _TEXT_TAGS else _scalar_value(resolved, text)
                if resolved == _MERGE:
                    value = text
                node = YScalar(event.start_mark, event.end_mark, value, text, style, source)
                if event.anchor:
                    self.anchors[event.anchor] = node
                merge_key = resolved == _MERGE and stack and isinstance(stack[-1], YMap)
                if merge_key and pending_keys[-1] is None:
                    self.reporter.report(
                        "Y007",
                        node.span,
                        "YAML merge keys ('<<') are not supported",
                        "write the keys out; playbooks keep every value visible",
                    )
                    pending_keys[-1] = True  # skip the value
                    continue
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if len(stack) >= self.max_depth:
                    raise _TooDeep(event.start_mark)
                self._check_tag(event, event.implicit)
                collection: YNode = (
                    YMap(event.start_mark, event.start_mark, source=source)
                    if kind is yaml.MappingStartEvent
                    else YSeq(event.start_mark, event.start_mark, source=source)
                )
                if event.anchor:
                    self.anchors[event.anchor] = collection
                self.open.add(id(collection))
                self._attach(collection, stack, pending_keys, seen_keys)
                stack.append(collection)
                if kind is yaml.MappingStartEvent:
                    pending_keys.append(None)
                    seen_keys.append({})
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                done = stack.pop()
                done._end = event.end_mark
                self.open.discard(id(done))
                if kind is yaml.MappingEndEvent:
                    pending_keys.pop()
                    seen_keys.pop()
                if not stack:
                    root = done
                continue
            elif kind is yaml.AliasEvent:
                node = self._alias(event)
            elif kind is yaml.DocumentEndEvent or kind is yaml.StreamEndEvent:
                return root
            else:  # stream and document start
                continue
            if not stack:
                root = node
            else:
                self._attach(node, stack, pending_keys, seen_keys)

    def _attach(
        self,
        node: YNode,
        stack: list[Any],
        pending_keys: list[YScalar | bool | None],
        seen_keys: list[dict[str, YScalar]],
    ) -> None:
        if not stack:
            return
        parent = stack[-1]
        if isinstance(parent, YSeq):
            parent.items.append(node)
            return
        key = pending_keys[-1]
        if key is None:
            if isinstance(node, YScalar):
                pending_keys[-1] = node
            else:
                span = Span.point(node.span.line, node.span.column)
                offset = self.source.offset(span.line, span.column)
                braces = self.source.text.startswith("{{", offset)
                self.reporter.report(
                    "Y007",
                    span,
                    "complex mapping keys are not supported",
                    "did you mean '${{ ... }}'? an expression starts with '$'"
                    if braces
                    else "use a plain name as the key",
                )
                pending_keys[-1] = True
                stack[-1].invalid = True
            return
        pending_keys[-1] = None
        if key is True:
            return  # the value of a key that was reported and dropped
        assert isinstance(key, YScalar)
        first = seen_keys[-1].get(key.text)
        if first is not None:
            self.reporter.report(
                "Y002",
                key.span,
                f"duplicate key '{key.text}'",
                f"the first '{key.text}' is at line {first.span.line}; remove one of them",
            )
            return
        seen_keys[-1][key.text] = key
        parent.entries.append((key, node))

    def _alias(self, event: Any) -> YNode:
        start, end = event.start_mark, event.end_mark
        span = self.source.mark_span(start, end)
        target = self.anchors.get(event.anchor)
        self.aliases += 1
        if target is None:
            self.reporter.report(
                "Y001",
                span,
                f"invalid YAML: alias '*{event.anchor}' refers to no anchor",
                "define the anchor (&name) before using the alias (*name)",
            )
            return _placeholder(start, end, self.source)
        if id(target) in self.open:
            self.reporter.report(
                "Y007",
                span,
                f"alias '*{event.anchor}' refers to a value that contains it",
                "recursive values are not supported",
            )
            return _placeholder(start, end, self.source)
        if self.aliases > MAX_ALIASES:
            if self.aliases == MAX_ALIASES + 1:
                self.reporter.report(
                    "Y004",
                    span,
                    f"more than {MAX_ALIASES} YAML aliases",
                    "write the values out instead of repeating anchors",
                )
            return _placeholder(start, end, self.source)
        return target


_CONTEXT_FIRST = ("while scanning a quoted scalar", "while parsing a flow")


def _character_error(source: SourceFile, offset: int, char: str, reporter: Reporter) -> None:
    """A character YAML refuses anywhere (a control character, a lone surrogate)."""
    line, column = source.position(offset)
    span = Span.point(line, column)
    reporter.report(
        "Y001",
        span,
        f"invalid YAML: the character {describe_char(char)} is not allowed",
        "delete it; YAML files hold printable characters only",
        (Fix("delete the character", (Edit(span, ""),)),),
    )


_KEY_WITHOUT_COLON = re.compile(r"^(?P<indent>[ ]*(?:- )?)(?P<key>[A-Za-z_][\w-]*)[ ]+\S")


def _missing_colon(source: SourceFile, span: Span, reporter: Reporter) -> bool:
    """`prompt What?` above `type: text`: YAML reads the two lines as one plain scalar and
    stumbles on the second ':'. The key that lacks its ':' is on the line above, at the
    same indentation; report it there, with the ':' as a fix."""
    line = source.line_text(span.line)
    indent = len(line) - len(line.lstrip(" "))
    if line.startswith("- ", indent):
        indent += 2
    above = span.line - 1
    while above >= 1 and (
        not source.line_text(above).strip() or source.line_text(above).lstrip().startswith("#")
    ):
        above -= 1
    if above < 1:
        return False
    previous = source.line_text(above)
    match = _KEY_WITHOUT_COLON.match(previous)
    if match is None or ":" in previous or match.start("key") != indent:
        return False
    key = match.group("key")
    column = match.end("key") + 1
    reporter.report(
        "Y001",
        Span.point(above, match.start("key") + 1, len(key)),
        f"invalid YAML: '{key}' is not followed by ':'",
        f"write '{key}: ' before the value",
        (Fix(f"add ':' after '{key}'", (Edit(Span(above, column, above, column), ":"),)),),
    )
    return True


def _yaml_error(source: SourceFile, error: yaml.YAMLError, reporter: Reporter) -> None:
    if isinstance(error, yaml.reader.ReaderError):
        offset = error.position if isinstance(error.position, int) else 0
        if _Loader is not yaml.SafeLoader:
            # libyaml gives a byte offset into the UTF-8 text; the rest of us count characters.
            offset = len(source.text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
        char = source.text[offset : offset + 1] or chr(error.character)
        _character_error(source, offset, char, reporter)
        return
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    context = getattr(error, "context", None) or ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    # An unclosed quote or bracket is found far from where it opened (often at the end of
    # the file); the opening is what the author has to fix.
    mark = problem_mark
    if context_mark is not None and (context.startswith(_CONTEXT_FIRST) or mark is None):
        mark = context_mark
        what = context.removeprefix("while scanning a ").removeprefix("while parsing a ")
        problem = f"{problem}, in the {what} that starts here"
    span = WHOLE_FILE if mark is None else source.mark_span(mark)
    offset = source.offset(span.line, span.column)
    if source.text[offset : offset + 1] == "\t" or "'\\t'" in problem:
        reporter.report(
            "Y003",
            span,
            "tab character used for indentation",
            "indent with spaces; YAML does not allow tabs here",
        )
        return
    if "mapping values are not allowed" in problem and _missing_colon(source, span, reporter):
        return
    hint = None
    line = source.line_text(span.line)
    if "${{" in line and ("flow" in problem or "flow" in context):
        hint = "quote values that hold ${{ }} inside [ ] or { }"
    elif "mapping values are not allowed" in problem:
        hint = "quote the value if it contains ': '"
    elif "cannot start any token" in problem:
        hint = "quote the value"
    elif "quoted scalar" in problem:
        hint = "close the quote"
    elif "flow sequence" in problem:
        hint = "close the list with ']'"
    elif "flow mapping" in problem:
        hint = "close the mapping with '}'"
    elif (
        "could not find expected ':'" in problem
        or "expected <block end>" in problem
        or "did not find expected key" in problem
        or "did not find expected '-'" in problem
    ):
        hint = "check the indentation of this line and the ones above it"
    reporter.report("Y001", span, f"invalid YAML: {problem}", hint)


def load_yaml(source: SourceFile, reporter: Reporter, max_depth: int = MAX_DEPTH) -> YNode | None:
    """The document's node tree, or None when the file cannot be read as YAML. Nesting
    past `max_depth` is Y008 (a caller with its own, gentler bound passes a larger one)."""
    # surrogatepass: a lone surrogate (an editor may send one) is reported below, not raised.
    size = len(source.text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        reporter.report(
            "Y005",
            WHOLE_FILE,
            f"file is {size} bytes; playbooks are limited to {MAX_FILE_BYTES} bytes",
            "split the playbook, or move long text into a generator template",
        )
        return None
    try:
        loader = _Loader(source.text)  # libyaml's reader encodes the text first
    except UnicodeEncodeError as error:  # a lone surrogate (only from a str built in memory)
        _character_error(source, error.start, source.text[error.start], reporter)
        return None
    builder = _Builder(source, reporter, max_depth)
    try:
        root = builder.build(loader)
        if loader.check_event(yaml.DocumentStartEvent):
            mark = loader.get_event().start_mark
            reporter.report(
                "Y001",
                source.mark_span(mark),
                "invalid YAML: a second document starts here",
                "a playbook file holds one YAML document; remove the extra '---'",
            )
            return None
    except _TooDeep as deep:
        reporter.report(
            "Y008",
            source.mark_span(deep.mark),
            f"mappings and lists nest more than {max_depth} levels deep here",
            "flatten the value; playbooks need only a few levels",
        )
        return None
    except yaml.YAMLError as error:
        reporter.items[:] = [d for d in reporter.items if d.code != "Y002"]
        _yaml_error(source, error, reporter)
        return None
    except UnicodeEncodeError as error:  # a lone surrogate (only from a str built in memory)
        reporter.items.clear()
        _character_error(source, error.start, source.text[error.start], reporter)
        return None
    finally:
        loader.dispose()
    return root
