"""The loop-lag watchdog: says so when something blocked the event loop.

A job that calls blocking code (``time.sleep``, a sync HTTP client) freezes
every other job in the loop. The watchdog sleeps in short steps and, when it
wakes up later than it should by more than the threshold, logs a warning
naming the runs in flight, the likely culprits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

__all__ = ("watch_loop_lag",)

log = logging.getLogger("asyncjobs.watchdog")


async def watch_loop_lag(threshold: float, runs_in_flight: Callable[[float], list[str]]) -> None:
    """Warn whenever the loop was blocked for ``threshold`` seconds or more.

    ``runs_in_flight(since)`` names the runs in flight at any moment since the
    loop time ``since``: the culprit has often finished by the time the
    watchdog gets to run again.
    """
    loop = asyncio.get_running_loop()
    step = min(0.25, threshold / 2)
    while True:
        started = loop.time()
        await asyncio.sleep(step)
        lag = loop.time() - started - step
        if lag >= threshold:
            log.warning(
                "event loop was blocked for %.2fs (warning at %gs); runs in flight: %s",
                lag,
                threshold,
                ", ".join(runs_in_flight(started)) or "none",
            )
