"""parse_duration: the one converter behind every=, timeout=, retry_delay= and env durations."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from asyncjobs.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (0.5, 0.5),
        (1.5, 1.5),
        (timedelta(minutes=2), 120.0),
        (timedelta(milliseconds=250), 0.25),
        ("30", 30.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("90s", 90.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        (" 5 m ", 300.0),
        ("2H", 7200.0),
        ("10S", 10.0),
    ],
)
def test_accepted_durations(value: object, seconds: float) -> None:
    result = parse_duration(value)
    assert result == pytest.approx(seconds)
    assert isinstance(result, float)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "abc",
        "5x",
        "5 minutes",
        "1e3",
        "-5",
        "-5s",
        "1.",
        "5m30s",
        None,
        [],
        object(),
        True,
        False,
        -1,
        -0.5,
        math.nan,
        math.inf,
        -math.inf,
        timedelta(seconds=-1),
    ],
)
def test_rejected_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize("value", [0, 0.0, "0", "0s", timedelta(0)])
def test_zero_needs_allow_zero(value: object) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        parse_duration(value)
    assert parse_duration(value, allow_zero=True) == 0.0


def test_negative_is_refused_even_with_allow_zero() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        parse_duration(-1, allow_zero=True)


def test_message_quotes_the_value_and_gives_examples() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("soon")
    message = str(info.value)
    assert "'soon'" in message
    assert "'5m'" in message
    # The caller adds job and field: the bare message must not invent them.
    assert "job" not in message


def test_non_numeric_type_is_named() -> None:
    with pytest.raises(ValueError, match="list"):
        parse_duration([1])
