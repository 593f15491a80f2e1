"""The MCP SDK's log lines that say nothing: silenced at their source, by a filter on the
SDK logger that writes them, so every other line of that logger still comes through.

In stateless Streamable HTTP every request has its own transport with no session id;
the SDK terminates it after the answer and logs `Terminating session: None` at INFO, once
per request. A session that has an id still logs its termination.
"""

from __future__ import annotations

import logging

STREAMABLE_HTTP_LOGGER = "mcp.server.streamable_http"
_STATELESS_TERMINATION = "Terminating session: None"


class StatelessTerminationFilter(logging.Filter):
    """Drops the one line a stateless request's end logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _STATELESS_TERMINATION


def quiet_stateless_terminations() -> None:
    """Install the filter once per process (idempotent: servers built in tests share it)."""
    logger = logging.getLogger(STREAMABLE_HTTP_LOGGER)
    if not any(isinstance(f, StatelessTerminationFilter) for f in logger.filters):
        logger.addFilter(StatelessTerminationFilter())
