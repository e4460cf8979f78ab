"""Schedules: parsing, validation, and their APScheduler triggers.

This module and :mod:`asyncjobs.scheduler` are the only ones that import
APScheduler. A job's schedule is one of :class:`Cron`, :class:`Every` or
:class:`At`; :func:`build_trigger` turns it into an APScheduler 3.x trigger.

Rules that differ from bare APScheduler, chosen so that every process and
every reader of a crontab agrees:

* Cron day-of-week numbers follow crontab: 0 and 7 are Sunday (APScheduler's
  own numbering starts at Monday).
* Intervals are anchored to the Unix epoch in UTC, so ``every=60`` fires on
  whole minutes in every process and is untouched by daylight saving.
* Daylight saving (see README, "Time zones and DST"): a local time that does
  not exist (spring forward) fires at the same instant one gap later (02:30
  becomes 03:30; when that instant is also a scheduled time, it fires once);
  a local time that happens twice (fall back) fires once, at
  its first occurrence, for a job with a fixed hour, and at both for a job
  whose hour field is ``*`` (it follows elapsed time, like Vixie cron).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from asyncjobs.durations import parse_duration
from asyncjobs.exceptions import ConfigError

__all__ = (
    "At",
    "Cron",
    "Every",
    "Schedule",
    "build_trigger",
    "fire_times",
    "get_zone",
    "next_fire_time",
    "parse_schedule",
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EVERY = 100 * 365 * 86400.0


@dataclass(frozen=True, slots=True)
class Cron:
    """A 5-field crontab expression evaluated in ``timezone``."""

    expr: str
    timezone: str

    def describe(self) -> str:
        return f"cron '{self.expr}'"


@dataclass(frozen=True, slots=True)
class Every:
    """A fixed interval, anchored to the Unix epoch."""

    seconds: float

    def describe(self) -> str:
        s = self.seconds
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if s >= size and s % size == 0:
                return f"every {int(s // size)}{unit}"
        return f"every {s:g}s"


@dataclass(frozen=True, slots=True)
class At:
    """One run at an instant (stored in UTC)."""

    when: datetime

    def describe(self) -> str:
        return f"at {self.when.isoformat()}"


Schedule = Cron | Every | At

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_INDEX = {name: i for i, name in enumerate(_DOW_NAMES)}
_FIELD_NAMES = ("minute", "hour", "day", "month", "day_of_week")


def get_zone(name: str, *, job: str, field: str = "timezone") -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name, or a ``ConfigError`` naming job and field."""
    if not isinstance(name, str):
        raise ConfigError(
            f"expected an IANA timezone name such as 'Europe/Berlin', got {type(name).__name__}",
            job=job,
            field=field,
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown IANA timezone {name!r}", job=job, field=field) from None


def parse_schedule(
    *,
    job: str,
    cron: str | None,
    every: object | None,
    at: datetime | str | None,
    timezone: str,
) -> Schedule | None:
    """Validate the schedule keywords of one job; ``None`` means manual-only."""
    given = [k for k, v in (("cron", cron), ("every", every), ("at", at)) if v is not None]
    if len(given) > 1:
        raise ConfigError(
            f"give at most one of cron=, every=, at= (got {', '.join(given)})",
            job=job,
            field="schedule",
        )
    zone = get_zone(timezone, job=job)
    if cron is not None:
        schedule: Schedule = Cron(str(cron).strip(), timezone)
        build_trigger(schedule, job=job)  # validates every field now, not at fire time
        return schedule
    if every is not None:
        try:
            seconds = parse_duration(every)
        except ValueError as exc:
            raise ConfigError(str(exc), job=job, field="every") from None
        if seconds > _MAX_EVERY:
            # Longer intervals overflow datetime arithmetic at fire time.
            raise ConfigError(
                f"must be at most {_MAX_EVERY:g} seconds (100 years), got {every!r}",
                job=job,
                field="every",
            )
        return Every(seconds)
    if at is not None:
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError:
                raise ConfigError(
                    f"expected an ISO 8601 datetime, got {at!r}", job=job, field="at"
                ) from None
        if not isinstance(at, datetime):
            raise ConfigError(f"expected a datetime, got {type(at).__name__}", job=job, field="at")
        if at.tzinfo is None:
            at = at.replace(tzinfo=zone)  # naive means the job's own timezone
        return At(at.astimezone(UTC))
    return None


def _translate_dow(spec: str, *, job: str) -> str:
    """Crontab day-of-week (0/7 = Sunday) to APScheduler's names, expanded to a list."""
    days: set[int] = set()
    for part in spec.lower().split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise ConfigError(f"bad step in {spec!r}", job=job, field="cron.day_of_week")
            step = int(step_text)
        if part == "*":
            lo, hi = 0, 6
        elif "-" in part:
            a, _, b = part.partition("-")
            # In a range 7 stays 7 (so ``5-7`` is Fri-Sun and ``7-7`` is Sunday).
            lo, hi = _dow_value(a, spec, job, seven=7), _dow_value(b, spec, job, seven=7)
            if lo > hi:
                raise ConfigError(
                    f"range goes backwards in {spec!r}", job=job, field="cron.day_of_week"
                )
        else:
            lo = _dow_value(part, spec, job)
            hi = lo if step == 1 else 6
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DOW_NAMES[d] for d in sorted(days))


def _dow_value(text: str, spec: str, job: str, *, seven: int = 0) -> int:
    text = text.strip()
    if text.isdigit() and int(text) <= 7:
        return seven if int(text) == 7 else int(text)
    if text[:3] in _DOW_INDEX and len(text) == 3:
        return _DOW_INDEX[text]
    raise ConfigError(
        f"bad day of week {text!r} in {spec!r} (0-7 or sun-sat)", job=job, field="cron.day_of_week"
    )


_WS = re.compile(r"\s+")
_MAX_SKIPS = 24 * 60 + 1


class _CronTrigger(CronTrigger):  # type: ignore[misc]
    """CronTrigger that fires a fixed-hour local time once when the clock falls back."""

    def __init__(self, *args: Any, fixed_hour: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fixed_hour = fixed_hour

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        nxt = self._next_existing(previous_fire_time, now)
        # APScheduler walks the real clock, so it only lands on a nonexistent
        # local time when it jumps straight to that hour; stepping minute by
        # minute it passes over the gap. Look for the skipped times explicitly.
        start = now.astimezone(UTC)
        if previous_fire_time is not None:
            start = min(start, previous_fire_time.astimezone(UTC) + timedelta(microseconds=1))
        in_gap = self._gap_fire_time(start, nxt)
        return in_gap if in_gap is not None else nxt

    def _next_existing(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        nxt: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        # Skip every fire in the repeated stretch (up to one a minute, and a
        # repeated stretch is far shorter than a day), so the loop is bounded.
        for _ in range(_MAX_SKIPS):
            if nxt is None or not (self._fixed_hour and _second_occurrence(nxt)):
                return nxt
            # Step in UTC: arithmetic on an aware local time drops ``fold``.
            after = nxt.astimezone(UTC) + timedelta(microseconds=1)
            nxt = super().get_next_fire_time(nxt, after)
        return nxt

    def _gap_fire_time(self, start: datetime, before: datetime | None) -> datetime | None:
        """The first nonexistent local time the fields match whose moved instant
        (one gap later) is in ``[start, before)``; ``None`` when there is none."""
        zone = self.timezone
        lo = int((start - timedelta(days=1)).timestamp())
        hi_dt = start + timedelta(days=2)
        if before is not None:
            hi_dt = min(hi_dt, before.astimezone(UTC))
        hi = int(hi_dt.timestamp())
        off_lo = _offset(lo, zone)
        off_hi = _offset(hi, zone)
        if off_hi <= off_lo:
            return None  # no spring-forward transition near ``start``
        while hi - lo > 1:  # the first second with the new offset
            mid = (lo + hi) // 2
            if _offset(mid, zone) == off_lo:
                lo = mid
            else:
                hi = mid
        transition = datetime.fromtimestamp(hi, UTC)
        wall_start = (max(transition, start) + off_lo).replace(tzinfo=None)
        wall_end = (transition + off_hi).replace(tzinfo=None)
        wall: datetime | None = self._wall_clock().get_next_fire_time(
            None, wall_start.replace(tzinfo=UTC)
        )
        if wall is None or wall.replace(tzinfo=None) >= wall_end:
            return None
        # A nonexistent local time with fold=0 reads with the old offset:
        # exactly the instant one gap later.
        candidate = wall.replace(tzinfo=zone)
        if before is not None and candidate.astimezone(UTC) >= before.astimezone(UTC):
            return None
        return candidate

    def _wall_clock(self) -> CronTrigger:
        """The same fields evaluated on bare wall-clock times (UTC stands in)."""
        wall: CronTrigger | None = self.__dict__.get("_wall")
        if wall is None:
            wall = CronTrigger(timezone=UTC)
            wall.fields = self.fields
            self.__dict__["_wall"] = wall
        return wall

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state["fixed_hour"] = self._fixed_hour
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._fixed_hour = state.pop("fixed_hour", True)
        super().__setstate__(state)


def _offset(timestamp: int, zone: ZoneInfo) -> timedelta:
    offset = datetime.fromtimestamp(timestamp, zone).utcoffset()
    assert offset is not None
    return offset


def _second_occurrence(dt: datetime) -> bool:
    """True when ``dt`` is the repeat of an ambiguous local time (fall back)."""
    if dt.fold != 1:
        return False
    return dt.replace(fold=0).utcoffset() != dt.utcoffset()


def build_trigger(schedule: Schedule, *, job: str = "?") -> BaseTrigger:
    """The APScheduler trigger for a schedule (raises ``ConfigError`` for a bad cron)."""
    if isinstance(schedule, Every):
        return IntervalTrigger(seconds=schedule.seconds, start_date=EPOCH, timezone=UTC)
    if isinstance(schedule, At):
        return DateTrigger(run_date=schedule.when, timezone=UTC)
    fields = _WS.split(schedule.expr) if schedule.expr else []
    if len(fields) != 5:
        raise ConfigError(
            f"expected 5 fields (minute hour day month weekday), got {len(fields)} in "
            f"{schedule.expr!r}",
            job=job,
            field="cron",
        )
    values = dict(zip(_FIELD_NAMES, fields, strict=True))
    zone = get_zone(schedule.timezone, job=job)
    for name in _FIELD_NAMES:
        # Check one field at a time so the error names the field at fault.
        if name == "day_of_week":
            values[name] = _translate_dow(values[name], job=job)
        try:
            CronTrigger(**{name: values[name]}, timezone=zone)
        except ValueError as exc:
            raise ConfigError(
                f"{exc} in {schedule.expr!r}", job=job, field=f"cron.{name}"
            ) from None
    hour = values["hour"]
    try:
        trigger = _CronTrigger(**values, timezone=zone, fixed_hour=hour.strip() != "*")
    except ValueError as exc:
        raise ConfigError(f"{exc} in {schedule.expr!r}", job=job, field="cron") from None
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise ConfigError(f"{schedule.expr!r} never fires", job=job, field="cron")
    return trigger


def next_fire_time(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` (aware UTC)."""
    nxt: datetime | None = trigger.get_next_fire_time(
        None, after.astimezone(UTC) + timedelta(microseconds=1)
    )
    # A DateTrigger gives its run date whatever ``now`` is, even a past one.
    return None if nxt is None or nxt <= after else nxt.astimezone(UTC)


def fire_times(trigger: BaseTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """Fire times in ``(after, until]``, oldest first, as aware UTC datetimes."""
    current: datetime | None = None
    now = after.astimezone(UTC) + timedelta(microseconds=1)
    while True:
        nxt = trigger.get_next_fire_time(current, now)
        if nxt is None or nxt > until:
            return
        current = nxt
        # Step in UTC: arithmetic on an aware local time drops ``fold``.
        now = nxt.astimezone(UTC) + timedelta(microseconds=1)
        if nxt > after:  # a DateTrigger gives its run date even when it is past
            yield now - timedelta(microseconds=1)
