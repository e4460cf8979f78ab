"""Restarts on a durable store: history survives, downtime is caught up or recorded."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asyncjobs import App, JobResult, MemoryStore, RunContext, RunStatus
from tests.helpers import wait_until


def _make(settings_factory: Any, db: Path, **overrides: Any) -> App:
    return App(settings_factory(store_url=f"sqlite:///{db}", **overrides))


async def test_history_survives_a_restart_field_for_field(
    settings_factory: Any, tmp_path: Path
) -> None:
    db = tmp_path / "history.db"
    first = _make(settings_factory, db)

    @first.job()
    async def report(ctx: RunContext) -> dict[str, Any]:
        return {"rows": 3, "names": ["a", "é"], "nested": {"ok": True}}

    @first.job(retries=1, retry_delay=0.01)
    async def broken(ctx: RunContext) -> None:
        raise ValueError("bad input")

    async with first:
        ran = [await first.run_async("report"), await first.run_async("broken")]
    before = [r.model_dump() for r in await first.history()]
    assert [r["run_id"] for r in before] == [r.run_id for r in reversed(ran)]

    second = _make(settings_factory, db)
    second.job("report")(lambda ctx: None)
    second.job("broken")(lambda ctx: None)
    after = [r.model_dump() for r in await second.history()]
    assert after == before
    assert after[0]["attempts"] == 2 and after[0]["error_type"] == "ValueError"
    assert after[1]["data"] == {"rows": 3, "names": ["a", "é"], "nested": {"ok": True}}


async def _run_until_a_tick(app: App, name: str) -> datetime:
    async with app:

        async def ticked() -> bool:
            return any(r.trigger == "schedule" for r in await app.history(name))

        await wait_until(ticked, what="a scheduled tick")
    [last] = [r for r in await app.history(name) if r.trigger == "schedule"][:1]
    assert last.scheduled_for is not None
    return last.scheduled_for


async def _restarted(
    settings_factory: Any, tmp_path: Path, down_for: float, **overrides: Any
) -> tuple[App, datetime]:
    """An app with a one-second job that ran, was down ``down_for`` seconds past
    its last tick, and is about to start again; returns it and that last tick."""
    db = tmp_path / "restart.db"
    first = _make(settings_factory, db)
    first.job("pulse", every=1)(_noop)
    last = await _run_until_a_tick(first, "pulse")
    # The downtime under test: no process runs until the clock passes it.
    until = last + timedelta(seconds=down_for)
    await wait_until(lambda: datetime.now(UTC) > until, what="the downtime to pass")
    second = _make(settings_factory, db, **overrides)
    second.job("pulse", every=1)(_noop)
    return second, last


async def test_catch_up_runs_once_after_downtime_over_a_tick(
    settings_factory: Any, tmp_path: Path
) -> None:
    second, last = await _restarted(settings_factory, tmp_path, 3.2, misfire_grace_time=60)
    async with second:

        async def caught_up() -> bool:
            return any(r.trigger == "catch_up" for r in await second.history("pulse"))

        await wait_until(caught_up, what="the catch-up run")
    rows = await second.history("pulse", limit=1000)
    catch = [r for r in rows if r.trigger == "catch_up"]
    assert len(catch) == 1 and catch[0].status is RunStatus.SUCCEEDED
    assert catch[0].scheduled_for is not None and catch[0].scheduled_for > last
    missed = sorted(r.scheduled_for for r in rows if r.status is RunStatus.MISSED)  # type: ignore[type-var]
    # Every tick between the last run and the catch-up is on record, once.
    gap = [last + timedelta(seconds=i) for i in range(1, len(missed) + 1)]
    assert missed == gap and len(missed) >= 2
    assert catch[0].scheduled_for == last + timedelta(seconds=len(missed) + 1)
    ticks = [r.scheduled_for for r in rows]
    assert len(ticks) == len(set(ticks))


async def test_a_tick_older_than_the_grace_is_recorded_missed(
    settings_factory: Any, tmp_path: Path
) -> None:
    # Down past three ticks, the newest of them already older than the grace.
    second, last = await _restarted(settings_factory, tmp_path, 3.7, misfire_grace_time=0.5)
    async with second:

        async def recorded() -> bool:
            rows = await second.history("pulse", status="missed")
            return len(rows) >= 3

        await wait_until(recorded, what="the missed ticks")
    rows = await second.history("pulse", limit=1000)
    assert not [r for r in rows if r.trigger == "catch_up"]
    missed = [r for r in rows if r.status is RunStatus.MISSED]
    assert all(r.scheduled_for is not None and r.scheduled_for > last for r in missed)


async def test_old_history_is_pruned_in_the_background(settings_factory: Any) -> None:
    store = MemoryStore()
    old = datetime.now(UTC) - timedelta(days=3)
    await store.add_result(
        JobResult(job="job", run_id="0ld0ld00", status=RunStatus.SUCCEEDED, completed_at=old)
    )
    app = App(settings_factory(history_retention_days=1, lease_seconds=0.3), store=store)
    app.job("job")(_noop)
    recent = await app.run_async("job")
    async with app:

        async def pruned() -> bool:
            return await store.get_run("0ld0ld00") is None

        await wait_until(pruned, what="the old row to be pruned")
    assert [r.run_id for r in await app.history()] == [recent.run_id]


async def test_jitter_delays_the_start_but_keeps_the_tick(make_app: Any, monkeypatch: Any) -> None:
    import asyncjobs.service

    # Draw the longest delay every time, so that the delay is certain to show.
    monkeypatch.setattr(asyncjobs.service.random, "uniform", lambda a, b: b)
    app = make_app()
    seen: list[tuple[datetime | None, float]] = []

    @app.job(every=0.5, jitter=0.3)
    async def spread(ctx: RunContext) -> None:
        seen.append((ctx.scheduled_for, time.time()))

    async with app:
        await wait_until(lambda: len(seen) >= 3, what="three jittered runs")
    for tick, started in seen:
        assert tick is not None and round(tick.timestamp() * 1000) % 500 == 0
        assert started >= tick.timestamp() + 0.3


async def _noop(ctx: RunContext) -> None:
    return None


async def test_a_long_downtime_sends_one_notification_not_one_per_tick(
    settings_factory: Any,
) -> None:
    store = MemoryStore()
    last = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=6)
    assert await store.claim_tick("minutely", last, "00000000")
    app = App(settings_factory(notify_to=["ops@example.com"]), store=store)
    app.job("minutely", cron="* * * * *", catch_up=False)(_noop)
    async with app:

        async def recorded() -> bool:
            return len(await app.history("minutely", status="missed")) >= 5

        await wait_until(recorded, what="the missed ticks")
    missed = await app.history("minutely", status="missed", limit=100)
    outbox = app.mailer.outbox  # type: ignore[attr-defined]
    assert len(outbox) == 1
    assert "minutely" in outbox[0]["Subject"]
    assert f"{len(missed)} ticks missed" in (missed[0].error or "")
