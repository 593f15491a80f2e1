"""Protocol-level refusals as `[code] one sentence` too: a request for a method the server
does not serve, or whose params do not fit the MCP schema, gets the SDK's bare "Method not
found" or "Invalid request parameters" (or pydantic's dump); this middleware, around
every inbound request, gives the same JSON-RPC error code a sentence that says what was
wrong and how to fix it. Errors already `[code] sentence`, and every other error code
(with its data, which clients act on), pass through unchanged."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, METHOD_NOT_FOUND
from pydantic import ValidationError

from codifier.server.errors import is_coded, shown


class CodedProtocolErrors:
    """Server middleware (MCPServer.middleware): rewrites the two refusals' messages."""

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        method = shown(str(ctx.method))
        try:
            return await call_next(ctx)
        except ValidationError:
            raise MCPError(code=INVALID_PARAMS, message=_bad_params(method)) from None
        except MCPError as error:
            if is_coded(error.error.message):
                raise
            if error.error.code == METHOD_NOT_FOUND:
                raise MCPError(
                    code=METHOD_NOT_FOUND,
                    message=f"[not_found] this server has no method '{method}'; it serves"
                    " tools, prompts and resources as the MCP specification names them",
                    data=error.error.data,
                ) from None
            if error.error.code == INVALID_PARAMS:
                raise MCPError(
                    code=INVALID_PARAMS, message=_bad_params(method), data=error.error.data
                ) from None
            raise


def _bad_params(method: str) -> str:
    return (
        f"[invalid] the params of '{method}' do not fit the MCP schema (or the session is"
        " not initialized yet); send them as the specification gives them"
    )
