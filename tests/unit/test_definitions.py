"""Job definitions: @app.job, app.add(Job), names, options, validate(), next_run_time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncjobs import App, ConfigError, Job, RunContext, UnknownJobError
from asyncjobs.definition import validate_name
from asyncjobs.settings import load_settings
from asyncjobs.triggers import At, Cron, Every


async def noop(ctx: RunContext) -> None:
    return None


@pytest.fixture
def app() -> App:
    return App(settings=load_settings(store_url="memory://"))


def config_error(app: App, name: str = "report", **options: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        app.job(name, **options)(noop)
    return info.value


# ---------------------------------------------------------------- @app.job


def test_decorator_builds_a_definition(app: App) -> None:
    handle = app.job(cron="0 6 * * *", timeout="5m", retries=2, notify="failure")(noop)
    definition = app.jobs["noop"]
    assert handle.name == "noop" and handle.definition is definition
    assert definition.schedule == Cron("0 6 * * *", "UTC")
    assert definition.timezone == "UTC"
    assert (definition.timeout, definition.retries, definition.notify) == (300.0, 2, "failure")
    assert definition.is_async is True
    assert definition.scheduled is True
    assert definition.describe_schedule() == "cron '0 6 * * *'"


def test_bare_decorator_and_defaults(app: App) -> None:
    handle = app.job(noop)
    definition = handle.definition
    assert definition.name == "noop"
    assert definition.schedule is None
    assert definition.describe_schedule() == "manual"
    assert definition.scheduled is False
    assert definition.timeout == app.settings.default_timeout
    assert (definition.retries, definition.retry_delay, definition.overlap) == (0, 1.0, "skip")
    assert (definition.max_instances, definition.catch_up, definition.enabled) == (1, True, True)
    assert app.next_run_time("noop") is None


def test_handle_calls_the_original_function(app: App) -> None:
    calls: list[int] = []

    def work(ctx: object) -> int:
        calls.append(1)
        return 7

    handle = app.job("work")(work)
    assert handle(None) == 7
    assert calls == [1]
    assert handle.definition.is_async is False


def test_settings_timezone_is_the_default(app: App) -> None:
    berlin = App(settings=load_settings(store_url="memory://", timezone="Europe/Berlin"))
    assert berlin.job("a", cron="0 6 * * *")(noop).definition.schedule == Cron(
        "0 6 * * *", "Europe/Berlin"
    )
    job_zone = berlin.job("b", cron="0 6 * * *", timezone="America/New_York")(noop)
    assert job_zone.definition.timezone == "America/New_York"
    assert job_zone.definition.schedule == Cron("0 6 * * *", "America/New_York")


def test_naive_at_uses_the_jobs_timezone(app: App) -> None:
    handle = app.job("once", at=datetime(2030, 6, 1, 12), timezone="Europe/Berlin")(noop)
    assert handle.definition.schedule == At(datetime(2030, 6, 1, 10, tzinfo=UTC))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"cron": "0 6 * * *", "every": 60}, "schedule"),
        ({"cron": "0 6 * *"}, "cron"),
        ({"cron": "0 6 * * 8"}, "cron.day_of_week"),
        ({"every": "5x"}, "every"),
        ({"at": "not a date"}, "at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"retries": -1}, "retries"),
        ({"retries": 1.5}, "retries"),
        ({"retries": True}, "retries"),
        ({"retry_delay": -1}, "retry_delay"),
        ({"overlap": "sometimes"}, "overlap"),
        ({"max_instances": 0}, "max_instances"),
        ({"max_instances": True}, "max_instances"),
        ({"notify": "sometimes"}, "notify"),
        ({"notify_to": "not-an-address"}, "notify_to"),
        ({"notify_to": ["a@example.com", 3]}, "notify_to"),
        ({"jitter": -1}, "jitter"),
        ({"limiter": ""}, "limiter"),
        ({"enabled": "yes"}, "enabled"),
        ({"catch_up": 1}, "catch_up"),
        ({"cronn": "0 6 * * *"}, "cronn"),
    ],
)
def test_bad_options_name_job_and_field(app: App, options: dict[str, Any], field: str) -> None:
    error = config_error(app, **options)
    assert (error.job, error.field) == ("report", field)
    assert str(error).startswith(f"job 'report': {field}: ")
    assert "report" not in app.jobs  # nothing half-registered


def test_option_forms(app: App) -> None:
    definition = app.job(
        "report",
        every=timedelta(minutes=5),
        retry_delay="0",
        notify_to="a@example.com, b@example.com",
        jitter="0",
        max_instances=3,
        overlap="allow",
    )(noop).definition
    assert definition.schedule == Every(300.0)
    assert definition.retry_delay == 0.0
    assert definition.notify_to == ("a@example.com", "b@example.com")
    assert definition.jitter is None
    assert (definition.max_instances, definition.overlap) == (3, "allow")


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["report", "daily-report", "report.v2", "étude", "ジョブ", "a:b"])
def test_good_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "daily report",
        " report",
        "report ",
        "tab\there",
        "new\nline",
        "nul\x00",
        "bell\x07",
        "zero\u200bwidth",
        "nbsp\u00a0name",
        "del\x7f",
    ],
)
def test_bad_names(app: App, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        app.job(name)(noop)
    assert info.value.field == "name"
    assert "\n" not in str(info.value) and "\x00" not in str(info.value)
    assert app.jobs == {}


@pytest.mark.parametrize("name", ["", 42, None])
def test_empty_or_non_string_name_is_refused(name: object) -> None:
    with pytest.raises(ConfigError) as info:
        validate_name(name)
    assert info.value.field == "name"


def test_duplicate_name_is_refused(app: App) -> None:
    app.job("report", cron="0 6 * * *")(noop)
    with pytest.raises(ConfigError) as info:
        app.job("report", every=60)(noop)
    assert (info.value.job, info.value.field) == ("report", "name")
    assert str(info.value).startswith("job 'report': name: ")
    assert app.jobs["report"].schedule == Cron("0 6 * * *", "UTC")  # the first one stays


def test_duplicate_name_across_function_and_class(app: App) -> None:
    class Report(Job):
        async def execute(self, ctx: RunContext) -> None:
            return None

    app.job("report")(noop)
    with pytest.raises(ConfigError) as info:
        app.add(Report)
    assert (info.value.job, info.value.field) == ("report", "name")


# ---------------------------------------------------------------- Job class


def test_job_subclass(app: App) -> None:
    class GenerateContent(Job):
        cron = "0 6,18 * * *"
        timezone = "Europe/Berlin"
        timeout = 600
        retries = 1

        async def execute(self, ctx: RunContext) -> dict[str, Any] | None:
            return {"ok": True}

    handle = app.add(GenerateContent)
    definition = app.jobs["generate_content"]
    assert handle.name == "generate_content"
    assert definition.schedule == Cron("0 6,18 * * *", "Europe/Berlin")
    assert (definition.timeout, definition.retries) == (600.0, 1)
    assert isinstance(definition.instance, GenerateContent)
    assert definition.is_async is True


def test_job_subclass_explicit_name_and_instance(app: App) -> None:
    class Sync(Job):
        name = "nightly_sync"
        every = "2h"

        async def execute(self, ctx: RunContext) -> None:
            return None

    instance = Sync()
    app.add(instance)
    assert app.jobs["nightly_sync"].schedule == Every(7200.0)
    assert app.jobs["nightly_sync"].instance is instance


def test_job_subclass_bad_attribute_names_the_job(app: App) -> None:
    class Broken(Job):
        cron = "0 25 * * *"

        async def execute(self, ctx: RunContext) -> None:
            return None

    with pytest.raises(ConfigError) as info:
        app.add(Broken)
    assert (info.value.job, info.value.field) == ("broken", "cron.hour")


def test_job_subclass_without_execute(app: App) -> None:
    class Lazy(Job):
        cron = "0 6 * * *"

    with pytest.raises(ConfigError) as info:
        app.add(Lazy)
    assert (info.value.job, info.value.field) == ("lazy", "execute")


def test_add_refuses_non_jobs(app: App) -> None:
    class NotAJob:
        async def execute(self, ctx: RunContext) -> None:
            return None

    with pytest.raises(ConfigError):
        app.add(NotAJob)  # type: ignore[arg-type]


# ---------------------------------------------------------------- validate and next_run_time


def test_unknown_limiter_fails_validation(app: App) -> None:
    app.job("report", limiter="smtp")(noop)
    with pytest.raises(ConfigError) as info:
        app.validate()
    assert (info.value.job, info.value.field) == ("report", "limiter")
    app.limiter("smtp", 2)
    app.validate()


def test_next_run_time_before_start(app: App) -> None:
    app.job("cron", cron="*/5 * * * *")(noop)
    app.job("every", every=60)(noop)
    app.job("manual")(noop)
    app.job("off", cron="*/5 * * * *", enabled=False)(noop)
    app.job("past", at=datetime(2020, 1, 1, tzinfo=UTC))(noop)
    app.job("future", at=datetime(2099, 1, 1, tzinfo=UTC))(noop)
    before = datetime.now(UTC)
    cron = app.next_run_time("cron")
    every = app.next_run_time("every")
    assert cron is not None and before < cron <= before + timedelta(minutes=5)
    assert cron.minute % 5 == 0 and (cron.second, cron.microsecond) == (0, 0)
    assert cron.tzinfo is not None and cron.utcoffset() == timedelta(0)
    assert every is not None and before < every <= before + timedelta(seconds=60)
    assert (every.second, every.microsecond) == (0, 0)
    assert app.next_run_time("manual") is None
    assert app.next_run_time("off") is None
    assert app.next_run_time("past") is None
    assert app.next_run_time("future") == datetime(2099, 1, 1, tzinfo=UTC)
    with pytest.raises(UnknownJobError):
        app.next_run_time("nope")


def test_config_error_message_format() -> None:
    assert str(ConfigError("bad", job="x", field="cron")) == "job 'x': cron: bad"
    assert str(ConfigError("bad", field="settings: timezone")) == "settings: timezone: bad"
    assert str(ConfigError("bad")) == "bad"
    assert isinstance(ConfigError("bad"), ValueError)
