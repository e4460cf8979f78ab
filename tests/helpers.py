"""Small helpers for tests: waiting on conditions, never on fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

DEADLINE = 30.0


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    timeout: float = DEADLINE,
    what: str = "condition",
) -> None:
    """Poll ``condition`` (sync or async) every 20 ms until true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


class Gauge:
    """Counts how many runs are inside a block at once, and the maximum seen."""

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0
        self.entered = 0

    def __enter__(self) -> Gauge:
        self.current += 1
        self.entered += 1
        self.peak = max(self.peak, self.current)
        return self

    def __exit__(self, *exc: object) -> None:
        self.current -= 1
