"""How :class:`~asyncjobs.stores.postgres.PostgresStore` commits a batch of writes.

:class:`~asyncjobs.stores.batch.GroupCommit` gathers the hot writes (tick
claims, new rows, finishes); here a batch becomes at most three statements
over ``unnest`` arrays, in one transaction, and each write gets its own answer.

Every statement is idempotent, because a batch is retried whole after a lost
connection (its commit may have landed without the answer reaching us):
claims and finishes recognise their own earlier success. Nothing here
imports asyncpg: ``conn`` is whatever the store's pool hands out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from asyncjobs.stores.base import StoreError
from asyncjobs.stores.batch import Outcome
from asyncjobs.stores.sql import COLUMNS

__all__ = ("MAX_BATCH", "PgWrite", "Unreachable", "apply_batch", "send_batch")

#: Writes per round trip; bounded so a huge burst does not build huge arrays.
MAX_BATCH = 5000

_TYPES = {
    "scheduled_for": "timestamptz",
    "started_at": "timestamptz",
    "completed_at": "timestamptz",
    "duration_seconds": "float8",
    "attempts": "int4",
}
_ROW_TYPES = [_TYPES.get(c, "text") for c in COLUMNS]
_COLS = ", ".join(COLUMNS)


def _unnest(types: list[str]) -> str:
    return "unnest(" + ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, 1)) + ")"


_CLAIM_MANY = (
    "WITH v AS (SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[]) "
    "AS v(job, scheduled_for, run_id)), "
    "ins AS (INSERT INTO asyncjobs_ticks (job, scheduled_for, run_id) "
    "SELECT job, scheduled_for, run_id FROM v ON CONFLICT DO NOTHING RETURNING run_id) "
    # Sees only rows committed before this statement: a retried claim's own row.
    "SELECT run_id FROM ins UNION ALL SELECT t.run_id FROM asyncjobs_ticks t JOIN v "
    "ON t.job = v.job AND t.scheduled_for = v.scheduled_for AND t.run_id = v.run_id"
)
_UPSERT_MANY = (
    f"INSERT INTO asyncjobs_runs ({_COLS}, lease_expires_at) "
    f"SELECT * FROM {_unnest([*_ROW_TYPES, 'timestamptz'])} "
    "ON CONFLICT (run_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "lease_expires_at"))
)
_FINISH_MANY = (
    f"UPDATE asyncjobs_runs r SET {', '.join(f'{c} = v.{c}' for c in COLUMNS[1:])}, "
    f"lease_expires_at = NULL FROM {_unnest(_ROW_TYPES)} AS v({_COLS}) "
    "WHERE r.run_id = v.run_id AND (r.status = 'running' OR (r.status = v.status "
    # A retried finish whose commit landed answers True again.
    "AND r.status <> 'abandoned' AND r.completed_at IS NOT DISTINCT FROM v.completed_at)) "
    "RETURNING r.run_id"
)


class Unreachable(StoreError):
    """PostgreSQL stayed unreachable for longer than the retry policy allows."""


@dataclass(slots=True)
class PgWrite:
    """One queued write: ``claim`` (job, scheduled_for, run_id), ``upsert``
    (COLUMNS values then lease_expires_at) or ``finish`` (COLUMNS values)."""

    kind: Literal["claim", "upsert", "finish"]
    params: tuple[Any, ...]


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


async def _apply(conn: Any, writes: list[PgWrite]) -> list[Any]:
    values: list[Any] = [None] * len(writes)
    by_kind: dict[str, list[int]] = {"claim": [], "upsert": [], "finish": []}
    for i, write in enumerate(writes):
        by_kind[write.kind].append(i)
    if claims := by_kind["claim"]:
        rows = [writes[i].params for i in claims]
        won = {row[0] for row in await conn.fetch(_CLAIM_MANY, *_columns(rows))}
        for i in claims:
            run_id = writes[i].params[2]
            values[i] = run_id in won
            won.discard(run_id)
    if upserts := by_kind["upsert"]:
        # One row per run_id in a statement; the last write of a run wins, as it would alone.
        latest = {writes[i].params[0]: writes[i].params for i in upserts}
        await conn.execute(_UPSERT_MANY, *_columns(list(latest.values())))
    if finishes := by_kind["finish"]:
        first: dict[str, tuple[Any, ...]] = {}
        for i in finishes:
            first.setdefault(writes[i].params[0], writes[i].params)
        done = {row[0] for row in await conn.fetch(_FINISH_MANY, *_columns(list(first.values())))}
        for i in finishes:
            run_id = writes[i].params[0]
            values[i] = run_id in done  # a second finish of the same run loses
            done.discard(run_id)
    return values


async def apply_batch(conn: Any, writes: list[PgWrite]) -> list[Any]:
    """Run ``writes`` on ``conn``, in one transaction when there is more than one statement."""
    if len({write.kind for write in writes}) == 1:
        return await _apply(conn, writes)
    async with conn.transaction():
        return await _apply(conn, writes)


Runner = Callable[[str, Callable[[Any], Awaitable[list[Any]]]], Awaitable[list[Any]]]


async def send_batch(run: Runner, writes: list[PgWrite]) -> list[Outcome]:
    """Commit ``writes``; ``run(what, fn)`` runs ``fn(conn)`` with the store's retries."""
    try:
        values = await run("write", lambda conn: apply_batch(conn, writes))
    except Unreachable as exc:
        return [(False, exc)] * len(writes)
    except Exception as exc:
        if len(writes) == 1:
            return [(False, exc)]
        # One bad write must not fail the batch: find it by sending each alone.
        return [(await send_batch(run, [write]))[0] for write in writes]
    return [(True, value) for value in values]
