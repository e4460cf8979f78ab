"""Keeping the store honest while the app serves.

Renews the leases of this process's runs, finds runs that other (dead)
processes left ``running`` once their lease expired and records them
``abandoned``, and prunes history older than ``history_retention_days``.
A store error here is logged and retried on the next round: a flaky
database must not stop the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from asyncjobs.definition import JobDefinition
from asyncjobs.runner import Runner

__all__ = ("Maintenance",)

log = logging.getLogger("asyncjobs.maintenance")

PRUNE_EVERY = 3600.0


class Maintenance:
    """Lease renewal, abandoned-run recovery and pruning for one started app."""

    def __init__(self, runner: Runner, definitions: Mapping[str, JobDefinition]) -> None:
        self.runner = runner
        self.definitions = definitions
        settings = runner.settings
        self.lease = settings.lease_seconds
        self.retention_days = settings.history_retention_days

    async def reap(self) -> int:
        """Record expired ``running`` rows as ``abandoned``; return how many."""
        abandoned = await self.runner.store.abandon_expired(datetime.now(UTC))
        for result in abandoned:
            if result.run_id in self.runner.in_flight:
                # Our own run, paused past its lease: it must not write over this.
                self.runner.in_flight[result.run_id].lease_lost = True
            log.warning(
                "%s: run %s abandoned: its process stopped renewing the lease",
                result.job,
                result.run_id,
            )
            await self.runner.announce(self.definitions.get(result.job), result)
        return len(abandoned)

    async def renew(self) -> None:
        """Extend the leases of this process's stored runs."""
        ids = [h.run_id for h in self.runner.in_flight.values() if h.stored]
        if not ids:
            return
        until = datetime.now(UTC) + timedelta(seconds=self.lease)
        for run_id in await self.runner.store.renew_leases(ids, until):
            handle = self.runner.in_flight.get(run_id)
            if handle is not None and not handle.lease_lost:
                handle.lease_lost = True
                log.warning("run %s lost its lease; its result will not be recorded", run_id)

    async def prune(self) -> int:
        """Delete history older than ``history_retention_days`` (0 keeps everything)."""
        if self.retention_days <= 0:
            return 0
        cutoff = datetime.now(UTC) - timedelta(days=self.retention_days)
        return await self.runner.store.prune(cutoff)

    async def serve(self) -> None:
        """Run forever: renew every lease/3 seconds, reap every lease, prune hourly."""
        loop = asyncio.get_running_loop()
        step = self.lease / 3
        next_reap = loop.time() + self.lease
        next_prune = loop.time()
        while True:
            await asyncio.sleep(step)
            now = loop.time()
            for due, action in (
                (True, self.renew),
                (now >= next_reap, self.reap),
                (now >= next_prune, self.prune),
            ):
                if not due:
                    continue
                try:
                    await action()
                except Exception as exc:
                    log.warning("store maintenance (%s) failed: %s", action.__name__, exc)
            if now >= next_reap:
                next_reap = now + self.lease
            if now >= next_prune:
                next_prune = now + PRUNE_EVERY
