"""The real AsyncIOScheduler driving real runs: ticks, misfires, drain, catch-up."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncjobs import App, MemoryStore, RunContext, RunStatus
from tests.helpers import wait_until


async def _statuses(app: App, job: str) -> list[RunStatus]:
    return [r.status for r in await app.history(job, limit=1000)]


async def test_interval_job_fires_on_epoch_aligned_ticks(make_app: Any) -> None:
    app = make_app()
    ticks: list[datetime | None] = []

    @app.job(every=0.2)
    async def fast(ctx: RunContext) -> None:
        assert ctx.trigger == "schedule"
        ticks.append(ctx.scheduled_for)

    async with app:
        nxt = app.next_run_time("fast")
        assert nxt is not None and nxt.tzinfo is not None
        await wait_until(lambda: len(ticks) >= 3, what="three ticks")
    for tick in ticks:
        assert tick is not None
        assert round(tick.timestamp() * 1000) % 200 == 0  # multiples of 0.2 s since the epoch
    assert len(set(ticks)) == len(ticks)
    history = await app.history("fast", limit=100)
    assert {r.trigger for r in history} == {"schedule"}


async def test_a_failing_job_does_not_stop_another(make_app: Any) -> None:
    app = make_app()
    good: list[int] = []

    @app.job(every=0.2)
    async def bad(ctx: RunContext) -> None:
        raise RuntimeError("always broken")

    @app.job(every=0.2)
    async def fine(ctx: RunContext) -> None:
        good.append(1)

    async with app:
        await wait_until(lambda: len(good) >= 4, what="the good job to keep running")
        assert RunStatus.FAILED in await _statuses(app, "bad")
        failures = await _statuses(app, "bad")
    assert failures.count(RunStatus.FAILED) >= 2


async def test_overlap_skip_with_the_real_scheduler(make_app: Any) -> None:
    app = make_app()
    release = asyncio.Event()

    @app.job(every=0.2, overlap="skip")
    async def slow(ctx: RunContext) -> None:
        await release.wait()

    async with app:

        async def skipped_some() -> bool:
            return RunStatus.SKIPPED in await _statuses(app, "slow")

        await wait_until(skipped_some, what="a skipped tick")
        release.set()
    rows = await app.history("slow", limit=1000)
    assert sum(r.status is RunStatus.SUCCEEDED for r in rows) >= 1
    skipped = [r for r in rows if r.status is RunStatus.SKIPPED]
    assert skipped[0].error is not None and "still running" in skipped[0].error


async def test_blocked_loop_past_the_grace_records_missed(make_app: Any) -> None:
    app = make_app(misfire_grace_time=0.3, loop_lag_warning=30)
    runs: list[datetime | None] = []

    @app.job(every=0.2)
    async def ticker(ctx: RunContext) -> None:
        runs.append(ctx.scheduled_for)

    async with app:
        await wait_until(lambda: len(runs) >= 1, what="a first run")
        time.sleep(1.5)  # noqa: ASYNC251 - block the loop on purpose: the ticks meanwhile cannot start

        async def missed() -> bool:
            return RunStatus.MISSED in await _statuses(app, "ticker")

        await wait_until(missed, what="a missed tick")
        await wait_until(lambda: len(runs) >= 3, what="ticking to resume")
    rows = await app.history("ticker", limit=1000)
    missed_rows = [r for r in rows if r.status is RunStatus.MISSED]
    assert missed_rows and all(r.scheduled_for is not None for r in missed_rows)
    # Every tick has one outcome: no scheduled_for appears twice.
    ticks = [r.scheduled_for for r in rows]
    assert len(ticks) == len(set(ticks))


async def test_graceful_drain_lets_running_jobs_finish(make_app: Any) -> None:
    app = make_app(shutdown_grace=30)
    started = asyncio.Event()

    @app.job()
    async def finishing(ctx: RunContext) -> str:
        started.set()
        await asyncio.sleep(0.3)
        return "done"

    async with app:
        run = asyncio.create_task(app.run_async("finishing"))
        await started.wait()
    result = await run
    assert result.status is RunStatus.SUCCEEDED


async def test_forced_cancel_after_shutdown_grace(make_app: Any) -> None:
    app = make_app(shutdown_grace=0.3)
    started = asyncio.Event()

    @app.job(timeout=3600)
    async def forever(ctx: RunContext) -> None:
        started.set()
        await asyncio.Event().wait()

    release = asyncio.Event()

    @app.job(timeout=3600)
    async def stubborn(ctx: RunContext) -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    async with app:
        run = asyncio.create_task(app.run_async("forever"))
        hostage = asyncio.create_task(app.run_async("stubborn"))
        await started.wait()
        t0 = time.monotonic()
    stop_took = time.monotonic() - t0
    for task in (run, hostage):
        result = await task
        assert result.status is RunStatus.CANCELLED
        assert result.error is not None and "shutdown" in result.error
    # Bounded: shutdown_grace plus the kill grace, never the job's hour-long timeout.
    assert stop_took < 20
    assert {r.status for r in await app.history()} == {RunStatus.CANCELLED}
    release.set()  # let the abandoned task end before the test's loop closes


async def test_catch_up_runs_the_latest_missed_tick_once(settings_factory: Any) -> None:
    store = MemoryStore()
    now = datetime.now(UTC)
    # A previous process ran the job four minutes ago, then nothing ran.
    last = now.replace(second=0, microsecond=0) - timedelta(minutes=4)
    assert await store.claim_tick("minutely", last, "00000000")
    app = App(settings_factory(misfire_grace_time=150), store=store)
    ran: list[tuple[str, datetime | None]] = []

    @app.job(cron="* * * * *")
    async def minutely(ctx: RunContext) -> None:
        ran.append((ctx.trigger, ctx.scheduled_for))

    @app.job(cron="* * * * *")
    async def never_ran(ctx: RunContext) -> None:
        ran.append(("never", ctx.scheduled_for))

    async with app:
        await wait_until(lambda: any(t == "catch_up" for t, _ in ran), what="catch-up run")

        async def recorded() -> bool:
            return len(await app.history("minutely", limit=100)) >= 4

        await wait_until(recorded, what="missed rows")
    rows = await app.history("minutely", limit=100)
    catch = [r for r in rows if r.trigger == "catch_up"]
    assert len(catch) == 1 and catch[0].status is RunStatus.SUCCEEDED
    missed = sorted(r.scheduled_for for r in rows if r.status is RunStatus.MISSED)
    assert missed == [last + timedelta(minutes=i) for i in range(1, len(missed) + 1)]
    assert catch[0].scheduled_for == last + timedelta(minutes=len(missed) + 1)
    assert not any(t == "never" and s is not None and s <= now for t, s in ran)


async def test_past_one_off_job_outside_grace_is_missed(settings_factory: Any) -> None:
    app = App(settings_factory(misfire_grace_time=60))
    when = datetime.now(UTC) - timedelta(hours=1)

    @app.job(at=when)
    async def once(ctx: RunContext) -> None:
        raise AssertionError("must not run")

    async with app:

        async def recorded() -> bool:
            return bool(await app.history("once"))

        await wait_until(recorded, what="the missed row")
    [row] = await app.history("once")
    assert row.status is RunStatus.MISSED and row.scheduled_for == when


async def test_abandoned_runs_are_found_at_start(settings_factory: Any) -> None:
    from asyncjobs import JobResult

    store = MemoryStore()
    dead = JobResult(
        job="sync_data",
        run_id="deadbeef",
        status=RunStatus.RUNNING,
        started_at=datetime.now(UTC) - timedelta(minutes=5),
    )
    await store.start_run(dead, datetime.now(UTC) - timedelta(minutes=4))
    app = App(settings_factory(), store=store)

    @app.job()
    async def sync_data(ctx: RunContext) -> None:
        return None

    async with app:
        [row] = await app.history("sync_data")
    assert row.run_id == "deadbeef" and row.status is RunStatus.ABANDONED


async def test_watchdog_names_the_run_that_blocked_the_loop(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(loop_lag_warning=0.2)

    @app.job()
    async def blocker(ctx: RunContext) -> None:
        time.sleep(0.8)  # noqa: ASYNC251 - the mistake the watchdog exists to catch

    caplog.set_level(logging.WARNING, logger="asyncjobs.watchdog")
    async with app:
        await asyncio.sleep(0.3)  # let the watchdog take its first step
        result = await app.run_async("blocker")

        def warned() -> bool:
            return any("blocked" in r.getMessage() for r in caplog.records)

        await wait_until(warned, what="the watchdog warning")
    [record] = [r for r in caplog.records if "blocked" in r.getMessage()]
    assert f"blocker:{result.run_id}" in record.getMessage()


async def test_overlap_policies_with_the_real_scheduler(make_app: Any) -> None:
    from tests.helpers import Gauge

    app = make_app(max_concurrent_runs=50, shutdown_grace=0.5)
    gauges = {"queued": Gauge(), "allowed": Gauge()}
    release = asyncio.Event()

    @app.job(every=0.2, overlap="queue")
    async def queued(ctx: RunContext) -> None:
        with gauges["queued"]:
            await asyncio.sleep(0.35)

    @app.job(every=0.2, overlap="allow", max_instances=2)
    async def allowed(ctx: RunContext) -> None:
        with gauges["allowed"]:
            await release.wait()

    @app.job(every=0.2, overlap="replace")
    async def replaced(ctx: RunContext) -> None:
        await asyncio.Event().wait()

    async def statuses(job: str) -> list[RunStatus]:
        return [r.status for r in await app.history(job, limit=1000)]

    async def enough() -> bool:
        q, a, r = [await statuses(n) for n in ("queued", "allowed", "replaced")]
        return (
            q.count(RunStatus.SUCCEEDED) >= 2
            and RunStatus.SKIPPED in q
            and RunStatus.SKIPPED in a
            and r.count(RunStatus.CANCELLED) >= 2
        )

    async with app:
        await wait_until(enough, what="each policy to show")
        release.set()
    # queue: one at a time, in tick order; allow: never more than max_instances.
    assert gauges["queued"].peak == 1
    assert gauges["allowed"].peak == 2
    done = [r for r in await app.history("queued", limit=1000) if r.status is RunStatus.SUCCEEDED]
    assert [r.scheduled_for for r in done] == sorted((r.scheduled_for for r in done), reverse=True)
    cancelled = [r for r in await app.history("replaced", limit=1000) if r.error]
    assert any("replaced by run" in (r.error or "") for r in cancelled)
