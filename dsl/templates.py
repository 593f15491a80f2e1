"""Generator templates: their signatures (a YAML header in a Jinja comment) and rendering.

A template starts with

    {#-
    description: ...
    output: markdown
    inputs:
      objective: text
      tables: list<string>?
    -#}

`output:` is markdown (the default), yaml or json; for yaml and json an optional `schema:`
(a JSON Schema of the parsed artifact) says what the document must hold. The server checks
artifacts against both (dsl.artifacts).

Templates render in a sandboxed environment with strict undefined; the values people
supply are passed as data and never compiled as templates.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
import yaml
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from dsl.artifacts import OUTPUTS, STRUCTURED, schema_problem
from dsl.diagnostics import Diagnostic, Reporter, did_you_mean
from dsl.library import Param, TemplateFile
from dsl.lines import BOM, LineIndex
from dsl.span import Span
from dsl.types import Record, TypeSyntaxError, is_optional, parse_type
from dsl.user_cache import recall, remember

_ENV = SandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,
)
_HEADER = re.compile(r"\A\{#-?(?P<body>.*?)-?#\}", re.DOTALL)
_HEADER_KEYS = {"description", "output", "inputs", "schema"}


@dataclass(frozen=True, slots=True)
class TemplateSig:
    name: str
    path: str
    description: str
    output: str
    inputs: tuple[Param, ...]
    problems: tuple[Diagnostic, ...] = field(default=())
    # The JSON Schema an artifact must fit (yaml and json outputs only), already checked.
    schema: dict[str, Any] | None = field(default=None, hash=False)

    def input(self, name: str) -> Param | None:
        return next((p for p in self.inputs if p.name == name), None)


def _position(text: str, offset: int) -> tuple[int, int]:
    # Offsets are into the raw text; the line model does not count a byte-order mark.
    return LineIndex(text).position(offset - (1 if text.startswith(BOM) else 0))


def _span_at(text: str, offset: int, width: int) -> Span:
    line, column = _position(text, offset)
    return Span(line, column, line, column + max(width, 1))


def _header_key_span(text: str, header: re.Match[str], key: str) -> Span:
    """Where a key of the header YAML is written (within the header only)."""
    pattern = re.compile(rf"^[ \t]*({re.escape(key)})[ \t]*:", re.MULTILINE)
    match = pattern.search(text, header.start("body"), header.end("body"))
    if match is None:
        return Span.point(1, 1)
    return _span_at(text, match.start(1), len(key))


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)


def _load_header(text: str) -> Any:
    """A header's YAML: libyaml's loader when present (it is read on every check); on an
    error, the pure-Python loader again, whose marks are the positions reported."""
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)  # a safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _schema_span(text: str, header: re.Match[str], path: list[str | int]) -> Span:
    """Where the part of `schema:` at `path` is written: the deepest key of the path found
    in order below `schema:` (list indexes are skipped), or `schema:` itself."""
    schema_key = re.compile(r"^schema[ \t]*:", re.MULTILINE)
    found = schema_key.search(text, header.start("body"), header.end("body"))
    if found is None:
        return Span.point(1, 1)
    span, offset = _span_at(text, found.start(), len("schema")), found.start()
    for part in path:
        if not isinstance(part, str):
            continue
        key = re.compile(rf"([\"']?)({re.escape(part)})\1[ \t]*:")
        match = key.search(text, offset + 1, header.end("body"))
        if match is None:
            break
        span, offset = _span_at(text, match.start(2), len(part)), match.start(2)
    return span


_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_BLOCK_TAG = re.compile(r"\{%[-+]?\s*(\w+)")
_OPENERS = {"if", "for", "macro", "call", "filter", "block", "with", "raw", "autoescape"}


def _use_span(text: str, name: str, after: int) -> Span:
    """The first place Jinja code (not prose) uses `name`."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    for code in _CODE.finditer(text, after):
        match = word.search(code.group(0))
        if match is not None:
            return _span_at(text, code.start() + match.start(), len(name))
    return Span.point(1, 1)


def _unclosed_block(text: str, after: int) -> Span | None:
    """The innermost block tag that is never closed (for "unexpected end of template")."""
    open_blocks: list[tuple[int, str]] = []
    for match in _BLOCK_TAG.finditer(text, after):
        tag = match.group(1)
        if tag in _OPENERS:
            open_blocks.append((match.start(), tag))
        elif tag.startswith("end") and open_blocks:
            open_blocks.pop()
    if not open_blocks:
        return None
    offset, tag = open_blocks[-1]
    return _span_at(text, offset, len(tag) + 3)


def read_signature(template: TemplateFile, records: Mapping[str, Record]) -> TemplateSig:
    """The template's declared inputs, with any problems in the file as diagnostics."""
    return _read_signature(template, tuple(sorted(records.items())))


@functools.lru_cache(maxsize=256)
def _read_signature(
    template: TemplateFile, records_items: tuple[tuple[str, Record], ...]
) -> TemplateSig:
    records = dict(records_items)
    reporter = Reporter(template.path)
    text = template.text
    header = _HEADER.match(text)
    data: Any = None
    header_ok = header is not None
    if header is None:
        reporter.report(
            "T305",
            Span.point(1, 1),
            f"template '{template.name}' does not start with a header comment",
            "begin the file with {#- description/output/inputs as YAML -#}",
        )
    else:
        try:
            data = _load_header(header.group("body"))
        except yaml.YAMLError as error:
            header_ok = False
            mark = getattr(error, "problem_mark", None)
            offset = header.start("body") + (mark.index if mark else 0)
            problem = getattr(error, "problem", None) or "invalid YAML"
            hint = (
                "quote a value that contains ': ', and check the indentation"
                if "mapping values" in problem
                else None
            )
            reporter.report(
                "T305", _span_at(text, offset, 1), f"header is not valid YAML: {problem}", hint
            )
        if header_ok and (not isinstance(data, dict) or not _HEADER_KEYS & set(map(str, data))):
            header_ok = False
            data = None
            reporter.report(
                "T305",
                Span.point(1, 1),
                f"the first comment of template '{template.name}' is not a YAML header",
                "write description:, output: and inputs: as YAML inside {#- ... -#}",
            )

    inputs: list[Param] = []
    broken: set[str] = set()  # declared inputs whose type is wrong (already reported)
    description = output = ""
    schema: dict[str, Any] | None = None
    if isinstance(data, dict) and header is not None:
        for key in data:
            if key not in _HEADER_KEYS:
                reporter.report(
                    "T305",
                    _header_key_span(text, header, str(key)),
                    f"unknown header key '{key}'",
                    did_you_mean(str(key), _HEADER_KEYS)
                    or "the header takes description, output, inputs and schema",
                )
        description = str(data.get("description") or "")
        output = str(data.get("output") or "markdown")
        if output not in OUTPUTS:
            reporter.report(
                "T305",
                _header_key_span(text, header, "output"),
                f"unknown output '{output}'",
                did_you_mean(output, OUTPUTS) or "output is one of markdown, yaml, json",
            )
        if "schema" in data:
            schema = _read_schema(text, header, data["schema"], output, reporter)
        declared = data.get("inputs") or {}
        if not isinstance(declared, dict):
            reporter.report(
                "T305", _header_key_span(text, header, "inputs"), "'inputs' must be a mapping"
            )
            declared = {}
        for name, type_text in declared.items():
            try:
                input_type = parse_type(str(type_text), records)
            except TypeSyntaxError as error:
                broken.add(str(name))
                reporter.report(
                    "T305",
                    _header_key_span(text, header, str(name)),
                    f"input '{name}': {error.message}",
                    error.hint,
                )
                continue
            inputs.append(Param(str(name), input_type, required=not is_optional(input_type)))

    header_end = header.end() if header else 0
    undeclared = _remembered_names(text)
    if undeclared is None:
        undeclared = _undeclared_names(text, header_end, reporter)
    if undeclared is not None and header_ok:
        declared_names = {p.name for p in inputs} | broken
        for name in sorted(undeclared - declared_names):
            reporter.report(
                "T304",
                _use_span(text, name, header_end),
                f"template '{template.name}' uses '{name}', which its header does not declare",
                f"add '{name}' under inputs: in the header",
            )

    return TemplateSig(
        name=template.name,
        path=template.path,
        description=description,
        output=output,
        inputs=tuple(inputs),
        problems=tuple(reporter.items),
        schema=schema,
    )


def _undeclared_names(text: str, header_end: int, reporter: Reporter) -> set[str] | None:
    """The names the template's Jinja uses without defining them (remembered in the
    cache), or None after reporting why the Jinja is invalid."""
    try:
        ast = _ENV.parse(text)
    except jinja2.TemplateSyntaxError as error:
        span: Span | None = None
        if "Unexpected end of template" in (error.message or ""):
            span = _unclosed_block(text, header_end)
        if span is None:
            line = error.lineno or 1
            line_text = LineIndex(text).line_text(line)
            found = re.search(r"\{[{%]", line_text)
            span = Span.point(line, found.start() + 1 if found else 1)
        message = error.message.splitlines()[0] if error.message else "syntax error"
        reporter.report("T306", span, f"invalid Jinja: {message}")
        return None
    # Jinja checks filter and test names only when it generates code, which
    # find_undeclared_variables does: an unknown `| strip` surfaces here, not in parse.
    try:
        undeclared: set[str] = meta.find_undeclared_variables(ast)
    except jinja2.TemplateSyntaxError as error:
        _report_unknown_helper(text, error, reporter)
        return set()
    _remember_names(text, undeclared)
    return undeclared


# -- the names a template uses, remembered -------------------------------------------
#
# Parsing a template and generating its code (which is how Jinja finds the names it
# uses) costs a few milliseconds a template, on every check of every playbook that
# generates: a quarter of a cold start. Valid templates' names are kept in the private
# cache (dsl.user_cache) as JSON, by a digest of everything the answer depends on.

# Bumped when what the remembered names are computed from changes.
_NAMES_VERSION = 1


_NAMES = "template-names"


def _names_key(text: str) -> str:
    helpers = ",".join(sorted(_ENV.filters)) + ";" + ",".join(sorted(_ENV.tests))
    key = f"{_NAMES_VERSION}:{jinja2.__version__}:{helpers}:{text}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest() + ".json"


def _remembered_names(text: str) -> set[str] | None:
    kept = recall(_NAMES, _names_key(text))
    if kept is None:
        return None
    try:
        names = json.loads(kept)
    except ValueError:  # not ours
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return set(names)


def _remember_names(text: str, names: set[str]) -> None:
    remember(_NAMES, _names_key(text), json.dumps(sorted(names)))


_UNKNOWN_HELPER = re.compile(r"No (?P<kind>filter|test) named '(?P<name>[^']+)'")


def _report_unknown_helper(
    text: str, error: jinja2.TemplateSyntaxError, reporter: Reporter
) -> None:
    """An unknown filter or test (`{{ rules | strip }}`), placed on its name."""
    message = (error.message or "syntax error").splitlines()[0]
    line = error.lineno or 1
    line_text = LineIndex(text).line_text(line)
    found = _UNKNOWN_HELPER.search(message)
    hint: str | None = None
    column, width = 1, 1
    if found is not None:
        name = found.group("name")
        known = _ENV.filters if found.group("kind") == "filter" else _ENV.tests
        hint = did_you_mean(name, sorted(known))
        where = re.search(rf"\b{re.escape(name)}\b", line_text)
        if where is not None:
            column, width = where.start() + 1, len(name)
        message = f"no {found.group('kind')} named '{name}'"
    reporter.report("T306", Span.point(line, column, width), f"invalid Jinja: {message}", hint)


def _read_schema(
    text: str, header: re.Match[str], schema: Any, output: str, reporter: Reporter
) -> dict[str, Any] | None:
    """The header's `schema:` when it is a usable JSON Schema for this output."""
    if output not in STRUCTURED:
        reporter.report(
            "T305",
            _header_key_span(text, header, "schema"),
            f"'schema' applies to output yaml or json, not {output}",
            "declare output: yaml or output: json, or remove schema:",
        )
        return None
    problem = schema_problem(schema)
    if problem is not None:
        message, path = problem
        hint = (
            "patterns are RE2: no lookaround and no backreferences"
            if "is not a 'regex'" in message
            else "see https://json-schema.org/draft/2020-12 for the keywords"
        )
        reporter.report("T305", _schema_span(text, header, path), message, hint)
        return None
    assert isinstance(schema, dict)
    return schema


class RenderError(ValueError):
    pass


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> jinja2.Template:
    return _ENV.from_string(text)


def render(template: TemplateFile, sig: TemplateSig, values: Mapping[str, Any]) -> str:
    """Render the prompt. Optional inputs that were not supplied are passed as None."""
    context = {p.name: values.get(p.name) for p in sig.inputs}
    missing = [p.name for p in sig.inputs if p.required and values.get(p.name) is None]
    if missing:
        raise RenderError(f"template '{sig.name}' needs: {', '.join(missing)}")
    try:
        return _compiled(template.text).render(context)
    except jinja2.TemplateError as error:
        raise RenderError(f"template '{sig.name}' failed to render: {error}") from None
