"""Group commit for :class:`~asyncjobs.stores.sqlite.SqliteStore`.

Writes are not committed one by one. :meth:`GroupCommit.submit` queues a
write; one flusher runs every write queued so far in one ``BEGIN IMMEDIATE``
transaction, in one hop to the connection's thread, and the writes issued
while that transaction runs form the next one. A burst of runs thus costs a
few transactions, not one per run, and each caller still gets its own answer
(a claim's ``True``/``False``, a finish's ``True``/``False``) once its
transaction has committed.

Inside a transaction, same-kind writes go to SQLite together: row upserts as
one ``executemany``; finishes as one lookup of which runs are still
``running`` (the write lock makes that answer final) and one
``executemany``. A write that fails is retried alone, so it cannot fail the
others of its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from asyncjobs.stores.sql import COLUMNS

__all__ = ("FINISH", "UPSERT", "GroupCommit", "Write")

T = TypeVar("T")
Outcome = tuple[bool, Any]  # (True, value) or (False, exception)

_COLS = ", ".join(COLUMNS)
#: Add or replace a row: values for COLUMNS then lease_expires_at.
UPSERT = (
    f"INSERT INTO asyncjobs_runs ({_COLS}, lease_expires_at) "
    f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))}) ON CONFLICT (run_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "lease_expires_at"))
)
#: Finish a running row: values for COLUMNS[1:] then run_id.
FINISH = (
    f"UPDATE asyncjobs_runs SET {', '.join(f'{c} = ?' for c in COLUMNS[1:])}, "
    "lease_expires_at = NULL WHERE run_id = ? AND status = 'running'"
)
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit
#: Writes per transaction. Bounded so that, in a burst, the loop prepares the
#: next batch while SQLite commits this one.
MAX_BATCH = 1000


@dataclass(slots=True, frozen=True)
class Write:
    """One queued write: an ``upsert`` or ``finish`` (``params`` for the SQL
    above) or any other ``call`` (``fn(connection)``, run in queue order)."""

    kind: Literal["upsert", "finish", "call"]
    params: tuple[Any, ...] = ()
    fn: Callable[[sqlite3.Connection], Any] | None = None


def _finish_many(conn: sqlite3.Connection, writes: list[Write]) -> list[bool]:
    ids = list(dict.fromkeys(w.params[-1] for w in writes))
    running: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = conn.execute(
            "SELECT run_id FROM asyncjobs_runs WHERE status = 'running' "
            f"AND run_id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        running.update(row[0] for row in rows)
    answers = []
    for write in writes:
        run_id = write.params[-1]
        answers.append(run_id in running)
        running.discard(run_id)  # a second finish of the same run loses, as it would alone
    conn.executemany(FINISH, [w.params for w, ok in zip(writes, answers, strict=True) if ok])
    return answers


def _apply(conn: sqlite3.Connection, writes: list[Write]) -> list[Any]:
    """Every write's value, same-kind writes between two ``call``s sent together."""
    values: list[Any] = [None] * len(writes)
    start = 0
    while start < len(writes):
        end = start
        while end < len(writes) and writes[end].kind != "call":
            end += 1
        upserts = [i for i in range(start, end) if writes[i].kind == "upsert"]
        finishes = [i for i in range(start, end) if writes[i].kind == "finish"]
        if upserts:
            conn.executemany(UPSERT, [writes[i].params for i in upserts])
        if finishes:
            answers = _finish_many(conn, [writes[i] for i in finishes])
            for i, answer in zip(finishes, answers, strict=True):
                values[i] = answer
        if end < len(writes):
            fn = writes[end].fn
            assert fn is not None
            values[end] = fn(conn)
        start = end + 1
    return values


def run_batch(conn: sqlite3.Connection, writes: list[Write]) -> list[Outcome]:
    """Run ``writes`` in one transaction (on the connection's thread); one outcome each."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except Exception as exc:
        return [(False, exc)] * len(writes)
    try:
        values = _apply(conn, writes)
        conn.execute("COMMIT")
    except Exception as exc:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if len(writes) == 1:
            return [(False, exc)]
        # One bad write must not fail the batch: find it by running each alone.
        return [run_batch(conn, [write])[0] for write in writes]
    return [(True, value) for value in values]


class GroupCommit:
    """The queue of writes and its flusher.

    ``call(fn)`` runs ``fn(connection)`` on the connection's thread;
    ``error(exc)`` turns a failure into what the caller should see.
    """

    __slots__ = ("_call", "_error", "_flusher", "_pending")

    def __init__(
        self,
        call: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]],
        error: Callable[[Exception], Exception],
    ) -> None:
        self._call = call
        self._error = error
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, write: Write) -> Any:
        """Queue ``write`` for the next group commit; its value once committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        if self._flusher is None:
            # Created, not run yet: every write issued in this loop iteration joins the batch.
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def drain(self) -> None:
        """Wait until every queued write has been committed (or has failed)."""
        if self._flusher is not None:
            await asyncio.wait([self._flusher])

    async def _flush(self) -> None:
        batch: list[tuple[Write, asyncio.Future[Any]]] = []
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                writes = [write for write, _ in batch]
                try:
                    outcomes = await self._call(functools.partial(run_batch, writes=writes))
                except Exception as exc:
                    outcomes = [(False, exc)] * len(batch)
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():  # its caller was cancelled; the write still happened
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(self._error(value))
                batch = []
        finally:
            self._flusher = None
            for _, future in batch + self._pending:
                if not future.done():
                    future.set_exception(self._error(RuntimeError("the store closed first")))
            self._pending = []
