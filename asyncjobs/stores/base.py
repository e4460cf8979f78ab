"""The store interface: run history, tick claims and leases.

Every store keeps :class:`~asyncjobs.JobResult` rows as plain columns and
JSON (nothing is pickled) and offers the same guarantees, checked by one
contract test suite (``tests/stores``):

* ``claim_tick(job, scheduled_for, ...)`` returns ``True`` to exactly one
  caller among all processes sharing the store. Every outcome of a scheduled
  tick (ran, skipped, missed) is recorded only by the claimant, so a tick has
  exactly one outcome on record.
* A run in progress is a ``running`` row with a lease expiry. The process
  running it renews the lease; once it expires, any process may mark the row
  ``abandoned`` (:meth:`Store.abandon_expired`), and a late ``finish_run`` by
  the original process then writes nothing and returns ``False``.
* ``history`` is newest first (by the order rows were added; finishing a
  run does not move its row).
* The SQL stores return times as aware UTC datetimes (a naive one is taken
  as UTC) and cut oversized ``data``, ``error`` and ``traceback`` with a
  marker (:mod:`asyncjobs.stores.sql`); ``MemoryStore`` keeps values as given.
* Their writes are group-committed: concurrent calls share a transaction,
  and each call returns once its own write has committed.

Methods raise :class:`StoreError` (or a ``ConfigError`` from ``open`` for a
bad URL or an unusable database) and never swallow a failed write.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from datetime import datetime

from asyncjobs.exceptions import AsyncJobsError
from asyncjobs.resource import AsyncResource
from asyncjobs.result import JobResult, RunStatus

__all__ = ("Store", "StoreError")


class StoreError(AsyncJobsError):
    """A store operation failed (connection lost, database error)."""


class Store(AsyncResource, ABC):
    """Abstract run-history store; use as ``async with store:``."""

    __slots__ = ()

    #: True when other processes may share this store (SQLite file, PostgreSQL).
    shared: bool = False

    @abstractmethod
    async def open(self) -> None:
        """Connect and create or migrate the schema. Raises ``ConfigError``/``StoreError``."""

    @abstractmethod
    async def aclose(self) -> None:
        """Flush pending writes and close. Safe to call twice."""

    @abstractmethod
    async def claim_tick(self, job: str, scheduled_for: datetime, run_id: str) -> bool:
        """Claim one scheduled tick; ``True`` for exactly one caller, ever."""

    @abstractmethod
    async def last_tick(self, job: str) -> datetime | None:
        """The latest claimed ``scheduled_for`` of ``job`` (aware UTC), or ``None``."""

    @abstractmethod
    async def start_run(self, result: JobResult, lease_expires_at: datetime) -> None:
        """Add a ``running`` row for ``result`` holding a lease until ``lease_expires_at``."""

    @abstractmethod
    async def renew_leases(self, run_ids: Collection[str], lease_expires_at: datetime) -> set[str]:
        """Extend the leases of these running runs; return the ids no longer ``running`` here."""

    @abstractmethod
    async def finish_run(self, result: JobResult) -> bool:
        """Replace the ``running`` row of ``result.run_id`` with the final result.

        Returns ``False`` and writes nothing when the row is no longer running
        (another process marked it ``abandoned`` after its lease expired).
        """

    @abstractmethod
    async def add_result(self, result: JobResult) -> None:
        """Add a final row for a run that never started (``skipped``, ``missed``)."""

    @abstractmethod
    async def history(
        self, job: str | None = None, limit: int = 50, status: RunStatus | str | None = None
    ) -> list[JobResult]:
        """Rows newest first, optionally for one job and one status."""

    @abstractmethod
    async def get_run(self, run_id: str) -> JobResult | None:
        """One row by run id."""

    @abstractmethod
    async def has_live_run(self, job: str, now: datetime, exclude: Collection[str] = ()) -> bool:
        """Whether ``job`` has a ``running`` row with an unexpired lease, other than ``exclude``."""

    @abstractmethod
    async def abandon_expired(self, now: datetime) -> list[JobResult]:
        """Mark ``running`` rows whose lease ended by ``now`` ``abandoned``; return them."""

    @abstractmethod
    async def prune(self, older_than: datetime) -> int:
        """Delete final rows completed (or recorded) before ``older_than``; return how many.

        Old tick claims may go too, but each job's latest claim stays (``last_tick``).
        """
