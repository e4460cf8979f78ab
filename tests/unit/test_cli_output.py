"""CLI formatting: durations, tables, the start-up summary (no secrets)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asyncjobs import App, Settings
from asyncjobs.cli_output import format_duration, format_time, startup_summary, table


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0.4213, "0.42s"),
        (12.34, "12.3s"),
        (30, "30s"),
        (60, "1m"),
        (245, "4m05s"),
        (3600, "1h"),
        (7380, "2h03m"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_time_in_the_zone() -> None:
    when = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    assert format_time(when, "Europe/Paris") == "2026-01-01 06:00:00 CET"
    assert format_time(None, "UTC") == "-"


def test_table_aligns_columns() -> None:
    assert table(["A", "BB"], [["xxx", "y"], ["z", "wwww"]]).splitlines() == [
        "A    BB",
        "xxx  y",
        "z    wwww",
    ]


def test_startup_summary_hides_secrets() -> None:
    app = App(
        Settings(
            store_url="postgresql://jobs:pg-sentinel@db.internal/jobs",
            smtp_host="smtp.example.com",
            smtp_username="mailer",
            smtp_password="smtp-sentinel",
            webhook_url="https://hooks.example.com/T0/hook-sentinel",
            timezone="Europe/Paris",
        )
    )

    @app.job(cron="0 6 * * *", timezone="America/New_York")
    async def daily(ctx: object) -> None: ...

    text = startup_summary(app, "mymod:app")
    assert "sentinel" not in text
    assert "postgresql://jobs:***@db.internal/jobs" in text
    assert "smtp smtp.example.com:587 (starttls, user mailer)" in text
    assert "cron '0 6 * * *'" in text
    assert "America/New_York" in text
    assert "EST" in text or "EDT" in text  # next run shown in the job's own zone
