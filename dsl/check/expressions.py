"""Typing expressions and the values that embed them, reporting what does not fit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dsl.diagnostics import Edit, Fix, Reporter, did_you_mean
from dsl.expr import nodes as n
from dsl.expr.parser import OPEN, ParseError, parse_expression, split_template
from dsl.functions import FUNCTIONS
from dsl.source import YMap, YNode, YScalar, YSeq
from dsl.span import Span
from dsl.types import (
    ANY,
    BOOL,
    INT,
    INTERPOLATABLE,
    NULL,
    NUMBER,
    REPOSITORY,
    REPOSITORY_PATTERN,
    STRING,
    TEXT,
    URL,
    URL_PATTERN,
    Fit,
    ListT,
    Opt,
    Record,
    Type,
    fits,
    join,
    strip_optional,
)
from dsl.values import Ex, Interp, ListV, Lit, MapV, Value

# `{{ ... }}` not preceded by `$` (the inside on one line, without braces).
_JINJA_BRACES = re.compile(r"(?<!\$)\{\{\s*([^{}\n]+?)\s*\}\}")

ROOTS = ("inputs", "steps", "project", "session")
PROJECT = Record("Project", (("id", STRING), ("name", STRING)))
SESSION = Record("Session", (("id", STRING),))
_COMPARABLE_ORDER = (INT, NUMBER)


@dataclass(frozen=True, slots=True)
class StepInfo:
    index: int
    output: Type


@dataclass
class Scope:
    """What expressions at one place may refer to."""

    inputs: dict[str, Type]
    steps: dict[str, StepInfo]
    current_index: int = -1  # -1 outside any step (outputs)
    current_id: str | None = None
    used_steps: set[str] = field(default_factory=set)


def _literal_type(value: object) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return NUMBER
    return STRING


Where = Span | Callable[[], Span]


def _resolve(at: Where) -> Span:
    return at if isinstance(at, Span) else at()


class _CallArgs:
    """The `Args` a function's typing rule sees, reporting against argument spans."""

    def __init__(self, checker: ExprChecker, call: n.Call, arg_types: list[Type]) -> None:
        self.checker = checker
        self.call = call
        self.types: Sequence[Type] = arg_types
        self._warned: set[int] = set()

    def _span(self, index: int) -> Span:
        return self.checker.span(self.call.args[index])

    def expect(self, index: int, expected: Type) -> None:
        self.checker.expect_fit(
            self.types[index],
            expected,
            lambda: self._span(index),
            f"argument {index + 1} of {self.call.func}()",
        )

    def fail(self, index: int, message: str, hint: str | None = None) -> None:
        self.checker.reporter.report("X209", self._span(index), message, hint)

    def maybe_null(self, index: int) -> Type:
        t = self.types[index]
        if isinstance(t, Opt) and index not in self._warned:
            self._warned.add(index)
            self.checker.warn_null(self._span(index), f"argument {index + 1} of {self.call.func}()")
        return strip_optional(t)


class ExprChecker:
    """Types the values of one playbook; `reporter` receives the diagnostics."""

    def __init__(self, reporter: Reporter, scope: Scope) -> None:
        self.reporter = reporter
        self.scope = scope
        self._scalar: YScalar | None = None
        self._base = 0

    # -- spans -----------------------------------------------------------------------

    def span(self, node: n.Node, start: int | None = None, end: int | None = None) -> Span:
        assert self._scalar is not None
        s = node.start if start is None else start
        e = node.end if end is None else end
        return self._scalar.sub_span(self._base + s, self._base + e)

    # -- reporting helpers -----------------------------------------------------------

    def warn_null(self, at: Where, what: str) -> None:
        self.reporter.report(
            "X212",
            _resolve(at),
            f"{what} may be null",
            "use default(value, fallback) to give a value for the null case",
        )

    def expect_fit(self, actual: Type, expected: Type, at: Where, what: str) -> bool:
        """Report unless `actual` fits `expected`; `at` may be a span or make one lazily
        (finding a span in the source costs more than the whole check of a good value)."""
        fit = fits(actual, expected)
        if fit is Fit.IF_NOT_NULL:
            self.warn_null(at, what)
            return True
        if fit is Fit.NO:
            hint = None
            if isinstance(actual, ListT) and fits(actual.elem, expected) is not Fit.NO:
                hint = "pick one element with first(...) or combine them with join(..., ', ')"
            elif actual == NULL:
                hint = f"give a {expected} value"
            elif isinstance(actual, Record) and actual.name == STEP_RECORD:
                hint = "a step's value is its output: add '.output'"
            self.reporter.report(
                "X209", _resolve(at), f"{what} must be {expected}, found {actual}", hint
            )
            return False
        return True

    # -- values (YAML nodes in value positions) --------------------------------------

    def value(self, node: YNode, expected: Type | None, what: str) -> tuple[Type, Value]:
        """Type a value position and parse it; checks it against `expected` when given."""
        if node.invalid:
            return ANY, Lit(None)
        if isinstance(node, YSeq):
            return self._list_value(node, expected, what)
        if isinstance(node, YMap):
            return self._map_value(node, expected, what)
        assert isinstance(node, YScalar)
        if isinstance(node.value, str) and "{{" in node.value:
            self._jinja_braces(node)
        if isinstance(node.value, str) and OPEN in node.value:
            return self._string_value(node, expected, what)
        actual = _literal_type(node.value)
        if isinstance(node.value, str) and expected is not None:
            wanted = strip_optional(expected)
            if wanted == REPOSITORY and REPOSITORY_PATTERN.match(node.value):
                actual = REPOSITORY
            elif wanted == URL:
                if URL_PATTERN.match(node.value):
                    actual = URL
                else:
                    self.reporter.report(
                        "X209",
                        node.span,
                        f"{what} must be a URL, found '{node.value}'",
                        "write an http(s):// or git@ URL",
                    )
                    return URL, Lit(node.value)
        if expected is not None:
            self.expect_fit(actual, expected, node.span, what)
        return actual, Lit(node.value)

    def _list_value(self, node: YSeq, expected: Type | None, what: str) -> tuple[Type, Value]:
        wanted = strip_optional(expected) if expected is not None else None
        elem_expected: Type | None = None
        if isinstance(wanted, ListT):
            elem_expected = wanted.elem
        elif wanted is not None and wanted != ANY:
            self.reporter.report("X209", node.span, f"{what} must be {expected}, found a list")
            wanted = None
        items: list[Value] = []
        elem_type: Type | None = None
        for index, item in enumerate(node.items):
            t, v = self.value(item, elem_expected, f"item {index + 1} of {what}")
            items.append(v)
            elem_type = t if elem_type is None else join(elem_type, t)
        return ListT(elem_type or ANY), ListV(tuple(items))

    def _map_value(self, node: YMap, expected: Type | None, what: str) -> tuple[Type, Value]:
        wanted = strip_optional(expected) if expected is not None else None
        record = wanted if isinstance(wanted, Record) else None
        if wanted is not None and wanted != ANY and record is None:
            self.reporter.report("X209", node.span, f"{what} must be {expected}, found a mapping")
        fields: list[tuple[str, Type]] = []
        entries: list[tuple[str, Value]] = []
        for key, item in node.entries:
            field_expected = None
            if record is not None:
                field_expected = record.field_type(key.text)
                if field_expected is None:
                    self.reporter.report(
                        "X204",
                        key.span,
                        f"{record} has no field '{key.text}'",
                        did_you_mean(key.text, record.field_names()),
                    )
            t, v = self.value(item, field_expected, f"field '{key.text}' of {what}")
            fields.append((key.text, t))
            entries.append((key.text, v))
        if record is not None:
            present = {k for k, _ in fields}
            for name, t in record.fields:
                if name not in present and not isinstance(t, Opt) and t != ANY:
                    self.reporter.report(
                        "X209", node.span, f"{what} lacks field '{name}' of {record}"
                    )
        return Record(None, tuple(fields)), MapV(tuple(entries))

    def _jinja_braces(self, node: YScalar) -> None:
        """`{{ x }}` without the `$`: Jinja's syntax, which a playbook keeps as plain text.
        Only braces around something that parses as an expression are reported."""
        text = node.text
        for match in _JINJA_BRACES.finditer(text):
            try:
                parse_expression(match.group(1))
            except ParseError:
                continue
            span = node.sub_span(match.start(), match.end())
            fixes: tuple[Fix, ...] = ()
            source = node.source
            if source is not None:
                start = source.offset(span.line, span.column)
                end = source.offset(span.end_line, span.end_column)
                if source.text[start:end] == match.group(0):  # located exactly
                    insert = Span(span.line, span.column, span.line, span.column)
                    fixes = (Fix("add '$' to make it an expression", (Edit(insert, "$"),)),)
            self.reporter.report(
                "X214",
                span,
                f"'{match.group(0)}' is Jinja syntax and stays as written",
                f"write '${match.group(0)}' to use the value",
                fixes,
            )

    def _string_value(self, node: YScalar, expected: Type | None, what: str) -> tuple[Type, Value]:
        text = node.value
        assert isinstance(text, str)
        try:
            interpolation = split_template(text)
        except ParseError as error:
            span = node.sub_span(error.start, error.end)
            self.reporter.report("X201", span, error.message, error.hint)
            return ANY, Lit(text)
        self._scalar = node
        parts = interpolation.parts
        embedded = [p for p in parts if isinstance(p, n.Embedded)]
        whole = len(embedded) == 1 and all(
            isinstance(p, n.Embedded) or not p.strip() for p in parts
        )
        if whole:
            emb = embedded[0]
            self._base = emb.offset
            t = self.infer(emb.expr)
            if expected is not None:
                self.expect_fit(t, expected, lambda: self.span(emb.expr), what)
            return t, Ex(emb.expr, emb.source.strip())
        out: list[str | Ex] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            self._base = part.offset
            t = self.infer(part.expr)
            if isinstance(t, Opt) and t.inner in INTERPOLATABLE:
                self.warn_null(self.span(part.expr), "this interpolated value")
            elif t not in INTERPOLATABLE and t != NULL:
                self.reporter.report(
                    "X213",
                    self.span(part.expr),
                    f"a value of type {t} cannot be interpolated into text",
                    "use join(x, ', ') for a list or to_json(x) for anything else",
                )
            out.append(Ex(part.expr, part.source.strip()))
        result = STRING
        if expected is not None:
            self.expect_fit(result, expected, node.span, what)
        return result, Interp(tuple(out))

    # -- expressions -----------------------------------------------------------------

    def infer(self, node: n.Expr) -> Type:
        if isinstance(node, n.Literal):
            return _literal_type(node.value)
        if isinstance(node, n.Name):
            return self._name(node)
        if isinstance(node, n.Attr):
            return self._attr(node)
        if isinstance(node, n.Index):
            return self._index(node)
        if isinstance(node, n.Call):
            return self._call(node)
        if isinstance(node, n.ListLit):
            elem: Type | None = None
            for item in node.items:
                t = self.infer(item)
                elem = t if elem is None else join(elem, t)
            return ListT(elem or ANY)
        if isinstance(node, n.Not):
            self._bool_operand(node.operand, "the operand of '!'")
            return BOOL
        if isinstance(node, n.Logic):
            self._bool_operand(node.left, f"the left side of '{node.op}'")
            self._bool_operand(node.right, f"the right side of '{node.op}'")
            return BOOL
        assert isinstance(node, n.Compare)
        return self._compare(node)

    def _bool_operand(self, node: n.Expr, what: str) -> None:
        self.expect_fit(self.infer(node), BOOL, lambda: self.span(node), what)

    def _name(self, node: n.Name) -> Type:
        name = node.name
        if name == "inputs":
            return Record("inputs", tuple(self.scope.inputs.items()))
        if name == "project":
            return PROJECT
        if name == "session":
            return SESSION
        if name == "steps":
            return Record("steps", ())
        hint = did_you_mean(name, ROOTS)
        if name.lower() in ("true", "false", "null"):
            hint = f"did you mean '{name.lower()}'?"
        elif name in FUNCTIONS:
            hint = f"'{name}' is a function: call it as {name}(...)"
        elif name in self.scope.steps:
            hint = f"did you mean 'steps.{name}.output'?"
        elif name in self.scope.inputs:
            hint = f"did you mean 'inputs.{name}'?"
        self.reporter.report(
            "X202",
            self.span(node),
            f"unknown name '{name}'",
            hint or "expressions start from inputs, steps, project or session",
        )
        return ANY

    def _step_ref(self, node: n.Attr) -> Type:
        step_id = node.name
        info = self.scope.steps.get(step_id)
        if info is None:
            self.reporter.report(
                "X203",
                self.span(node, node.name_start, node.end),
                f"unknown step '{step_id}'",
                did_you_mean(step_id, list(self.scope.steps)),
            )
            return _step_record(ANY)
        self.scope.used_steps.add(step_id)
        if step_id == self.scope.current_id:
            self.reporter.report(
                "X206",
                self.span(node, node.name_start, node.end),
                f"step '{step_id}' refers to its own output",
                "a step can only use the outputs of the steps before it",
            )
        elif self.scope.current_index >= 0 and info.index > self.scope.current_index:
            self.reporter.report(
                "X207",
                self.span(node, node.name_start, node.end),
                f"step '{step_id}' runs after this one",
                "move this step below it, or refer to an earlier step",
            )
        return _step_record(info.output)

    def _attr(self, node: n.Attr) -> Type:
        target = node.target
        if isinstance(target, n.Name) and target.name == "steps":
            return self._step_ref(node)
        base = self.infer(target)
        if base == ANY:
            return ANY
        if isinstance(base, Opt):
            self.warn_null(self.span(target), f"'{_source(self, target)}'")
            base = base.inner
        hint_text: str | None = None
        if isinstance(base, Record):
            found = base.field_type(node.name)
            if found is not None:
                return found
            if base.name == "inputs":
                message = f"unknown input '{node.name}'"
            elif isinstance(target, n.Attr) and _is_step_ref(target):
                message = f"unknown property '{node.name}' of step '{target.name}'"
                hint_text = f"a step has one property: steps.{target.name}.output"
            else:
                message = f"{base} has no property '{node.name}'"
            hint = did_you_mean(node.name, base.field_names())
            if hint is None:
                hint = hint_text
            if hint is None and base.name == "inputs":
                hint = "declare it under inputs: at the top of the playbook"
            self.reporter.report("X204", self.span(node, node.name_start, node.end), message, hint)
            return ANY
        hint = "use length(...), first(...) or x[0]" if isinstance(base, ListT) else None
        name_span = self.span(node, node.name_start, node.end)
        self.reporter.report("X204", name_span, f"{base} has no property '{node.name}'", hint)
        return ANY

    def _index(self, node: n.Index) -> Type:
        base = self.infer(node.target)
        index = self.infer(node.index)
        if isinstance(base, Opt):
            self.warn_null(self.span(node.target), f"'{_source(self, node.target)}'")
            base = base.inner
        if base == ANY:
            return ANY
        if isinstance(base, ListT):
            self.expect_fit(index, INT, lambda: self.span(node.index), "a list index")
            return base.elem
        if isinstance(base, Record) and isinstance(node.index, n.Literal):
            key = node.index.value
            found = base.field_type(key) if isinstance(key, str) else None
            if found is not None:
                return found
        self.reporter.report("X209", self.span(node), f"a {base} cannot be indexed like this")
        return ANY

    def _call(self, node: n.Call) -> Type:
        function = FUNCTIONS.get(node.func)
        arg_types = [self.infer(arg) for arg in node.args]
        if function is None:
            self.reporter.report(
                "X205",
                self.span(node, node.start, node.func_end),
                f"unknown function '{node.func}'",
                did_you_mean(node.func, list(FUNCTIONS))
                or f"functions: {', '.join(sorted(FUNCTIONS))}",
            )
            return ANY
        if len(arg_types) != function.arity:
            plural = "s" if function.arity != 1 else ""
            self.reporter.report(
                "X208",
                self.span(node),
                f"{node.func}() takes {function.arity} argument{plural}, got {len(arg_types)}",
                f"{node.func}{function.signature}",
            )
            return _fallback_result(node.func)
        return function.infer(_CallArgs(self, node, arg_types))

    def _compare(self, node: n.Compare) -> Type:
        left, right = self.infer(node.left), self.infer(node.right)
        if node.op in ("==", "!="):
            if NULL in (left, right) or ANY in (left, right):
                return BOOL
            if fits(left, right) is Fit.NO and fits(right, left) is Fit.NO:
                self.reporter.report(
                    "X209",
                    self.span(node),
                    f"comparing {left} with {right} is always {_never(node.op)}",
                )
            return BOOL
        for side, t in ((node.left, left), (node.right, right)):
            if isinstance(t, Opt):
                self.warn_null(self.span(side), f"the operand of '{node.op}'")
        a, b = strip_optional(left), strip_optional(right)
        numeric = a in _COMPARABLE_ORDER and b in _COMPARABLE_ORDER
        textual = a in (STRING, TEXT, URL, REPOSITORY) and b in (STRING, TEXT, URL, REPOSITORY)
        if not (numeric or textual or ANY in (a, b)):
            self.reporter.report(
                "X209",
                self.span(node),
                f"'{node.op}' compares numbers or strings, not {a} and {b}",
            )
        return BOOL


STEP_RECORD = "step"


def _step_record(output: Type) -> Record:
    """What `steps.<id>` is: a record whose one field is the step's output."""
    return Record(STEP_RECORD, (("output", output),))


def _is_step_ref(node: n.Expr) -> bool:
    return (
        isinstance(node, n.Attr) and isinstance(node.target, n.Name) and node.target.name == "steps"
    )


def _never(op: str) -> str:
    return "false" if op == "==" else "true"


def _source(checker: ExprChecker, node: n.Node) -> str:
    scalar = checker._scalar
    assert scalar is not None
    assert isinstance(scalar.value, str)
    return scalar.value[checker._base + node.start : checker._base + node.end]


def _fallback_result(func: str) -> Type:
    return {"length": INT, "join": STRING, "contains": BOOL, "to_json": STRING}.get(
        func, ListT(STRING) if func in ("lines", "sql_blocks") else ANY
    )
