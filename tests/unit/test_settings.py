"""Settings from the environment, and per-job overrides ASYNCJOBS_JOBS__<job>__<field>."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from asyncjobs import App, ConfigError, RunContext, Settings
from asyncjobs.settings import JobOverride, load_settings
from asyncjobs.triggers import Cron, Every


async def noop(ctx: RunContext) -> None:
    return None


def make_app() -> App:
    """An App that reads its settings from the (monkeypatched) environment."""
    return App(settings=load_settings(store_url="memory://"))


# ---------------------------------------------------------------- service settings


def test_defaults() -> None:
    settings = Settings()
    assert settings.timezone == "UTC"
    assert settings.misfire_grace_time == 300.0
    assert settings.default_timeout == 3600.0
    assert settings.notify_to == []
    assert settings.notify_on == "failure"
    assert settings.log_level == "INFO"
    assert settings.jobs == {}


@pytest.mark.parametrize("value", ["debug", "Debug", " warning ", "ERROR"])
def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ASYNCJOBS_LOG_LEVEL", value)
    assert Settings().log_level == value.strip().upper()


def test_bad_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.field == "settings: log_level"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["ops@example.com", "dev@example.com"]', ["ops@example.com", "dev@example.com"]),
        ("ops@example.com, dev@example.com", ["ops@example.com", "dev@example.com"]),
        ("ops@example.com", ["ops@example.com"]),
        ("ops@example.com,,", ["ops@example.com"]),
        ("", []),
    ],
)
def test_notify_to_json_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("ASYNCJOBS_NOTIFY_TO", value)
    assert Settings().notify_to == expected


def test_notify_to_bad_json_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_NOTIFY_TO", '["ops@example.com"')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.field == "settings: notify_to"


def test_durations_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_DEFAULT_TIMEOUT", "5m")
    monkeypatch.setenv("ASYNCJOBS_MISFIRE_GRACE_TIME", "90s")
    monkeypatch.setenv("ASYNCJOBS_SHUTDOWN_GRACE", "0")
    settings = Settings()
    assert settings.default_timeout == 300.0
    assert settings.misfire_grace_time == 90.0
    assert settings.shutdown_grace == 0.0


def test_bad_timezone_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.field == "settings: timezone"
    assert str(info.value).startswith("settings: timezone: ")


def test_dotenv_in_working_directory_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest chdirs each test into an empty temporary directory.
    Path(".env").write_text(
        "ASYNCJOBS_TIMEZONE=Europe/Berlin\nASYNCJOBS_JOBS__report__CRON=0 7 * * *\n"
    )
    settings = Settings()
    assert settings.timezone == "Europe/Berlin"
    override = settings.override_for("report")
    assert override is not None and override.cron == "0 7 * * *"
    monkeypatch.setenv("ASYNCJOBS_TIMEZONE", "America/New_York")
    assert Settings().timezone == "America/New_York"  # the environment wins over .env


# ---------------------------------------------------------------- per-job overrides


def test_overrides_are_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__CRON", "0 7 * * *")
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__TIMEOUT", "2m")
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__RETRIES", "3")
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__NOTIFY_TO", "a@example.com,b@example.com")
    monkeypatch.setenv("ASYNCJOBS_JOBS__sync__EVERY", "90s")
    monkeypatch.setenv("ASYNCJOBS_JOBS__sync__ENABLED", "false")
    app = make_app()
    report = app.job("report", cron="0 6 * * *", timeout=30, retries=0)(noop).definition
    sync = app.job("sync", every=60)(noop).definition
    assert report.schedule == Cron("0 7 * * *", "UTC")
    assert report.timeout == 120.0
    assert report.retries == 3
    assert report.notify_to == ("a@example.com", "b@example.com")
    assert sync.schedule == Every(90.0)
    assert sync.enabled is False
    assert app.next_run_time("sync") is None
    app.validate()


def test_override_notify_to_as_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__NOTIFY_TO", '["a@example.com", "b@example.com"]')
    app = make_app()
    definition = app.job("report")(noop).definition
    assert definition.notify_to == ("a@example.com", "b@example.com")


def test_unset_override_fields_keep_the_codes_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__RETRIES", "2")
    app = make_app()
    definition = app.job("report", cron="0 6 * * *", timeout=30, overlap="queue")(noop).definition
    assert definition.schedule == Cron("0 6 * * *", "UTC")
    assert (definition.timeout, definition.retries, definition.overlap) == (30.0, 2, "queue")


@pytest.mark.parametrize(
    ("env_name", "job_name"),
    [
        ("ASYNCJOBS_JOBS__DAILY_REPORT__CRON", "daily_report"),
        ("asyncjobs_jobs__daily_report__cron", "daily_report"),
        ("ASYNCJOBS_JOBS__daily_report__cron", "Daily_Report"),
        ("ASYNCJOBS_JOBS__DailyReport__Cron", "dailyreport"),
    ],
)
def test_overrides_match_case_insensitively(
    monkeypatch: pytest.MonkeyPatch, env_name: str, job_name: str
) -> None:
    monkeypatch.setenv(env_name, "15 4 * * *")
    app = make_app()
    definition = app.job(job_name, cron="0 6 * * *")(noop).definition
    assert definition.schedule == Cron("15 4 * * *", "UTC")
    app.validate()  # the override is not "unknown" because of its case


def test_env_schedule_replaces_a_schedule_of_another_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__EVERY", "5m")
    monkeypatch.setenv("ASYNCJOBS_JOBS__sync__CRON", "*/10 * * * *")
    monkeypatch.setenv("ASYNCJOBS_JOBS__once__CRON", "0 0 * * *")
    app = make_app()
    assert app.job("report", cron="0 6 * * *")(noop).definition.schedule == Every(300.0)
    assert app.job("sync", every=60)(noop).definition.schedule == Cron("*/10 * * * *", "UTC")
    once = app.job("once", at="2030-01-01T00:00:00+00:00")(noop).definition
    assert once.schedule == Cron("0 0 * * *", "UTC")
    # A manual job gets a schedule from the environment too.
    monkeypatch.setenv("ASYNCJOBS_JOBS__manual__EVERY", "1h")
    assert make_app().job("manual")(noop).definition.schedule == Every(3600.0)


def test_override_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_JOBS__report__TIMEZONE", "Europe/Berlin")
    app = make_app()
    definition = app.job("report", cron="0 6 * * *", timezone="UTC")(noop).definition
    assert definition.timezone == "Europe/Berlin"
    assert definition.schedule == Cron("0 6 * * *", "Europe/Berlin")


def test_override_for_unknown_job_fails_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCJOBS_JOBS__daily_reprot__CRON", "0 7 * * *")
    app = make_app()
    app.job("daily_report", cron="0 6 * * *")(noop)
    with pytest.raises(ConfigError) as info:
        app.validate()
    assert info.value.job == "daily_reprot"
    assert "daily_reprot" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "at_job"),
    [
        ("CRON", "61 * * * *", "cron.minute"),
        ("CRON", "0 6 * *", "cron"),
        ("EVERY", "soon", "every"),
        ("EVERY", "0", "every"),
        ("TIMEOUT", "-5", "timeout"),
        ("TIMEOUT", "forever", "timeout"),
        ("TIMEZONE", "Mars/Olympus", "timezone"),
        ("RETRIES", "-1", "retries"),
        ("NOTIFY_TO", "not-an-address", "notify_to"),
    ],
)
def test_bad_override_value_names_job_and_field_at_definition(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str, at_job: str
) -> None:
    monkeypatch.setenv(f"ASYNCJOBS_JOBS__report__{field}", value)
    app = make_app()
    with pytest.raises(ConfigError) as info:
        app.job("report", cron="0 6 * * *")(noop)
    assert (info.value.job, info.value.field) == ("report", at_job)
    assert str(info.value).startswith(f"job 'report': {at_job}: ")


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("RETRIES", "three", "retries"),
        ("ENABLED", "maybe", "enabled"),
        ("OVERLAP", "sometimes", "overlap"),
        ("BOGUS", "1", "bogus"),
        ("NOTIFY_TO", "[oops", "notify_to"),
    ],
)
def test_bad_override_value_names_job_and_field_at_load(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str, named: str
) -> None:
    monkeypatch.setenv(f"ASYNCJOBS_JOBS__report__{field}", value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert (info.value.job, info.value.field) == ("report", named)
    assert str(info.value).startswith(f"job 'report': {named}: ")
    with pytest.raises(ConfigError):
        App()  # App() reads its settings the same way
    with pytest.raises(ValidationError):
        Settings()  # the bare pydantic model keeps pydantic's error


def test_override_for_is_case_insensitive() -> None:
    settings = Settings(jobs={"Daily_Report": JobOverride(retries=1)})
    override = settings.override_for("DAILY_REPORT")
    assert override is not None and override.retries == 1
    assert settings.override_for("other") is None
