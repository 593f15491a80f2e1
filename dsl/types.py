"""The type system: primitive, list, optional, record and `any` types.

`any` is gradual: it fits anywhere and anything fits it; the interpreter checks such
values when they arrive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from dsl.diagnostics import did_you_mean


@dataclass(frozen=True, slots=True)
class Prim:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ListT:
    elem: Type

    def __str__(self) -> str:
        return f"list<{self.elem}>"


@dataclass(frozen=True, slots=True)
class Opt:
    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"


@dataclass(frozen=True, slots=True)
class Record:
    """A record type. Declared records have a name; mapping literals are anonymous."""

    name: str | None
    fields: tuple[tuple[str, Type], ...] = field(compare=False)
    description: str = field(default="", compare=False)

    def field_type(self, name: str) -> Type | None:
        for field_name, field_type in self.fields:
            if field_name == name:
                return field_type
        return None

    def field_names(self) -> list[str]:
        return [name for name, _ in self.fields]

    def __str__(self) -> str:
        if self.name:
            return self.name
        inner = ", ".join(f"{n}: {t}" for n, t in self.fields)
        return "{" + inner + "}"


Type = Prim | ListT | Opt | Record

STRING = Prim("string")
TEXT = Prim("text")
INT = Prim("int")
NUMBER = Prim("number")
BOOL = Prim("bool")
URL = Prim("url")
# A repository to pack: a `url`, or an absolute path of a folder on the server (which the
# server packs only under CODIFIER_PACK_ROOTS; the language cannot know the roots).
REPOSITORY = Prim("repository")
ANY = Prim("any")
NULL = Prim("null")  # the type of the literal `null`; never written by authors

# What `url` accepts: http(s) URLs and scp-like git remotes.
URL_PATTERN = re.compile(r"^(https?://[^\s/$.?#][^\s]*|git@[^\s:]+:[^\s]+)$")
# What `repository` accepts: a `url`, or an absolute path on one line.
REPOSITORY_PATTERN = re.compile(r"^(https?://[^\s/$.?#][^\s]*|git@[^\s:]+:[^\s]+|/[^\x00\r\n]*)$")

PRIMITIVES = {t.name: t for t in (STRING, TEXT, INT, NUMBER, BOOL, URL, REPOSITORY, ANY)}
INTERPOLATABLE = {STRING, TEXT, URL, REPOSITORY, INT, NUMBER, BOOL, ANY}
_STRINGY = {STRING, TEXT, URL, REPOSITORY}


class Fit(Enum):
    YES = "yes"
    IF_NOT_NULL = "if-not-null"  # fits once a possible null is ruled out: a warning
    NO = "no"


def _prim_fits(src: Prim, dst: Prim) -> bool:
    if src == dst:
        return True
    if dst == NUMBER and src == INT:
        return True
    if dst == STRING and src in (URL, TEXT, REPOSITORY):
        return True
    if dst == REPOSITORY and src == URL:
        return True
    return dst == TEXT and src in (STRING, URL, REPOSITORY)


def fits(src: Type, dst: Type) -> Fit:
    """Whether a value of type `src` may be used where `dst` is expected."""
    if dst == ANY or src == ANY:
        return Fit.YES
    if isinstance(dst, Opt):
        if src == NULL:
            return Fit.YES
        return fits(src.inner if isinstance(src, Opt) else src, dst.inner)
    if isinstance(src, Opt):
        return Fit.IF_NOT_NULL if fits(src.inner, dst) is not Fit.NO else Fit.NO
    if src == NULL:
        return Fit.NO
    if isinstance(dst, Prim) and isinstance(src, Prim):
        return Fit.YES if _prim_fits(src, dst) else Fit.NO
    if isinstance(dst, ListT) and isinstance(src, ListT):
        return fits(src.elem, dst.elem)
    if isinstance(dst, Record) and isinstance(src, Record):
        return _record_fits(src, dst)
    return Fit.NO


def _record_fits(src: Record, dst: Record) -> Fit:
    if src.name is not None and src.name == dst.name:
        return Fit.YES
    result = Fit.YES
    for name, dst_type in dst.fields:
        src_type = src.field_type(name)
        if src_type is None:
            if isinstance(dst_type, Opt) or dst_type == ANY:
                continue
            return Fit.NO
        fit = fits(src_type, dst_type)
        if fit is Fit.NO:
            return Fit.NO
        if fit is Fit.IF_NOT_NULL:
            result = fit
    return result


def is_optional(t: Type) -> bool:
    return isinstance(t, Opt) or t in (NULL, ANY)


def strip_optional(t: Type) -> Type:
    return t.inner if isinstance(t, Opt) else t


def optional(t: Type) -> Type:
    if isinstance(t, Opt) or t in (ANY, NULL):
        return t
    return Opt(t)


def join(a: Type, b: Type) -> Type:
    """The narrowest type both fit (for the elements of a list literal)."""
    if a == b:
        return a
    if a == NULL:
        return optional(b)
    if b == NULL:
        return optional(a)
    if isinstance(a, Opt) or isinstance(b, Opt):
        return optional(join(strip_optional(a), strip_optional(b)))
    if {a, b} == {INT, NUMBER}:
        return NUMBER
    if a in _STRINGY and b in _STRINGY:
        return STRING
    if isinstance(a, ListT) and isinstance(b, ListT):
        return ListT(join(a.elem, b.elem))
    return ANY


class TypeSyntaxError(ValueError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|<|>|\?|.)")


MAX_TYPE_DEPTH = 32


def parse_type(text: str, records: Mapping[str, Record]) -> Type:
    """Parse `list<TableSchema>?` and friends; raises TypeSyntaxError."""
    tokens = [m.group(1) for m in _TOKEN.finditer(text) if m.group(1).strip()]
    if tokens.count("list") > MAX_TYPE_DEPTH:
        # The parser and every later walk of the type recurse; no real type nests this deep.
        raise TypeSyntaxError(
            f"type nests more than {MAX_TYPE_DEPTH} lists", "use list<any> for deep data"
        )
    pos = 0

    def parse() -> Type:
        nonlocal pos
        if pos >= len(tokens):
            raise TypeSyntaxError(f"incomplete type '{text}'")
        word = tokens[pos]
        pos += 1
        result: Type
        if word == "list":
            if pos >= len(tokens) or tokens[pos] != "<":
                raise TypeSyntaxError(
                    f"'list' needs an element type in '{text}'", "write list<string>"
                )
            pos += 1
            elem = parse()
            if pos >= len(tokens) or tokens[pos] != ">":
                raise TypeSyntaxError(f"missing '>' in '{text}'")
            pos += 1
            result = ListT(elem)
        elif word in PRIMITIVES:
            result = PRIMITIVES[word]
        elif word in records:
            result = records[word]
        else:
            names = [*PRIMITIVES, "list", *records]
            raise TypeSyntaxError(f"unknown type '{word}'", did_you_mean(word, names))
        while pos < len(tokens) and tokens[pos] == "?":
            pos += 1
            result = optional(result)
        return result

    result = parse()
    if pos != len(tokens):
        raise TypeSyntaxError(f"unexpected '{tokens[pos]}' in type '{text}'")
    return result
