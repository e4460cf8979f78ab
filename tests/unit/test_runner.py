"""The runner's behaviour for one run: results, timeouts, retries, limits, overlap."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncjobs import App, RunContext, RunStatus
from asyncjobs.attempt import KILL_GRACE
from tests.helpers import Gauge, wait_until


def _runner(app: App) -> Any:
    assert app._service is not None
    return app._service.runtime.runner


# Ticks a little ahead of now: a tick older than the misfire grace is recorded missed.
_BASE = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)


def _tick(n: int = 0) -> datetime:
    return _BASE + timedelta(minutes=n)


def _index(tick: datetime | None) -> str:
    assert tick is not None
    return f"{(tick - _BASE) // timedelta(minutes=1):02d}"


async def test_success_returns_data_and_is_recorded(make_app: Any) -> None:
    app = make_app()

    @app.job()
    async def report(ctx: RunContext) -> dict[str, int]:
        return {"rows": 3}

    result = await app.run_async("report")
    assert result.status is RunStatus.SUCCEEDED and result.success
    assert result.data == {"rows": 3}
    assert result.attempts == 1 and result.trigger == "manual"
    assert len(result.run_id) == 8 and int(result.run_id, 16) >= 0
    assert result.started_at is not None and result.started_at.tzinfo is not None
    assert result.completed_at is not None and result.completed_at >= result.started_at
    [row] = await app.history("report")
    assert row.model_dump() == result.model_dump()
    assert result.model_dump(mode="json")["status"] == "succeeded"


async def test_non_dict_and_non_json_return_values_become_safe_data(make_app: Any) -> None:
    app = make_app()

    @app.job()
    async def count(ctx: RunContext) -> int:
        return 7

    @app.job()
    async def odd(ctx: RunContext) -> dict[str, object]:
        return {"when": datetime(2026, 1, 1, tzinfo=UTC), "obj": object()}

    assert (await app.run_async("count")).data == {"value": 7}
    data = (await app.run_async("odd")).data
    assert data is not None and isinstance(data["obj"], str)
    import json

    json.dumps(data)


async def test_failure_is_reported_not_raised(make_app: Any) -> None:
    app = make_app()

    @app.job()
    async def broken(ctx: RunContext) -> None:
        raise ValueError("no database")

    result = await app.run_async("broken")
    assert result.status is RunStatus.FAILED and not result.success
    assert result.error == "no database" and result.error_type == "ValueError"
    assert result.traceback is not None and "ValueError: no database" in result.traceback


async def test_unknown_job_raises(make_app: Any) -> None:
    from asyncjobs import UnknownJobError

    app = make_app()
    with pytest.raises(UnknownJobError, match="nope"):
        await app.run_async("nope")


async def test_timeout_of_a_job_awaiting_forever(make_app: Any) -> None:
    app = make_app()

    @app.job(timeout=0.2)
    async def hangs(ctx: RunContext) -> None:
        await asyncio.Event().wait()

    result = await app.run_async("hangs")
    assert result.status is RunStatus.TIMED_OUT
    assert result.error_type == "TimeoutError" and "0.2s" in (result.error or "")
    assert result.duration_seconds is not None and result.duration_seconds >= 0.2


async def test_job_swallowing_cancellation_is_still_timed_out(make_app: Any) -> None:
    app = make_app()
    swallowed = asyncio.Event()
    release = asyncio.Event()

    @app.job(timeout=0.2)
    async def stubborn(ctx: RunContext) -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                swallowed.set()

    result = await app.run_async("stubborn")
    assert swallowed.is_set()
    assert result.status is RunStatus.TIMED_OUT
    # Reported shortly after its deadline: the deadline plus the kill grace, not never.
    assert result.duration_seconds is not None
    assert result.duration_seconds < 0.2 + KILL_GRACE + 10
    release.set()


async def test_retries_count_attempts(make_app: Any) -> None:
    app = make_app()
    seen: list[int] = []

    @app.job(retries=3, retry_delay=0.01)
    async def flaky(ctx: RunContext) -> dict[str, int]:
        seen.append(ctx.attempt)
        if ctx.attempt < 3:
            raise ConnectionError("try again")
        return {"attempt": ctx.attempt}

    result = await app.run_async("flaky")
    assert result.status is RunStatus.SUCCEEDED
    assert result.attempts == 3 and seen == [1, 2, 3]


async def test_retries_exhausted_reports_last_error_and_keeps_idempotency_key(
    make_app: Any,
) -> None:
    app = make_app()
    keys: set[str] = set()

    @app.job(retries=2, retry_delay=0.01, timeout=0.1)
    async def always_late(ctx: RunContext) -> None:
        keys.add(ctx.idempotency_key)
        await asyncio.sleep(3600)

    result = await app.run_async("always_late")
    assert result.status is RunStatus.TIMED_OUT and result.attempts == 3
    assert len(keys) == 1


async def test_sync_job_runs_in_a_worker_thread(make_app: Any) -> None:
    app = make_app()

    @app.job()
    def blocking(ctx: RunContext) -> dict[str, bool]:
        return {"other_thread": threading.get_ident() != main_ident}

    main_ident = threading.get_ident()
    result = await app.run_async("blocking")
    assert result.data == {"other_thread": True}


async def test_sync_job_past_its_timeout_is_reported_and_left_to_finish(make_app: Any) -> None:
    app = make_app()
    release = threading.Event()
    finished = threading.Event()

    @app.job(timeout=0.2)
    def slow(ctx: RunContext) -> None:
        release.wait(30)
        finished.set()

    result = await app.run_async("slow")
    assert result.status is RunStatus.TIMED_OUT
    assert not finished.is_set()
    release.set()
    await wait_until(finished.is_set, what="the abandoned thread to finish")


async def test_log_records_carry_job_and_run_id(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.job()
    async def talk(ctx: RunContext) -> None:
        ctx.log.info("from ctx.log")
        logging.getLogger("some.library").warning("from any logger")

    @app.job()
    def talk_in_thread(ctx: RunContext) -> None:
        logging.getLogger("another.library").warning("from a worker thread")

    caplog.set_level(logging.INFO)
    first = await app.run_async("talk")
    second = await app.run_async("talk_in_thread")
    by_message = {r.getMessage(): r for r in caplog.records}
    for message, result in (
        ("from ctx.log", first),
        ("from any logger", first),
        ("from a worker thread", second),
    ):
        record = by_message[message]
        assert (record.job, record.run_id) == (result.job, result.run_id)  # type: ignore[attr-defined]
    outside = logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "m", (), None)
    assert outside.job is None  # type: ignore[attr-defined]


async def test_text_and_json_formats_show_the_run(make_app: Any) -> None:
    import json

    from asyncjobs.logs import JsonFormatter, TextFormatter

    app = make_app()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logging.getLogger("fmt.test").addHandler(handler)
    try:

        @app.job()
        async def speak(ctx: RunContext) -> None:
            logging.getLogger("fmt.test").warning("hello")

        result = await app.run_async("speak")
    finally:
        logging.getLogger("fmt.test").removeHandler(handler)
    [record] = records
    assert f"[speak:{result.run_id}]" in TextFormatter().format(record)
    payload = json.loads(JsonFormatter().format(record))
    assert payload["job"] == "speak" and payload["run_id"] == result.run_id
    assert payload["message"] == "hello"


async def test_global_limit_is_the_real_maximum_concurrency(make_app: Any) -> None:
    app = make_app(max_concurrent_runs=2)
    gauge = Gauge()

    @app.job(timeout=0.5)
    async def work(ctx: RunContext) -> None:
        with gauge:
            await asyncio.sleep(0.05)

    results = await asyncio.gather(*(app.run_async("work") for _ in range(8)))
    assert all(r.success for r in results)
    assert gauge.peak == 2 and gauge.entered == 8


async def test_waiting_for_a_slot_does_not_count_against_the_timeout(make_app: Any) -> None:
    app = make_app(max_concurrent_runs=1)

    @app.job(timeout=0.5)
    async def step(ctx: RunContext) -> None:
        await asyncio.sleep(0.2)

    # Four runs through one slot take ~0.8 s, longer than each run's timeout.
    results = await asyncio.gather(*(app.run_async("step") for _ in range(4)))
    assert [r.status for r in results] == [RunStatus.SUCCEEDED] * 4


async def test_named_limiter_is_shared_across_jobs(make_app: Any) -> None:
    app = make_app()
    app.limiter("smtp", 1)
    gauge = Gauge()

    @app.job(limiter="smtp")
    async def one(ctx: RunContext) -> None:
        with gauge:
            await asyncio.sleep(0.02)

    @app.job(limiter="smtp")
    async def two(ctx: RunContext) -> None:
        with gauge:
            await asyncio.sleep(0.02)

    await asyncio.gather(*(app.run_async(n) for n in ("one", "two") * 4))
    assert gauge.peak == 1 and gauge.entered == 8


async def test_unknown_limiter_is_a_config_error(make_app: Any) -> None:
    from asyncjobs import ConfigError

    app = make_app()

    @app.job(limiter="nope")
    async def job(ctx: RunContext) -> None:
        return None

    with pytest.raises(ConfigError, match=r"job 'job': limiter: unknown limiter 'nope'"):
        await app.run_async("job")


async def test_manual_runs_ignore_max_instances(make_app: Any) -> None:
    app = make_app()
    gauge = Gauge()
    go = asyncio.Event()

    @app.job(max_instances=1)
    async def job(ctx: RunContext) -> None:
        with gauge:
            await go.wait()

    runs = [asyncio.create_task(app.run_async("job")) for _ in range(3)]
    await wait_until(lambda: gauge.current == 3, what="three manual runs at once")
    go.set()
    assert all(r.success for r in await asyncio.gather(*runs))


# ---------------------------------------------------------------- overlap (scheduled ticks)


async def test_overlap_skip_records_skipped(make_app: Any) -> None:
    app = make_app()
    go = asyncio.Event()
    started = asyncio.Event()

    @app.job(overlap="skip")
    async def job(ctx: RunContext) -> None:
        started.set()
        await go.wait()

    async with app:
        runner = _runner(app)
        first = asyncio.create_task(runner.run_tick(app.jobs["job"], _tick(0)))
        await started.wait()
        skipped = await runner.run_tick(app.jobs["job"], _tick(1))
        go.set()
        done = await first
    assert skipped.status is RunStatus.SKIPPED and skipped.scheduled_for == _tick(1)
    assert done.status is RunStatus.SUCCEEDED
    statuses = {r.scheduled_for: r.status for r in await app.history("job")}
    assert statuses == {_tick(0): RunStatus.SUCCEEDED, _tick(1): RunStatus.SKIPPED}


async def test_overlap_queue_runs_after_the_previous_one(make_app: Any) -> None:
    app = make_app()
    go = asyncio.Event()
    order: list[str] = []

    @app.job(overlap="queue")
    async def job(ctx: RunContext) -> None:
        order.append(f"start {_index(ctx.scheduled_for)}")
        if ctx.scheduled_for == _tick(0):
            await go.wait()
        order.append(f"end {_index(ctx.scheduled_for)}")

    async with app:
        runner = _runner(app)
        first = asyncio.create_task(runner.run_tick(app.jobs["job"], _tick(0)))
        await wait_until(lambda: order == ["start 00"], what="first run")
        queued = asyncio.create_task(runner.run_tick(app.jobs["job"], _tick(1)))
        await wait_until(lambda: runner.runs.waiting("job") == 1, what="tick queued")
        # A third tick while one is already queued is skipped, not piled up.
        third = await runner.run_tick(app.jobs["job"], _tick(2))
        go.set()
        results = await asyncio.gather(first, queued)
    assert third.status is RunStatus.SKIPPED
    assert [r.status for r in results] == [RunStatus.SUCCEEDED] * 2
    assert order == ["start 00", "end 00", "start 01", "end 01"]


async def test_overlap_allow_runs_up_to_max_instances(make_app: Any) -> None:
    app = make_app()
    gauge = Gauge()
    go = asyncio.Event()

    @app.job(overlap="allow", max_instances=2)
    async def job(ctx: RunContext) -> None:
        with gauge:
            await go.wait()

    async with app:
        runner = _runner(app)
        running = [
            asyncio.create_task(runner.run_tick(app.jobs["job"], _tick(i))) for i in range(2)
        ]
        await wait_until(lambda: gauge.current == 2, what="two instances")
        third = await runner.run_tick(app.jobs["job"], _tick(2))
        go.set()
        done = await asyncio.gather(*running)
    assert third.status is RunStatus.SKIPPED
    assert all(r.success for r in done) and gauge.peak == 2


async def test_overlap_replace_cancels_the_running_one(make_app: Any) -> None:
    app = make_app()
    started: list[datetime | None] = []

    @app.job(overlap="replace")
    async def job(ctx: RunContext) -> str:
        started.append(ctx.scheduled_for)
        if ctx.scheduled_for == _tick(0):
            await asyncio.Event().wait()
        return "second"

    async with app:
        runner = _runner(app)
        first = asyncio.create_task(runner.run_tick(app.jobs["job"], _tick(0)))
        await wait_until(lambda: started == [_tick(0)], what="first run")
        second = await runner.run_tick(app.jobs["job"], _tick(1))
        replaced = await first
    assert replaced.status is RunStatus.CANCELLED
    assert replaced.error is not None and second.run_id in replaced.error
    assert second.status is RunStatus.SUCCEEDED


async def test_a_tick_is_started_once_even_when_fired_twice(make_app: Any) -> None:
    app = make_app()
    calls: list[datetime | None] = []

    @app.job(overlap="allow", max_instances=5)
    async def job(ctx: RunContext) -> None:
        calls.append(ctx.scheduled_for)

    async with app:
        runner = _runner(app)
        results = await asyncio.gather(
            *(runner.run_tick(app.jobs["job"], _tick(5)) for _ in range(3))
        )
    assert calls == [_tick(5)]
    assert sum(r is not None for r in results) == 1


# ---------------------------------------------------------------- listeners and class jobs


async def test_listeners_sync_and_async_receive_final_results(make_app: Any) -> None:
    app = make_app()
    seen: list[str] = []

    async def async_listener(result: Any) -> None:
        seen.append(f"async {result.status}")

    app.add_listener(lambda r: seen.append(f"sync {r.status}"))
    app.add_listener(async_listener)

    def bad_listener(result: Any) -> None:
        raise RuntimeError("listener bug")

    app.add_listener(bad_listener)

    @app.job()
    async def job(ctx: RunContext) -> None:
        return None

    result = await app.run_async("job")
    assert result.success
    assert seen == ["sync succeeded", "async succeeded"]


async def test_job_class_sets_up_once_lazily_and_tears_down(make_app: Any) -> None:
    from asyncjobs import Job

    events: list[str] = []

    class Generate(Job):
        name = "generate_content"
        every = "1h"

        async def setup(self) -> None:
            events.append("setup")

        async def execute(self, ctx: RunContext) -> dict[str, str]:
            events.append("execute")
            return {"job": ctx.job}

        async def teardown(self) -> None:
            events.append("teardown")

    app = make_app()
    handle = app.add(Generate)
    assert handle.name == "generate_content"
    assert events == []
    async with app:
        assert events == []  # lazily: not at start
        first = await app.run_async("generate_content")
        await handle.run_async()
    assert first.data == {"job": "generate_content"}
    assert events == ["setup", "execute", "execute", "teardown"]


async def test_handle_calls_the_function(make_app: Any) -> None:
    app = make_app()

    @app.job(every=60)
    async def double(ctx: Any) -> Any:
        return ctx * 2

    assert await double(21) == 42
    assert double.name == "double"
    assert (await double.run_async()).status is RunStatus.FAILED  # ctx * 2 on a RunContext


async def test_a_caller_cancelled_while_waiting_for_a_slot_does_not_leak_it(
    make_app: Any,
) -> None:
    app = make_app(max_concurrent_runs=1)
    go = asyncio.Event()
    started = asyncio.Event()

    @app.job()
    async def hold(ctx: RunContext) -> None:
        started.set()
        await go.wait()

    @app.job()
    async def quick(ctx: RunContext) -> None:
        return None

    async with app:
        first = asyncio.create_task(app.run_async("hold"))
        await started.wait()
        waiting = asyncio.create_task(app.run_async("quick"))
        await wait_until(lambda: len(_runner(app).in_flight) == 2, what="a run waiting")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        go.set()
        assert (await first).success
        # The slot came back: a later run gets it.
        later = await asyncio.wait_for(app.run_async("quick"), 30)
    assert later.success
    statuses = sorted(r.status.value for r in await app.history("quick"))
    assert statuses == ["cancelled", "succeeded"]


async def test_shutdown_cancels_a_run_still_waiting_for_its_slot(make_app: Any) -> None:
    app = make_app(max_concurrent_runs=1, shutdown_grace=0.2)
    started = asyncio.Event()

    @app.job()
    async def hold(ctx: RunContext) -> None:
        started.set()
        await asyncio.Event().wait()

    async with app:
        first = asyncio.create_task(app.run_async("hold"))
        await started.wait()
        second = asyncio.create_task(app.run_async("hold"))
        await wait_until(lambda: len(_runner(app).in_flight) == 2, what="a run waiting")
    results = await asyncio.gather(first, second)
    assert [r.status for r in results] == [RunStatus.CANCELLED] * 2
    assert results[1].started_at is None and results[1].attempts == 0


async def test_a_plain_callable_returning_a_coroutine_is_awaited(make_app: Any) -> None:
    app = make_app()

    async def work(ctx: RunContext) -> dict[str, str]:
        return {"job": ctx.job}

    app.job("wrapped")(lambda ctx: work(ctx))
    result = await app.run_async("wrapped")
    assert result.status is RunStatus.SUCCEEDED and result.data == {"job": "wrapped"}


async def test_a_tick_claimed_past_the_grace_is_recorded_missed(make_app: Any) -> None:
    app = make_app(misfire_grace_time=60)
    ran: list[str] = []

    @app.job()
    async def job(ctx: RunContext) -> None:
        ran.append(ctx.run_id)

    stale = datetime.now(UTC) - timedelta(minutes=5)
    async with app:
        result = await _runner(app).run_tick(app.jobs["job"], stale)
    assert result is not None and result.status is RunStatus.MISSED
    assert "misfire_grace_time" in (result.error or "") and ran == []
