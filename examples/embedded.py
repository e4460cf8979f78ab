"""Embedding asyncjobs in your own asyncio program.

Two jobs: ``heartbeat`` runs every 2 seconds on the scheduler, ``report`` is
manual-only and is run from code with ``await app.run_async("report")``.
The program serves for ``--seconds`` seconds, prints the run history and
exits::

    python examples/embedded.py --seconds 5

Run history lives in memory (``store_url="memory://"``); use the default
``sqlite:///asyncjobs.db`` or a PostgreSQL URL to keep it across restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from asyncjobs import App, JobResult, RunContext, Settings


def build_app() -> App:
    """The application's jobs, registered on one :class:`App`."""
    app = App(Settings(store_url="memory://", mail_backend="console"))

    @app.job(every="2s", timeout=10)
    async def heartbeat(ctx: RunContext) -> dict[str, str]:
        """A scheduled job: ``ctx.scheduled_for`` is the tick it runs for."""
        tick = ctx.scheduled_for.isoformat() if ctx.scheduled_for else "now"
        ctx.log.info("alive at tick %s", tick)
        return {"tick": tick}

    @app.job(timeout=30, retries=1, description="build the daily numbers on demand")
    async def report(ctx: RunContext) -> dict[str, int]:
        """A manual-only job (no schedule): it runs when code asks for it."""
        await asyncio.sleep(0.1)  # stands in for real I/O: a query, an HTTP call
        return {"rows": 42}

    return app


def print_result(result: JobResult) -> None:
    """A listener: asyncjobs calls it with every final result."""
    print(f"finished: {result.summary()}", flush=True)


async def main(seconds: float) -> int:
    """Serve for ``seconds``, run ``report`` once by hand, print the history."""
    app = build_app()
    app.add_listener(print_result)
    async with app:  # the scheduler now runs in this event loop
        print(f"next heartbeat at {app.next_run_time('heartbeat')}", flush=True)
        result = await app.run_async("report")  # never raises for the job's own failure
        print(f"report: {result.status.value}, data={result.data}", flush=True)
        # The rest of the program would run here; the scheduler fires meanwhile.
        await asyncio.sleep(seconds)
    # Leaving the block drained running jobs; history still works on a stopped app.
    print("history, newest first:")
    for row in await app.history(limit=20):
        when = row.scheduled_for.isoformat() if row.scheduled_for else "-"
        print(f"  {row.job:<10} {row.trigger:<8} {row.status.value:<10} tick={when}")
    return 0 if result.success else 1


def cli(argv: list[str] | None = None) -> int:
    """Parse ``--seconds`` and run :func:`main`."""
    parser = argparse.ArgumentParser(description="asyncjobs embedded in an asyncio program")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to serve")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(main(args.seconds))


if __name__ == "__main__":
    sys.exit(cli())
