"""The scheduler adapter over APScheduler 3.x ``AsyncIOScheduler``.

APScheduler decides *when*; asyncjobs decides *what happens*. Jobs that share
a schedule share one APScheduler entry that fans out to all of them, so ten
thousand jobs due at the same instant cost APScheduler one entry, not ten
thousand. Our executor receives every due fire time (APScheduler's own
misfire check and instance counting are turned off): the latest goes to
``on_tick`` (the runner applies ``misfire_grace_time`` once it has claimed
it), the older ones of a coalesced batch to ``on_missed``.

Only this module and :mod:`asyncjobs.triggers` import APScheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from asyncjobs.definition import JobDefinition
from asyncjobs.triggers import At, Cron, Every, Schedule, build_trigger

__all__ = ("Scheduler", "schedule_key")

log = logging.getLogger("asyncjobs.scheduler")

# APScheduler logs every job added and every start at INFO; asyncjobs reports
# what matters itself. An application that set a level keeps it.
_aps_log = logging.getLogger("apscheduler")
if _aps_log.level == logging.NOTSET:
    _aps_log.setLevel(logging.WARNING)

OnTick = Callable[[JobDefinition, datetime], None]
OnMissed = Callable[[JobDefinition, datetime, str], None]


def schedule_key(schedule: Schedule) -> tuple[Any, ...]:
    """Jobs with equal keys fire at exactly the same instants."""
    if isinstance(schedule, Cron):
        return ("cron", " ".join(schedule.expr.split()), schedule.timezone)
    if isinstance(schedule, Every):
        return ("every", schedule.seconds)
    assert isinstance(schedule, At)
    return ("at", schedule.when)


def _fan_out_placeholder() -> None:  # pragma: no cover - never called
    """APScheduler wants a callable; our executor never calls it."""


class _FanOutExecutor(BaseExecutor):  # type: ignore[misc]
    """Hands due fire times to asyncjobs instead of running anything itself."""

    def __init__(self, fire: Callable[[str, list[datetime]], None]) -> None:
        super().__init__()
        self._fire = fire

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        # Replaces BaseExecutor.submit_job: no instance counting, no
        # "maximum number of running instances reached" (overlap is ours).
        self._fire(job.id, run_times)

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:  # pragma: no cover
        raise NotImplementedError


class Scheduler:
    """Fires the ticks of scheduled jobs into ``on_tick`` / ``on_missed``."""

    def __init__(self, *, on_tick: OnTick, on_missed: OnMissed) -> None:
        self._on_tick = on_tick
        self._on_missed = on_missed
        self._groups: dict[str, list[JobDefinition]] = {}
        self._group_of: dict[str, str] = {}
        self._aps: AsyncIOScheduler | None = None

    def start(self, definitions: Iterable[JobDefinition], now: datetime | None = None) -> None:
        """Add every enabled scheduled job and start firing, in the running loop."""
        now = now or datetime.now(UTC)
        by_key: dict[tuple[Any, ...], list[JobDefinition]] = {}
        for definition in definitions:
            schedule = definition.schedule
            if schedule is None or not definition.enabled:
                continue
            if isinstance(schedule, At) and schedule.when <= now:
                continue  # past one-off times are the catch-up's business
            by_key.setdefault(schedule_key(schedule), []).append(definition)
        aps = AsyncIOScheduler(
            timezone=UTC,
            executors={"default": _FanOutExecutor(self._fire)},
            job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        )
        for index, members in enumerate(by_key.values()):
            group_id = f"g{index}"
            self._groups[group_id] = members
            for member in members:
                self._group_of[member.name] = group_id
            schedule = members[0].schedule
            assert schedule is not None
            aps.add_job(
                _fan_out_placeholder,
                trigger=build_trigger(schedule, job=members[0].name),
                id=group_id,
                name=",".join(m.name for m in members[:3]),
            )
        aps.start()
        self._aps = aps

    def shutdown(self) -> None:
        """Stop firing (the runs already started are the runner's to drain)."""
        aps, self._aps = self._aps, None
        if aps is not None and aps.running:
            aps.shutdown(wait=False)

    def next_run_time(self, name: str) -> datetime | None:
        """The next tick of job ``name`` (aware UTC), or ``None``."""
        if self._aps is None or name not in self._group_of:
            return None
        job = self._aps.get_job(self._group_of[name])
        nxt = None if job is None else job.next_run_time
        return None if nxt is None else nxt.astimezone(UTC)

    def _fire(self, group_id: str, run_times: list[datetime]) -> None:
        members = self._groups.get(group_id, [])
        latest = run_times[-1].astimezone(UTC)
        for definition in members:
            for older in run_times[:-1]:
                self._on_missed(
                    definition,
                    older.astimezone(UTC),
                    "the scheduler fell behind and a later tick ran instead",
                )
            # Late or not: the runner records it missed if past the grace.
            self._on_tick(definition, latest)
