"""The store contract (``asyncjobs.stores.base``), checked against every store."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from asyncjobs.result import JobResult, NotificationOutcome, RunStatus
from asyncjobs.stores import Store
from asyncjobs.stores.sql import MAX_DATA_BYTES, MAX_TEXT_CHARS
from tests.stores.conftest import Backend

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def new_id() -> str:
    return uuid.uuid4().hex[:8]


def result(job: str = "report", status: RunStatus = RunStatus.RUNNING, **fields: Any) -> JobResult:
    fields.setdefault("run_id", new_id())
    fields.setdefault("started_at", T0)
    return JobResult(job=job, status=status, **fields)


def finished(running: JobResult, status: RunStatus = RunStatus.SUCCEEDED) -> JobResult:
    return running.model_copy(
        update={"status": status, "completed_at": T0 + timedelta(seconds=2), "attempts": 1}
    )


# -- claims ---------------------------------------------------------------------


async def test_a_tick_is_claimed_once(store: Store) -> None:
    assert await store.claim_tick("report", T0, new_id())
    assert not await store.claim_tick("report", T0, new_id())
    assert await store.claim_tick("report", T0 + timedelta(minutes=1), new_id())
    assert await store.claim_tick("other", T0, new_id())


async def test_the_same_instant_in_another_zone_is_the_same_tick(store: Store) -> None:
    assert await store.claim_tick("report", T0, new_id())
    paris = T0.astimezone(timezone(timedelta(hours=2)))
    assert not await store.claim_tick("report", paris, new_id())


async def test_concurrent_claims_have_exactly_one_winner(store: Store) -> None:
    wins = await asyncio.gather(*(store.claim_tick("report", T0, new_id()) for _ in range(20)))
    assert wins.count(True) == 1


async def test_concurrent_claims_through_two_stores_have_one_winner(
    store: Store, backend: Backend
) -> None:
    async with backend.make() as other:
        ticks = [T0 + timedelta(minutes=i) for i in range(30)]
        claims = [s.claim_tick("report", t, new_id()) for t in ticks for s in (store, other)]
        wins = await asyncio.gather(*claims)
    per_tick = [wins[i] + wins[i + 1] for i in range(0, len(wins), 2)]
    assert per_tick == [1] * len(ticks)


async def test_last_tick_is_the_latest_claimed(store: Store) -> None:
    assert await store.last_tick("report") is None
    for minutes in (0, 2, 1):
        await store.claim_tick("report", T0 + timedelta(minutes=minutes), new_id())
    last = await store.last_tick("report")
    assert last == T0 + timedelta(minutes=2)
    assert last is not None and last.utcoffset() == timedelta(0)
    assert await store.last_tick("other") is None


# -- runs and leases -------------------------------------------------------------


async def test_start_renew_finish(store: Store) -> None:
    running = result()
    await store.start_run(running, T0 + LEASE)
    assert await store.has_live_run("report", T0)
    assert (await store.get_run(running.run_id)) == running

    lost = await store.renew_leases([running.run_id, "unknown1"], T0 + 2 * LEASE)
    assert lost == {"unknown1"}
    # the renewed lease outlives the first one
    assert await store.has_live_run("report", T0 + LEASE + timedelta(seconds=1))

    final = finished(running)
    assert await store.finish_run(final)
    assert await store.get_run(running.run_id) == final
    assert not await store.has_live_run("report", T0)
    assert await store.renew_leases([running.run_id], T0 + 3 * LEASE) == {running.run_id}
    assert await store.renew_leases([], T0) == set()


async def test_a_finish_after_abandon_writes_nothing(store: Store) -> None:
    running = result()
    await store.start_run(running, T0 + LEASE)
    now = T0 + LEASE + timedelta(seconds=1)

    [abandoned] = await store.abandon_expired(now)
    assert abandoned.run_id == running.run_id
    assert abandoned.status is RunStatus.ABANDONED
    assert abandoned.completed_at == now
    assert abandoned.error

    assert not await store.finish_run(finished(running))
    stored = await store.get_run(running.run_id)
    assert stored is not None and stored.status is RunStatus.ABANDONED
    assert await store.renew_leases([running.run_id], now + LEASE) == {running.run_id}
    assert await store.abandon_expired(now + LEASE) == []


async def test_only_expired_leases_are_abandoned(store: Store) -> None:
    expired, at_now, live = result(), result(), result()
    await store.start_run(expired, T0 + timedelta(seconds=5))
    await store.start_run(at_now, T0 + timedelta(seconds=10))
    await store.start_run(live, T0 + timedelta(seconds=11))
    now = T0 + timedelta(seconds=10)

    gone = await store.abandon_expired(now)
    assert {r.run_id for r in gone} == {expired.run_id, at_now.run_id}
    assert await store.has_live_run("report", now)
    assert await store.finish_run(finished(live))


async def test_has_live_run(store: Store) -> None:
    running = result()
    await store.start_run(running, T0 + LEASE)
    assert await store.has_live_run("report", T0)
    assert not await store.has_live_run("report", T0, exclude={running.run_id})
    assert not await store.has_live_run("other", T0)
    # an expired lease is not live, even before anyone marks it abandoned
    assert not await store.has_live_run("report", T0 + LEASE)


async def test_add_result_records_a_run_that_never_started(store: Store) -> None:
    skipped = result(status=RunStatus.SKIPPED, trigger="schedule", scheduled_for=T0)
    await store.add_result(skipped)
    assert await store.get_run(skipped.run_id) == skipped
    assert not await store.has_live_run("report", T0)
    assert await store.get_run("nosuchid") is None


# -- history ----------------------------------------------------------------------


async def test_history_is_newest_first_with_filters_and_limit(store: Store) -> None:
    first = result("a")
    await store.start_run(first, T0 + LEASE)
    added = [first]
    for i, (job, status) in enumerate(
        [("b", RunStatus.FAILED), ("a", RunStatus.SUCCEEDED), ("b", RunStatus.SKIPPED)]
    ):
        row = result(job, status, started_at=T0 + timedelta(seconds=i))
        await store.add_result(row)
        added.append(row)
    # finishing the first run last does not move it: order is the order rows were added
    added[0] = finished(first, RunStatus.FAILED)
    assert await store.finish_run(added[0])

    newest_first = added[::-1]
    assert await store.history() == newest_first
    assert await store.history(limit=2) == newest_first[:2]
    assert await store.history(job="a") == [r for r in newest_first if r.job == "a"]
    assert await store.history(status="failed") == [
        r for r in newest_first if r.status is RunStatus.FAILED
    ]
    assert await store.history(job="b", status=RunStatus.SKIPPED) == [added[3]]
    assert await store.history(job="nosuch") == []


async def test_a_result_round_trips_field_for_field(store: Store) -> None:
    original = JobResult(
        job="daily_report",
        run_id="3f2a9c1e",
        status=RunStatus.FAILED,
        trigger="catch_up",
        scheduled_for=T0,
        started_at=T0 + timedelta(microseconds=123457),
        completed_at=T0 + timedelta(seconds=1, microseconds=999999),
        duration_seconds=1.876542,
        attempts=3,
        error="boom: ünïcödé ✓",
        error_type="ValueError",
        traceback='Traceback (most recent call last):\n  File "x.py", line 1\nValueError: boom',
        data={"rows": 3, "ratio": 0.25, "nested": {"a": [1, "x", None, True]}, "empty": {}},
        notifications=[
            NotificationOutcome(channel="email", ok=True),
            NotificationOutcome(channel="webhook", ok=False, error="HTTP 500"),
        ],
    )
    await store.add_result(original)
    [back] = await store.history()
    assert back == original
    assert back.model_dump() == original.model_dump()
    for name in ("scheduled_for", "started_at", "completed_at"):
        value = getattr(back, name)
        assert value.utcoffset() == timedelta(0), name


async def test_empty_fields_round_trip(store: Store) -> None:
    bare = JobResult(job="j", run_id=new_id(), status=RunStatus.MISSED, data={})
    await store.add_result(bare)
    assert await store.get_run(bare.run_id) == bare


async def test_prune_deletes_old_final_rows_only(store: Store) -> None:
    old = finished(result())
    old_running = result()
    recent = result(started_at=T0 + timedelta(days=10))
    await store.add_result(old)
    await store.start_run(old_running, T0 + LEASE)
    await store.add_result(recent)
    await store.claim_tick("report", T0, new_id())

    assert await store.prune(T0 + timedelta(days=1)) == 1
    assert await store.get_run(old.run_id) is None
    assert await store.get_run(old_running.run_id) is not None
    assert await store.get_run(recent.run_id) is not None
    # the latest claim survives pruning: catch-up after downtime depends on it
    assert await store.last_tick("report") == T0
    assert not await store.claim_tick("report", T0, new_id())


# -- bounded values and UTC times (MemoryStore keeps them as the SQL stores do) ------


async def test_large_data_is_replaced_by_a_marker(store: Store) -> None:
    big = result(status=RunStatus.SUCCEEDED, data={"blob": "x" * (MAX_DATA_BYTES + 10)})
    small = result(status=RunStatus.SUCCEEDED, data={"blob": "x" * 1000})
    await store.add_result(big)
    await store.add_result(small)

    stored = await store.get_run(big.run_id)
    assert stored is not None and stored.data is not None
    assert stored.data["_truncated"] is True
    assert stored.data["size"] > MAX_DATA_BYTES
    assert stored.data["preview"].startswith('{"blob":"xxx')
    assert len(stored.data["preview"]) <= 1024
    assert await store.get_run(small.run_id) == small


async def test_long_tracebacks_and_errors_are_cut_with_a_marker(store: Store) -> None:
    lines = [f'  File "job.py", line {i}, in step\n' for i in range(2000)]
    traceback = "Traceback (most recent call last):\n" + "".join(lines) + "ValueError: the end\n"
    failed = result(status=RunStatus.FAILED, traceback=traceback, error="e" * (MAX_TEXT_CHARS * 2))
    await store.add_result(failed)

    stored = await store.get_run(failed.run_id)
    assert stored is not None and stored.traceback is not None and stored.error is not None
    assert len(stored.traceback) <= MAX_TEXT_CHARS
    assert "... [truncated" in stored.traceback
    assert stored.traceback.startswith("Traceback (most recent call last):")
    assert stored.traceback.endswith("ValueError: the end\n")
    assert len(stored.error) <= MAX_TEXT_CHARS and "... [truncated" in stored.error


async def test_times_come_back_in_utc(store: Store) -> None:
    tz = timezone(timedelta(hours=-5))
    row = result(status=RunStatus.SUCCEEDED, started_at=T0.astimezone(tz))
    await store.add_result(row)
    stored = await store.get_run(row.run_id)
    assert stored is not None and stored.started_at == T0
    assert stored.started_at.tzinfo is not None and stored.started_at.utcoffset() == timedelta(0)


async def test_closing_twice_is_safe(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    await store.aclose()
    await store.aclose()
