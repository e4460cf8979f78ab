"""``MemoryStore``: the store for tests and for ``store_url="memory://"``.

Shipped as a feature, like httpx's ``MockTransport``: it keeps the full
contract of :class:`~asyncjobs.stores.base.Store` inside one process, and
keeps results as the SQL stores do (oversized values cut, times in UTC), so a
test reads back what production would.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from asyncjobs.result import JobResult, RunStatus
from asyncjobs.stores.base import Store
from asyncjobs.stores.sql import bounded

__all__ = ("MemoryStore",)


class MemoryStore(Store):
    """In-process store; history is lost when the process exits.

    ``max_rows`` bounds memory in a long-running process: past it the oldest
    finished rows are dropped.
    """

    __slots__ = ("_claims", "_last_tick", "_leases", "_rows", "max_rows")

    def __init__(self, max_rows: int = 100_000) -> None:
        self.max_rows = max_rows
        self._rows: dict[str, JobResult] = {}
        self._leases: dict[str, datetime] = {}
        self._claims: set[tuple[str, datetime]] = set()
        self._last_tick: dict[str, datetime] = {}

    async def open(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def claim_tick(self, job: str, scheduled_for: datetime, run_id: str) -> bool:
        key = (job, scheduled_for)
        if key in self._claims:
            return False
        self._claims.add(key)
        last = self._last_tick.get(job)
        if last is None or scheduled_for > last:
            self._last_tick[job] = scheduled_for
        return True

    async def last_tick(self, job: str) -> datetime | None:
        return self._last_tick.get(job)

    async def start_run(self, result: JobResult, lease_expires_at: datetime) -> None:
        self._rows[result.run_id] = bounded(result)
        self._leases[result.run_id] = lease_expires_at
        self._trim()

    async def renew_leases(self, run_ids: Collection[str], lease_expires_at: datetime) -> set[str]:
        lost = set()
        for run_id in run_ids:
            if run_id in self._leases:
                self._leases[run_id] = lease_expires_at
            else:
                lost.add(run_id)
        return lost

    async def finish_run(self, result: JobResult) -> bool:
        if self._leases.pop(result.run_id, None) is None:
            return False
        self._rows[result.run_id] = bounded(result)
        return True

    async def add_result(self, result: JobResult) -> None:
        self._rows[result.run_id] = bounded(result)
        self._trim()

    async def history(
        self, job: str | None = None, limit: int = 50, status: RunStatus | str | None = None
    ) -> list[JobResult]:
        wanted = RunStatus(status) if status is not None else None
        out: list[JobResult] = []
        for row in reversed(self._rows.values()):
            if (job is None or row.job == job) and (wanted is None or row.status is wanted):
                out.append(row)
                if len(out) >= limit:
                    break
        return out

    async def get_run(self, run_id: str) -> JobResult | None:
        return self._rows.get(run_id)

    async def has_live_run(self, job: str, now: datetime, exclude: Collection[str] = ()) -> bool:
        return any(
            expiry > now and run_id not in exclude and self._rows[run_id].job == job
            for run_id, expiry in self._leases.items()
        )

    async def abandon_expired(self, now: datetime) -> list[JobResult]:
        expired = [run_id for run_id, expiry in self._leases.items() if expiry <= now]
        out = []
        for run_id in expired:
            del self._leases[run_id]
            row = self._rows[run_id].model_copy(
                update={
                    "status": RunStatus.ABANDONED,
                    "completed_at": now,
                    "error": "the process running it stopped renewing its lease",
                }
            )
            self._rows[run_id] = row
            out.append(row)
        return out

    async def prune(self, older_than: datetime) -> int:
        doomed = [
            run_id
            for run_id, row in self._rows.items()
            if run_id not in self._leases
            and (row.completed_at or row.started_at or row.scheduled_for or older_than) < older_than
        ]
        for run_id in doomed:
            del self._rows[run_id]
        return len(doomed)

    def _trim(self) -> None:
        if len(self._rows) <= self.max_rows:
            return
        for run_id in list(self._rows)[: len(self._rows) - self.max_rows]:
            if run_id not in self._leases:
                del self._rows[run_id]
