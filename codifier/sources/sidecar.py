"""The `mcp` source kind's plumbing: a stdio sidecar MCP server, one session per use.

The sidecar runs as a child process spoken to over stdin/stdout with the MCP client.
Secrets reach it through its environment only, never its command line. Some sidecars
print a banner on stdout before the transport starts; the client logs a parse error for
each such line and carries on. Those log records are dropped here (the last few lines are
kept, so a sidecar that prints why it exits at start can be quoted in the error).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from mcp import Client, StdioServerParameters
from pydantic import ValidationError

from codifier.sources.base import SourceError

_PARSE_ERROR = "Failed to parse JSONRPC message from server"


class _BannerFilter(logging.Filter):
    """Drops the client's parse-error records for non-JSON stdout lines; keeps the lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: deque[str] = deque(maxlen=32)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != _PARSE_ERROR:
            return True
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ValidationError):
            for detail in error.errors():
                text = detail.get("input")
                if isinstance(text, str) and text.strip():
                    self.lines.append(text.strip())
                    break
        return False


_BANNER = _BannerFilter()
logging.getLogger("mcp.client.stdio").addFilter(_BANNER)


@dataclass(frozen=True, slots=True)
class SidecarSpec:
    """How to start a sidecar. `env` may hold secrets: it is never shown."""

    label: str
    command: str
    args: list[str]
    env: Mapping[str, str] = field(repr=False)
    request_timeout: float = 120.0


class Sidecar:
    """A started sidecar session: call its tools, get their text answers as JSON."""

    def __init__(self, client: Client, label: str) -> None:
        self._client = client
        self.label = label

    async def call_json(self, tool: str, arguments: dict[str, Any]) -> Any:
        result = await self._client.call_tool(tool, arguments)
        text = "".join(getattr(part, "text", "") for part in result.content)
        if result.is_error:
            first = text.strip().splitlines()[0] if text.strip() else "no detail"
            raise SourceError(f"the {self.label} sidecar's {tool} failed: {first[:300]}")
        try:
            return json.loads(text)
        except ValueError:
            raise SourceError(
                f"the {self.label} sidecar's {tool} answered with something other than JSON"
            ) from None


def _startup_hint(label: str) -> str:
    """Why the sidecar stopped, if it said so on stdout (✅/❌ banner lines)."""
    for line in reversed(_BANNER.lines):
        if line.startswith("❌"):
            return f": {line.lstrip('❌ ').strip()[:300]}"
    return f" (see the {label} sidecar's messages on stderr)"


@asynccontextmanager
async def open_sidecar(spec: SidecarSpec) -> AsyncIterator[Sidecar]:
    """Start the sidecar, hand out a session, stop the sidecar afterwards."""
    params = StdioServerParameters(command=spec.command, args=list(spec.args), env=dict(spec.env))
    _BANNER.lines.clear()
    started = False
    try:
        async with Client(
            params, mode="legacy", read_timeout_seconds=spec.request_timeout
        ) as client:
            started = True
            yield Sidecar(client, spec.label)
    except SourceError:
        raise
    except Exception as error:  # the transport's errors arrive in exception groups
        if not started:
            raise SourceError(
                f"the {spec.label} sidecar did not start{_startup_hint(spec.label)}"
            ) from None
        leaf: BaseException = error
        while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
            inner = leaf.exceptions[0]
            if isinstance(inner, SourceError):
                raise inner from None
            leaf = inner
        detail = str(leaf).splitlines()[0][:300] if str(leaf) else type(leaf).__name__
        raise SourceError(f"the {spec.label} sidecar failed: {detail}") from None
