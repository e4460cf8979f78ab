"""How :class:`~asyncjobs.stores.sqlite.SqliteStore` commits a batch of writes.

:class:`~asyncjobs.stores.batch.GroupCommit` gathers the writes; here a batch
runs in one ``BEGIN IMMEDIATE`` transaction, in one hop to the connection's
thread, and each write gets its own answer.

Inside a transaction, same-kind writes go to SQLite together: row upserts as
one ``executemany``; finishes as one lookup of which runs are still
``running`` (the write lock makes that answer final) and one
``executemany``. A write that fails is retried alone, so it cannot fail the
others of its batch.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from asyncjobs.stores.batch import Outcome
from asyncjobs.stores.sql import COLUMNS

__all__ = ("FINISH", "MAX_BATCH", "UPSERT", "Write", "fetch_in", "run_batch")

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


@dataclass(slots=True)
class Write:
    """One queued write: an ``upsert`` or ``finish`` (``params`` for the SQL
    above) or any other ``call`` (``fn(connection)``, run in queue order)."""

    kind: Literal["upsert", "finish", "call"]
    params: tuple[Any, ...] = ()
    fn: Callable[[sqlite3.Connection], Any] | None = None


def fetch_in(
    conn: sqlite3.Connection, sql: str, ids: Sequence[str], before: tuple[Any, ...] = ()
) -> list[Any]:
    """Rows of ``sql`` (its ``{}`` an ``IN`` list of ``ids``) in chunks SQLite accepts."""
    rows: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows += conn.execute(sql.format(", ".join("?" * len(chunk))), (*before, *chunk)).fetchall()
    return rows


def _finish_many(conn: sqlite3.Connection, writes: list[Write]) -> list[bool]:
    ids = list(dict.fromkeys(w.params[-1] for w in writes))
    sql = "SELECT run_id FROM asyncjobs_runs WHERE status = 'running' AND run_id IN ({})"
    running = {row[0] for row in fetch_in(conn, sql, ids)}
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
