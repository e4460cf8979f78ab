"""One attempt of a job, bounded: the run handle, the deadline and the outcome.

An attempt runs in a task of its own, so that a job that swallows
cancellation cannot hold the runner: at the deadline the task is cancelled
(the edge-triggered cancellation ``asyncio.timeout`` uses), and
:data:`KILL_GRACE` seconds later the runner stops waiting and leaves the
stubborn task behind. A shutdown or ``overlap="replace"`` cancel goes
through :meth:`RunHandle.cancel` and gets the same grace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback as tb
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncjobs.definition import JobDefinition
from asyncjobs.result import RunStatus, Trigger

__all__ = ("KILL_GRACE", "Outcome", "RunHandle", "as_data", "pause", "run_attempt")

log = logging.getLogger("asyncjobs.runner")

#: Seconds a cancelled job gets to stop before the runner stops waiting for it.
KILL_GRACE = 1.0


@dataclass(eq=False, slots=True)
class RunHandle:
    """A run in flight: what shutdown and ``overlap="replace"`` use to stop it."""

    definition: JobDefinition
    run_id: str
    trigger: Trigger
    scheduled_for: datetime | None
    stored: bool = False
    lease_lost: bool = False
    cancel_reason: str | None = None
    job_task: asyncio.Task[Any] | None = None
    waiter: asyncio.Future[None] | None = None
    #: the task waiting for a concurrency slot, interrupted by :meth:`cancel`
    slot_waiter: asyncio.Task[Any] | None = None
    #: the attempt's deadline timer, then its kill-grace timer
    timer: asyncio.TimerHandle | None = None
    deadline_hit: bool = False

    def cancel(self, reason: str) -> None:
        """Stop the run; it is recorded ``cancelled`` with ``reason`` as its error."""
        if self.cancel_reason is not None:
            return
        self.cancel_reason = reason
        if self.slot_waiter is not None:
            self.slot_waiter.cancel()
        if self.job_task is not None and not self.job_task.done():
            self.job_task.cancel()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            # The job gets KILL_GRACE to honour the cancel; then we stop waiting.
            loop = waiter.get_loop()
            loop.call_later(KILL_GRACE, _release, waiter)
            if self.job_task is None:
                waiter.set_result(None)


def _release(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def waiter_releaser(fut: asyncio.Future[None]) -> Callable[[object], None]:
    """A done-callback that releases ``fut`` when the job task ends."""

    def release(_task: object) -> None:
        if not fut.done():
            fut.set_result(None)

    return release


def _on_deadline(handle: RunHandle, task: asyncio.Task[Any], waiter: asyncio.Future[None]) -> None:
    """The attempt's timeout: cancel the job, give it KILL_GRACE to stop."""
    if task.done():
        return
    handle.deadline_hit = True
    task.cancel()
    handle.timer = waiter.get_loop().call_later(KILL_GRACE, _release, waiter)


class Outcome:
    """How one attempt (or a run that never got to one) ended."""

    __slots__ = ("data", "error", "error_type", "status", "traceback")

    def __init__(
        self,
        status: RunStatus,
        data: dict[str, Any] | None = None,
        exc: BaseException | None = None,
        error: str | None = None,
    ) -> None:
        self.status = status
        self.data = data
        self.error = error
        self.error_type: str | None = None
        self.traceback: str | None = None
        if exc is not None:
            self.error = error or str(exc) or repr(exc)
            self.error_type = type(exc).__name__
            self.traceback = "".join(tb.format_exception(exc))


async def pause(delay: float, handle: RunHandle) -> bool:
    """Sleep between attempts; ``True`` when the run was cancelled meanwhile."""
    loop = asyncio.get_running_loop()
    handle.waiter = waiter = loop.create_future()
    timer = loop.call_later(delay, _release, waiter)
    try:
        await waiter
    finally:
        timer.cancel()
        handle.waiter = None
    return handle.cancel_reason is not None


async def run_attempt(
    job: Coroutine[Any, Any, Any],
    deadline: float,
    handle: RunHandle,
    orphans: set[asyncio.Task[Any]],
) -> Outcome:
    """Run one attempt of ``job`` (a coroutine) with a deadline ``deadline`` seconds away.

    ``orphans`` keeps a reference to a job task that ignored cancellation, so
    it is not garbage-collected while it still runs.
    """
    loop = asyncio.get_running_loop()
    # The job runs in a task of its own, so that one that swallows
    # cancellation cannot hold the runner: at the deadline the task is
    # cancelled, and KILL_GRACE later the runner stops waiting for it.
    task = loop.create_task(job)
    handle.job_task = task
    handle.deadline_hit = False
    handle.waiter = waiter = loop.create_future()
    task.add_done_callback(waiter_releaser(waiter))
    handle.timer = loop.call_later(deadline, _on_deadline, handle, task, waiter)
    try:
        await waiter
    except asyncio.CancelledError:
        task.cancel()  # the caller gave up: the job must not run on unseen
        raise
    finally:
        if handle.timer is not None:
            handle.timer.cancel()
            handle.timer = None
        handle.waiter = None
        handle.job_task = None
    timed_out = handle.deadline_hit and handle.cancel_reason is None
    if not task.done():
        orphans.add(task)
        task.add_done_callback(orphans.discard)
        log.warning("job ignored cancellation; its task is left running")
    elif not timed_out:
        if task.cancelled():
            return Outcome(
                RunStatus.CANCELLED, error=handle.cancel_reason or "the job was cancelled"
            )
        exc = task.exception()
        if exc is None:
            return Outcome(RunStatus.SUCCEEDED, data=as_data(task.result()))
        if handle.cancel_reason is None:
            return Outcome(RunStatus.FAILED, exc=exc)
    if timed_out:
        return Outcome(
            RunStatus.TIMED_OUT,
            exc=TimeoutError(f"timed out after {deadline:g}s"),
        )
    return Outcome(RunStatus.CANCELLED, error=handle.cancel_reason)


def as_data(value: Any) -> dict[str, Any] | None:
    """The job's return value as the JSON-safe ``data`` dict of its result."""
    if value is None:
        return None
    data: dict[str, Any] = value if isinstance(value, dict) else {"value": value}
    try:
        json.dumps(data)
        return data
    except (TypeError, ValueError):
        return dict(json.loads(json.dumps(data, default=str)))
