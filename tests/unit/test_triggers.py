"""Schedules: parse_schedule, build_trigger, next_fire_time and fire_times (no DST here)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from asyncjobs.exceptions import ConfigError
from asyncjobs.triggers import (
    At,
    Cron,
    Every,
    Schedule,
    build_trigger,
    fire_times,
    next_fire_time,
    parse_schedule,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def parse(
    *,
    cron: str | None = None,
    every: object | None = None,
    at: datetime | str | None = None,
    timezone: str = "UTC",
    job: str = "report",
) -> Schedule | None:
    return parse_schedule(job=job, cron=cron, every=every, at=at, timezone=timezone)


def cron_fires(expr: str, after: datetime, count: int, timezone: str = "UTC") -> list[datetime]:
    schedule = parse(cron=expr, timezone=timezone)
    assert isinstance(schedule, Cron)
    trigger = build_trigger(schedule, job="report")
    return list(islice(fire_times(trigger, after, after + timedelta(days=3000)), count))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


# ---------------------------------------------------------------- parse_schedule


def test_kinds() -> None:
    assert parse(cron=" 0 6 * * * ") == Cron("0 6 * * *", "UTC")
    assert parse(every=60) == Every(60.0)
    assert parse(at=utc(2030, 1, 1)) == At(utc(2030, 1, 1))
    assert parse() is None


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"cron": "0 6 * * *", "every": 60}, "cron, every"),
        ({"every": 60, "at": utc(2030, 1, 1)}, "every, at"),
        ({"cron": "0 6 * * *", "at": utc(2030, 1, 1)}, "cron, at"),
        ({"cron": "0 6 * * *", "every": 60, "at": utc(2030, 1, 1)}, "cron, every, at"),
    ],
)
def test_two_schedule_kinds_are_refused(kwargs: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(**kwargs)  # type: ignore[arg-type]
    assert info.value.job == "report"
    assert info.value.field == "schedule"
    assert str(info.value).startswith("job 'report': schedule: ")
    assert named in str(info.value)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Europe/../etc/passwd", "utc+2"])
def test_unknown_timezone(zone: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(cron="0 6 * * *", timezone=zone)
    assert (info.value.job, info.value.field) == ("report", "timezone")


def test_unknown_timezone_is_refused_for_manual_jobs_too() -> None:
    with pytest.raises(ConfigError) as info:
        parse(timezone="Nowhere/Atlantis")
    assert info.value.field == "timezone"


def test_timezone_object_instead_of_name_is_a_config_error() -> None:
    # A ZoneInfo where an IANA name is expected used to escape as a TypeError.
    with pytest.raises(ConfigError) as info:
        parse(cron="0 6 * * *", timezone=BERLIN)  # type: ignore[arg-type]
    assert (info.value.job, info.value.field) == ("report", "timezone")


# ---------------------------------------------------------------- cron


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("*/15 * * * *", [utc(2026, 6, 1, 10, m) for m in (0, 15, 30, 45)]),
        ("5,35 * * * *", [utc(2026, 6, 1, 10, 5), utc(2026, 6, 1, 10, 35), utc(2026, 6, 1, 11, 5)]),
        ("0 9-17/4 * * *", [utc(2026, 6, 1, h) for h in (13, 17)] + [utc(2026, 6, 2, 9)]),
        (
            "10-12 10 * * *",
            [utc(2026, 6, 1, 10, m) for m in (10, 11, 12)] + [utc(2026, 6, 2, 10, 10)],
        ),
        ("0 0 1,15 * *", [utc(2026, 6, 15), utc(2026, 7, 1), utc(2026, 7, 15)]),
        ("0 0 1 */3 *", [utc(2026, 7, 1), utc(2026, 10, 1), utc(2027, 1, 1)]),
        ("30 4 29 2 *", [utc(2028, 2, 29, 4, 30), utc(2032, 2, 29, 4, 30)]),
    ],
)
def test_cron_ranges_steps_lists(expr: str, expected: list[datetime]) -> None:
    after = utc(2026, 6, 1, 10) - timedelta(microseconds=1)
    assert cron_fires(expr, after, len(expected)) == expected


def test_month_and_weekday_names() -> None:
    # 2026-03-27 is a Friday; 2027-01-01 is a Friday.
    fires = cron_fires("0 6 * jan-mar mon-fri", utc(2026, 3, 27), 4)
    assert fires == [
        utc(2026, 3, 27, 6),
        utc(2026, 3, 30, 6),
        utc(2026, 3, 31, 6),
        utc(2027, 1, 1, 6),
    ]


def test_names_are_case_insensitive() -> None:
    after = utc(2026, 3, 27)
    assert cron_fires("0 6 * JAN-Mar MON-Fri", after, 5) == cron_fires("0 6 * 1-3 1-5", after, 5)


def weekdays(expr: str) -> set[str]:
    """Python weekday names on which ``expr`` fires over four weeks."""
    fires = cron_fires(expr, utc(2026, 6, 1), 40)
    fires = [f for f in fires if f < utc(2026, 6, 29)]
    return {f.strftime("%a") for f in fires}


WEEKEND = {"Sat", "Sun"}
WORKDAYS = {"Mon", "Tue", "Wed", "Thu", "Fri"}


@pytest.mark.parametrize(
    ("dow", "days"),
    [
        ("0", {"Sun"}),
        ("7", {"Sun"}),
        ("sun", {"Sun"}),
        ("1", {"Mon"}),
        ("6", {"Sat"}),
        ("1-5", WORKDAYS),
        ("mon-fri", WORKDAYS),
        ("0,6", WEEKEND),
        ("6,7", WEEKEND),
        ("6-7", WEEKEND),
        ("sat,sun", WEEKEND),
        ("5-7", {"Fri", "Sat", "Sun"}),
        ("0-7", WORKDAYS | WEEKEND),
        ("7-7", {"Sun"}),
        ("*", WORKDAYS | WEEKEND),
        ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
        ("1-5/2", {"Mon", "Wed", "Fri"}),
        ("mon-fri/2", {"Mon", "Wed", "Fri"}),
        ("1/2", {"Mon", "Wed", "Fri"}),
        ("SUN,wed", {"Sun", "Wed"}),
    ],
)
def test_crontab_day_of_week_numbering(dow: str, days: set[str]) -> None:
    # crontab: 0 and 7 are Sunday, 1 is Monday (APScheduler's own 0 is Monday).
    assert weekdays(f"0 12 * * {dow}") == days


def test_day_of_month_and_day_of_week_must_both_match() -> None:
    # APScheduler semantics (not classic cron's OR): only Fridays the 13th.
    fires = cron_fires("0 0 13 * 5", utc(2026, 1, 1), 3)
    assert fires == [utc(2026, 2, 13), utc(2026, 3, 13), utc(2026, 11, 13)]
    assert all(f.strftime("%a") == "Fri" for f in fires)


@pytest.mark.parametrize(
    ("expr", "field"),
    [
        ("", "cron"),
        ("0 6 * *", "cron"),
        ("0 6 * * * *", "cron"),
        ("60 * * * *", "cron.minute"),
        ("a b c d e", "cron.minute"),
        ("*/0 * * * *", "cron.minute"),
        ("0 24 * * *", "cron.hour"),
        ("0 -1 * * *", "cron.hour"),
        ("0 0 0 * *", "cron.day"),
        ("0 0 32 * *", "cron.day"),
        ("0 0 * 13 *", "cron.month"),
        ("0 0 * foo *", "cron.month"),
        ("0 0 * * 8", "cron.day_of_week"),
        ("0 0 * * fri-mon", "cron.day_of_week"),
        ("0 0 * * 7-1", "cron.day_of_week"),
        ("0 0 * * */0", "cron.day_of_week"),
        ("0 0 * * */x", "cron.day_of_week"),
        ("0 0 * * monday", "cron.day_of_week"),
        ("0 0 * * 1,,2", "cron.day_of_week"),
        ("0 0 * * ?", "cron.day_of_week"),
        ("0 0 31 2 *", "cron"),
        ("0 0 30 2 *", "cron"),
    ],
)
def test_bad_cron_names_job_and_field(expr: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(cron=expr)
    assert info.value.job == "report"
    assert info.value.field == field
    assert str(info.value).startswith(f"job 'report': {field}: ")
    assert "\n" not in str(info.value)


def test_cron_never_firing_is_refused_without_hanging() -> None:
    with pytest.raises(ConfigError, match="never fires"):
        parse(cron="0 0 31 4 *")  # April has 30 days


def test_cron_evaluated_in_its_timezone() -> None:
    after = utc(2026, 7, 1)
    assert cron_fires("0 6 * * *", after, 1, "Europe/Berlin") == [utc(2026, 7, 1, 4)]
    assert cron_fires("0 6 * * *", after, 1, "America/New_York") == [utc(2026, 7, 1, 10)]
    assert cron_fires("0 6 * * *", after, 1, "UTC") == [utc(2026, 7, 1, 6)]
    # Winter offsets differ from summer ones.
    assert cron_fires("0 6 * * *", utc(2026, 1, 10), 1, "Europe/Berlin") == [utc(2026, 1, 10, 5)]


def test_describe() -> None:
    assert Cron("0 6 * * *", "UTC").describe() == "cron '0 6 * * *'"
    assert At(utc(2030, 1, 1)).describe() == "at 2030-01-01T00:00:00+00:00"


# ---------------------------------------------------------------- every


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (60, 60.0),
        (0.5, 0.5),
        (timedelta(minutes=5), 300.0),
        ("90s", 90.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("0.5", 0.5),
    ],
)
def test_every_forms(value: object, seconds: float) -> None:
    assert parse(every=value) == Every(seconds)


@pytest.mark.parametrize(
    "value",
    [0, -1, "0s", "5x", "", "soon", True, [60], math.nan, math.inf, timedelta(0), 1e12, "1d" * 2],
)
def test_bad_every(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse(every=value)
    assert (info.value.job, info.value.field) == ("report", "every")
    assert str(info.value).startswith("job 'report': every: ")


def test_every_of_a_century_is_accepted_and_computes() -> None:
    schedule = parse(every=100 * 365 * 86400)
    assert isinstance(schedule, Every)
    assert next_fire_time(build_trigger(schedule), utc(2026, 1, 1)) == utc(2069, 12, 7)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (60, "every 1m"),
        (90, "every 90s"),
        (0.5, "every 0.5s"),
        (7200, "every 2h"),
        (86400, "every 1d"),
        (5400, "every 90m"),
    ],
)
def test_every_describe(seconds: float, text: str) -> None:
    assert Every(seconds).describe() == text


def test_every_is_anchored_to_the_epoch() -> None:
    trigger = build_trigger(Every(60))
    assert next_fire_time(trigger, utc(2026, 5, 4, 12, 34, 56) + timedelta(microseconds=789)) == (
        utc(2026, 5, 4, 12, 35)
    )
    # Strictly after: a fire time itself gives the next one.
    assert next_fire_time(trigger, utc(2026, 5, 4, 12, 35)) == utc(2026, 5, 4, 12, 36)
    # Intervals that do not divide an hour are still multiples from the epoch.
    seven = next_fire_time(build_trigger(Every(7)), utc(2026, 5, 4, 12, 34, 56))
    assert seven is not None
    assert (seven - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() % 7 == 0
    # Hours follow UTC, not the local clock of any zone.
    # (2026-01-01 00:00 UTC is 490896 h after the epoch, 1 h past a multiple of 5 h.)
    assert next_fire_time(build_trigger(Every(5 * 3600)), utc(2026, 1, 1)) == utc(2026, 1, 1, 4)


def test_every_fractional_seconds() -> None:
    trigger = build_trigger(Every(0.5))
    start = utc(2026, 5, 4, 12, 0, 0) + timedelta(microseconds=100)
    fires = list(fire_times(trigger, start, start + timedelta(seconds=2)))
    assert fires == [utc(2026, 5, 4, 12) + timedelta(seconds=s) for s in (0.5, 1.0, 1.5, 2.0)]


def test_two_processes_compute_the_same_ticks() -> None:
    first = build_trigger(parse(every="90s"))  # type: ignore[arg-type]
    second = build_trigger(parse(every=timedelta(seconds=90)))  # type: ignore[arg-type]
    a, b = utc(2026, 5, 4, 12, 0, 7), utc(2026, 5, 4, 12, 0, 41)  # different start moments
    until = utc(2026, 5, 4, 13)
    fires_a = [f for f in fire_times(first, a, until) if f > b]
    fires_b = list(fire_times(second, b, until))
    assert fires_a == fires_b
    assert len(fires_b) == 40  # 12:01:30 ... 13:00:00


# ---------------------------------------------------------------- at


def test_at_aware_is_kept_as_the_same_instant_in_utc() -> None:
    when = datetime(2030, 6, 1, 12, 0, tzinfo=NEW_YORK)
    schedule = parse(at=when, timezone="Europe/Berlin")
    assert isinstance(schedule, At)
    assert schedule.when == utc(2030, 6, 1, 16)
    assert schedule.when.tzinfo is UTC


def test_at_naive_is_read_in_the_jobs_timezone() -> None:
    schedule = parse(at=datetime(2030, 6, 1, 12, 0), timezone="Europe/Berlin")
    assert schedule == At(utc(2030, 6, 1, 10))
    schedule = parse(at=datetime(2030, 1, 1, 12, 0), timezone="Europe/Berlin")
    assert schedule == At(utc(2030, 1, 1, 11))
    assert parse(at=datetime(2030, 6, 1, 12, 0)) == At(utc(2030, 6, 1, 12))


@pytest.mark.parametrize(
    ("text", "timezone", "when"),
    [
        ("2030-06-01T12:00:00+00:00", "Europe/Berlin", utc(2030, 6, 1, 12)),
        ("2030-06-01T12:00:00Z", "Europe/Berlin", utc(2030, 6, 1, 12)),
        ("2030-06-01 12:00", "Europe/Berlin", utc(2030, 6, 1, 10)),
        ("2030-06-01T12:00-04:00", "UTC", utc(2030, 6, 1, 16)),
    ],
)
def test_at_iso_strings(text: str, timezone: str, when: datetime) -> None:
    assert parse(at=text, timezone=timezone) == At(when)


@pytest.mark.parametrize("value", ["tomorrow", "2030-13-01T00:00", 1893456000, date(2030, 1, 1)])
def test_bad_at(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse(at=value)  # type: ignore[arg-type]
    assert (info.value.job, info.value.field) == ("report", "at")


def test_at_trigger_fires_once() -> None:
    trigger = build_trigger(At(utc(2030, 1, 1, 6)))
    assert next_fire_time(trigger, utc(2029, 12, 31)) == utc(2030, 1, 1, 6)
    assert list(fire_times(trigger, utc(2029, 1, 1), utc(2031, 1, 1))) == [utc(2030, 1, 1, 6)]
    assert next_fire_time(trigger, utc(2030, 1, 1, 6)) is None
    # A past one-off instant is never reported as a fire time "after" now.
    assert next_fire_time(trigger, utc(2030, 6, 1)) is None
    assert list(fire_times(trigger, utc(2030, 6, 1), utc(2031, 1, 1))) == []


# ---------------------------------------------------------------- fire_times / next_fire_time


def test_fire_times_window_is_after_exclusive_until_inclusive() -> None:
    trigger = build_trigger(Cron("0 * * * *", "UTC"))
    fires = list(fire_times(trigger, utc(2026, 1, 1, 1), utc(2026, 1, 1, 4)))
    assert fires == [utc(2026, 1, 1, 2), utc(2026, 1, 1, 3), utc(2026, 1, 1, 4)]
    assert all(f.tzinfo is UTC for f in fires)
    assert list(fire_times(trigger, utc(2026, 1, 1, 1), utc(2026, 1, 1, 1, 59))) == []


def test_next_fire_time_accepts_any_aware_after_and_returns_utc() -> None:
    trigger = build_trigger(Cron("0 6 * * *", "Europe/Berlin"))
    after = datetime(2026, 7, 1, 5, 59, tzinfo=BERLIN)
    nxt = next_fire_time(trigger, after)
    assert nxt == utc(2026, 7, 1, 4)
    assert nxt is not None and nxt.tzinfo is UTC
