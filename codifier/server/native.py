"""Store steps asked in the client's own form, for clients that declare form elicitation.

run_playbook and advance_step return a step result; when it awaits an answer the client
can give in a form (codifier.server.forms), the call asks the person itself and carries
the run on server-side with the answer, up to NativeSettings.questions_per_call forms a
call. The protocol decides how the form travels, as the SDK's `Resolve`/`Elicit` does it:

- 2026-07-28 (multi round-trip requests): the call returns an `InputRequiredResult` with
  the form as its one input request, and `request_state` saying which session and step
  it asks (the SDK seals that state and verifies the echo: a client cannot forge or
  read it). The client retries the same call with the person's answer; the retry
  applies it and asks the next form, or returns the step result.
- earlier versions (2025-11-25): an `elicitation/create` request sent mid-call, on a
  connection that can carry it (legacy SSE and stdio; stateless Streamable HTTP cannot,
  and does not even see the client's capabilities there).

`Resolve` itself does not fit: its questions are fixed per tool at registration and are
answered before the tool runs, while a run's questions follow from its answers (a prompt
uses the previous answer, a step may be skipped), and each answer must change the
session before the next question exists. So this drives the same two SDK primitives
directly: `InputRequiredResult` with the context's `input_responses`/`request_state`,
and `ServerSession.elicit_form`.

An accepted answer goes through advance_step's validation (RunTools.advance), unchanged.
One it refuses is asked again with the reason (the form's message starts with it) while
the call has questions left, then the explicit step result carries the reason as its
notice. Decline, cancel, a client that cannot show the form, or no answer in time: the
session stays where it was, and the call returns the explicit step result with a notice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least

from codifier.server.errors import CallError, invalid
from codifier.server.forms import Question, answer_of, question_for
from codifier.server.principal import Principal

if TYPE_CHECKING:
    from codifier.server.runs import RunTools

logger = logging.getLogger("codifier.server")

# First protocol whose tools/call carries elicitation inside an InputRequiredResult.
INPUT_REQUIRED_VERSION = "2026-07-28"
FORM_KEY = "answer"  # the one input request of a round
STATE_VERSION = 1

Channel = Literal["input_required", "mid_call"]
StepResult = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Asked:
    """What a 2026-07-28 round's request_state carries: the form it asked, and how many
    forms the call has shown so far."""

    session_id: str
    step_id: str
    asked: int

    def encode(self) -> str:
        return json.dumps(
            {
                "v": STATE_VERSION,
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
            if data.get("v") != STATE_VERSION:
                raise ValueError("version")
            return cls(str(data["session"]), str(data["step"]), int(data["asked"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise invalid(
                "the form's request_state is from another version of the server;"
                " call again without it"
            ) from None


def channel_of(ctx: Context[Any, Any]) -> Channel | None:
    """How this call can show a form, or None when the client declared no form
    elicitation (or its connection cannot carry one): then the explicit flow."""
    try:
        capabilities = ctx.client_capabilities
        version = ctx.protocol_version
    except ValueError:  # no request (a direct call of the server in-process)
        return None
    elicitation = capabilities.elicitation if capabilities is not None else None
    # A bare `elicitation: {}` (before modes existed) means forms; url-only does not.
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return None
    if version is None:
        return None
    if is_version_at_least(version, INPUT_REQUIRED_VERSION):
        return "input_required"
    return "mid_call" if ctx.session.can_send_request else None


class NativeForms:
    """run_playbook and advance_step for one call, asking what they can in forms."""

    def __init__(self, runs: RunTools, ctx: Context[Any, Any]) -> None:
        self.runs = runs
        self.ctx = ctx
        self.most = runs.native.questions_per_call
        self.channel = channel_of(ctx) if self.most > 0 else None

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

    async def _resumed(self, who: Principal) -> StepResult | InputRequiredResult | None:
        """A 2026-07-28 retry carrying the person's answer to the form this call asked:
        apply it, and go on. None on a call's first round (or another channel)."""
        if self.channel != "input_required" or self.ctx.request_state is None:
            return None
        asked = Asked.decode(self.ctx.request_state)
        response = (self.ctx.input_responses or {}).get(FORM_KEY)
        if not isinstance(response, ElicitResult):  # retried without an answer: ask again
            result = await self.runs.current_step(who, asked.session_id)
            return await self._ask(who, result, asked.asked)
        result, done = await self._answered(who, asked.session_id, asked.step_id, response)
        return result if done else await self._ask(who, result, asked.asked)

    async def _ask(
        self, who: Principal, result: StepResult, asked: int
    ) -> StepResult | InputRequiredResult:
        """Ask `result`'s question in a form while there is one and the call has forms
        left; the step result the run then stands at."""
        while self.channel is not None and asked < self.most:
            question = question_for(result)
            if question is None:
                break
            asked += 1
            if self.channel == "input_required":
                state = Asked(question.session_id, question.step_id, asked)
                return InputRequiredResult(
                    input_requests={FORM_KEY: question.request()}, request_state=state.encode()
                )
            response = await self._mid_call(question)
            if isinstance(response, str):  # no answer came: the explicit flow, saying why
                return await self.runs.current_step(who, question.session_id, response)
            result, done = await self._answered(
                who, question.session_id, question.step_id, response
            )
            if done:
                break
        return result

    async def _mid_call(self, question: Question) -> ElicitResult | str:
        """The person's answer through `elicitation/create`, or why there is none."""
        seconds = self.runs.native.form_seconds
        try:
            with anyio.move_on_after(seconds):
                response: ElicitResult = await self.ctx.session.elicit_form(
                    question.message,
                    question.requested_schema,
                    related_request_id=self.ctx.request_id,
                )
                return response
        except MCPError as error:  # the client refused the request, or cannot take one
            logger.info("a form for step '%s' was not shown: %s", question.step_id, error)
            return (
                f"the client could not show the form for step '{question.step_id}';"
                " answer with advance_step"
            )
        return (
            f"no answer came from the form for step '{question.step_id}' within"
            f" {seconds:,} seconds; answer with advance_step"
        )

    async def _answered(
        self, who: Principal, session_id: str, step_id: str, response: ElicitResult
    ) -> tuple[StepResult, bool]:
        """The step result after the form's outcome, and whether to stop asking."""
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
