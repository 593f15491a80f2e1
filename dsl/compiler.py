"""The front door: source text -> diagnostics and, when there are no errors, a Program."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dsl.check.checked import CheckedPlaybook
from dsl.check.playbook import PlaybookChecker
from dsl.codes import Severity
from dsl.diagnostics import Diagnostic, Reporter
from dsl.ir import InputIR, Program, RememberIR, StepIR, source_hash
from dsl.library import Library, TemplateFile
from dsl.source import SourceFile, load_yaml
from dsl.span import WHOLE_FILE, Span
from dsl.suppress import apply_ignores
from dsl.templates import read_signature


@dataclass(frozen=True, slots=True)
class CompileResult:
    source: SourceFile
    diagnostics: tuple[Diagnostic, ...]
    program: Program | None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)


def _inside(source: SourceFile, d: Diagnostic) -> Diagnostic:
    """The diagnostic with its span clamped into its file: a last safety net so that every
    position an editor or a SARIF viewer receives exists (a column at most one past its
    line's end, the end never before the start)."""
    if d.path != source.path:
        return d
    index = source.index
    line, column = index.clamp(d.span.line, d.span.column)
    end_line, end_column = index.clamp(d.span.end_line, d.span.end_column)
    if (end_line, end_column) < (line, column):
        end_line, end_column = line, column
    span = Span(line, column, end_line, end_column)
    return d if span == d.span else dataclasses.replace(d, span=span)


def _finish(source: SourceFile, reporter: Reporter, parsed: bool = True) -> tuple[Diagnostic, ...]:
    reporter.items[:] = [_inside(source, d) for d in reporter.items]
    kept = apply_ignores(source, reporter.items)
    if not parsed:
        # A file YAML could not read was never checked: its ignores had nothing to silence.
        kept = [d for d in kept if d.code != "C702"]
    # Position order; ties keep the order the checker found them in (sorted is stable).
    unique = list(dict.fromkeys(kept))
    return tuple(sorted(unique, key=Diagnostic.sort_key))


def compile_playbook(text: str, path: str, library: Library) -> CompileResult:
    source = SourceFile(path, text)
    reporter = Reporter(path)
    root = load_yaml(source, reporter)
    checked: CheckedPlaybook | None = None
    if root is not None:
        checked = PlaybookChecker(source, library, reporter).check(root)
    elif not reporter.items:
        reporter.report(
            "Y006", WHOLE_FILE, "the file is empty", "start with 'id:', 'name:' and 'steps:'"
        )
    diagnostics = _finish(source, reporter, parsed=root is not None)
    program = None
    if checked is not None and not any(d.severity is Severity.ERROR for d in diagnostics):
        program = lower(checked, source_hash(text))
    return CompileResult(source, diagnostics, program)


def check_template_file(text: str, path: str, name: str, library: Library) -> CompileResult:
    """Lint a generator template on its own (header, Jinja syntax, declared variables)."""
    source = SourceFile(path, text)
    sig = read_signature(TemplateFile(name, path, text), library.records)
    reporter = Reporter(path)
    reporter.items.extend(sig.problems)
    return CompileResult(source, _finish(source, reporter), None)


def lower(checked: CheckedPlaybook, digest: str) -> Program:
    return Program(
        id=checked.id,
        name=checked.name,
        role=checked.role,
        version=checked.version,
        description=checked.description,
        inputs=tuple(
            InputIR(i.name, str(i.type), i.required, i.default, i.description)
            for i in checked.inputs
        ),
        steps=tuple(
            StepIR(
                id=s.id,
                title=s.title,
                title_value=s.title_value,
                index=s.index,
                kind=s.kind,
                condition=s.condition,
                args=s.args,
                static=s.static,
                output_type=str(s.output_type),
                remember=RememberIR(s.remember.memory_type, s.remember.title, s.remember.tags)
                if s.remember
                else None,
            )
            for s in checked.steps
        ),
        outputs=checked.outputs,
        source_hash=digest,
    )
