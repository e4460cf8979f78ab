"""The runner: one code path for every run of every job.

Scheduled ticks, ``app.run_async`` and the CLI's ``trigger`` all come here.
For one run the runner: claims the tick (scheduled runs), applies the overlap
policy, waits for its concurrency slots (not counted in the timeout), records
a ``running`` row with a lease, runs each attempt in a task of its own with a
deadline, retries with backoff, builds the :class:`JobResult`, sends
notifications, writes the result and calls the listeners.

The deadline is a timer that cancels the attempt's task: the same
edge-triggered cancellation as ``asyncio.timeout``, without a cancel scope
per run (anyio's ``fail_after`` cost ~10 µs a run and delayed the start of
every job sharing a tick). Thread jobs run through ``anyio.to_thread``, which
abandons the thread when cancelled. A job that swallows cancellation cannot
hold its run hostage: the runner stops waiting :data:`KILL_GRACE` seconds
after the deadline (or after a shutdown cancel), reports ``timed_out`` (or
``cancelled``) and leaves the stubborn task behind with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from asyncjobs.attempt import KILL_GRACE, Outcome, RunHandle, pause, run_attempt
from asyncjobs.context import RunContext, current_run
from asyncjobs.definition import JobDefinition
from asyncjobs.inflight import InFlight
from asyncjobs.limits import Limits
from asyncjobs.result import JobResult, RunStatus, Trigger

if TYPE_CHECKING:
    import httpx

    from asyncjobs.mail.base import Mailer
    from asyncjobs.notifications.base import Notifier
    from asyncjobs.settings import Settings
    from asyncjobs.stores.base import Store

__all__ = ("Listener", "Runner", "new_run_id")

log = logging.getLogger("asyncjobs.runner")

#: Longest pause between two attempts, whatever ``retry_delay`` and the count.
MAX_RETRY_DELAY = 3600.0

Listener = Callable[[JobResult], Any]


def new_run_id() -> str:
    """Eight hex characters: short enough for log prefixes, unique enough per job."""
    return os.urandom(4).hex()


def _now() -> datetime:
    return datetime.now(UTC)


class Runner:
    """Runs jobs for one started app (or one ``run_async`` outside a started app)."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        notifier: Notifier,
        limits: Limits,
        listeners: list[Listener],
        http: Callable[[], httpx.AsyncClient],
        mailer: Callable[[], Mailer],
    ) -> None:
        self.settings = settings
        self.store = store
        self.notifier = notifier
        self.limits = limits
        self.listeners = listeners
        self._http = http
        self._mailer = mailer
        self.runs = InFlight()
        self._orphans: set[asyncio.Task[Any]] = set()
        self._setup_done: set[str] = set()
        self._setup_locks: dict[str, asyncio.Lock] = {}
        self._lease = timedelta(seconds=settings.lease_seconds)

    @property
    def in_flight(self) -> dict[str, RunHandle]:
        """Run id -> handle of every run in flight (read-only use)."""
        return self.runs.by_id

    # ----------------------------------------------------------------- entry points

    async def run_manual(self, definition: JobDefinition, *, notify: bool = True) -> JobResult:
        """Run now, whatever the overlap policy (manual runs always run)."""
        return await self._run(definition, "manual", None, new_run_id(), notify)

    async def run_tick(
        self, definition: JobDefinition, scheduled_for: datetime, trigger: Trigger = "schedule"
    ) -> JobResult | None:
        """Run one scheduled tick; ``None`` when another process claimed it first."""
        run_id = new_run_id()
        name = definition.name
        if not await self.store.claim_tick(name, scheduled_for, run_id):
            log.debug("tick %s of %s claimed elsewhere", scheduled_for.isoformat(), name)
            return None
        late = (_now() - scheduled_for).total_seconds()
        if late > self.settings.misfire_grace_time:
            # Too late to start (a blocked loop, a store outage): on record as missed.
            reason = (
                f"could not start within misfire_grace_time "
                f"({self.settings.misfire_grace_time:g}s); {late:.1f}s late"
            )
            return await self._missed(definition, scheduled_for, trigger, reason, run_id)
        policy = definition.overlap
        if policy == "replace":
            for handle in list(self.runs.of_job(name).values()):
                handle.cancel(f"replaced by run {run_id}")
            await self.runs.wait_fewer(name, 1)
        else:
            limit = 1 if policy == "skip" else definition.max_instances
            running = self.runs.of_job(name)
            busy = len(running) >= limit
            if not busy and policy == "skip" and self.store.shared:
                # Overlap across replicas: a live lease elsewhere counts as running.
                busy = await self.store.has_live_run(name, _now(), exclude=running.keys())
            if busy:
                if policy == "queue" and not self.runs.waiting(name):
                    await self.runs.wait_turn(name, limit)
                else:
                    reason = (
                        "the previous run was still running"
                        if policy != "queue"
                        else "the previous run was still running and one tick was already queued"
                    )
                    return await self.record_final(
                        definition, RunStatus.SKIPPED, scheduled_for, trigger, reason, run_id
                    )
        return await self._run(definition, trigger, scheduled_for, run_id, True)

    async def record_missed(
        self,
        definition: JobDefinition,
        scheduled_for: datetime,
        reason: str,
        *,
        notify: bool = True,
    ) -> JobResult | None:
        """Claim a tick that could not start in time and record it ``missed``.

        ``notify=False`` records without notifying (catch-up notifies once for
        a whole downtime, not once per missed tick).
        """
        run_id = new_run_id()
        if not await self.store.claim_tick(definition.name, scheduled_for, run_id):
            return None
        return await self._missed(definition, scheduled_for, "schedule", reason, run_id, notify)

    async def _missed(
        self,
        definition: JobDefinition,
        scheduled_for: datetime,
        trigger: Trigger,
        reason: str,
        run_id: str,
        notify: bool = True,
    ) -> JobResult:
        """Record a claimed tick ``missed``."""
        log.warning("%s: tick %s missed: %s", definition.name, scheduled_for.isoformat(), reason)
        return await self.record_final(
            definition, RunStatus.MISSED, scheduled_for, trigger, reason, run_id, notify=notify
        )

    async def record_final(
        self,
        definition: JobDefinition,
        status: RunStatus,
        scheduled_for: datetime | None,
        trigger: Trigger,
        reason: str,
        run_id: str,
        *,
        notify: bool = True,
    ) -> JobResult:
        """Record a tick that did not run (``skipped``, ``missed``), notify, tell listeners."""
        now = _now()
        result = JobResult(
            job=definition.name,
            run_id=run_id,
            status=status,
            trigger=trigger,
            scheduled_for=scheduled_for,
            completed_at=now,
            error=reason,
        )
        if notify:
            result = await self._notify(definition, result)
        await self.store.add_result(result)
        await self._tell_listeners(result)
        return result

    async def announce(self, definition: JobDefinition | None, result: JobResult) -> None:
        """Notify and tell listeners about a result recorded elsewhere (abandoned runs)."""
        await self._notify(definition, result)
        await self._tell_listeners(result)

    # ----------------------------------------------------------------- one run

    async def _run(
        self,
        definition: JobDefinition,
        trigger: Trigger,
        scheduled_for: datetime | None,
        run_id: str,
        notify: bool,
    ) -> JobResult:
        name = definition.name
        handle = RunHandle(definition, run_id, trigger, scheduled_for)
        self.runs.add(handle)
        ctx = self._context(definition, handle)
        token = current_run.set(ctx)
        started_at: datetime | None = None
        t0 = 0.0
        attempts = 0
        outcome: Outcome
        try:
            try:
                slots = self.limits.for_job(definition.limiter)
                acquired = await self._acquire(slots, handle)
                try:
                    if handle.cancel_reason is not None:
                        outcome = Outcome(RunStatus.CANCELLED, error=handle.cancel_reason)
                    else:
                        started_at = _now()
                        t0 = monotonic()
                        running = JobResult(
                            job=name,
                            run_id=run_id,
                            status=RunStatus.RUNNING,
                            trigger=trigger,
                            scheduled_for=scheduled_for,
                            started_at=started_at,
                            notifications=[],
                        )
                        await self.store.start_run(running, started_at + self._lease)
                        handle.stored = True
                        self.notifier.run_started(definition, running)
                        outcome, attempts = await self._attempts(definition, ctx, handle)
                finally:
                    for slot in acquired:
                        slot.release()
            except asyncio.CancelledError:
                # The caller of run_async was cancelled: stop the job and record it.
                handle.cancel("the caller was cancelled")
                await self._finish(
                    definition,
                    handle,
                    Outcome(RunStatus.CANCELLED, error=handle.cancel_reason),
                    started_at,
                    t0,
                    attempts,
                    notify,
                )
                raise
            return await self._finish(definition, handle, outcome, started_at, t0, attempts, notify)
        finally:
            current_run.reset(token)
            self.runs.remove(handle)

    async def _acquire(
        self, slots: tuple[asyncio.Semaphore, ...], handle: RunHandle
    ) -> list[asyncio.Semaphore]:
        """Take the run's slots in order; stop early if the run is cancelled meanwhile."""
        acquired: list[asyncio.Semaphore] = []
        try:
            for slot in slots:
                if not slot.locked():
                    await slot.acquire()  # uncontended: returns at once
                    acquired.append(slot)
                    continue
                task = asyncio.current_task()
                handle.slot_waiter = task
                try:
                    await slot.acquire()
                except asyncio.CancelledError:
                    if handle.cancel_reason is None or task is None:
                        raise
                    # Our own interruption (shutdown, replace), not the caller's:
                    # the run ends as a recorded ``cancelled`` result.
                    task.uncancel()
                    break
                finally:
                    handle.slot_waiter = None
                acquired.append(slot)
        except BaseException:
            for slot in acquired:
                slot.release()
            raise
        return acquired

    def _context(self, definition: JobDefinition, handle: RunHandle) -> RunContext:
        return RunContext(
            job=definition.name,
            run_id=handle.run_id,
            scheduled_for=handle.scheduled_for,
            attempt=0,
            trigger=handle.trigger,
            log=definition.log,
            settings=self.settings,
            definition=definition,
            _http=self._http,
            _mailer=self._mailer,
        )

    async def _attempts(
        self, definition: JobDefinition, ctx: RunContext, handle: RunHandle
    ) -> tuple[Outcome, int]:
        attempt = 0
        while True:
            attempt += 1
            ctx.attempt = attempt
            if definition.is_async and definition.instance is None:
                job = definition.func(ctx)
            else:
                job = self._invoke(definition, ctx)
            outcome = await run_attempt(job, definition.timeout, handle, self._orphans)
            if outcome.status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED):
                return outcome, attempt
            if attempt > definition.retries:
                return outcome, attempt
            delay = min(definition.retry_delay * 2 ** (attempt - 1), MAX_RETRY_DELAY)
            delay *= random.uniform(0.8, 1.2)
            log.info(
                "attempt %d %s (%s); retrying in %.2fs",
                attempt,
                outcome.status.value,
                outcome.error,
                delay,
            )
            if await pause(delay, handle):
                return Outcome(RunStatus.CANCELLED, error=handle.cancel_reason), attempt

    async def _invoke(self, definition: JobDefinition, ctx: RunContext) -> Any:
        """Class jobs (lazy setup) and thread jobs; plain coroutines run directly."""
        if definition.instance is not None:
            await self._ensure_setup(definition)
        if definition.is_async:
            return await definition.func(ctx)
        # A thread cannot be killed: when the task is cancelled at the deadline,
        # anyio abandons the thread, which is left to finish on its own.
        value = await anyio.to_thread.run_sync(definition.func, ctx, abandon_on_cancel=True)
        if inspect.isawaitable(value):
            # A plain callable that returns a coroutine (a lambda, a wrapper):
            # the work is the coroutine, so it runs here, in the loop.
            value = await value
        return value

    async def _ensure_setup(self, definition: JobDefinition) -> None:
        name = definition.name
        if name in self._setup_done:
            return
        lock = self._setup_locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name not in self._setup_done and definition.instance is not None:
                await definition.instance.setup()
                self._setup_done.add(name)

    async def teardown_jobs(self, definitions: dict[str, JobDefinition]) -> None:
        """Call ``teardown`` on every class job whose ``setup`` ran."""
        for name in sorted(self._setup_done):
            definition = definitions.get(name)
            if definition is None or definition.instance is None:
                continue
            try:
                await definition.instance.teardown()
            except Exception:
                log.exception("%s: teardown failed", name)
        self._setup_done.clear()

    # ----------------------------------------------------------------- the end of a run

    async def _finish(
        self,
        definition: JobDefinition,
        handle: RunHandle,
        outcome: Outcome,
        started_at: datetime | None,
        t0: float,
        attempts: int,
        notify: bool,
    ) -> JobResult:
        completed = _now()
        result = JobResult(
            job=definition.name,
            run_id=handle.run_id,
            status=outcome.status,
            trigger=handle.trigger,
            scheduled_for=handle.scheduled_for,
            started_at=started_at,
            completed_at=completed,
            duration_seconds=round(monotonic() - t0, 6) if started_at is not None else None,
            attempts=attempts,
            error=outcome.error,
            error_type=outcome.error_type,
            traceback=outcome.traceback,
            data=outcome.data,
            notifications=[],
        )
        if notify:
            result = await self._notify(definition, result)
        if handle.stored:
            if not await self.store.finish_run(result):
                log.warning(
                    "run %s was marked abandoned by another process after its lease "
                    "expired; this result (%s) is not recorded",
                    handle.run_id,
                    result.status.value,
                )
                return result
        else:
            await self.store.add_result(result)
        level = logging.INFO if result.status is RunStatus.SUCCEEDED else logging.WARNING
        if log.isEnabledFor(level):
            log.log(level, "%s", result.summary())
        await self._tell_listeners(result)
        return result

    async def _notify(self, definition: JobDefinition | None, result: JobResult) -> JobResult:
        try:
            outcomes = await self.notifier.run_finished(definition, result)
        except Exception as exc:  # a notifier must not break a run; defend anyway
            log.exception("notifier failed")
            outcomes = []
            del exc
        if outcomes:
            result = result.model_copy(update={"notifications": [*result.notifications, *outcomes]})
        return result

    async def _tell_listeners(self, result: JobResult) -> None:
        for listener in self.listeners:
            try:
                value = listener(result)
                if isinstance(value, Awaitable):
                    await value
            except Exception:
                log.exception("listener %r failed", listener)

    # ----------------------------------------------------------------- shutdown

    async def drain(self, grace: float, configured: float | None = None) -> None:
        """Wait up to ``grace`` seconds for runs in flight; cancel and record the rest.

        ``configured`` is the ``shutdown_grace`` to name in the cancel reason.
        """
        if self.in_flight:
            log.info("waiting up to %gs for %d running job(s)", grace, len(self.in_flight))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.runs.idle.wait(), timeout=grace)
        if self.in_flight:
            for handle in list(self.in_flight.values()):
                handle.cancel(
                    f"shutdown: still running after shutdown_grace ({configured or grace:g}s)"
                )
            try:
                # Each cancelled run finishes within KILL_GRACE plus its store write.
                await asyncio.wait_for(self.runs.idle.wait(), timeout=KILL_GRACE + 5.0)
            except TimeoutError:
                log.error("runs still in flight after shutdown: %s", sorted(self.in_flight))
