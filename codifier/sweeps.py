"""A background sweep: work that catches up with the database (memories or code chunks
waiting for vectors), run one at a time on the event loop's task set.

A kick while a sweep runs asks for one more sweep after it, so nothing kicked is missed
and sweeps never overlap. A failure ends the run (logged); the next kick starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class BackgroundSweep:
    def __init__(
        self,
        sweep: Callable[[], Awaitable[object]],
        log: logging.Logger,
        what: str,
        *,
        delay: float = 0.0,
        expected: tuple[type[Exception], ...] = (),
    ) -> None:
        """`what` names the sweep in the log; `delay` seconds pass before a run starts;
        an `expected` failure is a one-line warning, any other is logged with its trace."""
        self._sweep = sweep
        self._log = log
        self._what = what
        self._delay = delay
        self._expected = expected
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Cancel a running sweep; what it stored stays."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)
        while True:
            self._again = False
            try:
                await self._sweep()
            except self._expected as error:
                self._log.warning("%s stopped: %s", self._what, error)
                return
            except Exception:  # the database went away, say: the next kick retries
                self._log.exception("%s failed", self._what)
                return
            if not self._again:
                return
