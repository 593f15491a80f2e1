"""A small cache with expiry, as a real module would have it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

DEFAULT_TTL = 300


@dataclass(frozen=True)
class Entry:
    """One cached value and when it expires."""

    value: object
    expires: float


class Cache:
    """Values by key, each kept for a time-to-live."""

    def __init__(self, ttl: float = DEFAULT_TTL) -> None:
        self._ttl = ttl
        self._entries: dict[str, Entry] = {}

    @property
    def size(self) -> int:
        return len(self._entries)

    def get(
        self,
        key: str,
        default: object = None,
    ) -> object:
        entry = self._entries.get(key)
        if entry is None or entry.expires < time.monotonic():
            return default
        return entry.value

    async def refresh(self, key: str, loader: Callable[[str], Awaitable[object]]) -> object:
        def store(value: object) -> None:
            self._entries[key] = Entry(value, time.monotonic() + self._ttl)

        value = await loader(key)
        store(value)
        return value


def make_cache(ttl: float | None = None) -> Cache:
    return Cache(ttl if ttl is not None else DEFAULT_TTL)
