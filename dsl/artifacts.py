"""Checking a generated artifact against what its template declares.

A template's header says what the client's LLM must send back: `output:` (`markdown`,
`yaml` or `json`) and, for yaml and json, an optional `schema:` (a JSON Schema, Draft
2020-12, of the parsed document). `check_artifact` says what is wrong with an artifact, as
one sentence that locates the problem in the text exactly as the client sent it, or None
when it fits. It is pure: no I/O, no network (a schema's `$ref` resolves only inside the
schema itself), and bounded: YAML goes through the playbook loader (at most
`MAX_ALIASES` aliases, no tags), the parsed document may hold at most `MAX_VALUES` values
counting each use of an alias and nest at most `MAX_DEPTH` deep, and the schema's
`pattern`s run on RE2 (linear time), so a hostile artifact can neither expand nor stall.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import re2

from dsl.diagnostics import Reporter
from dsl.source import MAX_ALIASES, SourceFile, YMap, YNode, YScalar, YSeq, load_yaml
from dsl.user_cache import recall, remember

OUTPUTS = ("markdown", "yaml", "json")
STRUCTURED = ("yaml", "json")
MAX_VALUES = 100_000  # values in a parsed document, each use of an alias counted
MAX_DEPTH = 100  # levels of nested lists and mappings
MAX_SCHEMA_ERRORS = 3  # schema misfits named in one refusal
MAX_ERROR_CHARS = 200  # of one misfit's message (it may quote a long value)
_SCANNED_ERRORS = 100  # misfits looked at to pick the best ones
_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")

# The names a fence's info string may give each format (```yaml, ```json, or none).
_FENCE_NAMES = {"yaml": ("", "yaml", "yml"), "json": ("", "json")}
_FENCE_OPEN = re.compile(r"\A\s*```[ \t]*(?P<info>[^\s`]*)[ \t]*\r?\n")
# Fences start a line: an indented ``` is text inside the document (a YAML block scalar).
_FENCE_LINE = re.compile(r"^```", re.MULTILINE)


class _Refused(ValueError):
    """Why an artifact is refused: a sentence completing "the artifact ..."."""


def check_artifact(text: str, output: str, schema: Mapping[str, Any] | None) -> str | None:
    """What is wrong with `text` as an artifact of this `output` and `schema`, or None.

    The answer completes "the artifact ...", e.g. "is not valid YAML at line 3, column 9:
    ...". Any output other than yaml and json (markdown) only needs some text.
    """
    if not text.strip():
        return "is empty or only whitespace; send the generated text"
    if output not in STRUCTURED:
        return None
    try:
        body = _unfence(text, output)
        yaml = output == "yaml"
        document = _plain(_parse_yaml(body)) if yaml else _bounded(_parse_json(body))
    except _Refused as refused:
        return str(refused)
    return None if schema is None else _misfit(document, schema)


def schema_problem(schema: Any) -> tuple[str, list[str | int]] | None:
    """Why `schema` is not a usable JSON Schema (Draft 2020-12), with the path of the
    offending part inside it, or None when it is one."""
    if not isinstance(schema, dict):
        return "'schema' must be a mapping (a JSON Schema object)", []
    known = _verdict_key(schema)
    if known is not None and recall(_GOOD_SCHEMA, known) is not None:
        return None
    kit = _jsonschema()
    error = kit.best_match(kit.meta.iter_errors(schema))
    if error is None:
        if known is not None:
            remember(_GOOD_SCHEMA, known, "")
        return None
    path = list(error.path)
    message = _short(error.message)
    if path and path[-1] == "type" and isinstance(error.instance, str):
        message = f"'{error.instance}' is not a JSON Schema type ({', '.join(_TYPES)})"
    return f"'schema' is not a valid JSON Schema: {message}", path


# -- fences -----------------------------------------------------------------------------


def _unfence(text: str, output: str) -> str:
    """The document inside a single ``` fence (or the whole text), with the fence's lines
    blanked so that every position in it is a position in the text as sent; or why the
    fencing is not accepted (a problem sentence)."""
    opening = _FENCE_OPEN.match(text)
    if opening is None:
        later = _FENCE_LINE.search(text)
        if later is not None:  # never valid YAML or JSON at the start of a line
            line = text.count("\n", 0, later.start()) + 1
            raise _Refused(
                f"has text before its ``` fence at line {line}; send the document alone or in"
                f" one ```{_FENCE_NAMES[output][1]} block"
            )
        return text
    fence_line = text.count("\n", 0, opening.end())  # 1-based line of the opening fence
    info = opening.group("info")
    names = _FENCE_NAMES[output]
    if info.lower() not in names:
        raise _Refused(
            f"is fenced as '{info}' at line {fence_line}, not {output}; send the document"
            f" alone or in one ```{names[1]} block"
        )
    rest = text[opening.end() :]
    closings = list(_FENCE_LINE.finditer(rest))
    if not closings or rest[closings[-1].end() :].strip():
        raise _Refused(
            f"opens a ``` fence at line {fence_line} that does not close at the end; send the"
            f" document alone or in one ```{names[1]} block"
        )
    if len(closings) > 1:
        second = text.count("\n", 0, opening.end() + closings[0].start()) + 1
        raise _Refused(
            f"holds more than one ``` block (another fence at line {second}); send one"
            f" {output} document alone or in one ```{names[1]} block"
        )
    return "\n" * fence_line + rest[: closings[-1].start()]


# -- parsing ----------------------------------------------------------------------------


def _parse_yaml(body: str) -> YNode:
    # Parsed inline on the server's event loop: the answer is size-capped (256 KB by
    # default) and this loader is linear in it, with aliases limited and never expanded.
    reporter = Reporter("artifact")
    # The tree may be built past MAX_DEPTH: _plain refuses it then, in its own words.
    root = load_yaml(SourceFile("artifact", body), reporter, max_depth=2 * MAX_DEPTH)
    if reporter.items:
        problem = min(reporter.items, key=lambda d: (d.span.line, d.span.column))
        message = problem.message.removeprefix("invalid YAML: ")
        if problem.code == "Y004":
            message = f"it uses {message} (at most {MAX_ALIASES})"
        hint = f"; {problem.hint}" if problem.hint else ""
        raise _Refused(
            f"is not valid YAML at line {problem.span.line}, column {problem.span.column}:"
            f" {message}{hint}"
        )
    if root is None:
        raise _Refused("holds no YAML document (only comments or blank lines); send the YAML")
    return root


def _parse_json(body: str) -> Any:
    if not body.strip():
        raise _Refused("holds no JSON document; send the JSON")
    try:
        # Inline on the event loop: the answer is size-capped (256 KB by default).
        return json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise _Refused(
            f"is not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise _Refused(f"nests lists or objects more than {MAX_DEPTH} deep; flatten it") from None


def _no_constant(name: str) -> Any:
    raise _Refused(f"holds {name}, which JSON does not allow; write a number or null")


def _plain(root: YNode) -> Any:
    """The YAML tree as plain data (keys are their text), walked without recursion and
    within the bounds: an alias is a reference to a node, and counting every use of it
    is what keeps a "billion laughs" document from expanding."""
    count = 0
    top: list[Any] = [None]
    # Each entry: a node, its depth, and the container and key its value goes to.
    pending: list[tuple[YNode, int, Any, Any]] = [(root, 0, top, 0)]
    while pending:
        node, depth, into, key = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise _Refused(
                f"has more than {MAX_VALUES:,} values (each use of a YAML alias counted);"
                " write a smaller document"
            )
        if depth >= MAX_DEPTH and isinstance(node, YMap | YSeq):
            raise _Refused(f"nests lists or mappings more than {MAX_DEPTH} deep; flatten it")
        value: Any
        if isinstance(node, YMap):
            value = {entry_key.text: None for entry_key, _ in node.entries}  # keeps the order
            pending.extend((item, depth + 1, value, k.text) for k, item in node.entries)
        elif isinstance(node, YSeq):
            value = [None] * len(node.items)
            pending.extend((item, depth + 1, value, i) for i, item in enumerate(node.items))
        else:
            assert isinstance(node, YScalar)
            value = node.value
        into[key] = value
    return top[0]


def _bounded(document: Any) -> Any:
    """A parsed JSON document, after checking it against the same bounds as YAML."""
    count = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise _Refused(f"has more than {MAX_VALUES:,} values; write a smaller document")
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise _Refused(f"nests lists or objects more than {MAX_DEPTH} deep; flatten it")
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return document


# -- the schema -------------------------------------------------------------------------
#
# jsonschema takes a quarter of a second to import: it is loaded the first time a
# template declares a schema, so a check or a run that meets none never pays for it.

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is reported to the author, not logged


@functools.lru_cache(maxsize=256)
def _re2(pattern: str) -> Any:
    return re2.compile(pattern, _RE2_OPTIONS)


def _matches(pattern: str, text: str) -> bool:
    return _re2(pattern).search(text) is not None


# Bumped when what makes a schema usable changes (the metaschema, the RE2 format check).
_VERDICT_VERSION = 1


_GOOD_SCHEMA = "schema-ok"


def _verdict_key(schema: dict[str, Any]) -> str | None:
    """The key under which this exact schema is remembered as usable, or None when it
    cannot have one. Only good verdicts are kept: loading jsonschema costs a check more
    than all the rest of a small playbook's (the shipped templates declare schemas)."""
    try:
        canonical = json.dumps(schema, sort_keys=True, ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError):  # YAML values JSON cannot hold: always validated
        return None
    return hashlib.sha256(f"{_VERDICT_VERSION}:{canonical}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _JsonSchema:
    validator: Any  # Draft 2020-12 with RE2 patterns
    meta: Any  # validates a schema, its `regex` formats with RE2
    best_match: Callable[..., Any]
    registry: Any
    unusable: tuple[type[Exception], ...]  # a schema that cannot be applied


@functools.cache
def _jsonschema() -> _JsonSchema:
    from jsonschema import Draft202012Validator, FormatChecker, validators
    from jsonschema.exceptions import ValidationError, best_match
    from referencing import Registry
    from referencing.exceptions import Unresolvable

    def pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not _matches(pattern, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    def pattern_properties(
        validator: Any, properties: dict[str, Any], instance: Any, schema: Any
    ) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        for pattern, subschema in properties.items():
            for key, value in instance.items():
                if _matches(pattern, key):
                    yield from validator.descend(value, subschema, path=key, schema_path=pattern)

    regex = FormatChecker(formats=())

    @regex.checks("regex", raises=re2.error)
    def _is_re2(pattern: object) -> bool:
        if isinstance(pattern, str):
            _re2(pattern)
        return True

    # Regular expressions on RE2: linear time whatever the pattern and the text, since
    # both may come from outside (a published template, the LLM).
    extend: Any = validators.extend  # (untyped in types-jsonschema)
    return _JsonSchema(
        validator=extend(
            Draft202012Validator, {"pattern": pattern, "patternProperties": pattern_properties}
        ),
        meta=Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=regex),
        best_match=best_match,
        # Empty: a `$ref` to anything outside the schema is never fetched.
        registry=Registry(),
        unusable=(Unresolvable, re2.error),
    )


def _misfit(document: Any, schema: Mapping[str, Any]) -> str | None:
    kit = _jsonschema()
    validator = kit.validator(schema, registry=kit.registry)
    errors: list[Any] = []
    try:
        for error in validator.iter_errors(document):
            errors.append(error)
            if len(errors) >= _SCANNED_ERRORS:
                break
    except kit.unusable as error:
        return f"cannot be checked: the template's schema is unusable ({_short(str(error))})"
    best = kit.best_match(errors)
    if best is None:
        return None
    others = sorted((e for e in errors if e is not best), key=lambda e: [str(p) for p in e.path])
    shown = [best, *others][:MAX_SCHEMA_ERRORS]
    described = "; ".join(f"{error.json_path}: {_short(error.message)}" for error in shown)
    more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
    return f"does not fit the template's schema: {described}{more}"


def _short(message: str) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[: MAX_ERROR_CHARS - 3] + "..."
