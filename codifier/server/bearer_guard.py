"""Guessing keys through the `Authorization` header is throttled like the sign-in page.

Every request that carries a bearer token which does not authenticate counts as a wrong
guess from its client address (a request without a token guesses nothing: clients start
OAuth discovery that way). Past CODIFIER_AUTH_FAILURES wrong tokens from one address, or
CODIFIER_AUTH_GLOBAL_FAILURES from everyone, within CODIFIER_AUTH_WINDOW_SECONDS, a token
the server has not seen authenticate recently gets 429 without being looked at: no hash,
no database query. A token that did authenticate within the window keeps working (it is
still authenticated on every request, so revoking its key ends it at once): an attack, or
a proxy that makes every caller one address, holds back only keys not used lately.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from codifier.config import whole_number
from codifier.oauth.throttle import FailureThrottle

KNOWN_TOKENS = 10_000  # tokens remembered as recently good (least recently used go first)


@dataclass(frozen=True, slots=True)
class GuardSettings:
    per_address: int = 100  # CODIFIER_AUTH_FAILURES: wrong tokens per address per window
    overall: int = 1_000  # CODIFIER_AUTH_GLOBAL_FAILURES: from all addresses per window
    window_seconds: int = 60  # CODIFIER_AUTH_WINDOW_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GuardSettings:
        """ValueError naming the setting when a value is not a whole number >= 1."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            per_address=whole_number(env, "CODIFIER_AUTH_FAILURES", defaults.per_address),
            overall=whole_number(env, "CODIFIER_AUTH_GLOBAL_FAILURES", defaults.overall),
            window_seconds=whole_number(
                env, "CODIFIER_AUTH_WINDOW_SECONDS", defaults.window_seconds
            ),
        )


class BearerGuard:
    def __init__(self, settings: GuardSettings, clock: Callable[[], float] = time.monotonic):
        self.window = float(settings.window_seconds)
        self._clock = clock
        self._failures = FailureThrottle(
            settings.per_address, settings.overall, self.window, clock=clock
        )
        self._known: OrderedDict[bytes, float] = OrderedDict()  # token digest -> last good

    def wait(self, address: str, token: bytes) -> int:
        """Whole seconds before `token` (its `digest`) from `address` is looked at; 0: now."""
        seen = self._known.get(token)
        if seen is not None and self._clock() - seen <= self.window:
            return 0
        return self._failures.wait(address)

    def authenticated(self, token: bytes) -> None:
        self._known.pop(token, None)
        self._known[token] = self._clock()
        while len(self._known) > KNOWN_TOKENS:
            self._known.popitem(last=False)

    def refused(self, address: str, token: bytes) -> None:
        self._known.pop(token, None)
        self._failures.failed(address)


def digest(token: str) -> bytes:
    """What the guard knows a token by: it never holds a usable secret."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
