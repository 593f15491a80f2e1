"""The interpreter: a pure state machine over a compiled Program.

Given the program, the inputs and a JSON state, it returns the next effect: ask the
person (store), ask the client's LLM (generate), call a skill or query data (server-side
effects the host runs and feeds back), done, or failed. The state is a small JSON
document the host persists after every transition; any process can resume it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.artifacts import check_artifact
from dsl.conform import complete, json_schema, mismatch
from dsl.evaluate import Env, evaluate
from dsl.expr.nodes import Attr, Name
from dsl.functions import EvalError
from dsl.ir import Program, StepIR
from dsl.library import Library
from dsl.templates import RenderError, read_signature, render
from dsl.types import ListT, Type, parse_type, strip_optional

STATE_VERSION = 1


class InputError(ValueError):
    """The inputs given to start a run do not fit the playbook's declared inputs."""


class AnswerError(ValueError):
    """An answer that does not fit the current step; the state is unchanged."""


@dataclass(frozen=True, slots=True)
class StepRef:
    id: str
    title: str
    index: int
    count: int


@dataclass(frozen=True, slots=True)
class Ask:
    step: StepRef
    prompt: str
    answer_type: str
    expects: dict[str, Any]
    choices: list[Any] | None = None
    default: Any = None
    notice: str | None = None  # why the run came back to this question


@dataclass(frozen=True, slots=True)
class Generate:
    step: StepRef
    template: str
    prompt: str
    output_format: str
    schema: dict[str, Any] | None = field(default=None, hash=False)  # what an artifact must fit


@dataclass(frozen=True, slots=True)
class InvokeSkill:
    step: StepRef
    skill: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QueryData:
    step: StepRef
    operation: str
    source: str | None
    database: str | None
    tables: list[str] | None
    sql: str | list[str] | None


@dataclass(frozen=True, slots=True)
class Done:
    outputs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Failed:
    step: StepRef | None
    error: str


Effect = Ask | Generate | InvokeSkill | QueryData | Done | Failed


@dataclass(frozen=True, slots=True)
class MemoryWrite:
    """A `remember:` to carry out: save this as a memory of the run's project."""

    step_id: str
    memory_type: str
    title: str
    content: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Transition:
    state: dict[str, Any]
    effect: Effect
    memories: tuple[MemoryWrite, ...] = ()


def status_of(effect: Effect) -> str:
    if isinstance(effect, Ask):
        return "awaiting_input"
    if isinstance(effect, Generate):
        return "awaiting_generation"
    if isinstance(effect, InvokeSkill | QueryData):
        return "running"
    if isinstance(effect, Done):
        return "completed"
    return "failed"


class Interpreter:
    def __init__(self, program: Program, library: Library) -> None:
        self.program = program
        self.library = library

    # -- public ---------------------------------------------------------------------

    def start(
        self,
        inputs: Mapping[str, Any],
        project: Mapping[str, Any],
        session: Mapping[str, Any],
    ) -> Transition:
        state = {
            "version": STATE_VERSION,
            "pc": 0,
            "status": "running",
            "inputs": self._inputs(inputs),
            "outputs": {},
            "project": dict(project),
            "session": dict(session),
            "error": None,
        }
        return self._advance(state)

    def current(self, state: Mapping[str, Any]) -> Effect:
        """The effect the state is waiting on (recomputed: the same every time)."""
        if state["status"] == "completed":
            return Done(self._outputs(dict(state)))
        if state["status"] == "failed":
            pc = state["pc"]
            ref = self._ref(self.program.steps[pc]) if pc < len(self.program.steps) else None
            return Failed(ref, str(state["error"]))
        effect = self._advance(dict(state)).effect
        notice = state.get("notice")
        return _with_notice(effect, notice) if isinstance(notice, str) else effect

    def resume(self, saved: Mapping[str, Any], value: Any) -> Transition:
        """Feed the answer (or skill/query result) for the current step."""
        state: dict[str, Any] = json.loads(json.dumps(saved))  # the caller's stays as it was
        if state["status"] in ("completed", "failed"):
            raise AnswerError(f"the run is {state['status']}; there is nothing to answer")
        state.pop("notice", None)
        step = self.program.steps[state["pc"]]
        env = self._env(state)
        if step.kind == "store":
            value = self._check_answer(step, env, value)
        elif step.kind == "generate":
            if not isinstance(value, str):
                raise AnswerError(f"step '{step.id}' needs the generated artifact as text")
            self._check_artifact(step, value)
        else:
            result_type = strip_optional(self._type(step.output_type))
            problem = mismatch(value, result_type, "the result")
            if problem:
                return self._fail(state, step, f"{step.kind} '{self._what(step)}': {problem}")
            value = complete(value, result_type)
        memories: tuple[MemoryWrite, ...] = ()
        try:
            if step.remember is not None:
                memories = (self._memory(step, env, value),)
        except EvalError as error:
            return self._fail(state, step, str(error))
        state["outputs"][step.id] = value
        state["pc"] += 1
        transition = self._advance(state)
        return Transition(transition.state, transition.effect, memories)

    def rewind(self, saved: Mapping[str, Any], step_id: str) -> Transition:
        """Go back to an earlier step that asks the client (a store or a generate): its
        output and every later one are dropped, and the run waits on that step again. A
        completed or failed run may be rewound too (a failed one to fix an earlier answer)."""
        state: dict[str, Any] = json.loads(json.dumps(saved))
        steps = self.program.steps
        index = next((i for i, step in enumerate(steps) if step.id == step_id), None)
        if index is None:
            raise AnswerError(f"the playbook has no step '{step_id}'")
        step = steps[index]
        if step.kind not in ("store", "generate"):
            raise AnswerError(
                f"step '{step_id}' runs on the server ({step.kind}); rewind to a store or"
                " generate step before it"
            )
        current = state["pc"]
        if index > current or (index == current and state["status"] not in ("failed",)):
            raise AnswerError(
                f"step '{step_id}' is not before the session's current step; only an earlier"
                " step can be rewound to"
            )
        state.pop("notice", None)
        kept = {s.id for s in steps[:index]}
        state["outputs"] = {k: v for k, v in state["outputs"].items() if k in kept}
        state["pc"] = index
        state["status"] = "running"
        state["error"] = None
        return self._advance(state)

    def send_back(self, saved: Mapping[str, Any], reason: str) -> Transition:
        """A server-side step could not use an earlier answer: go back to the latest
        question (store step) its arguments depend on, saying why; fail when none does."""
        state: dict[str, Any] = json.loads(json.dumps(saved))
        steps = self.program.steps
        step = steps[state["pc"]]
        used = _referenced_steps(step)
        earlier = [s for s in steps[: state["pc"]] if s.kind == "store" and s.id in used]
        if not earlier:
            return self._fail(state, step, reason)
        notice = f"step '{step.id}' could not use this answer: {reason}"
        back = self.rewind(state, earlier[-1].id)
        back.state["notice"] = notice  # kept until the question is answered
        return Transition(back.state, _with_notice(back.effect, notice), back.memories)

    def fail(self, saved: Mapping[str, Any], error: str) -> Transition:
        """A server-side effect could not be carried out."""
        state: dict[str, Any] = json.loads(json.dumps(saved))
        return self._fail(state, self.program.steps[state["pc"]], error)

    # -- running --------------------------------------------------------------------

    def _advance(self, state: dict[str, Any]) -> Transition:
        steps = self.program.steps
        while state["pc"] < len(steps):
            step = steps[state["pc"]]
            env = self._env(state)
            try:
                if step.condition is not None:
                    condition = evaluate(step.condition, env)
                    if condition is not True:
                        if condition is not False:
                            raise EvalError(f"the condition is {condition!r}, not a bool")
                        state["outputs"][step.id] = None
                        state["pc"] += 1
                        continue
                effect = self._effect(step, env)
            except (EvalError, RenderError) as error:
                return self._fail(state, step, str(error))
            state["status"] = status_of(effect)
            return Transition(state, effect)
        try:
            outputs = self._outputs(state)
        except EvalError as error:
            state["status"] = "failed"
            state["error"] = f"outputs: {error}"
            return Transition(state, Failed(None, state["error"]))
        state["status"] = "completed"
        return Transition(state, Done(outputs))

    def _effect(self, step: StepIR, env: Env) -> Effect:
        ref = self._ref(step, env)
        args = {name: evaluate(value, env) for name, value in step.args}
        if step.kind == "store":
            answer = self._type(step.setting("type"))
            prompt = str(args["prompt"])
            choices = args.get("choices")
            if isinstance(choices, list) and not choices:
                raise EvalError(
                    f"step '{step.id}' has no choices to offer (its choices came out empty),"
                    " so no answer is possible; start a new run with other inputs, or rewind"
                    " to an earlier step"
                )
            return Ask(
                ref,
                prompt=prompt,
                answer_type=str(answer),
                expects=answer_schema(answer, prompt, choices, args.get("default")),
                choices=choices,
                default=args.get("default"),
            )
        if step.kind == "generate":
            name = step.setting("template")
            template = self.library.templates.get(name)
            if template is None:
                raise EvalError(f"template '{name}' is not installed on this server")
            sig = read_signature(template, self.library.records)
            for param in sig.inputs:
                if param.name in args:
                    problem = mismatch(args[param.name], param.type, f"input '{param.name}'")
                    if problem:
                        raise EvalError(problem)
                    args[param.name] = complete(args[param.name], param.type)
            prompt = render(template, sig, args)
            return Generate(ref, name, prompt, sig.output, sig.schema)
        if step.kind == "skill-invoke":
            return InvokeSkill(ref, step.setting("skill"), args)
        sql = args.get("sql")
        return QueryData(
            ref,
            operation=step.setting("operation"),
            source=step.setting("source"),
            database=args.get("database"),
            tables=args.get("tables"),
            sql=sql,
        )

    def _fail(self, state: dict[str, Any], step: StepIR, error: str) -> Transition:
        state["status"] = "failed"
        state["error"] = f"step '{step.id}': {error}"
        return Transition(state, Failed(self._ref(step), state["error"]))

    # -- values ---------------------------------------------------------------------

    def _inputs(self, given: Mapping[str, Any]) -> dict[str, Any]:
        declared = {i.name: i for i in self.program.inputs}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            names = ", ".join(declared) or "none"
            raise InputError(f"unknown input '{unknown[0]}' (declared inputs: {names})")
        values: dict[str, Any] = {}
        for decl in self.program.inputs:
            if decl.name in given:
                value = given[decl.name]
            elif not decl.required:
                value = decl.default
            else:
                raise InputError(f"missing input '{decl.name}' ({decl.type})")
            problem = mismatch(value, self._type(decl.type), f"input '{decl.name}'")
            if problem:
                raise InputError(problem)
            values[decl.name] = value
        return values

    def _check_answer(self, step: StepIR, env: Env, value: Any) -> Any:
        answer = self._type(step.setting("type"))
        problem = mismatch(value, answer, "the answer")
        if problem:
            raise AnswerError(f"step '{step.id}': {problem}")
        choices_value = step.arg("choices")
        if choices_value is not None and value is not None:
            try:
                choices = evaluate(choices_value, env)
            except EvalError as error:
                raise AnswerError(f"step '{step.id}': {error}") from None
            listed = isinstance(strip_optional(answer), ListT)
            picked = value if listed else [value]
            if listed and isinstance(choices, list) and not picked:
                raise AnswerError(f"step '{step.id}': choose at least one of the choices")
            if listed and len({json.dumps(i, sort_keys=True) for i in picked}) != len(picked):
                raise AnswerError(f"step '{step.id}': a choice is given more than once")
            for item in picked:
                if isinstance(choices, list) and item not in choices:
                    shown = ", ".join(json.dumps(c) for c in choices)
                    raise AnswerError(
                        f"step '{step.id}': {json.dumps(item)} is not one of the choices ({shown})"
                    )
        return value

    def _check_artifact(self, step: StepIR, artifact: str) -> None:
        """The artifact must be what the step's template declares (its output format and
        schema); it is refused otherwise, and the run stays at the step."""
        template = self.library.templates.get(step.setting("template"))
        if template is None:  # no longer installed: only an empty artifact can be told
            output, schema = "markdown", None
        else:
            sig = read_signature(template, self.library.records)
            output, schema = sig.output, sig.schema
        problem = check_artifact(artifact, output, schema)
        if problem is not None:
            raise AnswerError(f"step '{step.id}': the artifact {problem}")

    def _memory(self, step: StepIR, env: Env, value: Any) -> MemoryWrite:
        assert step.remember is not None
        remember = step.remember
        title = evaluate(remember.title, env) if remember.title is not None else None
        if title is None:
            title = self._title(step, env)
        tags = evaluate(remember.tags, env) if remember.tags is not None else []
        content = value if isinstance(value, str) else json.dumps(value, indent=2)
        return MemoryWrite(step.id, remember.memory_type, str(title), content, list(tags or []))

    def _outputs(self, state: dict[str, Any]) -> dict[str, Any]:
        env = self._env(state)
        return {name: evaluate(value, env) for name, value in self.program.outputs}

    def _env(self, state: Mapping[str, Any]) -> Env:
        return Env(state["inputs"], state["outputs"], state["project"], state["session"])

    def _type(self, text: str) -> Type:
        return parse_type(text, self.library.records)

    def _title(self, step: StepIR, env: Env | None) -> str:
        if step.title_value is not None and env is not None:
            try:
                return str(evaluate(step.title_value, env))
            except EvalError:
                return step.title
        return step.title

    def _ref(self, step: StepIR, env: Env | None = None) -> StepRef:
        return StepRef(step.id, self._title(step, env), step.index, len(self.program.steps))

    @staticmethod
    def _what(step: StepIR) -> str:
        return str(step.setting("skill") or step.setting("operation"))


def answer_schema(answer: Type, prompt: str, choices: Any, default: Any) -> dict[str, Any]:
    """The JSON Schema of a store step's answer, complete: choices as `enum` (for a list,
    `items.enum`, `uniqueItems` and at least one item), the default and the prompt."""
    schema = json_schema(answer)
    base = strip_optional(answer)
    inner = schema["anyOf"][0] if base is not answer and "anyOf" in schema else schema
    if isinstance(choices, list):
        if isinstance(base, ListT):
            inner["items"] = {**inner.get("items", {}), "enum": choices}
            inner["uniqueItems"] = True
            inner["minItems"] = 1
        else:
            inner["enum"] = choices
    if default is not None:
        schema["default"] = default
    schema["description"] = prompt
    return schema


def _referenced_steps(step: StepIR) -> set[str]:
    """Ids X of every `steps.X...` its arguments read."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Attr) and isinstance(node.target, Name) and node.target.name == "steps":
            found.add(node.name)
        if isinstance(node, tuple | list):
            for item in node:
                walk(item)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                walk(getattr(node, name))

    walk(step.args)
    return found


def _with_notice(effect: Effect, notice: str) -> Effect:
    return dataclasses.replace(effect, notice=notice) if isinstance(effect, Ask) else effect
