"""Checking a whole playbook: identity, inputs, steps in order, outputs."""

from __future__ import annotations

from pathlib import PurePath

from dsl.check.checked import CheckedInput, CheckedPlaybook, CheckedStep
from dsl.check.expressions import ExprChecker, Scope, StepInfo
from dsl.check.instructions import (
    InstructionResult,
    StepContext,
    check_data_query,
    check_generate,
    check_skill,
    check_store,
)
from dsl.check.structure import describe_node, validate
from dsl.diagnostics import Reporter
from dsl.expr.parser import OPEN
from dsl.library import Library
from dsl.source import SourceFile, YMap, YNode, YScalar, YSeq
from dsl.syntax import INSTRUCTIONS, Input, PlaybookHead, Step, allowed_keys
from dsl.types import (
    ANY,
    BOOL,
    STRING,
    Fit,
    Type,
    TypeSyntaxError,
    fits,
    is_optional,
    optional,
    parse_type,
)
from dsl.values import Lit, Value

# Keys whose values the checker must know without running anything.
_STATIC_KEYS = {
    "playbook": ("id", "name", "role", "description"),
    "step": ("id",),
    "store": ("type",),
    "skill-invoke": ("skill",),
    "generate": ("template",),
    "data-query": ("operation", "source"),
    "remember": ("type",),
    "input": ("type", "description"),
}


def _no_expressions(node: YMap, keys: tuple[str, ...], reporter: Reporter) -> None:
    for key in keys:
        value = node.get(key)
        if isinstance(value, YScalar) and isinstance(value.value, str) and OPEN in value.value:
            reporter.report(
                "S110",
                value.span,
                f"'{key}' must be a fixed value, not an expression",
                "the checker needs this value before anything runs; write it out",
            )


class PlaybookChecker:
    def __init__(self, source: SourceFile, library: Library, reporter: Reporter) -> None:
        self.source = source
        self.library = library
        self.reporter = reporter
        self.reported_templates: set[str] = set()

    def check(self, root: YNode) -> CheckedPlaybook | None:
        if not isinstance(root, YMap):
            self.reporter.report(
                "Y006",
                root.span,
                f"a playbook must be a YAML mapping, found {describe_node(root)}",
                "start with 'id:', 'name:' and 'steps:'",
            )
            return None
        _no_expressions(root, _STATIC_KEYS["playbook"], self.reporter)
        head = validate(PlaybookHead, root, self.reporter, "playbook")
        self._check_file_name(root)
        inputs = self._inputs(root)
        steps_node = root.get("steps")
        steps: list[CheckedStep] = []
        scope = Scope({i.name: i.type for i in inputs}, {})
        exprs = ExprChecker(self.reporter, scope)
        if isinstance(steps_node, YSeq):
            steps = self._steps(steps_node, scope, exprs)
        outputs = self._outputs(root, scope, exprs)
        if head is None:
            return None
        return CheckedPlaybook(
            id=head.id,
            name=head.name,
            role=head.role,
            version=head.version,
            description=head.description,
            inputs=tuple(inputs),
            steps=tuple(steps),
            outputs=tuple(outputs),
        )

    def _check_file_name(self, root: YMap) -> None:
        id_node = root.get("id")
        stem = PurePath(self.source.path).name
        for suffix in (".yaml", ".yml"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        else:
            return  # not a playbook file name (stdin, a test string)
        if (
            isinstance(id_node, YScalar)
            and isinstance(id_node.value, str)
            and id_node.value != stem
        ):
            self.reporter.report(
                "S108",
                id_node.span,
                f"playbook id '{id_node.value}' differs from its file name '{stem}'",
                f"rename the file to '{id_node.value}.yaml' or set 'id: {stem}'",
            )

    def _inputs(self, root: YMap) -> list[CheckedInput]:
        node = root.get("inputs")
        if not isinstance(node, YMap):
            return []
        result: list[CheckedInput] = []
        scope = Scope({}, {})
        exprs = ExprChecker(self.reporter, scope)
        for key, body in node.entries:
            if isinstance(body, YMap):
                _no_expressions(body, _STATIC_KEYS["input"], self.reporter)
            model = validate(Input, body, self.reporter, f"input '{key.text}'")
            if model is None:
                result.append(CheckedInput(key.text, ANY, False, None, ""))
                continue
            assert isinstance(body, YMap)
            try:
                input_type = parse_type(model.type, self.library.records)
            except TypeSyntaxError as error:
                type_node = body.get("type")
                span = type_node.span if type_node else key.span
                self.reporter.report("S111", span, error.message, error.hint)
                input_type = ANY
            has_default = body.key("default") is not None
            if has_default:
                default_node = body.get("default")
                assert default_node is not None
                exprs.value(default_node, input_type, f"the default of input '{key.text}'")
            required = not has_default and not is_optional(input_type)
            result.append(
                CheckedInput(key.text, input_type, required, model.default, model.description)
            )
        return result

    def _steps(self, node: YSeq, scope: Scope, exprs: ExprChecker) -> list[CheckedStep]:
        first_line: dict[str, int] = {}
        ids: list[str | None] = []
        duplicates: set[int] = set()
        for index, item in enumerate(node.items):
            id_node = item.get("id") if isinstance(item, YMap) else None
            text = id_node.value if isinstance(id_node, YScalar) else None
            if isinstance(text, str) and isinstance(id_node, YScalar):
                if text in first_line:
                    self.reporter.report(
                        "S105",
                        id_node.span,
                        f"duplicate step id '{text}'",
                        f"the first '{text}' is at line {first_line[text]}; ids must be unique",
                    )
                    duplicates.add(index)  # still checked, but never what `steps.<id>` means
                    ids.append(text)
                    continue
                first_line[text] = id_node.span.line
                ids.append(text)
            else:
                ids.append(None)
        # Every id is known up front so that a reference to a later step is reported as
        # such; its type becomes known when the checker reaches it.
        for index, step_id in enumerate(ids):
            if step_id is not None and index not in duplicates:
                scope.steps[step_id] = StepInfo(index, ANY)
        checked: list[CheckedStep] = []
        for index, item in enumerate(node.items):
            step = self._step(index, item, ids[index], scope, exprs)
            if step is not None and index not in duplicates:
                scope.steps[step.id] = StepInfo(index, step.output_type)
                checked.append(step)
        return checked

    def _step(
        self, index: int, node: YNode, step_id: str | None, scope: Scope, exprs: ExprChecker
    ) -> CheckedStep | None:
        if not isinstance(node, YMap):
            self.reporter.report(
                "S103", node.span, f"a step must be a mapping, found {describe_node(node)}"
            )
            return None
        _no_expressions(node, _STATIC_KEYS["step"], self.reporter)
        present = [(k, v) for k, v in node.entries if k.text in INSTRUCTIONS]
        model = validate(Step, node, self.reporter, "step")
        scope.current_index = index
        scope.current_id = step_id
        if not present:
            unknown = [k for k in node.key_names() if k not in allowed_keys(Step)]
            if not unknown:
                first_key = node.entries[0][0] if node.entries else None
                self.reporter.report(
                    "S106",
                    first_key.span if first_key else node.span,
                    f"step '{step_id or index + 1}' has no instruction",
                    f"add one of: {', '.join(INSTRUCTIONS)}",
                )
            return None
        if len(present) > 1:
            names = ", ".join(k.text for k, _ in present)
            self.reporter.report(
                "S107",
                present[1][0].span,
                f"step '{step_id or index + 1}' has several instructions ({names})",
                "split it into one step per instruction",
            )
            return None
        key, body = present[0]
        if isinstance(body, YScalar) and body.value is None and not body.invalid:
            self.reporter.report(
                "S103",
                key.span,
                f"'{key.text}' must be a mapping, found nothing (null)",
                f"give '{key.text}' its keys, indented below it",
            )
            return None
        if isinstance(body, YMap):
            _no_expressions(body, _STATIC_KEYS[key.text], self.reporter)
            remember = body.get("remember")
            if isinstance(remember, YMap):
                _no_expressions(remember, _STATIC_KEYS["remember"], self.reporter)
            elif isinstance(remember, YScalar) and remember.value is None:
                remember_key = body.key("remember")
                assert remember_key is not None
                self.reporter.report(
                    "S103",
                    remember_key.span,
                    "'remember' must be a mapping, found nothing (null)",
                    "give it at least 'type:', or remove it",
                )
        if model is None or step_id is None or not isinstance(body, YMap):
            return None

        condition: Value | None = None
        conditional = False
        if (if_node := node.get("if")) is not None:
            conditional = True
            condition = self._condition(if_node, exprs)

        title = model.title or model.id
        title_value: Value | None = None
        title_node = node.get("title")
        if title_node is not None and OPEN in title:
            title_value = exprs.value(title_node, STRING, "the step title")[1]
        ctx = StepContext(
            self.reporter, self.library, exprs, node, body, key, title, self.reported_templates
        )
        result: InstructionResult
        if model.store is not None:
            result = check_store(ctx, model.store)
        elif model.skill_invoke is not None:
            result = check_skill(ctx, model.skill_invoke)
        elif model.generate is not None:
            result = check_generate(ctx, model.generate)
        else:
            assert model.data_query is not None
            result = check_data_query(ctx, model.data_query)

        output: Type = optional(result.output_type) if conditional else result.output_type
        return CheckedStep(
            id=step_id,
            title=title,
            title_value=title_value,
            index=index,
            kind=key.text,
            condition=condition,
            args=tuple(result.args),
            static=tuple(result.static),
            output_type=output,
            remember=result.remember,
        )

    def _condition(self, node: YNode, exprs: ExprChecker) -> Value:
        condition_type, value = exprs.value(node, None, "the condition")
        fit = fits(condition_type, BOOL)
        if fit is Fit.NO:
            plain = isinstance(value, Lit) and isinstance(value.value, str)
            self.reporter.report(
                "X210",
                node.span,
                f"'if:' must be a bool, found {condition_type}",
                "write the condition inside ${{ }}"
                if plain
                else "compare it, e.g. length(x) > 0, or use contains(...)",
            )
        elif fit is Fit.IF_NOT_NULL:
            exprs.warn_null(node.span, "the condition")
        return value

    def _outputs(self, root: YMap, scope: Scope, exprs: ExprChecker) -> list[tuple[str, Value]]:
        node = root.get("outputs")
        if not isinstance(node, YMap):
            return []
        scope.current_index = -1
        scope.current_id = None
        return [(k.text, exprs.value(v, None, f"output '{k.text}'")[1]) for k, v in node.entries]
