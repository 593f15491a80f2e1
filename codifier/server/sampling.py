"""A generate step's request as an MCP sampling request to the client's own model, and
the model's text back as the step's artifact.

The artifact goes through advance_step's own checks (its template's output format and
schema), exactly as an artifact the client sends with advance_step does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp_types import (
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    SamplingMessage,
    TextContent,
)


@dataclass(frozen=True, slots=True)
class Generation:
    """A generate step the client's model can write."""

    session_id: str
    step_id: str
    prompt: str
    output_format: str

    def request(self, max_tokens: int) -> CreateMessageRequest:
        """The `sampling/createMessage` request (the same shape on both protocols)."""
        return CreateMessageRequest(
            params=CreateMessageRequestParams(
                messages=[
                    SamplingMessage(role="user", content=TextContent(type="text", text=self.prompt))
                ],
                system_prompt=(
                    f"Write the {self.output_format} artifact the request asks for. Answer"
                    " with the artifact only."
                ),
                max_tokens=max_tokens,
            )
        )


def generation_for(result: Mapping[str, Any]) -> Generation | None:
    """The sampling request for a step result awaiting generation, else None."""
    request = result.get("generate_request")
    if result.get("status") != "awaiting_generation" or not isinstance(request, Mapping):
        return None
    return Generation(
        str(result["session_id"]),
        str(result["step"]["id"]),
        str(request["prompt"]),
        str(request.get("output_format") or "markdown"),
    )


def artifact_of(result: CreateMessageResult) -> str | None:
    """The model's text, or None when it answered with something else (an image)."""
    content = result.content
    return content.text if isinstance(content, TextContent) else None
