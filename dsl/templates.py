"""Generator templates: their signatures (a YAML header in a Jinja comment) and rendering.

A template starts with

    {#-
    description: ...
    output: markdown
    inputs:
      objective: text
      tables: list<string>?
    -#}

Templates render in a sandboxed environment with strict undefined; the values people
supply are passed as data and never compiled as templates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
import yaml
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from dsl.diagnostics import Diagnostic, Reporter
from dsl.library import Param, TemplateFile
from dsl.span import Span
from dsl.types import Record, TypeSyntaxError, is_optional, parse_type

_ENV = SandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,
)
_HEADER = re.compile(r"\A\{#-?(?P<body>.*?)-?#\}", re.DOTALL)
_HEADER_KEYS = {"description", "output", "inputs"}


@dataclass(frozen=True, slots=True)
class TemplateSig:
    name: str
    path: str
    description: str
    output: str
    inputs: tuple[Param, ...]
    problems: tuple[Diagnostic, ...] = field(default=())

    def input(self, name: str) -> Param | None:
        return next((p for p in self.inputs if p.name == name), None)


def _line_of(text: str, pattern: str, after: int) -> Span:
    match = re.search(pattern, text[after:])
    if match is None:
        return Span.point(1, 1)
    offset = after + match.start()
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(line, column, line, column + len(match.group(0)))


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
    if header is None:
        reporter.report(
            "T305",
            Span.point(1, 1),
            f"template '{template.name}' does not start with a header comment",
            "begin the file with {#- description/output/inputs as YAML -#}",
        )
    else:
        body_line = 1
        try:
            data = yaml.safe_load(header.group("body"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = body_line + (mark.line if mark else 0)
            reporter.report("T305", Span.point(line, 1), f"header is not valid YAML: {error}")
        if data is not None and not isinstance(data, dict):
            reporter.report("T305", Span.point(1, 1), "header must be a YAML mapping")
            data = None

    inputs: list[Param] = []
    description = output = ""
    if isinstance(data, dict):
        for key in data:
            if key not in _HEADER_KEYS:
                reporter.report(
                    "T305",
                    _line_of(text, rf"^\s*{re.escape(str(key))}\s*:", 0),
                    f"unknown header key '{key}'",
                    "the header takes description, output and inputs",
                )
        description = str(data.get("description") or "")
        output = str(data.get("output") or "markdown")
        declared = data.get("inputs") or {}
        if not isinstance(declared, dict):
            reporter.report("T305", Span.point(1, 1), "header 'inputs' must be a mapping")
            declared = {}
        for name, type_text in declared.items():
            try:
                input_type = parse_type(str(type_text), records)
            except TypeSyntaxError as error:
                reporter.report(
                    "T305",
                    _line_of(text, rf"^\s*{re.escape(str(name))}\s*:", 0),
                    f"input '{name}': {error.message}",
                    error.hint,
                )
                continue
            inputs.append(Param(str(name), input_type, required=not is_optional(input_type)))

    header_end = header.end() if header else 0
    try:
        ast = _ENV.parse(text)
    except jinja2.TemplateSyntaxError as error:
        line = error.lineno or 1
        reporter.report("T306", Span.point(line, 1), f"invalid Jinja: {error.message}")
    else:
        declared_names = {p.name for p in inputs}
        for name in sorted(meta.find_undeclared_variables(ast) - declared_names):
            if header is None:
                break
            reporter.report(
                "T304",
                _line_of(text, rf"\b{re.escape(name)}\b", header_end),
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
    )


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
