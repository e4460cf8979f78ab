"""App lifecycle and the three ways in: async with, run_async, and the sync shim."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import asyncjobs
from asyncjobs import App, ConfigError, RunContext, RunStatus
from tests.helpers import wait_until


@contextmanager
def serving_in_a_thread(app: App) -> Iterator[threading.Thread]:
    """Serve ``app`` in its own thread and loop (a sync web server's set-up)."""
    serving = threading.Event()
    stop = threading.Event()

    async def main() -> None:
        async with app:
            serving.set()
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    try:
        assert serving.wait(30)
        yield thread
    finally:
        stop.set()
        thread.join(30)


def test_public_api_is_exactly_what_is_documented() -> None:
    exported = {name for name in dir(asyncjobs) if not name.startswith("_")}
    documented = set(asyncjobs.__all__) - {"__version__"}
    modules = {name for name in exported if isinstance(getattr(asyncjobs, name), type(asyncjobs))}
    assert exported - modules == documented
    for name in ("App", "Job", "JobResult", "RunContext", "RunStatus", "Settings"):
        assert name in asyncjobs.__all__
    for name in ("AsyncJobsError", "ConfigError", "UnknownJobError"):
        assert issubclass(getattr(asyncjobs, name), Exception)
    assert isinstance(asyncjobs.__all__, tuple)


def test_run_without_a_loop_uses_a_fresh_one(make_app: Any) -> None:
    app = make_app()

    @app.job()
    async def job(ctx: RunContext) -> dict[str, str]:
        return {"thread": threading.current_thread().name}

    result = app.run("job")
    assert result.status is RunStatus.SUCCEEDED
    assert result.data == {"thread": threading.current_thread().name}
    assert job.run().success  # the handle's shim too


async def test_run_inside_a_running_loop_points_to_run_async(make_app: Any) -> None:
    app = make_app()

    @app.job()
    async def job(ctx: RunContext) -> None:
        return None

    with pytest.raises(RuntimeError, match=r"await app\.run_async\('job'\)"):
        app.run("job")


def test_run_while_serving_in_another_thread_submits_to_that_loop(make_app: Any) -> None:
    app = make_app()

    @app.job()
    async def job(ctx: RunContext) -> dict[str, int]:
        return {"thread": threading.get_ident()}

    with serving_in_a_thread(app) as loop_thread:
        result = app.run("job")
    assert result.data == {"thread": loop_thread.ident}
    assert result.data["thread"] != threading.get_ident()


async def test_history_works_whether_or_not_started(make_app: Any) -> None:
    app = make_app()

    @app.job()
    async def job(ctx: RunContext) -> None:
        return None

    first = await app.run_async("job")
    async with app:
        second = await app.run_async("job")
        assert [r.run_id for r in await app.history()] == [second.run_id, first.run_id]
    assert [r.run_id for r in await app.history("job", limit=1)] == [second.run_id]
    assert await app.history(status="failed") == []
    with pytest.raises(ConfigError, match="status"):
        await app.history(status="bogus")


async def test_async_with_in_an_already_running_loop_and_double_start(make_app: Any) -> None:
    app = make_app()

    @app.job(every="1h")
    async def hourly(ctx: RunContext) -> None:
        return None

    assert not app.running
    async with app:
        assert app.running
        nxt = app.next_run_time("hourly")
        assert nxt is not None and nxt.minute == 0 and nxt.second == 0
        with pytest.raises(RuntimeError, match="already started"):
            await app.start()
    assert not app.running


async def test_serve_stops_on_sigterm_and_drains(make_app: Any) -> None:
    app = make_app()
    started = asyncio.Event()

    @app.job()
    async def job(ctx: RunContext) -> str:
        started.set()
        await asyncio.sleep(0.2)
        return "ok"

    async def send_signal() -> asyncio.Task[Any]:
        await wait_until(lambda: app.running, what="the app to start")
        run = asyncio.create_task(app.run_async("job"))
        await started.wait()
        os.kill(os.getpid(), signal.SIGTERM)
        return run

    serving = asyncio.create_task(app.serve())
    run = await send_signal()
    await asyncio.wait_for(serving, 30)
    assert (await run).status is RunStatus.SUCCEEDED


def test_config_errors_name_the_job_and_field(make_app: Any) -> None:
    app: App = make_app()

    @app.job(cron="0 6 * * *")
    async def daily(ctx: RunContext) -> None:
        return None

    cases = [
        ({"cron": "0 6 * *"}, r"^job 'a': cron: expected 5 fields"),
        ({"cron": "* * *", "every": 5}, r"^job 'b': schedule: give at most one"),
        ({"every": 5, "timezone": "Mars/Olympus"}, r"^job 'c': timezone: unknown IANA timezone"),
        ({"timeout": "soon"}, r"^job 'd': timeout: expected a duration"),
        ({"overlap": "sometimes"}, r"^job 'e': overlap: must be one of"),
    ]
    for index, (options, pattern) in enumerate(cases):
        name = "abcde"[index]
        with pytest.raises(ConfigError, match=pattern):
            app.job(name, **options)(lambda ctx: None)
    with pytest.raises(ConfigError, match=r"^job 'daily': name: a job with this name"):
        app.job("daily")(lambda ctx: None)
    assert list(app.jobs) == ["daily"]


def test_override_for_unknown_job_fails_validation(
    monkeypatch: pytest.MonkeyPatch, settings_factory: Any
) -> None:
    monkeypatch.setenv("ASYNCJOBS_JOBS__ghost__ENABLED", "false")
    app = App(settings_factory())
    with pytest.raises(ConfigError, match=r"job 'ghost'.*not defined"):
        app.validate()


def test_names_are_refused_when_empty_or_equal_but_for_case(make_app: Any) -> None:
    app: App = make_app()

    @app.job()
    async def report(ctx: RunContext) -> None:
        return None

    with pytest.raises(ConfigError, match=r"name: must be a non-empty string"):
        app.job("")(lambda ctx: None)
    with pytest.raises(ConfigError, match=r"^job 'Report': name: a job with this name"):
        app.job("Report")(lambda ctx: None)


async def test_concurrent_runs_outside_a_started_app_share_one_store(
    settings_factory: Any, tmp_path: Any
) -> None:
    app = App(settings_factory(store_url=f"sqlite:///{tmp_path / 'runs.db'}"))

    @app.job()
    async def job(ctx: RunContext) -> dict[str, int]:
        await asyncio.sleep(0.02)
        return {"ok": 1}

    results = await asyncio.gather(*(app.run_async("job") for _ in range(5)))
    assert all(r.success for r in results)
    assert len(await app.history()) == 5


def test_history_and_run_from_another_thread_go_to_the_serving_loop(
    settings_factory: Any, tmp_path: Any
) -> None:
    app = App(settings_factory(store_url=f"sqlite:///{tmp_path / 'runs.db'}"))

    @app.job()
    async def job(ctx: RunContext) -> None:
        return None

    async def from_another_loop() -> list[str]:
        result = await app.run_async("job")
        return [r.run_id for r in await app.history("job")] + [result.run_id]

    with serving_in_a_thread(app):
        ids = asyncio.run(from_another_loop())
    assert ids[0] == ids[-1] and len(ids) == 2
