"""Playbooks as MCP prompts: each playbook the caller can run (what list_playbooks gives
that caller: shipped, published server-wide, published in the caller's project) is a
prompt named by its id, with its inputs as the prompt's arguments. Getting one gives the
client's model the instructions to drive that playbook with run_playbook and
advance_step, with the person's argument values already in the first call."""

from __future__ import annotations

import json
from typing import Any

from mcp_types import GetPromptResult, Prompt, PromptArgument, PromptMessage, TextContent

from codifier.server.errors import invalid, not_found, shown
from codifier.server.principal import Principal
from codifier.server.services import Services


async def runnable_playbooks(who: Principal, services: Services) -> list[dict[str, Any]]:
    """What list_playbooks gives this caller."""
    listed = await services.runs.list(who, None)
    playbooks: list[dict[str, Any]] = listed["playbooks"]
    return playbooks


def as_prompt(playbook: dict[str, Any]) -> Prompt:
    steps = playbook["step_count"]
    return Prompt(
        name=playbook["id"],
        title=playbook["name"],
        description=(
            f"{' '.join(str(playbook['description']).split())} (a Codifier playbook,"
            f" {playbook['source']} version {playbook['version']}, {steps} step"
            f"{'s' if steps != 1 else ''}: run with run_playbook and advance_step)"
        ),
        arguments=[_argument(given) for given in playbook["inputs"]],
    )


def _argument(given: dict[str, Any]) -> PromptArgument:
    about = " ".join(str(given["description"] or "").split()) or f"The input {given['name']}."
    kind = f"a {given['type']}"
    if given["default"] is not None:
        kind += f"; default {json.dumps(given['default'])}"
    return PromptArgument(
        name=given["name"], description=f"{about} ({kind})", required=bool(given["required"])
    )


async def playbook_prompts(who: Principal, services: Services) -> list[Prompt]:
    return [as_prompt(p) for p in await runnable_playbooks(who, services)]


async def playbook_prompt(
    who: Principal, services: Services, name: str, arguments: dict[str, Any] | None
) -> GetPromptResult:
    """The prompt for playbook `name`; [not_found] when the caller cannot run it,
    [invalid] when a required argument is missing or an argument is not an input."""
    playbook = next((p for p in await runnable_playbooks(who, services) if p["id"] == name), None)
    if playbook is None:
        raise not_found(
            f"no prompt named '{shown(name)}'; prompts/list names the playbooks you can run"
        )
    given = dict(arguments or {})
    names = [i["name"] for i in playbook["inputs"]]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise invalid(
            f"prompt '{name}' has no argument '{shown(unknown[0])}'; its arguments are"
            f" {', '.join(names) or 'none'}"
        )
    for spec in playbook["inputs"]:
        if spec["required"] and not str(given.get(spec["name"], "")).strip():
            raise invalid(f"prompt '{name}' needs the argument '{spec['name']}'; pass it")
    inputs = {
        spec["name"]: _input_value(spec["type"], given[spec["name"]])
        for spec in playbook["inputs"]
        if spec["name"] in given and given[spec["name"]] not in (None, "")
    }
    return GetPromptResult(
        description=as_prompt(playbook).description,
        messages=[
            PromptMessage(
                role="user", content=TextContent(type="text", text=driving_text(playbook, inputs))
            )
        ],
    )


def _input_value(kind: str, value: Any) -> Any:
    """Prompt arguments arrive as text: a string input keeps it; any other type is read
    as JSON when it parses (run_playbook checks the type and says what it must be)."""
    if not isinstance(value, str) or kind.rstrip("?").strip() == "string":
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def driving_text(playbook: dict[str, Any], inputs: dict[str, Any]) -> str:
    """How to run the playbook, step by step, for the client's model."""
    call = {"playbook_id": playbook["id"], "inputs": inputs}
    lines = [
        f'Run the Codifier playbook "{playbook["name"]}" (id {playbook["id"]}, version'
        f" {playbook['version']}, {playbook['step_count']} steps) with me, using the Codifier"
        " tools.",
        "",
        " ".join(str(playbook["description"]).split()),
        "",
        f"1. Call run_playbook with {json.dumps(call, ensure_ascii=False)}. If you act as the"
        " admin without a default project, add project_id (manage_projects lists them).",
        "2. Every call returns a step result. Act on its `status`:",
        "   - awaiting_input: ask me the step's `prompt` in your own words (offer `choices`"
        " and `default` when it has them) and wait for my answer. Do not answer for me."
        " Then call advance_step with session_id, step_id set to step.id, and input set to"
        " my answer, shaped as the JSON Schema in `expects` says.",
        "   - awaiting_generation: write the artifact generate_request.prompt asks for"
        " yourself, in generate_request.output_format (fitting generate_request.schema"
        " when there is one), and send it as input to advance_step with step.id.",
        "   - completed: tell me what the run produced (`outputs`).",
        "   - failed: tell me the `error`.",
        "3. Repeat step 2 until the run is completed or failed. A `notice` means an earlier"
        " answer did not work: ask again, explaining why.",
        "If a call fails with [conflict], the run moved on: call get_session with the"
        " session_id and continue from the step result it returns. To change an earlier"
        " answer, call rewind_session with the session_id and that step's id. Runs you"
        " left unfinished are listed by list_sessions.",
    ]
    return "\n".join(lines)
