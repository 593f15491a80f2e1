"""Errors a tool call returns: exactly `[code] one sentence`, and nothing else.

Codes: invalid (a bad argument; the sentence says which and how to fix it), quota (a
per-project count is used up), not_found, forbidden, unauthorized, conflict, refused,
timeout, unavailable (the database is away; try again), internal (a fault of the
server's own: the traceback goes to the server log, never to the client).
"""

from __future__ import annotations

import logging
import re
from types import TracebackType

import asyncpg

from codifier.storable import excerpt

logger = logging.getLogger("codifier.server")

MAX_MESSAGE_CHARS = 2_000
_SHAPE = re.compile(r"\[[a-z_]+\] \S")


class CallError(Exception):
    """Reported to the client as `[code] message`; nothing is changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


def forbidden(message: str) -> CallError:
    return CallError("forbidden", message)


def not_found(message: str) -> CallError:
    return CallError("not_found", message)


def invalid(message: str) -> CallError:
    return CallError("invalid", message)


def conflict(message: str) -> CallError:
    return CallError("conflict", message)


def quota(message: str) -> CallError:
    return CallError("quota", message)


def unauthorized(message: str) -> CallError:
    return CallError("unauthorized", message)


def shown(value: object) -> str:
    """A caller's value inside a message: short, one line."""
    return excerpt(value if isinstance(value, str) else repr(value))


UNAVAILABLE = CallError("unavailable", "the database is unavailable; try again shortly")
INTERNAL = CallError(
    "internal", "the server failed on this call; it is logged on the server, try again later"
)
_UNSTORABLE = invalid(
    "a text value holds a character the database cannot store (such as NUL); remove it"
)
_OUT_OF_RANGE = invalid("a value is out of the range the database accepts; use a smaller one")


def one_line(text: str) -> str:
    """`[code] sentence` on one line and of bounded length, whatever the text was."""
    flat = " ".join(text.split())
    if len(flat) > MAX_MESSAGE_CHARS:
        flat = flat[: MAX_MESSAGE_CHARS - 3] + "..."
    return flat


def is_coded(text: str) -> bool:
    return _SHAPE.match(text) is not None


def as_call_error(error: BaseException, where: str) -> CallError:
    """What the client is told about `error`, raised while serving `where` (a tool or a
    resource). Faults of the server's own are logged here with their traceback."""
    if isinstance(error, CallError):
        return error
    if coded := _coded(error):
        return coded
    if _database_unavailable(error):
        logger.warning("%s: the database is unavailable (%s)", where, type(error).__name__)
        return UNAVAILABLE
    # The checks before the store should have caught these; they are the caller's data
    # all the same, and a missing check is worth a traceback in the log.
    if isinstance(
        error, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError
    ):
        logger.error("%s: unstorable text reached the database", where, exc_info=error)
        return _UNSTORABLE
    if isinstance(error, asyncpg.DataError | asyncpg.CheckViolationError) or (
        isinstance(error, asyncpg.InterfaceError) and isinstance(error, ValueError)
    ):
        logger.error("%s: a value the database refused", where, exc_info=error)
        return _OUT_OF_RANGE
    logger.error("%s raised an unexpected exception", where, exc_info=error)
    return INTERNAL


CODES = frozenset(
    {
        "invalid",
        "quota",
        "not_found",
        "forbidden",
        "unauthorized",
        "conflict",
        "refused",
        "timeout",
        "unavailable",
        "internal",
    }
)


def _coded(error: BaseException) -> CallError | None:
    """Layers below the server (the store's DatabaseUnavailable, the sources) raise their
    own exceptions shaped like a tool error, without importing this module: a known
    `code` and a `message`, both text."""
    code, message = getattr(error, "code", None), getattr(error, "message", None)
    if code in CODES and isinstance(message, str) and message:
        return CallError(str(code), message)
    return None


# Classes that mean the database cannot be reached or is shutting down.
_DATABASE_AWAY = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


def _database_unavailable(error: BaseException) -> bool:
    if isinstance(error, _DATABASE_AWAY):
        return True
    if isinstance(error, asyncpg.InterfaceError) and not isinstance(error, ValueError):
        return True  # "connection is closed", "pool is closing"
    # An OSError (refused, reset, timed out) counts only when it came out of the database
    # driver or the store: a full disk while packing is not the database being away.
    return isinstance(error, OSError) and _raised_in_driver(error.__traceback__)


def _raised_in_driver(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg", "codifier.store", "codifier.db")):
            return True
        traceback = traceback.tb_next
    return False
