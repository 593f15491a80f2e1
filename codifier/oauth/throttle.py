"""How many wrong keys a door takes before it stops checking them: the sign-in page
(signin.py) and the bearer header (codifier.server.bearer_guard).

A key or token is where a weak API_AUTH_TOKEN or key would be guessed. Each wrong one is
remembered with its time, per client address and for all addresses together; once an
address has `per_address` wrong ones within the window, or everyone together `overall`,
the door refuses (429) until the oldest of them leaves the window. The decision is made in
memory, before a key is hashed or looked up.

The global limit is what holds against guesses spread over many addresses; its price is
that such an attack also holds back other people's new keys for a window (the doors say
what they let through regardless). Memory is bounded: each address keeps at most
`per_address` times, and at most MAX_ADDRESSES addresses are tracked (the least recently
failing go first; forgetting one loosens its own limit, never the global one)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_ADDRESSES = 10_000


class FailureThrottle:
    def __init__(
        self,
        per_address: int,
        overall: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_address = per_address
        self.overall = overall
        self.window = window_seconds
        self._clock = clock
        self._addresses: OrderedDict[str, deque[float]] = OrderedDict()
        self._everyone: deque[float] = deque(maxlen=overall)

    def wait(self, address: str) -> int:
        """Whole seconds until `address` may try a key again; 0: it may now."""
        now = self._clock()
        waits = [self._wait(self._everyone, self.overall, now)]
        failures = self._addresses.get(address)
        if failures is not None:
            waits.append(self._wait(failures, self.per_address, now))
        return max(waits)

    def failed(self, address: str) -> None:
        """A wrong key came from `address`."""
        now = self._clock()
        self._everyone.append(now)
        failures = self._addresses.pop(address, None)
        if failures is None:
            failures = deque(maxlen=self.per_address)
            while len(self._addresses) >= MAX_ADDRESSES:
                self._addresses.popitem(last=False)
        failures.append(now)
        self._addresses[address] = failures  # the most recent failure goes last

    def _wait(self, failures: deque[float], limit: int, now: float) -> int:
        if len(failures) < limit:
            return 0
        remaining = failures[0] + self.window - now  # the oldest of the last `limit`
        return math.ceil(remaining) if remaining > 0 else 0
