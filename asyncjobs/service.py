"""``Service``: one started app, from ``start`` to ``stop``.

It owns what exists only while an app runs: the runtime (store, HTTP client,
mailer, notifier, runner), the APScheduler adapter and its callbacks, the
tasks of scheduled runs, and the background tasks (catch-up, store
maintenance, the loop-lag watchdog). :class:`~asyncjobs.App` keeps the job
registry and the ways in; it makes a ``Service`` when it starts.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Mapping
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asyncjobs.catchup import catch_up
from asyncjobs.definition import JobDefinition
from asyncjobs.maintenance import Maintenance
from asyncjobs.runtime import Runtime
from asyncjobs.settings import Settings
from asyncjobs.watchdog import watch_loop_lag

if TYPE_CHECKING:
    from asyncjobs.scheduler import Scheduler

__all__ = ("Service",)

log = logging.getLogger("asyncjobs")


class Service:
    """The running part of an app; made by ``App.start``, ended by ``App.stop``."""

    def __init__(
        self, settings: Settings, definitions: Mapping[str, JobDefinition], runtime: Runtime
    ) -> None:
        self.settings = settings
        self.definitions = definitions
        self.runtime = runtime
        self.loop = asyncio.get_running_loop()
        self._stack = AsyncExitStack()
        self._scheduler: Scheduler | None = None
        self._runs: set[asyncio.Task[Any]] = set()
        self._background: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        """Open the runtime, recover abandoned runs, start firing and catching up."""
        runtime = await self._stack.enter_async_context(self.runtime)
        try:
            maintenance = Maintenance(runtime.runner, self.definitions)
            await maintenance.reap()
            # Imported here: APScheduler's scheduler pulls in multiprocessing, and
            # list/history/trigger never start one (cold start of the CLI).
            from asyncjobs.scheduler import Scheduler

            scheduler = Scheduler(on_tick=self._on_tick, on_missed=self._on_missed)
            now = datetime.now(UTC)
            scheduler.start(self.definitions.values(), now)
            self._scheduler = scheduler
            grace = self.settings.misfire_grace_time
            jobs = list(self.definitions.values())
            self._background = [
                self._task(catch_up(runtime.runner, jobs, now, grace, self.spawn), "catch-up"),
                self._task(maintenance.serve(), "maintenance"),
                self._task(
                    watch_loop_lag(self.settings.loop_lag_warning, runtime.runner.runs.since),
                    "watchdog",
                ),
            ]
        except BaseException:
            if self._scheduler is not None:
                self._scheduler.shutdown()
            await self._stack.aclose()
            raise

    async def stop(self, grace: float) -> None:
        """Stop firing, drain runs up to ``grace`` seconds, cancel the rest, close."""
        if self._scheduler is not None:
            self._scheduler.shutdown()
            self._scheduler = None
        runner = self.runtime.runner
        deadline = self.loop.time() + grace
        try:
            if self._runs:
                await asyncio.wait(set(self._runs), timeout=grace)
            await runner.drain(max(0.0, deadline - self.loop.time()), grace)
            for task in [*self._runs, *self._background]:
                task.cancel()
            await asyncio.gather(*self._runs, *self._background, return_exceptions=True)
            await runner.teardown_jobs(dict(self.definitions))
        finally:
            self._background = []
            await self._stack.aclose()

    def cancel_running(self, reason: str) -> None:
        """Cancel every run in flight now; each is recorded ``cancelled``."""
        for handle in list(self.runtime.runner.in_flight.values()):
            handle.cancel(reason)

    def next_run_time(self, name: str) -> datetime | None:
        """The job's next tick while the scheduler runs, else ``None``."""
        return None if self._scheduler is None else self._scheduler.next_run_time(name)

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` (a scheduled run) as a task that shutdown drains."""
        task = self.loop.create_task(coro)
        self._runs.add(task)
        task.add_done_callback(self._run_done)
        return task

    def _run_done(self, task: asyncio.Task[Any]) -> None:
        self._runs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduled run failed inside asyncjobs", exc_info=task.exception())

    def _task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = self.loop.create_task(coro, name=f"asyncjobs-{name}")
        task.add_done_callback(_log_if_died)
        return task

    # ------------------------------------------------------------------ scheduler callbacks

    def _on_tick(self, definition: JobDefinition, scheduled_for: datetime) -> None:
        if definition.jitter:
            self.spawn(self._jittered(definition, scheduled_for))
        else:
            self.spawn(self.runtime.runner.run_tick(definition, scheduled_for))

    async def _jittered(self, definition: JobDefinition, scheduled_for: datetime) -> None:
        assert definition.jitter is not None
        await asyncio.sleep(random.uniform(0, definition.jitter))
        await self.runtime.runner.run_tick(definition, scheduled_for)

    def _on_missed(self, definition: JobDefinition, scheduled_for: datetime, reason: str) -> None:
        self.spawn(self.runtime.runner.record_missed(definition, scheduled_for, reason))


def _log_if_died(task: asyncio.Task[Any]) -> None:
    # Catch-up, maintenance and the watchdog must not fail unseen.
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())
