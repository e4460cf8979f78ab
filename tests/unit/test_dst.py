"""Daylight saving: the rule in asyncjobs.triggers, across the 2026 transitions.

Rule: a local time that does not exist (spring forward) fires at the same
instant one gap later (02:30 -> 03:30 local); a local time that happens twice
(fall back) fires once, at its first occurrence, for a job with a fixed hour,
and at both occurrences for a job whose hour field is ``*``.

2026 transitions: Europe/Berlin Mar 29 (02:00 CET -> 03:00 CEST) and Oct 25
(03:00 CEST -> 02:00 CET, 02:xx repeats); America/New_York Mar 8 (02:00 EST ->
03:00 EDT) and Nov 1 (02:00 EDT -> 01:00 EST, 01:xx repeats).
"""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from asyncjobs.triggers import At, Cron, Every, build_trigger, fire_times, next_fire_time
from asyncjobs.triggers import parse_schedule as _parse_schedule

US = timedelta(microseconds=1)
ZONES = {
    "Europe/Berlin": (date(2026, 3, 29), date(2026, 10, 25)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
}
TRANSITIONS = [(zone, day) for zone, days in ZONES.items() for day in days]
SPRING = [(zone, days[0]) for zone, days in ZONES.items()]
FALL = [(zone, days[1]) for zone, days in ZONES.items()]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


def midnight(zone: str, day: date) -> datetime:
    """The UTC instant of local midnight starting ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def fires(expr: str, zone: str, first: date, days: int = 1) -> list[datetime]:
    """Fire times in local days ``first`` .. ``first + days - 1`` (UTC, oldest first)."""
    trigger = build_trigger(Cron(expr, zone), job="dst")
    start = midnight(zone, first)
    end = midnight(zone, first + timedelta(days=days))
    return list(fire_times(trigger, start - US, end - US))


def local(instants: list[datetime], zone: str) -> list[str]:
    """``HH:MM+offset`` local readings, to compare with the documented table."""
    return [i.astimezone(ZoneInfo(zone)).strftime("%H:%M%z") for i in instants]


def assert_well_formed(instants: list[datetime]) -> None:
    assert instants == sorted(instants)
    assert len(set(instants)) == len(instants), "two fires at the same instant"
    assert all(b > a for a, b in pairwise(instants))


# ---------------------------------------------------------------- daily job, 30 2 * * *


@pytest.mark.parametrize(("zone", "day"), TRANSITIONS)
def test_daily_job_fires_once_per_local_day_around_transition(zone: str, day: date) -> None:
    first = day - timedelta(days=5)
    instants = fires("30 2 * * *", zone, first, days=11)
    assert_well_formed(instants)
    per_day = Counter(i.astimezone(ZoneInfo(zone)).date() for i in instants)
    assert per_day == {first + timedelta(days=n): 1 for n in range(11)}


@pytest.mark.parametrize(
    ("zone", "day", "instant", "reading"),
    [
        # 02:30 does not exist: same instant one gap later, 03:30 summer time.
        ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 29, 1, 30), "03:30+0200"),
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 7, 30), "03:30-0400"),
        # 02:30 happens twice in Berlin: first occurrence (summer time) only.
        ("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 25, 0, 30), "02:30+0200"),
        # New York repeats 01:xx, not 02:xx: 02:30 happens once, in winter time.
        ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 7, 30), "02:30-0500"),
    ],
)
def test_daily_job_on_transition_day(zone: str, day: date, instant: datetime, reading: str) -> None:
    instants = fires("30 2 * * *", zone, day)
    assert instants == [instant]
    assert local(instants, zone) == [reading]


def test_fixed_hour_in_new_york_repeated_hour_fires_at_first_occurrence() -> None:
    instants = fires("30 1 * * *", "America/New_York", date(2026, 11, 1))
    assert local(instants, "America/New_York") == ["01:30-0400"]
    assert instants == [utc(2026, 11, 1, 5, 30)]


@pytest.mark.parametrize("zone", list(ZONES))
@pytest.mark.timeout(30)
def test_whole_year_scan_is_quick_and_fires_every_day(zone: str) -> None:
    instants = fires("30 2 * * *", zone, date(2026, 1, 1), days=365)
    assert len(instants) == 365
    assert_well_formed(instants)
    assert len({i.astimezone(ZoneInfo(zone)).date() for i in instants}) == 365


# ---------------------------------------------------------------- sub-hourly, */30 * * * *


@pytest.mark.parametrize(("zone", "day"), SPRING)
def test_half_hourly_on_spring_forward_day(zone: str, day: date) -> None:
    instants = fires("*/30 * * * *", zone, day)
    assert len(instants) == 46  # a 23-hour day
    assert_well_formed(instants)
    # Elapsed time between fires never changes: 02:00/02:30 land on 03:00/03:30.
    assert {b - a for a, b in pairwise(instants)} == {timedelta(minutes=30)}
    readings = local(instants, zone)
    assert not any(r.startswith("02:") for r in readings)
    assert readings[3:6] == [readings[3], readings[4], readings[5]]
    assert readings[4].startswith("03:00") and readings[5].startswith("03:30")


@pytest.mark.parametrize(("zone", "day"), FALL)
def test_half_hourly_on_fall_back_day(zone: str, day: date) -> None:
    instants = fires("*/30 * * * *", zone, day)
    assert len(instants) == 50  # a 25-hour day, both occurrences of the repeated hour
    assert_well_formed(instants)
    assert {b - a for a, b in pairwise(instants)} == {timedelta(minutes=30)}
    wall = Counter(r[:5] for r in local(instants, zone))
    repeated = "02" if zone == "Europe/Berlin" else "01"
    assert wall[f"{repeated}:00"] == wall[f"{repeated}:30"] == 2
    assert sum(1 for count in wall.values() if count == 2) == 2


@pytest.mark.parametrize("zone", list(ZONES))
@pytest.mark.timeout(30)
def test_half_hourly_whole_year(zone: str) -> None:
    instants = fires("*/30 * * * *", zone, date(2026, 1, 1), days=365)
    # -2 on the 23-hour day, +2 on the 25-hour day.
    assert len(instants) == 365 * 48
    assert {b - a for a, b in pairwise(instants)} == {timedelta(minutes=30)}


# ---------------------------------------------------------------- hourly and fixed-hour jobs


@pytest.mark.parametrize(("zone", "day"), FALL)
def test_hour_star_fires_at_both_occurrences(zone: str, day: date) -> None:
    instants = fires("0 * * * *", zone, day)
    assert len(instants) == 25
    assert_well_formed(instants)
    readings = local(instants, zone)
    if zone == "Europe/Berlin":
        assert "02:00+0200" in readings and "02:00+0100" in readings
    else:
        assert "01:00-0400" in readings and "01:00-0500" in readings


@pytest.mark.parametrize(("zone", "day"), SPRING)
def test_hour_star_on_spring_forward_day(zone: str, day: date) -> None:
    instants = fires("0 * * * *", zone, day)
    assert len(instants) == 23
    assert {b - a for a, b in pairwise(instants)} == {timedelta(hours=1)}


def test_fixed_hour_in_repeated_hour_fires_first_occurrence_only() -> None:
    instants = fires("0,30 1 * * *", "America/New_York", date(2026, 11, 1))
    assert local(instants, "America/New_York") == ["01:00-0400", "01:30-0400"]
    assert instants == [utc(2026, 11, 1, 5), utc(2026, 11, 1, 5, 30)]


@pytest.mark.parametrize(
    ("expr", "count"), [("* 1 * * *", 60), ("*/5 1 * * *", 12), ("*/10 1 * * *", 6)]
)
def test_fixed_hour_many_fires_in_repeated_hour(expr: str, count: int) -> None:
    # Every fire of the repeated hour's second occurrence is skipped, however many.
    instants = fires(expr, "America/New_York", date(2026, 11, 1))
    assert len(instants) == count
    assert all(r.endswith("-0400") for r in local(instants, "America/New_York"))


def test_fixed_hour_in_the_gap_moves_one_gap_later_without_duplicates() -> None:
    zone = "Europe/Berlin"
    # Every nonexistent time fires, each one gap later (02:30 used to be lost).
    assert local(fires("*/30 2 * * *", zone, date(2026, 3, 29)), zone) == [
        "03:00+0200",
        "03:30+0200",
    ]
    assert local(fires("0,30 1-2 * * *", zone, date(2026, 3, 29)), zone) == [
        "01:00+0100",
        "01:30+0100",
        "03:00+0200",
        "03:30+0200",
    ]
    assert local(
        fires("*/20 2 * * *", "America/New_York", date(2026, 3, 8)), "America/New_York"
    ) == [
        "03:00-0400",
        "03:20-0400",
        "03:40-0400",
    ]
    # 02:00 -> 03:00 coincides with the real 03:00: one fire, not two.
    instants = fires("0,30 2-3 * * *", zone, date(2026, 3, 29))
    assert_well_formed(instants)
    assert local(instants, zone) == ["03:00+0200", "03:30+0200"]


# ---------------------------------------------------------------- how the scheduler asks


@pytest.mark.parametrize(("zone", "day"), TRANSITIONS)
@pytest.mark.parametrize(
    "expr", ["30 2 * * *", "*/30 * * * *", "0,30 1 * * *", "* 1 * * *", "*/20 2 * * *"]
)
def test_scheduler_style_calls_agree_with_fire_times(zone: str, day: date, expr: str) -> None:
    # APScheduler asks get_next_fire_time(previous, now) with ``now`` a little
    # after the previous fire (the job ran); the answers must be the same ticks.
    trigger = build_trigger(Cron(expr, zone), job="dst")
    expected = fires(expr, zone, day)
    end = midnight(zone, day + timedelta(days=1))
    got: list[datetime] = []
    previous = trigger.get_next_fire_time(None, midnight(zone, day))
    while previous is not None and previous < end:
        got.append(previous.astimezone(UTC))
        previous = trigger.get_next_fire_time(
            previous, previous.astimezone(UTC) + timedelta(seconds=3)
        )
    assert got == expected


def test_starting_during_second_occurrence_waits_for_the_next_day() -> None:
    trigger = build_trigger(Cron("30 1 * * *", "America/New_York"), job="dst")
    # 06:10 UTC is 01:10 EST, inside the repeated hour; 01:30 EDT already passed.
    assert next_fire_time(trigger, utc(2026, 11, 1, 6, 10)) == utc(2026, 11, 2, 6, 30)
    hourly = build_trigger(Cron("30 * * * *", "America/New_York"), job="dst")
    assert next_fire_time(hourly, utc(2026, 11, 1, 6, 10)) == utc(2026, 11, 1, 6, 30)


def test_starting_inside_the_gap() -> None:
    trigger = build_trigger(Cron("30 2 * * *", "Europe/Berlin"), job="dst")
    assert next_fire_time(trigger, utc(2026, 3, 29, 0, 59)) == utc(2026, 3, 29, 1, 30)
    assert next_fire_time(trigger, utc(2026, 3, 29, 1, 30)) == utc(2026, 3, 30, 0, 30)


def test_trigger_survives_pickling() -> None:
    trigger = build_trigger(Cron("*/30 2 * * *", "Europe/Berlin"), job="dst")
    copy = pickle.loads(pickle.dumps(trigger))
    start = midnight("Europe/Berlin", date(2026, 3, 29))
    end = midnight("Europe/Berlin", date(2026, 10, 26))
    assert list(fire_times(copy, start, end)) == list(fire_times(trigger, start, end))
    assert len(list(fire_times(copy, start, end))) == 211 * 2


# ---------------------------------------------------------------- intervals and one-off


def test_intervals_ignore_dst() -> None:
    trigger = build_trigger(Every(3600))
    start = midnight("Europe/Berlin", date(2026, 10, 25))
    end = midnight("Europe/Berlin", date(2026, 10, 26))
    instants = list(fire_times(trigger, start - US, end - US))
    assert len(instants) == 25
    assert {b - a for a, b in pairwise(instants)} == {timedelta(hours=1)}


@pytest.mark.parametrize(
    ("naive", "zone", "instant"),
    [
        # nonexistent: the same instant one gap later (03:30 CEST)
        (datetime(2026, 3, 29, 2, 30), "Europe/Berlin", utc(2026, 3, 29, 1, 30)),
        (datetime(2026, 3, 8, 2, 30), "America/New_York", utc(2026, 3, 8, 7, 30)),
        # ambiguous: the first occurrence
        (datetime(2026, 10, 25, 2, 30), "Europe/Berlin", utc(2026, 10, 25, 0, 30)),
        (datetime(2026, 11, 1, 1, 30), "America/New_York", utc(2026, 11, 1, 5, 30)),
    ],
)
def test_naive_at_follows_the_same_rule(naive: datetime, zone: str, instant: datetime) -> None:
    schedule = _parse_schedule(job="dst", cron=None, every=None, at=naive, timezone=zone)
    assert schedule == At(instant)
