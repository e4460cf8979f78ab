"""The runs in flight in one runner, by run id and by job.

What the overlap policies, shutdown and the watchdog ask about: how many runs
of a job are going, wait until fewer are, wait until none is going at all,
and which runs were in flight lately.
"""

from __future__ import annotations

import asyncio
from collections import deque

from asyncjobs.attempt import RunHandle

__all__ = ("InFlight",)


class InFlight:
    """Runs that have started (or wait for a slot) and not finished yet."""

    def __init__(self) -> None:
        #: run id -> handle, every run in flight
        self.by_id: dict[str, RunHandle] = {}
        self._by_job: dict[str, dict[str, RunHandle]] = {}
        self._waiting: dict[str, int] = {}
        self._freed: dict[str, asyncio.Event] = {}
        #: set while nothing is in flight (shutdown waits on it)
        self.idle = asyncio.Event()
        self.idle.set()
        #: (loop time, "job:run_id") of the latest finished runs, for the watchdog
        self.recently_finished: deque[tuple[float, str]] = deque(maxlen=32)

    def add(self, handle: RunHandle) -> None:
        """A run started; it counts from now on."""
        self.by_id[handle.run_id] = handle
        self._by_job.setdefault(handle.definition.name, {})[handle.run_id] = handle
        self.idle.clear()

    def remove(self, handle: RunHandle) -> None:
        """A run ended; wake whoever waits for the job's runs to thin out."""
        name = handle.definition.name
        self.recently_finished.append(
            (asyncio.get_running_loop().time(), f"{name}:{handle.run_id}")
        )
        self.by_id.pop(handle.run_id, None)
        running = self._by_job.get(name)
        if running is not None:
            running.pop(handle.run_id, None)
            if not running:
                del self._by_job[name]
        event = self._freed.get(name)
        if event is not None:
            event.set()
        if not self.by_id:
            self.idle.set()

    def of_job(self, name: str) -> dict[str, RunHandle]:
        """The job's runs in flight (run id -> handle); do not modify."""
        return self._by_job.get(name, {})

    def waiting(self, name: str) -> int:
        """How many ticks of the job wait in :meth:`wait_turn`."""
        return self._waiting.get(name, 0)

    async def wait_fewer(self, name: str, limit: int) -> None:
        """Return once fewer than ``limit`` runs of the job are in flight."""
        while len(self.of_job(name)) >= limit:
            event = self._freed.setdefault(name, asyncio.Event())
            event.clear()
            await event.wait()

    async def wait_turn(self, name: str, limit: int) -> None:
        """:meth:`wait_fewer`, counted in :meth:`waiting` meanwhile (``overlap="queue"``)."""
        self._waiting[name] = self._waiting.get(name, 0) + 1
        try:
            await self.wait_fewer(name, limit)
        finally:
            self._waiting[name] -= 1

    def since(self, loop_time: float) -> list[str]:
        """``job:run_id`` of runs in flight now or finished after ``loop_time``."""
        labels = [f"{h.definition.name}:{h.run_id}" for h in self.by_id.values()]
        labels += [label for at, label in self.recently_finished if at >= loop_time]
        return labels
