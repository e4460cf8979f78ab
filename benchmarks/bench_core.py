"""Core benchmarks: asyncjobs against a bare ``await`` and bare APScheduler 3.x.

Run by hand, not in CI (timings depend on the machine and its load)::

    python benchmarks/bench_core.py            # full run, about a minute
    python benchmarks/bench_core.py --quick    # shorter, noisier
    python benchmarks/bench_core.py --only burst --repeat 3

Everything runs in this one process, one benchmark after the other, each in
its own event loop, so both sides of a comparison share the interpreter, the
machine and its load at that moment. Three measurements:

``run_async``
    Per-run cost of ``await app.run_async(name)`` for a no-op async job on a
    started app (memory store, memory mail) against
    ``await asyncio.create_task(noop(ctx))``. Rounds alternate between the two
    sides; the median round is reported.
``burst``
    10,000 one-off jobs due at the same instant: time from that instant until
    the last run is finished (its result recorded and handed to listeners),
    against 10,000 ``DateTrigger`` coroutine jobs on a bare
    ``AsyncIOScheduler`` (finished = ``EVENT_JOB_EXECUTED`` delivered).
``lateness``
    200 jobs firing every second: how late each job body starts after its
    scheduled fire time, p50 and p99 over the ticks after the first (warm-up),
    against 200 ``IntervalTrigger`` jobs on a bare ``AsyncIOScheduler``. Each
    side's figure is the median over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import math
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from asyncjobs import App, RunContext, Settings

# Targets from the performance brief; the table says whether each one is met.
BURST_MAX_RATIO = 2.0
LATENESS_P99_MAX_DIFF_MS = 2.0


def _settings(max_concurrent_runs: int = 100) -> Settings:
    return Settings(
        store_url="memory://", mail_backend="memory", max_concurrent_runs=max_concurrent_runs
    )


async def noop(ctx: object) -> None:
    """The job under test: does nothing, so only the machinery is measured."""


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the result table."""

    name: str
    unit: str
    ours: float
    bare: float
    verdict: str

    @property
    def ratio(self) -> float:
        return self.ours / self.bare if self.bare else math.inf


# --------------------------------------------------------------------------- run_async


async def bench_run_async(runs: int, rounds: int) -> tuple[float, float]:
    """Median µs per run: ``app.run_async`` on a started app, and a bare awaited task."""
    app = App(_settings())
    app.job("noop")(noop)
    ours: list[float] = []
    bare: list[float] = []
    async with app:
        for _ in range(min(runs, 500)):  # warm caches, loggers, pydantic validators
            await app.run_async("noop")
            await asyncio.create_task(noop(None))
        for _ in range(rounds):
            # A collection in the middle of one side would bill it for the other's garbage.
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(runs):
                await asyncio.create_task(noop(None))
            bare.append((time.perf_counter() - t0) / runs * 1e6)
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(runs):
                await app.run_async("noop")
            ours.append((time.perf_counter() - t0) / runs * 1e6)
    return statistics.median(ours), statistics.median(bare)


# --------------------------------------------------------------------------- burst


class _Finish:
    """Counts finished runs and notes the wall-clock time the last one finished."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.errors = 0
        self.finished_at = 0.0
        self.done = asyncio.Event()

    def one(self, ok: bool = True) -> None:
        self.count += 1
        self.errors += not ok
        if self.count == self.expected:
            self.finished_at = time.time()
            self.done.set()


def _due(lead: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=lead)


async def _wait_done(finish: _Finish, due: datetime, limit: float) -> float:
    """Seconds from ``due`` until the last run finished."""
    await asyncio.wait_for(finish.done.wait(), limit)
    if finish.errors:
        raise RuntimeError(f"{finish.errors} run(s) did not succeed")
    return finish.finished_at - due.timestamp()


class LeadTooShort(Exception):
    """Set-up ended too close to (or after) the due instant: the burst would be skewed."""


def _check_lead(due: datetime, what: str) -> None:
    # Started after the due instant would measure set-up, not the burst.
    slack = due.timestamp() - time.time()
    if slack < 0.2:
        raise LeadTooShort(f"{what}: set-up ended {slack:.2f}s before the due time")


def burst(run: Callable[[int, float], Awaitable[float]], n: int, lead: float) -> float:
    """One burst in a fresh loop; on a slow (loaded) machine, retry with a longer lead."""
    for _ in range(4):
        try:
            return float(_run(functools.partial(run, n, lead)))
        except LeadTooShort as exc:
            lead *= 2
            print(f"  {exc}; retrying with --lead {lead:g}", flush=True)
    raise SystemExit("set-up keeps overrunning the due time; pass a larger --lead")


async def burst_asyncjobs(n: int, lead: float) -> float:
    """Seconds from the due instant until ``n`` one-off asyncjobs runs are finished."""
    due = _due(lead)
    finish = _Finish(n)
    app = App(_settings())
    app.add_listener(lambda result: finish.one(result.success))
    for i in range(n):
        app.job(f"burst_{i:05d}", at=due)(noop)
    async with app:
        _check_lead(due, "asyncjobs")
        return await _wait_done(finish, due, limit=lead + 120)


async def burst_apscheduler(n: int, lead: float) -> float:
    """The same burst on a bare ``AsyncIOScheduler``."""
    due = _due(lead)
    finish = _Finish(n)

    def listener(event: JobEvent) -> None:
        finish.one(event.code == EVENT_JOB_EXECUTED)

    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"misfire_grace_time": 3600})
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    for i in range(n):
        scheduler.add_job(noop, DateTrigger(run_date=due), args=[None], id=f"burst_{i:05d}")
    scheduler.start()
    try:
        _check_lead(due, "apscheduler")
        return await _wait_done(finish, due, limit=lead + 120)
    finally:
        scheduler.shutdown(wait=False)


# --------------------------------------------------------------------------- lateness


def _percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    """p50, p99 and max of ``samples``."""
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    return pick(0.50), pick(0.99), ordered[-1]


def _steady(samples: list[tuple[float, float]]) -> list[float]:
    """Lateness in ms without the first tick's samples.

    The first tick pays one-time costs on both sides (loggers made, first
    full garbage collection after start-up, cold caches); a service pays
    them once, so the steady state is what the percentiles describe.
    """
    first = min(tick for tick, _ in samples)
    return [late for tick, late in samples if tick != first]


async def lateness_asyncjobs(n: int, seconds: float) -> list[float]:
    """Milliseconds each body started after ``ctx.scheduled_for``, ``n`` jobs every second."""
    samples: list[tuple[float, float]] = []

    async def body(ctx: RunContext) -> None:
        assert ctx.scheduled_for is not None
        due = ctx.scheduled_for.timestamp()
        samples.append((due, (time.time() - due) * 1e3))

    # Bare APScheduler has no global cap; with the default (100) the second
    # hundred bodies would wait for slots, which is not firing lateness.
    app = App(_settings(max_concurrent_runs=max(100, n)))
    for i in range(n):
        app.job(f"tick_{i:03d}", every=1)(body)
    async with app:
        await asyncio.sleep(seconds)
    return _steady(samples)


async def lateness_apscheduler(n: int, seconds: float) -> list[float]:
    """The same on a bare ``AsyncIOScheduler`` with ``IntervalTrigger(seconds=1)``."""
    samples: list[tuple[float, float]] = []

    async def body() -> None:
        now = time.time()
        # Ticks fall on whole seconds (start_date below); lateness is far under 0.5 s.
        samples.append((round(now), (now - round(now)) * 1e3))

    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"misfire_grace_time": 3600})
    for i in range(n):
        scheduler.add_job(
            body, IntervalTrigger(seconds=1, start_date=start, timezone=UTC), id=f"tick_{i:03d}"
        )
    scheduler.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        scheduler.shutdown(wait=False)
    return _steady(samples)


# --------------------------------------------------------------------------- driver


def _run(make: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        return await make()

    # Collect the previous measurement's garbage first, so that neither side
    # pays for a full collection of what the other left behind.
    gc.collect()
    return asyncio.run(main())


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def run_benchmarks(args: argparse.Namespace) -> list[Row]:
    """Run the selected benchmarks and return the table rows."""
    rows: list[Row] = []
    selected = set(args.only or ("run_async", "burst", "lateness"))
    if "run_async" in selected:
        ours, bare = _run(lambda: bench_run_async(args.runs, args.rounds))
        rows.append(Row("run_async, per run", "µs", ours, bare, f"+{ours - bare:.1f} µs/run"))
        print(f"run_async: {ours:.1f} µs/run vs bare task {bare:.1f} µs/run", flush=True)
    if "burst" in selected:
        ours_s: list[float] = []
        bare_s: list[float] = []
        for _ in range(args.repeat):
            bare_s.append(burst(burst_apscheduler, args.burst, args.lead))
            ours_s.append(burst(burst_asyncjobs, args.burst, args.lead))
            print(
                f"burst of {args.burst}: asyncjobs {ours_s[-1] * 1e3:.0f} ms, "
                f"apscheduler {bare_s[-1] * 1e3:.0f} ms",
                flush=True,
            )
        ours, bare = statistics.median(ours_s) * 1e3, statistics.median(bare_s) * 1e3
        met = "met" if ours <= BURST_MAX_RATIO * bare else "MISSED"
        rows.append(
            Row(
                f"burst {args.burst}, due to done",
                "ms",
                ours,
                bare,
                f"{met} (target <= {BURST_MAX_RATIO:g}x)",
            )
        )
    if "lateness" in selected:
        ours_p: list[tuple[float, float, float]] = []
        bare_p: list[tuple[float, float, float]] = []
        for _ in range(args.repeat):
            bare_p.append(
                _percentiles(_run(lambda: lateness_apscheduler(args.interval_jobs, args.seconds)))
            )
            ours_p.append(
                _percentiles(_run(lambda: lateness_asyncjobs(args.interval_jobs, args.seconds)))
            )
            (o50, o99, omax), (b50, b99, bmax) = ours_p[-1], bare_p[-1]
            print(
                f"lateness: asyncjobs p50 {o50:.2f} p99 {o99:.2f} max {omax:.2f} ms; "
                f"apscheduler p50 {b50:.2f} p99 {b99:.2f} max {bmax:.2f} ms",
                flush=True,
            )
        # Median over the repeats of each run's percentile: one noisy run does not decide.
        o50, o99 = (statistics.median(p[i] for p in ours_p) for i in (0, 1))
        b50, b99 = (statistics.median(p[i] for p in bare_p) for i in (0, 1))
        met = "met" if o99 - b99 <= LATENESS_P99_MAX_DIFF_MS else "MISSED"
        name = f"lateness {args.interval_jobs}x every 1s"
        rows.append(Row(f"{name}, p50", "ms", o50, b50, f"{o50 - b50:+.2f} ms"))
        rows.append(
            Row(
                f"{name}, p99",
                "ms",
                o99,
                b99,
                f"{o99 - b99:+.2f} ms, {met} (target <= +{LATENESS_P99_MAX_DIFF_MS:g} ms)",
            )
        )
    return rows


def print_table(rows: list[Row]) -> None:
    """The results as a Markdown table (pastes into the README as it is)."""
    print()
    print(f"Python {platform.python_version()}, {platform.machine()}, {_cpus()} CPU(s)")
    print()
    print("| benchmark | asyncjobs | bare | ratio | difference / target |")
    print("| --- | ---: | ---: | ---: | --- |")
    for row in rows:
        print(
            f"| {row.name} | {_fmt(row.ours, row.unit)} | {_fmt(row.bare, row.unit)} "
            f"| {row.ratio:.2f}x | {row.verdict} |"
        )


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` shrinks every size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter, noisier run")
    parser.add_argument(
        "--only", action="append", choices=("run_async", "burst", "lateness"), help="repeatable"
    )
    parser.add_argument("--runs", type=int, help="runs per round (run_async)")
    parser.add_argument("--rounds", type=int, help="rounds per side (run_async)")
    parser.add_argument("--burst", type=int, default=10_000, help="one-off jobs in the burst")
    parser.add_argument("--lead", type=float, help="seconds from set-up to the burst's due time")
    parser.add_argument("--repeat", type=int, help="bursts and lateness runs per side")
    parser.add_argument("--interval-jobs", type=int, default=200, help="every-second jobs")
    parser.add_argument("--seconds", type=float, help="seconds each lateness run lasts")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "runs": 2_000 if quick else 10_000,
        "rounds": 3 if quick else 5,
        "lead": 5.0,
        "repeat": 1 if quick else 3,
        "seconds": 4.0 if quick else 10.0,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, return the exit status (0 even when a target is missed)."""
    args = parse_args(argv)
    print_table(run_benchmarks(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
