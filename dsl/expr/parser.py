"""Parsing `${{ }}` expressions (lark, LALR) and the strings that embed them."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark import __version__ as lark_version
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dsl.expr.nodes import (
    Attr,
    Call,
    Compare,
    Embedded,
    Expr,
    Index,
    Interpolation,
    ListLit,
    Literal,
    Logic,
    Name,
    Not,
)
from dsl.user_cache import cache_file

OPEN = "${{"
CLOSE = "}}"


@dataclass(frozen=True, slots=True)
class ParseError(Exception):
    """A syntax error at offsets [start, end) of the parsed text."""

    message: str
    start: int
    end: int
    hint: str | None = None


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)


def _unescape(body: str) -> str:
    """Backslash escapes; an unknown one stays as written (`\\q` is a backslash and q)."""

    def replace(match: re.Match[str]) -> str:
        seq = match.group(1)
        if seq.startswith("u") and len(seq) == 5:
            return chr(int(seq[1:], 16))
        return _ESCAPES.get(seq, "\\" + seq)

    return _ESCAPE_RE.sub(replace, body)


_KEYWORDS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


def _end(token: Token) -> int:
    return token.end_pos or 0


def _start(token: Token) -> int:
    return token.start_pos or 0


class _Build(Transformer[Token, Expr]):
    """Builds nodes while parsing (lark runs it inline with the LALR parser).

    Inline transformers get no position metadata, so spans come from the children: the
    first and last tokens or nodes of each rule.
    """

    def or_op(self, c: list[Any]) -> Expr:
        return Logic(c[0].start, c[1].end, "||", c[0], c[1])

    def and_op(self, c: list[Any]) -> Expr:
        return Logic(c[0].start, c[1].end, "&&", c[0], c[1])

    def not_op(self, c: list[Any]) -> Expr:
        return Not(_start(c[0]), c[1].end, c[1])

    def compare(self, c: list[Any]) -> Expr:
        return Compare(c[0].start, c[2].end, str(c[1]), c[0], c[2])

    def attr(self, c: list[Any]) -> Expr:
        name: Token = c[1]
        return Attr(c[0].start, _end(name), c[0], str(name), _start(name))

    def index(self, c: list[Any]) -> Expr:
        return Index(c[0].start, _end(c[2]), c[0], c[1])

    def name(self, c: list[Any]) -> Expr:
        text = str(c[0])
        if text in _KEYWORDS:
            return Literal(_start(c[0]), _end(c[0]), _KEYWORDS[text])
        return Name(_start(c[0]), _end(c[0]), text)

    def call(self, c: list[Any]) -> Expr:
        func: Token = c[0]
        args = tuple(c[1]) if c[1] is not None else ()
        return Call(_start(func), _end(c[2]), str(func), _end(func), args)

    def paren(self, c: list[Any]) -> Expr:
        inner: Expr = c[1]
        return inner

    def list_(self, c: list[Any]) -> Expr:
        items = tuple(c[1]) if c[1] is not None else ()
        return ListLit(_start(c[0]), _end(c[2]), items)

    def args(self, c: list[Any]) -> list[Expr]:
        return c

    def string(self, c: list[Any]) -> Expr:
        return Literal(_start(c[0]), _end(c[0]), _unescape(str(c[0])[1:-1]))

    def number(self, c: list[Any]) -> Expr:
        text = str(c[0])
        value: int | float = float(text) if any(ch in text for ch in ".eE") else int(text)
        return Literal(_start(c[0]), _end(c[0]), value)


_GRAMMAR = resources.files("dsl.expr").joinpath("grammar.lark").read_text(encoding="utf-8")
_PARSER = Lark(
    _GRAMMAR,
    parser="lalr",
    lexer="contextual",
    keep_all_tokens=False,
    maybe_placeholders=True,
    transformer=_Build(),
    # Building the LALR tables costs ~15 ms a process; lark stores them once (keyed by the
    # grammar, the options and lark's version) and each later process loads them in ~1 ms.
    cache=cache_file(f"expression-grammar-lark-{lark_version}.cache") or False,
)

_TOKEN_NAMES = {
    "RPAR": "')'",
    "LPAR": "'('",
    "RSQB": "']'",
    "LSQB": "'['",
    "COMMA": "','",
    "DOT": "'.'",
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "CMP_OP": "a comparison",
    "$END": "the end of the expression",
}


def _token_name(terminal: str) -> str:
    if terminal in _TOKEN_NAMES:
        return _TOKEN_NAMES[terminal]
    try:
        return f"'{_PARSER.get_terminal(terminal).pattern.value}'"
    except KeyError:
        return terminal.lower()


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_token_name(e) for e in expected})
    if len(names) > 4:
        return ""
    return " or ".join(names)


_PYTHON_WORDS = {"not": "'!'", "and": "'&&'", "or": "'||'", "is": "'=='", "in": "contains(...)"}


def _unclosed(text: str) -> ParseError | None:
    """An opening bracket that is never closed, if any (quotes skipped)."""
    stack: list[int] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([":
            stack.append(i)
        elif char in ")]" and stack:
            stack.pop()
        i += 1
    if not stack:
        return None
    at = stack[-1]
    closer = ")" if text[at] == "(" else "]"
    return ParseError(f"'{text[at]}' is never closed", at, at + 1, f"close it with '{closer}'")


def _python_word(text: str, token_start: int) -> ParseError | None:
    """`not x`, `a and b`: Python's words where the language has operators."""
    match = re.search(r"\b(not|and|or|is|in)\s*$", text[:token_start])
    if match is None:
        return None
    word = match.group(1)
    return ParseError(
        f"'{word}' is not an operator here",
        match.start(1),
        match.end(1),
        f"use {_PYTHON_WORDS[word]}",
    )


def _syntax_error(text: str, error: UnexpectedInput) -> ParseError:
    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        hint = None
        if char == "=":
            hint = "compare with '=='"
        elif char in "&|" and text[pos : pos + 2] not in ("&&", "||"):
            hint = (
                "expressions have no filters; call a function instead, e.g. join(x, ', ')"
                if char == "|"
                else "use '&&'"
            )
        elif char in "'\"":
            hint = "the string is never closed; end it with the same quote"
        elif char == "+":
            hint = "expressions have no arithmetic; interpolate pieces side by side instead"
        return ParseError(f"unexpected character '{char}'", pos, pos + 1, hint)
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "NAME" and str(token) in _PYTHON_WORDS:
            start = token.start_pos or 0
            return ParseError(
                f"'{token}' is not an operator here",
                start,
                start + len(token),
                f"use {_PYTHON_WORDS[str(token)]}",
            )
        word = _python_word(text, token.start_pos or 0) if token.type != "$END" else None
        if word is not None:
            return word
        if token.type == "$END":
            unclosed = _unclosed(text)
            if unclosed is not None:
                return unclosed
            end = len(text.rstrip())
            expected = _describe_expected(set(error.expected)) or "more"
            return ParseError(f"expression ends early; expected {expected}", end, end + 1)
        start = token.start_pos or 0
        end = token.end_pos or start + 1
        expected = _describe_expected(set(error.expected))
        hint = "comparisons do not chain; join them with '&&'" if token.type == "CMP_OP" else None
        message = f"unexpected '{token}'" + (f"; expected {expected}" if expected else "")
        return ParseError(message, start, end, hint)
    if isinstance(error, UnexpectedEOF):
        end = len(text.rstrip())
        return ParseError("expression ends early", end, end + 1)
    return ParseError("invalid expression", 0, max(len(text), 1))


# Most expressions are a dotted path (`steps.a.output`) or a call on one
# (`length(steps.a.output)`). They are recognised here without the LALR machinery, which
# costs ~5 us a token; the result is node for node what the grammar builds (a property
# test holds the two to that).
_WS = r"[ \t\r\n]*"
_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_FAST = re.compile(
    rf"(?P<lead>{_WS})(?:(?P<func>[A-Za-z_][A-Za-z0-9_]*)\({_WS}(?P<arg>{_PATH}){_WS}\)"
    rf"|(?P<path>{_PATH})){_WS}\Z"
)
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _path_node(text: str, start: int) -> Expr:
    node: Expr | None = None
    for match in _NAME_RE.finditer(text):
        name = match.group(0)
        begin = start + match.start()
        end = start + match.end()
        if node is None:
            node = (
                Literal(begin, end, _KEYWORDS[name])
                if name in _KEYWORDS
                else Name(begin, end, name)
            )
        else:
            node = Attr(node.start, end, node, name, begin)
    assert node is not None
    return node


def _fast_parse(text: str) -> Expr | None:
    match = _FAST.match(text)
    if match is None:
        return None
    if match.group("path") is not None:
        return _path_node(match.group("path"), match.start("path"))
    func = match.group("func")
    if func in _KEYWORDS:
        return None  # `true(...)`: let the grammar report it
    arg = _path_node(match.group("arg"), match.start("arg"))
    close = text.index(")", match.end("arg"))
    start = match.start("func")
    return Call(start, close + 1, func, match.end("func"), (arg,))


@functools.lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expr:
    """The syntax tree of one expression; raises ParseError with offsets into `text`."""
    if not text.strip():
        raise ParseError("empty expression", 0, max(len(text), 1), "write an expression")
    tree = _fast_parse(text) or parse_with_grammar(text)
    if _depth_over(tree, MAX_EXPRESSION_DEPTH):
        raise ParseError(
            f"expression nests more than {MAX_EXPRESSION_DEPTH} levels",
            0,
            max(len(text), 1),
            "split it into smaller expressions or steps",
        )
    return tree


# Later stages walk the tree recursively; a bound keeps them far from Python's stack limit.
MAX_EXPRESSION_DEPTH = 100


def _depth_over(tree: Expr, limit: int) -> bool:
    """Whether the tree is deeper than `limit` (walked iteratively, so it cannot overflow)."""
    pending: list[tuple[Expr, int]] = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        children: tuple[Expr, ...] = ()
        if isinstance(node, Attr):
            children = (node.target,)
        elif isinstance(node, Index):
            children = (node.target, node.index)
        elif isinstance(node, Call):
            children = node.args
        elif isinstance(node, ListLit):
            children = node.items
        elif isinstance(node, Not):
            children = (node.operand,)
        elif isinstance(node, Logic | Compare):
            children = (node.left, node.right)
        pending.extend((child, depth + 1) for child in children)
    return False


def parse_with_grammar(text: str) -> Expr:
    """The LALR parse (always; `parse_expression` adds a fast path and a cache)."""
    try:
        tree: Expr = _PARSER.parse(text)  # type: ignore[assignment]  # the inline transformer builds nodes
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    return tree


def _find_close(text: str, start: int) -> int:
    """Index of the `}}` that closes an expression starting at `start`, or -1.

    Quotes are skipped so that a string literal may contain '}}'; a quote that is never
    closed raises ParseError at the quote.
    """
    close = text.find(CLOSE, start)
    if close < 0:
        return -1
    if "'" not in text[start:close] and '"' not in text[start:close]:
        return close  # no string literal can hide a '}}'
    i = start
    quote: str | None = None
    opened = start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"":
            quote, opened = char, i
        elif text.startswith(CLOSE, i):
            return i
        i += 1
    if quote is not None:
        raise ParseError(
            "string literal is never closed", opened, opened + 1, "end it with the same quote"
        )
    return -1


def split_template(text: str) -> Interpolation:
    """Split a string into literal text and `${{ }}` expressions.

    Raises ParseError with offsets into `text` for an unterminated `${{` or an invalid
    expression.
    """
    parts: list[str | Embedded] = []
    pos = 0
    while True:
        open_at = text.find(OPEN, pos)
        if open_at < 0:
            if pos < len(text):
                parts.append(text[pos:])
            return Interpolation(tuple(parts))
        if open_at > pos:
            parts.append(text[pos:open_at])
        body_start = open_at + len(OPEN)
        close_at = _find_close(text, body_start)
        if close_at < 0:
            raise ParseError(
                "'${{' is never closed", open_at, open_at + len(OPEN), "close it with '}}'"
            )
        body = text[body_start:close_at]
        try:
            expr = parse_expression(body)
        except ParseError as error:
            raise ParseError(
                error.message, body_start + error.start, body_start + error.end, error.hint
            ) from None
        parts.append(Embedded(expr, body_start, body))
        pos = close_at + len(CLOSE)


def has_expression(text: str) -> bool:
    return OPEN in text
