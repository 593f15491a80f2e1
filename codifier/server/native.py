"""Store steps asked in the client's own form, and generate steps written by the
client's own model, for clients that declare form elicitation or sampling.

run_playbook and advance_step return a step result; when it awaits an answer the client
can give in a form (codifier.server.forms), or an artifact its model can write
(codifier.server.sampling), the call asks the client itself and carries the run on
server-side with what comes back, up to NativeSettings.questions_per_call requests a
call. The protocol decides how a request travels, as the SDK's `Resolve`/`Elicit`/`Sample`
do it:

- 2026-07-28 (multi round-trip requests): the call returns an `InputRequiredResult` with
  the request as its one input request, and `request_state` saying which session and
  step it asks (the SDK seals that state and verifies the echo: a client can neither
  forge nor read it). The client retries the same call with the answer; the retry
  applies it and asks the next one, or returns the step result.
- earlier versions (2025-11-25): `elicitation/create` or `sampling/createMessage` sent
  mid-call, on a connection that can carry it (legacy SSE and stdio; stateless Streamable
  HTTP cannot, and does not even see the client's capabilities there).

`Resolve` itself does not fit: its questions are fixed per tool at registration and are
answered before the tool runs, while a run's questions follow from its answers (a prompt
uses the previous answer, a step may be skipped), and each answer must change the
session before the next question exists. So this drives the same SDK primitives
directly: `InputRequiredResult` with the context's `input_responses`/`request_state`,
and `ServerSession.elicit_form`/`send_request`.

What comes back goes through advance_step's checks (RunTools.advance), unchanged. A form
answer they refuse is asked again with the reason (the form's message starts with it)
while the call has requests left, then the explicit step result carries the reason as
its notice; a refused artifact is not sampled again (the explicit result says why).
Decline, cancel, a refused sampling request, a client that cannot take the request, or
no answer in time: the session stays where it was, and the call returns the explicit
step result with a notice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import (
    ClientCapabilities,
    CreateMessageResult,
    ElicitResult,
    InputRequest,
    InputRequiredResult,
    InputResponse,
)
from mcp_types.version import is_version_at_least

from codifier.server.errors import CallError, invalid
from codifier.server.forms import Question, answer_of, question_for
from codifier.server.principal import Principal
from codifier.server.sampling import Generation, artifact_of, generation_for

if TYPE_CHECKING:
    from codifier.server.runs import RunTools

logger = logging.getLogger("codifier.server")

# First protocol whose tools/call carries client requests inside an InputRequiredResult.
INPUT_REQUIRED_VERSION = "2026-07-28"
REQUEST_KEY = "step"  # the one input request of a round
STATE_VERSION = 1

Channel = Literal["input_required", "mid_call"]
Kind = Literal["form", "sample"]
StepResult = dict[str, Any]
Request = Question | Generation


@dataclass(frozen=True, slots=True)
class Asked:
    """What a 2026-07-28 round's request_state carries: the request it made (a form or
    a sample, for which session and step) and how many the call has made so far."""

    kind: Kind
    session_id: str
    step_id: str
    asked: int

    def encode(self) -> str:
        return json.dumps(
            {
                "v": STATE_VERSION,
                "kind": self.kind,
                "session": self.session_id,
                "step": self.step_id,
                "asked": self.asked,
            }
        )

    @classmethod
    def decode(cls, text: str) -> Asked:
        # The SDK's boundary has verified that this server minted the state for this very
        # call (tool, arguments); a version or shape it does not know is from an older
        # release of the server.
        try:
            data = json.loads(text)
            if data.get("v") != STATE_VERSION or data.get("kind") not in ("form", "sample"):
                raise ValueError("version")
            return cls(data["kind"], str(data["session"]), str(data["step"]), int(data["asked"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise invalid(
                "the request_state is from another version of the server; call again without it"
            ) from None


@dataclass(frozen=True, slots=True)
class Reach:
    """What this call can ask the client, and how."""

    channel: Channel | None
    forms: bool
    sampling: bool


def reach_of(ctx: Context[Any, Any]) -> Reach:
    """How this call can reach the client: none (the explicit flow) unless the client
    declared form elicitation or sampling and its connection can carry the request."""
    nothing = Reach(None, False, False)
    try:
        capabilities = ctx.client_capabilities
        version = ctx.protocol_version
    except ValueError:  # no request (a direct call of the server in-process)
        return nothing
    forms, sampling = declares_forms(capabilities), declares_sampling(capabilities)
    if version is None or not (forms or sampling):
        return nothing
    if is_version_at_least(version, INPUT_REQUIRED_VERSION):
        return Reach("input_required", forms, sampling)
    return Reach("mid_call", forms, sampling) if ctx.session.can_send_request else nothing


def declares_forms(capabilities: ClientCapabilities | None) -> bool:
    elicitation = capabilities.elicitation if capabilities is not None else None
    # A bare `elicitation: {}` (before modes existed) means forms; url-only does not.
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def declares_sampling(capabilities: ClientCapabilities | None) -> bool:
    return capabilities is not None and capabilities.sampling is not None


class NativeForms:
    """run_playbook and advance_step for one call, asking the client what it can."""

    def __init__(self, runs: RunTools, ctx: Context[Any, Any]) -> None:
        self.runs = runs
        self.ctx = ctx
        self.settings = runs.native
        self.reach = reach_of(ctx)

    async def start(
        self,
        who: Principal,
        playbook_id: str,
        project_id: str | None,
        project_name: str | None,
        inputs: dict[str, Any] | None,
        version: int | None,
    ) -> StepResult | InputRequiredResult:
        resumed = await self._resumed(who)
        if resumed is not None:
            return resumed
        result = await self.runs.start(who, playbook_id, project_id, project_name, inputs, version)
        return await self._ask(who, result, 0)

    async def advance(
        self, who: Principal, session_id: str, step_id: str, answer: Any
    ) -> StepResult | InputRequiredResult:
        resumed = await self._resumed(who)
        if resumed is not None:
            return resumed
        result = await self.runs.advance(who, session_id, step_id, answer)
        return await self._ask(who, result, 0)

    def _request_for(self, result: StepResult) -> Request | None:
        if self.reach.forms and (question := question_for(result)) is not None:
            return question
        if self.reach.sampling and self.settings.sampling_max_tokens > 0:
            return generation_for(result)
        return None

    async def _resumed(self, who: Principal) -> StepResult | InputRequiredResult | None:
        """A 2026-07-28 retry carrying the client's answer to the request this call
        made: apply it, and go on. None on a call's first round (always before 2026-07-28).
        A state present is a retry whatever the client now declares: the call's own work
        (starting a run, applying its input) was done in the first round, never again."""
        if self.ctx.request_state is None:
            return None
        asked = Asked.decode(self.ctx.request_state)
        response = (self.ctx.input_responses or {}).get(REQUEST_KEY)
        if response is None:  # retried without an answer: ask again
            result = await self.runs.current_step(who, asked.session_id)
            return await self._ask(who, result, asked.asked)
        result, done = await self._answered(
            who, asked.kind, asked.session_id, asked.step_id, response
        )
        return result if done else await self._ask(who, result, asked.asked)

    async def _ask(
        self, who: Principal, result: StepResult, asked: int
    ) -> StepResult | InputRequiredResult:
        """Ask for what `result` awaits while the client can give it and the call has
        requests left; the step result the run then stands at."""
        while self.reach.channel is not None and asked < self.settings.questions_per_call:
            request = self._request_for(result)
            if request is None:
                break
            asked += 1
            kind: Kind = "form" if isinstance(request, Question) else "sample"
            if self.reach.channel == "input_required":
                state = Asked(kind, request.session_id, request.step_id, asked)
                return InputRequiredResult(
                    input_requests={REQUEST_KEY: self._wire(request)},
                    request_state=state.encode(),
                )
            response = await self._mid_call(request)
            if isinstance(response, str):  # nothing came back: the explicit flow, saying why
                return await self.runs.current_step(who, request.session_id, response)
            result, done = await self._answered(
                who, kind, request.session_id, request.step_id, response
            )
            if done:
                break
        return result

    def _wire(self, request: Request) -> InputRequest:
        if isinstance(request, Question):
            return request.request()
        return request.request(self.settings.sampling_max_tokens)

    async def _mid_call(self, request: Request) -> InputResponse | str:
        """The client's answer to a request sent mid-call, or why there is none."""
        seconds = self.settings.form_seconds
        what = "form" if isinstance(request, Question) else "sampling request"
        try:
            with anyio.move_on_after(seconds):
                response: InputResponse
                if isinstance(request, Question):
                    response = await self.ctx.session.elicit_form(
                        request.message,
                        request.requested_schema,
                        related_request_id=self.ctx.request_id,
                    )
                else:
                    response = await self.ctx.session.send_request(
                        self._wire(request),
                        CreateMessageResult,
                        metadata=ServerMessageMetadata(related_request_id=self.ctx.request_id),
                    )
                return response
        except MCPError as error:  # refused (a person said no), or the client cannot take it
            logger.info("the %s for step '%s' got no answer: %s", what, request.step_id, error)
            return (
                f"the client did not answer the {what} for step '{request.step_id}';"
                f" {_explicitly(request)}"
            )
        return (
            f"no answer came to the {what} for step '{request.step_id}' within"
            f" {seconds:,} seconds; {_explicitly(request)}"
        )

    async def _answered(
        self, who: Principal, kind: Kind, session_id: str, step_id: str, response: InputResponse
    ) -> tuple[StepResult, bool]:
        """The step result after the client's answer, and whether to stop asking."""
        if kind == "sample":
            return await self._sampled(who, session_id, step_id, response)
        if not isinstance(response, ElicitResult):
            notice = f"the client sent no form answer for step '{step_id}'"
            return await self.runs.current_step(who, session_id, notice), True
        if response.action == "accept":
            answer = answer_of(response.content, step_id)
            try:
                return await self.runs.advance(who, session_id, step_id, answer), False
            except CallError as error:
                if error.code != "invalid":
                    raise  # a conflict, a quota: as advance_step reports them
                # Refused as advance_step refuses it; nothing changed: ask again, saying why.
                notice = f"the answer was not accepted: {error.message}"
                return await self.runs.current_step(who, session_id, notice), False
        if response.action == "decline":
            notice = (
                f"the person declined the form for step '{step_id}'; ask in the conversation"
                " and answer with advance_step"
            )
        else:
            notice = (
                f"the form for step '{step_id}' was closed without an answer; ask in the"
                " conversation and answer with advance_step"
            )
        return await self.runs.current_step(who, session_id, notice), True

    async def _sampled(
        self, who: Principal, session_id: str, step_id: str, response: InputResponse
    ) -> tuple[StepResult, bool]:
        artifact = artifact_of(response) if isinstance(response, CreateMessageResult) else None
        if artifact is None:
            notice = f"the client's model sent no text for step '{step_id}'"
            return await self.runs.current_step(who, session_id, notice), True
        try:
            return await self.runs.advance(who, session_id, step_id, artifact), False
        except CallError as error:
            if error.code != "invalid":
                raise
            # Not sampled again (each sample may cost the person an approval and a model
            # call): the explicit request, with why the model's artifact was refused.
            notice = f"the artifact the client's model wrote was not accepted: {error.message}"
            return await self.runs.current_step(who, session_id, notice), True


def _explicitly(request: Request) -> str:
    if isinstance(request, Question):
        return "ask in the conversation and answer with advance_step"
    return "write the artifact and send it with advance_step"
