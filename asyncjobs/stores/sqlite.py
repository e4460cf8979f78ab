"""``SqliteStore``: the embedded default store (``sqlite:///asyncjobs.db``).

One file, shared safely by the processes of one host: WAL mode, a busy
timeout, and every write inside ``BEGIN IMMEDIATE`` so a tick claim is atomic
across processes. The file is created owner-only (0600); SQLite gives its
``-wal`` and ``-shm`` files the same mode.

Writes go through group commit (:mod:`asyncjobs.stores.sqlite_batch`): a
burst of runs costs a few transactions, not one per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from asyncjobs.exceptions import ConfigError
from asyncjobs.result import JobResult, RunStatus
from asyncjobs.stores import migrations
from asyncjobs.stores.base import Store, StoreError
from asyncjobs.stores.batch import GroupCommit, Outcome
from asyncjobs.stores.sql import ABANDONED_ERROR, COLUMNS, result_to_row, row_to_result, utc
from asyncjobs.stores.sqlite_batch import MAX_BATCH, Write, fetch_in, run_batch

__all__ = ("SqliteStore",)

T = TypeVar("T")
_FIELD = "settings: store_url"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_COLS = ", ".join(COLUMNS)
_SELECT = f"SELECT {_COLS} FROM asyncjobs_runs"


def _to_us(value: datetime) -> int:
    return (utc(value) - _EPOCH) // _MICROSECOND


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


class SqliteStore(Store):
    """Run history in one SQLite file; safe for several processes on one host.

    ``busy_timeout`` is how long a write waits for another process's lock
    before failing with :class:`StoreError`.
    """

    shared = True
    __slots__ = ("_closing", "_db", "_writes", "busy_timeout", "path")

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path).absolute()
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._writes: GroupCommit[Write] = GroupCommit(
            self._send, lambda: StoreError(f"{self!r} closed before the write ran"), MAX_BATCH
        )
        self._closing = False

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        """``sqlite:///relative.db`` (to the working directory) or ``sqlite:////abs.db``."""
        scheme, sep, rest = url.partition("://")
        path = rest[1:]
        if scheme.lower() != "sqlite" or not sep or not rest.startswith("/") or not path:
            raise ConfigError(
                f"expected sqlite:///relative/path.db or sqlite:////absolute/path.db, got {url!r}",
                field=_FIELD,
            )
        if "?" in path or path == ":memory:":
            raise ConfigError(
                f"{url!r}: give a file path without options (use memory:// for no file)",
                field=_FIELD,
            )
        return cls(path)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        if self._db is not None:
            return
        self._check_path()
        try:
            self._db = await aiosqlite.connect(
                self.path, isolation_level=None, timeout=self.busy_timeout
            )
            await self._setup_retrying()
        except sqlite3.Error as exc:
            await self._close_db()
            raise self._open_error(exc) from None
        except BaseException:
            await self._close_db()
            raise
        self._closing = False

    async def _setup_retrying(self) -> None:
        # Switching a new file to WAL while another process does the same can
        # fail "database is locked" at once, without SQLite's busy handler:
        # retry that here, within the same busy timeout.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_timeout
        delay = 0.01
        while True:
            try:
                await self._call(self._setup)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or loop.time() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def aclose(self) -> None:
        if self._db is None:
            return
        self._closing = True
        await self._writes.drain()
        await self._close_db()

    async def _close_db(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    def _check_path(self) -> None:
        path = self.path
        if path.is_dir():
            raise ConfigError(f"{path} is a directory, not a SQLite file", field=_FIELD)
        if not path.parent.is_dir():
            raise ConfigError(f"directory {path.parent} does not exist", field=_FIELD)
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigError(f"cannot create {path}: {exc.strerror}", field=_FIELD) from None
        if not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError(
                f"{path} is read-only for this process (it needs read and write access)",
                field=_FIELD,
            )
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise ConfigError(
                f"directory {path.parent} is read-only for this process "
                f"(SQLite creates {path.name}-wal and {path.name}-shm next to the file)",
                field=_FIELD,
            )

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ConfigError(f"{self.path}: SQLite refused WAL mode (got {mode})", field=_FIELD)
        # WAL + NORMAL: a commit survives a process crash; only a power loss can
        # undo the latest commits (never corrupt the file).
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS asyncjobs_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM asyncjobs_schema").fetchone()
            version = 0 if row is None else int(row[0])
            if version > len(migrations.SQLITE):
                raise ConfigError(
                    f"{self.path} has schema version {version}, newer than this asyncjobs "
                    f"knows ({len(migrations.SQLITE)}); upgrade asyncjobs",
                    field=_FIELD,
                )
            for script in migrations.SQLITE[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO asyncjobs_schema VALUES (?)", (len(migrations.SQLITE),))
            else:
                conn.execute("UPDATE asyncjobs_schema SET version = ?", (len(migrations.SQLITE),))
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _open_error(self, exc: sqlite3.Error) -> Exception:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"{_FIELD}: {self.path} is locked by another process "
                f"(waited {self.busy_timeout:g}s): {text}"
            )
        if "readonly" in text or "read-only" in text:
            return ConfigError(f"{self.path} is read-only: {text}", field=_FIELD)
        if "not a database" in text or "malformed" in text:
            return ConfigError(f"{self.path} is not a usable SQLite database: {text}", field=_FIELD)
        return StoreError(f"{_FIELD}: cannot open {self.path}: {text}")

    # -- plumbing --------------------------------------------------------------

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on aiosqlite's thread, in one hop.

        aiosqlite's public API costs a thread hop per statement; a batch needs
        one hop per transaction, so this uses ``Connection._execute``, the
        (private, long-stable) primitive every aiosqlite method is built on.
        """
        db = self._db
        if db is None:
            raise StoreError(f"{self!r} is not open")
        run = cast(Callable[[Callable[[], T]], Awaitable[T]], db._execute)
        return await run(lambda: fn(db._conn))

    def _store_error(self, exc: Exception) -> Exception:
        if isinstance(exc, sqlite3.Error):
            return StoreError(f"SQLite {self.path}: {exc}")
        return exc

    async def _send(self, writes: list[Write]) -> list[Outcome]:
        outcomes = await self._call(lambda conn: run_batch(conn, writes))
        return [(ok, value if ok else self._store_error(value)) for ok, value in outcomes]

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self._call(fn)
        except sqlite3.Error as exc:
            raise self._store_error(exc) from exc

    async def _write(self, write: Write) -> Any:
        if self._db is None or self._closing:
            raise StoreError(f"{self!r} is not open")
        return await self._writes.submit(write)

    async def _write_call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return cast(T, await self._write(Write("call", fn=fn)))

    # -- the Store interface ---------------------------------------------------

    async def claim_tick(self, job: str, scheduled_for: datetime, run_id: str) -> bool:
        params = (job, _to_us(scheduled_for), run_id)

        def claim(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT INTO asyncjobs_ticks (job, scheduled_for, run_id) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                params,
            )
            return cursor.rowcount == 1

        return await self._write_call(claim)

    async def last_tick(self, job: str) -> datetime | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT max(scheduled_for) FROM asyncjobs_ticks WHERE job = ?", (job,)
            ).fetchone()
        )
        return None if row is None or row[0] is None else _from_us(row[0])

    async def start_run(self, result: JobResult, lease_expires_at: datetime) -> None:
        params = (*result_to_row(result, _to_us), _to_us(lease_expires_at))
        await self._write(Write("upsert", params))

    async def renew_leases(self, run_ids: Collection[str], lease_expires_at: datetime) -> set[str]:
        wanted = list(dict.fromkeys(run_ids))
        if not wanted:
            return set()
        until = _to_us(lease_expires_at)

        def renew(conn: sqlite3.Connection) -> set[str]:
            sql = (
                "UPDATE asyncjobs_runs SET lease_expires_at = ? WHERE status = 'running' "
                "AND run_id IN ({}) RETURNING run_id"
            )
            return set(wanted) - {row[0] for row in fetch_in(conn, sql, wanted, (until,))}

        return await self._write_call(renew)

    async def finish_run(self, result: JobResult) -> bool:
        row = result_to_row(result, _to_us)
        params = (*row[1:], row[0])
        return bool(await self._write(Write("finish", params)))

    async def add_result(self, result: JobResult) -> None:
        params = (*result_to_row(result, _to_us), None)
        await self._write(Write("upsert", params))

    async def history(
        self, job: str | None = None, limit: int = 50, status: RunStatus | str | None = None
    ) -> list[JobResult]:
        where, params = [], []
        if job is not None:
            where.append("job = ?")
            params.append(job)
        if status is not None:
            where.append("status = ?")
            params.append(RunStatus(status).value)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = f"{_SELECT}{clause} ORDER BY seq DESC LIMIT ?"
        rows = await self._read(lambda conn: conn.execute(sql, (*params, limit)).fetchall())
        return [row_to_result(row, _from_us) for row in rows]

    async def get_run(self, run_id: str) -> JobResult | None:
        row = await self._read(
            lambda conn: conn.execute(f"{_SELECT} WHERE run_id = ?", (run_id,)).fetchone()
        )
        return None if row is None else row_to_result(row, _from_us)

    async def has_live_run(self, job: str, now: datetime, exclude: Collection[str] = ()) -> bool:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT run_id FROM asyncjobs_runs "
                "WHERE job = ? AND status = 'running' AND lease_expires_at > ?",
                (job, _to_us(now)),
            ).fetchall()
        )
        return any(row[0] not in exclude for row in rows)

    async def abandon_expired(self, now: datetime) -> list[JobResult]:
        at = _to_us(now)

        def abandon(conn: sqlite3.Connection) -> list[Any]:
            rows = conn.execute(
                "UPDATE asyncjobs_runs SET status = 'abandoned', completed_at = ?, error = ?, "
                "lease_expires_at = NULL WHERE status = 'running' AND lease_expires_at <= ? "
                f"RETURNING seq, {_COLS}",
                (at, ABANDONED_ERROR, at),
            ).fetchall()
            return sorted(rows)

        return [row_to_result(row[1:], _from_us) for row in await self._write_call(abandon)]

    async def prune(self, older_than: datetime) -> int:
        cutoff = _to_us(older_than)

        def prune(conn: sqlite3.Connection) -> int:
            deleted = conn.execute(
                "DELETE FROM asyncjobs_runs WHERE status <> 'running' "
                "AND coalesce(completed_at, started_at, scheduled_for) < ?",
                (cutoff,),
            ).rowcount
            # Old claims go too, but each job keeps its latest: last_tick needs it.
            conn.execute(
                "DELETE FROM asyncjobs_ticks WHERE scheduled_for < ? AND scheduled_for < "
                "(SELECT max(t.scheduled_for) FROM asyncjobs_ticks t "
                "WHERE t.job = asyncjobs_ticks.job)",
                (cutoff,),
            )
            return int(deleted)

        return await self._write_call(prune)
