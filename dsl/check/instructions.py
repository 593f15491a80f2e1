"""Checks of the four instructions: store, skill-invoke, generate, data-query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsl.check.checked import CheckedRemember
from dsl.check.expressions import ExprChecker
from dsl.check.structure import describe_node
from dsl.diagnostics import Reporter, closest, did_you_mean
from dsl.expr.parser import OPEN
from dsl.library import Library, Param
from dsl.source import YMap, YNode, YScalar, YSeq
from dsl.span import Span
from dsl.syntax import DataQuery, Generate, Remember, SkillInvoke, Store
from dsl.templates import TemplateSig, read_signature
from dsl.types import (
    ANY,
    REPOSITORY,
    REPOSITORY_PATTERN,
    STRING,
    TEXT,
    URL,
    URL_PATTERN,
    Fit,
    ListT,
    Type,
    TypeSyntaxError,
    fits,
    parse_type,
    strip_optional,
)
from dsl.values import Interp, ListV, Lit, Value


@dataclass
class InstructionResult:
    output_type: Type
    args: list[tuple[str, Value]] = field(default_factory=list)
    static: list[tuple[str, Any]] = field(default_factory=list)
    remember: CheckedRemember | None = None


@dataclass
class StepContext:
    reporter: Reporter
    library: Library
    exprs: ExprChecker
    step_node: YMap
    body: YMap  # the instruction's mapping
    key: YScalar  # the instruction key, for errors about the instruction as a whole
    title: str
    reported_templates: set[str]

    def node(self, key: str) -> YNode | None:
        return self.body.get(key)

    def span_of(self, key: str) -> Span:
        node = self.body.get(key)
        return node.span if node is not None else self.key.span


def read_type(ctx: StepContext, key: str, text: str) -> Type:
    if OPEN in text:
        return ANY  # S110 already reported
    try:
        return parse_type(text, ctx.library.records)
    except TypeSyntaxError as error:
        ctx.reporter.report("S111", ctx.span_of(key), error.message, error.hint)
        return ANY


def _remember(ctx: StepContext, model: Remember | None) -> CheckedRemember | None:
    if model is None:
        return None
    node = ctx.body.get("remember")
    assert isinstance(node, YMap)
    kinds = ctx.library.memory_types
    if model.type not in kinds and OPEN not in model.type:
        type_node = node.get("type")
        ctx.reporter.report(
            "M601",
            type_node.span if type_node else node.span,
            f"unknown memory type '{model.type}'",
            did_you_mean(model.type, kinds) or f"memory types: {', '.join(kinds)}",
        )
    title = tags = None
    if (title_node := node.get("title")) is not None:
        title = ctx.exprs.value(title_node, STRING, "the memory title")[1]
    if (tags_node := node.get("tags")) is not None:
        tags = ctx.exprs.value(tags_node, ListT(STRING), "the memory tags")[1]
    return CheckedRemember(model.type, title, tags)


def check_store(ctx: StepContext, model: Store) -> InstructionResult:
    answer = read_type(ctx, "type", model.type)
    result = InstructionResult(answer, static=[("type", str(answer))])
    prompt = ctx.node("prompt")
    assert prompt is not None
    if isinstance(prompt, YScalar) and isinstance(prompt.value, str) and not prompt.value.strip():
        ctx.reporter.report("S109", prompt.span, "'prompt' must not be empty", "say what to ask")
    result.args.append(("prompt", ctx.exprs.value(prompt, TEXT, "the prompt")[1]))
    choices_fit = True
    if (choices := ctx.node("choices")) is not None:
        base = strip_optional(answer)
        element = base.elem if isinstance(base, ListT) else base
        wanted = ListT(element)
        if isinstance(choices, YSeq) and not choices.invalid:
            value: Value = _literal_choices(ctx, choices, element)
        else:
            choice_type, value = ctx.exprs.value(choices, None, "choices")
            fit = fits(choice_type, wanted)
            if fit is Fit.NO:
                choices_fit = False
                ctx.reporter.report(
                    "X211",
                    choices.span,
                    f"choices must be {wanted} for an answer of type {answer}, found {choice_type}",
                    "give a list of allowed answers, or change the step's type",
                )
            elif fit is Fit.IF_NOT_NULL:
                ctx.exprs.warn_null(choices.span, "choices")
        result.args.append(("choices", value))
    if (default := ctx.node("default")) is not None:
        default_type, default_value = ctx.exprs.value(default, answer, "the default answer")
        result.args.append(("default", default_value))
        if choices_fit and fits(default_type, answer) is Fit.YES:
            _default_among_choices(ctx, default, default_value, dict(result.args).get("choices"))
    result.remember = _remember(ctx, model.remember)
    return result


def _literal_choices(ctx: StepContext, node: YSeq, element: Type) -> Value:
    """Each literal choice must be an answer of the element type; YAML's yes/no/on/off
    are booleans, which is the usual surprise here."""
    items: list[Value] = []
    wrong: list[tuple[YNode, str, str | None]] = []
    for item in node.items:
        item_type, value = ctx.exprs.value(item, None, "a choice")
        items.append(value)
        scalar = item if isinstance(item, YScalar) else None
        if scalar is not None and isinstance(scalar.value, str) and strip_optional(element) == URL:
            if not URL_PATTERN.match(scalar.value):
                wrong.append((item, f"choice '{scalar.value}' is not a URL", None))
            continue
        repository = strip_optional(element) == REPOSITORY
        if scalar is not None and isinstance(scalar.value, str) and repository:
            if not REPOSITORY_PATTERN.match(scalar.value):
                shown = f"choice '{scalar.value}'"
                wrong.append((item, f"{shown} is neither a URL nor an absolute path", None))
            continue
        if fits(item_type, element) is Fit.NO:
            hint = None
            if scalar is not None and isinstance(scalar.value, bool):
                hint = f"YAML reads {scalar.text} as a boolean; quote it: '{scalar.text}'"
            shown = f"choice '{scalar.text}'" if scalar is not None else "this choice"
            wrong.append((item, f"{shown} is {describe_node(item)}, not a {element}", hint))
    if wrong:
        # One report for the list: the first wrong choice, and how many more there are.
        first, message, hint = wrong[0]
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        ctx.reporter.report("X211", first.span, message + more, hint)
    return ListV(tuple(items))


def _default_among_choices(
    ctx: StepContext, node: YNode, default: Value, choices: Value | None
) -> None:
    """A literal default must be one of literal choices (each element, for a list)."""
    if not isinstance(choices, ListV) or not all(isinstance(c, Lit) for c in choices.items):
        return
    allowed = [c.value for c in choices.items if isinstance(c, Lit)]
    picked: list[Value] = list(default.items) if isinstance(default, ListV) else [default]
    for item in picked:
        if isinstance(item, Lit) and item.value not in allowed:
            ctx.reporter.report(
                "X211",
                node.span,
                f"the default {item.value!r} is not one of the choices",
                f"choices: {', '.join(repr(a) for a in allowed)}",
            )
            return


def _check_arguments(
    ctx: StepContext,
    params: tuple[Param, ...],
    owner: str,
    codes: tuple[str, str],
    result: InstructionResult,
    noun: str = "input",
) -> None:
    """Type `with:` against declared parameters; codes are (missing, unknown)."""
    missing_code, unknown_code = codes
    with_node = ctx.node("with")
    supplied: dict[str, tuple[YScalar, YNode]] = {}
    if isinstance(with_node, YMap):
        supplied = {k.text: (k, v) for k, v in with_node.entries}
    by_name = {p.name: p for p in params}
    misspelt: set[str] = set()  # declared names that an unknown supplied name is close to
    for name, (key, value_node) in supplied.items():
        param = by_name.get(name)
        if param is None:
            meant = closest(name, list(by_name))
            if meant is not None and meant not in supplied:
                misspelt.add(meant)
            ctx.reporter.report(
                unknown_code,
                key.span,
                f"{owner} has no {noun} '{name}'",
                f"did you mean '{meant}'?"
                if meant
                else (f"{noun}s: {', '.join(by_name)}" if by_name else f"{owner} takes no {noun}s"),
            )
            result.args.append((name, ctx.exprs.value(value_node, None, f"'{name}'")[1]))
            continue
        value = ctx.exprs.value(value_node, param.type, f"{noun} '{name}' of {owner}")[1]
        result.args.append((name, value))
    if with_node is None and ctx.step_node.key("with") is not None:
        return  # `with:` was written on the step (S101 says so); nothing is really missing
    for param in params:
        if param.required and param.name not in supplied and param.name not in misspelt:
            span = with_node.span if with_node is not None else ctx.key.span
            where = ctx.body.key("with")
            ctx.reporter.report(
                missing_code,
                where.span if where is not None else span,
                f"{owner} needs {noun} '{param.name}' ({param.type})",
                f"add '{param.name}:' under with:",
            )


def check_skill(ctx: StepContext, model: SkillInvoke) -> InstructionResult:
    skill = ctx.library.skills.get(model.skill)
    if skill is None and OPEN not in model.skill:
        ctx.reporter.report(
            "K401",
            ctx.span_of("skill"),
            f"unknown skill '{model.skill}'",
            did_you_mean(model.skill, list(ctx.library.skills))
            or f"skills: {', '.join(sorted(ctx.library.skills))}",
        )
    if skill is None:
        result = InstructionResult(ANY, static=[("skill", model.skill)])
        for name, value_node in _with_entries(ctx):
            result.args.append((name, ctx.exprs.value(value_node, None, f"'{name}'")[1]))
        return result
    result = InstructionResult(skill.result, static=[("skill", skill.name)])
    _check_arguments(
        ctx, skill.params, f"skill '{skill.name}'", ("K402", "K403"), result, noun="argument"
    )
    return result


def _with_entries(ctx: StepContext) -> list[tuple[str, YNode]]:
    with_node = ctx.node("with")
    return [(k.text, v) for k, v in with_node.entries] if isinstance(with_node, YMap) else []


def _template_sig(ctx: StepContext, name: str) -> TemplateSig | None:
    template = ctx.library.templates.get(name)
    if template is None and OPEN in name:
        return None  # S110 already reported
    if template is None:
        ctx.reporter.report(
            "T301",
            ctx.span_of("template"),
            f"unknown template '{name}'",
            did_you_mean(name, list(ctx.library.templates))
            or f"templates: {', '.join(sorted(ctx.library.templates))}",
        )
        return None
    sig = read_signature(template, ctx.library.records)
    if sig.problems and template.path not in ctx.reported_templates:
        ctx.reported_templates.add(template.path)
        for problem in sig.problems:
            ctx.reporter.report_in(
                problem.path, problem.code, problem.span, problem.message, problem.hint
            )
    return sig


def check_generate(ctx: StepContext, model: Generate) -> InstructionResult:
    sig = _template_sig(ctx, model.template)
    result = InstructionResult(TEXT, static=[("template", model.template)])
    if sig is None or any(p.code == "T305" for p in sig.problems):
        for name, value_node in _with_entries(ctx):
            result.args.append((name, ctx.exprs.value(value_node, None, f"'{name}'")[1]))
    else:
        result.static.append(("output_format", sig.output))
        _check_arguments(ctx, sig.inputs, f"template '{sig.name}'", ("T302", "T303"), result)
    result.remember = _remember(ctx, model.remember)
    return result


_NEEDS = {"describe-tables": "tables", "execute-query": "sql"}
_USES = {
    "list-tables": {"database"},
    "describe-tables": {"database", "tables"},
    "execute-query": {"database", "sql"},
}


def check_data_query(ctx: StepContext, model: DataQuery) -> InstructionResult:
    static: list[tuple[str, Any]] = [("operation", model.operation)]
    if model.source is not None:
        static.append(("source", model.source))
        known = ctx.library.data_sources
        if known is not None and model.source not in known and OPEN not in model.source:
            ctx.reporter.report(
                "D501",
                ctx.span_of("source"),
                f"unknown data source '{model.source}'",
                did_you_mean(model.source, set(known))
                or (f"configured sources: {', '.join(sorted(known))}" if known else None),
            )
    output: Type
    if model.operation == "list-tables":
        output = ListT(STRING)
    elif model.operation == "describe-tables":
        output = ListT(ctx.library.records["TableSchema"])
    else:
        output = ctx.library.records["QueryResult"]
    result = InstructionResult(output, static=static)

    needed = _NEEDS.get(model.operation)
    if needed is not None and ctx.node(needed) is None:
        ctx.reporter.report(
            "D502",
            ctx.span_of("operation"),
            f"operation '{model.operation}' needs '{needed}'",
            f"add '{needed}:' to the data-query",
        )
    for key in ("database", "tables", "sql"):
        node = ctx.node(key)
        if node is None:
            continue
        if key not in _USES[model.operation]:
            key_node = ctx.body.key(key)
            ctx.reporter.report(
                "D504",
                key_node.span if key_node else node.span,
                f"'{key}' is not used by operation '{model.operation}'",
                "remove it",
            )
        if key == "database":
            result.args.append((key, ctx.exprs.value(node, STRING, "the database")[1]))
        elif key == "tables":
            result.args.append((key, ctx.exprs.value(node, ListT(STRING), "the tables")[1]))
        else:
            sql_type, value = ctx.exprs.value(node, None, "the SQL")
            result.args.append((key, value))
            if model.operation == "execute-query":
                result.output_type = _query_output(ctx, node, sql_type, output)
            _guard_literals(ctx, node, value)
    return result


def _query_output(ctx: StepContext, node: YNode, sql_type: Type, single: Type) -> Type:
    base = strip_optional(sql_type)
    if base == ANY:
        return ANY
    if fits(base, STRING) is Fit.YES:
        return single
    if isinstance(base, ListT) and fits(base.elem, STRING) is not Fit.NO:
        return ListT(single)
    ctx.reporter.report(
        "X209", node.span, f"the SQL must be string or list<string>, found {sql_type}"
    )
    return ANY


# Stands in for each `${{ }}` when SQL built by interpolation is checked: a name is valid
# SQL wherever a value, a table or a column may go.
_PLACEHOLDER = "codifier_value"


def _guard_literals(ctx: StepContext, node: YNode, value: Value) -> None:
    """Run the read-only guard on SQL known before running: literal strings, and the
    fixed text of interpolated ones (`DELETE FROM ${{ t }}` is a write whatever t is)."""
    if isinstance(value, ListV) and not value.items:
        ctx.reporter.report(
            "D502", node.span, "the list of SQL queries is empty", "give at least one query"
        )
        return
    guard = ctx.library.sql_guard
    if guard is None:
        return
    pairs: list[tuple[YNode, Value]] = [(node, value)]
    if isinstance(value, ListV) and isinstance(node, YSeq):
        pairs = list(zip(node.items, value.items, strict=True))
    for item_node, item in pairs:
        if isinstance(item, Lit) and isinstance(item.value, str):
            reason = guard(item.value)
        elif isinstance(item, Interp):
            sql = "".join(p if isinstance(p, str) else _PLACEHOLDER for p in item.parts)
            reason = guard(sql)
            if reason is not None and reason.startswith("it does not parse"):
                reason = None  # the placeholder may not fit; the run-time guard decides
        else:
            continue
        if reason is not None:
            ctx.reporter.report(
                "D503",
                item_node.span,
                f"SQL is not a single read-only query: {reason}",
                "data-query runs one SELECT (or WITH ... SELECT) per string",
            )
