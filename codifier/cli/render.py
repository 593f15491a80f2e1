"""`codifier render`: show the prompt a generator template renders for given inputs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from codifier.cli.check import UsageError
from codifier.library import TEMPLATE_SUFFIX, display_path, load_library, template_name
from dsl.conform import mismatch
from dsl.library import TemplateFile
from dsl.templates import RenderError, read_signature, render
from dsl.types import STRING, TEXT, URL, strip_optional


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("template", metavar="TEMPLATE", help="a template name or .md.j2 path")
    parser.add_argument(
        "--with",
        dest="values",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input value (YAML for lists and records); may repeat",
    )
    parser.add_argument(
        "--with-file",
        dest="files",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="an input read from a file (YAML for lists and records); may repeat",
    )


def _split(option: str, item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise UsageError(f"{option} takes NAME=VALUE, got '{item}'")
    return name.strip(), value


def _find(template: str) -> TemplateFile:
    path = Path(template)
    if template.endswith(TEMPLATE_SUFFIX):
        if not path.is_file():
            raise UsageError(f"no such template file: {template}")
        return TemplateFile(
            template_name(path), display_path(path), path.read_text(encoding="utf-8")
        )
    library = load_library()
    found = library.templates.get(template)
    if found is None:
        names = ", ".join(sorted(library.templates))
        raise UsageError(f"unknown template '{template}' (templates: {names})")
    return found


def run(args: argparse.Namespace) -> int:
    template = _find(args.template)
    library = load_library()
    sig = read_signature(template, library.records)
    if sig.problems:
        first = sig.problems[0]
        raise UsageError(f"{first.path}:{first.span.line}:{first.span.column}: {first.message}")
    raw: dict[str, str] = {}
    for item in args.values:
        name, text = _split("--with", item)
        raw[name] = text
    for item in args.files:
        name, file_name = _split("--with-file", item)
        try:
            raw[name] = Path(file_name).read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(
                f"--with-file {name}: cannot read {file_name}: {error.strerror}"
            ) from None
    values: dict[str, Any] = {}
    for name, text in raw.items():
        param = sig.input(name)
        if param is None:
            declared = ", ".join(p.name for p in sig.inputs)
            raise UsageError(f"template '{sig.name}' has no input '{name}' (inputs: {declared})")
        if strip_optional(param.type) in (STRING, TEXT, URL):
            value: Any = text
        else:
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                raise UsageError(f"input '{name}' is not valid YAML") from None
        problem = mismatch(value, param.type, f"input '{name}'")
        if problem:
            raise UsageError(problem)
        values[name] = value
    try:
        sys.stdout.write(render(template, sig, values))
    except RenderError as error:
        raise UsageError(str(error)) from None
    return 0
