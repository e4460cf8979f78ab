"""Store benchmarks: recorded runs per second, each store against ``MemoryStore``.

Run by hand, not in CI (timings depend on the machine and its load)::

    python benchmarks/bench_stores.py                   # 10,000 runs, 3 rounds
    python benchmarks/bench_stores.py --runs 2000 --rounds 1 --stores memory,sqlite

By default a "run" is a whole ``await app.run_async(...)`` of a no-op job on a
started app using the store (``--through runner``); ``--through store`` times
only what the runner writes for one run: ``start_run`` (the ``running`` row
and its lease) then ``finish_run`` (the final row). Two
shapes: ``burst`` starts all runs at once as asyncio tasks, ``sequential``
awaits one run after the other. Each measurement uses a fresh store (a new
SQLite file, a new PostgreSQL database), and the stores take turns within a
round so that they share the machine's load; the median round is reported,
with its ratio to the memory store's rate in the same round.

Targets: SQLite at least 1/3 of memory's rate, PostgreSQL on loopback at
least 1/5 (both for bursts: group commit is what makes many runs cheap).

PostgreSQL needs its binaries (see ``tests/postgres_server.py``); the server
is started here with fsync on, as in production. The per-run function is a
parameter (:func:`bench`), so the same harness can time the full runner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asyncjobs.result import JobResult, RunStatus
from asyncjobs.stores import MemoryStore, Store, open_store

RunFn = Callable[[Store, str], Coroutine[Any, Any, None]]
StoreFactory = Callable[[], Store]
TARGETS = {"sqlite": 1 / 3, "postgres": 1 / 5}


async def record_run(store: Store, run_id: str) -> None:
    """What the runner stores for one no-op run: a running row, then the final row."""
    started = datetime.now(UTC)
    running = JobResult(
        job="noop", run_id=run_id, status=RunStatus.RUNNING, trigger="manual", started_at=started
    )
    await store.start_run(running, started + timedelta(seconds=30))
    completed = datetime.now(UTC)
    final = running.model_copy(
        update={
            "status": RunStatus.SUCCEEDED,
            "completed_at": completed,
            "duration_seconds": (completed - started).total_seconds(),
            "attempts": 1,
        }
    )
    if not await store.finish_run(final):
        raise RuntimeError(f"run {run_id} lost its lease")


async def _burst(store: Store, run: RunFn, ids: list[str]) -> None:
    await asyncio.gather(*(asyncio.create_task(run(store, run_id)) for run_id in ids))


async def _sequential(store: Store, run: RunFn, ids: list[str]) -> None:
    for run_id in ids:
        await run(store, run_id)


SHAPES = {"burst": _burst, "sequential": _sequential}


def measure(make: StoreFactory, shape: str, runs: int, run: RunFn = record_run) -> float:
    """Runs per second for ``runs`` runs of ``shape`` on a fresh store from ``make``."""

    async def main() -> float:
        prefix = uuid.uuid4().hex[:4]
        ids = [f"{prefix}{i:06x}" for i in range(runs)]
        async with make() as store:
            started = time.perf_counter()
            await SHAPES[shape](store, run, ids)
            elapsed = time.perf_counter() - started
            recorded = await store.history(limit=runs)
            if len(recorded) != runs or recorded[0].status is not RunStatus.SUCCEEDED:
                raise RuntimeError(f"{len(recorded)} of {runs} runs recorded")
        return runs / elapsed

    return asyncio.run(main())


def measure_runner(make: StoreFactory, shape: str, runs: int) -> float:
    """Runs per second of ``await app.run_async`` (the whole runner) on a fresh store."""
    from asyncjobs import App, RunContext, Settings

    async def main() -> float:
        store = make()
        settings = Settings(mail_backend="disabled", max_concurrent_runs=runs)
        app = App(settings, store=store)

        @app.job()
        async def noop(ctx: RunContext) -> None:
            return None

        async with app:
            started = time.perf_counter()
            if shape == "burst":
                await asyncio.gather(*(app.run_async("noop") for _ in range(runs)))
            else:
                for _ in range(runs):
                    await app.run_async("noop")
            elapsed = time.perf_counter() - started
            recorded = await app.history("noop", limit=runs)
        if len(recorded) != runs or any(r.status is not RunStatus.SUCCEEDED for r in recorded):
            raise RuntimeError(f"{len(recorded)} of {runs} runs recorded")
        return runs / elapsed

    return asyncio.run(main())


def _postgres_store(create_database: Callable[[str], str], admin_dsn: str) -> Store:
    return open_store(create_database(admin_dsn))


@contextlib.contextmanager
def factories(names: list[str]) -> Iterator[dict[str, StoreFactory]]:
    """A fresh-store factory per store name; starts PostgreSQL when asked for."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        made: dict[str, StoreFactory] = {}
        for name in names:
            if name == "memory":
                made[name] = MemoryStore
            elif name == "sqlite":
                made[name] = lambda: open_store(f"sqlite:///{tmp / uuid.uuid4().hex}.db")
            elif name == "postgres":
                from tests.postgres_server import create_database, running_postgres

                admin = stack.enter_context(running_postgres(durable=True)).dsn()
                made[name] = functools.partial(_postgres_store, create_database, admin)
            else:
                raise SystemExit(f"unknown store {name!r}: memory, sqlite or postgres")
        yield made


def bench(
    names: list[str], runs: int, rounds: int, run: RunFn = record_run, through: str = "runner"
) -> None:
    """Print runs/s and the ratio to memory for each store and shape.

    ``through="runner"`` times whole runs (``app.run_async``, what users get);
    ``"store"`` times only the store's writes for a run (``run``).
    """

    def timed(make: StoreFactory, shape: str) -> float:
        if through == "runner":
            return measure_runner(make, shape, runs)
        return measure(make, shape, runs, run)

    if "memory" not in names:
        names = ["memory", *names]
    with factories(names) as made:
        print(f"{runs} runs per measurement through the {through}, median of {rounds} round(s)")
        print(f"{'store':<10}{'shape':<12}{'runs/s':>10}{'x memory':>10}  target")
        for shape in SHAPES:
            rates: dict[str, list[float]] = {name: [] for name in names}
            ratios: dict[str, list[float]] = {name: [] for name in names}
            for _ in range(rounds):
                base = timed(made["memory"], shape)
                rates["memory"].append(base)
                for name in names[1:]:
                    rate = timed(made[name], shape)
                    rates[name].append(rate)
                    ratios[name].append(rate / base)
            for name in names:
                rate = statistics.median(rates[name])
                if name == "memory":
                    print(f"{name:<10}{shape:<12}{rate:>10,.0f}{1:>10.3f}")
                    continue
                ratio = statistics.median(ratios[name])
                target = TARGETS.get(name)
                verdict = ""
                if target is not None and shape == "burst":
                    verdict = f">= {target:.3f} {'ok' if ratio >= target else 'MISSED'}"
                print(f"{name:<10}{shape:<12}{rate:>10,.0f}{ratio:>10.3f}  {verdict}")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stores", default="memory,sqlite,postgres")
    parser.add_argument(
        "--through",
        choices=("runner", "store"),
        default="runner",
        help="time whole runs (app.run_async) or only the store's writes",
    )
    args = parser.parse_args(argv)
    bench(args.stores.split(","), args.runs, args.rounds, through=args.through)


if __name__ == "__main__":
    main()
