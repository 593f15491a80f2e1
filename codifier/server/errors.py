"""Errors a tool call returns: a stable code and one clear sentence."""

from __future__ import annotations


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
