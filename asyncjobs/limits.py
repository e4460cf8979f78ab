"""Concurrency limits: the app-wide cap and named limiters shared by jobs.

Slots are plain :class:`asyncio.Semaphore` objects made per running app (a
semaphore belongs to one event loop). The uncontended path is a counter
decrement, so a run that does not wait pays almost nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from asyncjobs.exceptions import ConfigError

__all__ = ("Limits", "validate_limiter")


def validate_limiter(name: object, capacity: object) -> tuple[str, int]:
    """Check an ``app.limiter(name, capacity)`` declaration."""
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ConfigError(f"limiter name must be a non-empty word, got {name!r}", field="limiter")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ConfigError(
            f"capacity must be a whole number >= 1, got {capacity!r}", field=f"limiter {name!r}"
        )
    return name, capacity


class Limits:
    """The semaphores a run acquires before its first attempt."""

    __slots__ = ("global_slots", "named")

    def __init__(self, max_concurrent_runs: int, limiters: Mapping[str, int]) -> None:
        self.global_slots = asyncio.Semaphore(max_concurrent_runs)
        self.named = {name: asyncio.Semaphore(cap) for name, cap in limiters.items()}

    def for_job(self, limiter: str | None) -> tuple[asyncio.Semaphore, ...]:
        """The semaphores a job's run takes, always in the same order (no deadlock)."""
        if limiter is None:
            return (self.global_slots,)
        return (self.global_slots, self.named[limiter])
