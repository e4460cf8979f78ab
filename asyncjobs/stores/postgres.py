"""``PostgresStore``: run history and tick claims shared by replicas on many hosts.

The only module that imports asyncpg (the CLI must start fast without it).
A tick is claimed by ``INSERT ... ON CONFLICT DO NOTHING`` on the primary key
``(job, scheduled_for)``, so exactly one replica wins it; a late
``finish_run`` is a conditional ``UPDATE ... WHERE status = 'running'``.

Outages: every operation retries a lost connection or a restarting server
with exponential backoff and jitter (:class:`Reconnect`), for a bounded time;
results (``start_run``, ``finish_run``, ``add_result``) keep trying longest,
so a run that ends while the server restarts is still recorded. Writes are
idempotent under those retries (a claim or a finish whose commit landed but
whose answer was lost answers the same the second time).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import asyncpg  # type: ignore[import-untyped]

from asyncjobs.exceptions import ConfigError
from asyncjobs.result import JobResult, RunStatus
from asyncjobs.stores import migrations, redact_url
from asyncjobs.stores.base import Store, StoreError
from asyncjobs.stores.batch import GroupCommit
from asyncjobs.stores.postgres_batch import MAX_BATCH, PgWrite, Unreachable, send_batch
from asyncjobs.stores.sql import ABANDONED_ERROR, COLUMNS, result_to_row, row_to_result, utc

__all__ = ("PostgresStore", "Reconnect")

T = TypeVar("T")
log = logging.getLogger(__name__)

_FIELD = "settings: store_url"
_MIGRATION_LOCK = 0x6173796E636A6F62  # pg_advisory_xact_lock key: "asyncjob"
_COLS = ", ".join(COLUMNS)
_SELECT = f"SELECT {_COLS} FROM asyncjobs_runs"


@dataclass(frozen=True, slots=True)
class Reconnect:
    """How long and how often operations retry while PostgreSQL is unreachable.

    Delays start at ``initial_delay`` and double up to ``max_delay`` (with
    jitter). Results are retried for ``write_for`` seconds, every other
    operation for ``read_for``; then :class:`StoreError` is raised.
    """

    initial_delay: float = 0.1
    max_delay: float = 5.0
    write_for: float = 300.0
    read_for: float = 30.0


def _status_count(status: str) -> int:
    """The row count of a command tag such as ``UPDATE 1``."""
    return int(status.rsplit(" ", 1)[-1])


def _is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` means the server or the connection went away, not a bad query."""
    if isinstance(exc, asyncpg.ClientConfigurationError):
        return False
    if isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError
        | asyncpg.TooManyConnectionsError,
    ):
        return True
    return (
        isinstance(exc, asyncpg.InterfaceError)
        and "connection" in str(exc)
        and "closed" in str(exc)
    )


async def _no_reset(conn: Any) -> None:
    """Skip asyncpg's per-release reset round trip: no session state is ever changed."""


class PostgresStore(Store):
    """Run history in PostgreSQL through a small asyncpg pool.

    The tables (``asyncjobs_runs``, ``asyncjobs_ticks``, ``asyncjobs_schema``)
    live in the URL's database and default schema, next to anything else.
    """

    shared = True
    __slots__ = (
        "_pool",
        "_secrets",
        "_writes",
        "connect_timeout",
        "pool_size",
        "reconnect",
        "url",
    )

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 4,
        connect_timeout: float = 10.0,
        reconnect: Reconnect = Reconnect(),
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.reconnect = reconnect
        self._pool: Any = None
        self._secrets = _passwords(url)
        self._writes: GroupCommit[PgWrite] = GroupCommit(
            lambda writes: send_batch(lambda what, fn: self._run(what, fn, result=True), writes),
            lambda: StoreError(f"{self!r} closed before the write ran"),
            MAX_BATCH,
        )

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        """``postgresql://user:password@host:port/database`` (or ``postgres://``)."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - parsing it validates it
        except ValueError as exc:
            raise ConfigError(f"invalid URL {redact_url(url)!r}: {exc}", field=_FIELD) from None
        if parts.scheme.lower() not in ("postgresql", "postgres"):
            raise ConfigError(f"not a PostgreSQL URL: {redact_url(url)!r}", field=_FIELD)
        return cls(url)

    def __repr__(self) -> str:
        return f"PostgresStore({redact_url(self.url)!r})"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        where = redact_url(self.url)
        options: dict[str, Any] = {}
        if "reset" in inspect.signature(asyncpg.create_pool).parameters:
            options["reset"] = _no_reset
        try:
            pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                timeout=self.connect_timeout,
                command_timeout=60,
                server_settings={
                    "application_name": "asyncjobs",
                    # Plan each statement for its arrays and the table as they are now:
                    # a generic plan cached while the table was small stays a seq scan.
                    "plan_cache_mode": "force_custom_plan",
                },
                **options,
            )
        except (
            asyncpg.InvalidAuthorizationSpecificationError,
            asyncpg.InvalidCatalogNameError,
            asyncpg.ClientConfigurationError,
            ValueError,
        ) as exc:
            raise ConfigError(f"{where}: {self._scrub(str(exc))}", field=_FIELD) from None
        except Exception as exc:
            reason = f"{type(exc).__name__}: {self._scrub(str(exc))}"
            raise StoreError(f"{_FIELD}: cannot connect to {where}: {reason}") from None
        try:
            async with pool.acquire() as conn:
                await self._migrate(conn)
        except BaseException as exc:
            pool.terminate()
            if isinstance(exc, asyncpg.PostgresError | OSError):
                raise StoreError(
                    f"{_FIELD}: cannot prepare the schema in {where}: {self._scrub(str(exc))}"
                ) from None
            raise
        self._pool = pool

    async def _migrate(self, conn: Any) -> None:
        async with conn.transaction():
            # Replicas starting together migrate one at a time.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS asyncjobs_schema (version INTEGER NOT NULL)"
            )
            found = await conn.fetchval("SELECT version FROM asyncjobs_schema")
            version = 0 if found is None else int(found)
            latest = len(migrations.POSTGRES)
            if version > latest:
                raise ConfigError(
                    f"{redact_url(self.url)} has schema version {version}, newer than this "
                    f"asyncjobs knows ({latest}); upgrade asyncjobs",
                    field=_FIELD,
                )
            for script in migrations.POSTGRES[version:]:
                await conn.execute(script)
            if found is None:
                await conn.execute("INSERT INTO asyncjobs_schema VALUES ($1)", latest)
            elif version != latest:
                await conn.execute("UPDATE asyncjobs_schema SET version = $1", latest)

    async def aclose(self) -> None:
        if self._pool is None:
            return
        await self._writes.drain()
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), timeout=10)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pool.terminate()

    # -- plumbing --------------------------------------------------------------

    async def _run(
        self, what: str, fn: Callable[[Any], Awaitable[T]], *, result: bool = False
    ) -> T:
        """``fn(connection)``, retried with backoff while the server is unreachable."""
        pool = self._pool
        if pool is None:
            raise StoreError(f"{self!r} is not open")
        policy = self.reconnect
        limit = policy.write_for if result else policy.read_for
        loop = asyncio.get_running_loop()
        started = loop.time()
        delay = policy.initial_delay
        failures = 0
        while True:
            try:
                async with pool.acquire() as conn:
                    value = await fn(conn)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {self._scrub(str(exc))}"
                if not _is_transient(exc):
                    raise StoreError(f"PostgreSQL {what} failed: {reason}") from None
                waited = loop.time() - started
                if waited + delay > limit:
                    raise Unreachable(
                        f"{_FIELD}: {redact_url(self.url)} unreachable for {waited:.0f}s, "
                        f"gave up on {what}: {reason}"
                    ) from None
                if failures == 0:
                    log.warning(
                        "PostgreSQL at %s unreachable (%s); retrying %s for up to %.0fs",
                        redact_url(self.url),
                        reason,
                        what,
                        limit,
                    )
                failures += 1
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, policy.max_delay)
                continue
            if failures:
                log.info("PostgreSQL reachable again; %s done after %d retries", what, failures)
            return value

    async def _write(self, write: PgWrite) -> Any:
        if self._pool is None:
            raise StoreError(f"{self!r} is not open")
        return await self._writes.submit(write)

    # -- the Store interface ---------------------------------------------------

    async def claim_tick(self, job: str, scheduled_for: datetime, run_id: str) -> bool:
        return bool(await self._write(PgWrite("claim", (job, utc(scheduled_for), run_id))))

    async def last_tick(self, job: str) -> datetime | None:
        async def last(conn: Any) -> datetime | None:
            value = await conn.fetchval(
                "SELECT max(scheduled_for) FROM asyncjobs_ticks WHERE job = $1", job
            )
            return None if value is None else utc(value)

        return await self._run("last_tick", last)

    async def start_run(self, result: JobResult, lease_expires_at: datetime) -> None:
        row = (*result_to_row(result, utc), utc(lease_expires_at))
        await self._write(PgWrite("upsert", row))

    async def renew_leases(self, run_ids: Collection[str], lease_expires_at: datetime) -> set[str]:
        wanted = set(run_ids)
        if not wanted:
            return set()

        async def renew(conn: Any) -> set[str]:
            rows = await conn.fetch(
                "UPDATE asyncjobs_runs SET lease_expires_at = $1 "
                "WHERE status = 'running' AND run_id = ANY($2::text[]) RETURNING run_id",
                utc(lease_expires_at),
                list(wanted),
            )
            return wanted - {row[0] for row in rows}

        return await self._run("renew_leases", renew)

    async def finish_run(self, result: JobResult) -> bool:
        return bool(await self._write(PgWrite("finish", result_to_row(result, utc))))

    async def add_result(self, result: JobResult) -> None:
        await self._write(PgWrite("upsert", (*result_to_row(result, utc), None)))

    async def history(
        self, job: str | None = None, limit: int = 50, status: RunStatus | str | None = None
    ) -> list[JobResult]:
        where: list[str] = []
        params: list[Any] = []
        if job is not None:
            params.append(job)
            where.append(f"job = ${len(params)}")
        if status is not None:
            params.append(RunStatus(status).value)
            where.append(f"status = ${len(params)}")
        params.append(limit)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = f"{_SELECT}{clause} ORDER BY seq DESC LIMIT ${len(params)}"

        async def fetch(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql, *params))

        return [row_to_result(row, utc) for row in await self._run("history", fetch)]

    async def get_run(self, run_id: str) -> JobResult | None:
        async def fetch(conn: Any) -> Any:
            return await conn.fetchrow(f"{_SELECT} WHERE run_id = $1", run_id)

        row = await self._run("get_run", fetch)
        return None if row is None else row_to_result(row, utc)

    async def has_live_run(self, job: str, now: datetime, exclude: Collection[str] = ()) -> bool:
        async def live(conn: Any) -> bool:
            return bool(
                await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM asyncjobs_runs WHERE job = $1 "
                    "AND status = 'running' AND lease_expires_at > $2 "
                    "AND NOT (run_id = ANY($3::text[])))",
                    job,
                    utc(now),
                    list(exclude),
                )
            )

        return await self._run("has_live_run", live)

    async def abandon_expired(self, now: datetime) -> list[JobResult]:
        async def abandon(conn: Any) -> list[Any]:
            rows = await conn.fetch(
                "UPDATE asyncjobs_runs SET status = 'abandoned', completed_at = $1, error = $2, "
                "lease_expires_at = NULL WHERE status = 'running' AND lease_expires_at <= $1 "
                f"RETURNING seq, {_COLS}",
                utc(now),
                ABANDONED_ERROR,
            )
            return sorted(rows, key=lambda row: row[0])

        return [row_to_result(row[1:], utc) for row in await self._run("abandon_expired", abandon)]

    async def prune(self, older_than: datetime) -> int:
        cutoff = utc(older_than)

        async def prune(conn: Any) -> int:
            async with conn.transaction():
                status = await conn.execute(
                    "DELETE FROM asyncjobs_runs WHERE status <> 'running' "
                    "AND coalesce(completed_at, started_at, scheduled_for) < $1",
                    cutoff,
                )
                # Old claims go too, but each job keeps its latest: last_tick needs it.
                await conn.execute(
                    "DELETE FROM asyncjobs_ticks t WHERE scheduled_for < $1 AND scheduled_for < "
                    "(SELECT max(l.scheduled_for) FROM asyncjobs_ticks l WHERE l.job = t.job)",
                    cutoff,
                )
            return _status_count(status)

        return await self._run("prune", prune)


def _passwords(url: str) -> tuple[str, ...]:
    """Every spelling of the URL's password(s), longest first, to scrub from messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found: set[str] = set()
    userinfo = parts.netloc.rpartition("@")[0]
    if ":" in userinfo:
        raw = userinfo.split(":", 1)[1]
        found.update({raw, unquote(raw)})
    for key, value in parse_qsl(parts.query):
        if key.lower() == "password" and value:
            found.add(value)
    return tuple(sorted((s for s in found if s), key=len, reverse=True))
