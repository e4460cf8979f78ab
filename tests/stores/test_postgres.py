"""What ``PostgresStore`` promises beyond the contract: errors, secrets, outages, retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]
import pytest

from asyncjobs.exceptions import ConfigError
from asyncjobs.result import JobResult, RunStatus
from asyncjobs.stores import StoreError, open_store
from asyncjobs.stores.postgres import PostgresStore, Reconnect
from asyncjobs.stores.postgres_batch import PgWrite, apply_batch
from asyncjobs.stores.sql import result_to_row, utc
from tests.postgres_server import (
    PASSWORD,
    PostgresServer,
    create_database,
    serve_or_skip,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
QUICK = Reconnect(initial_delay=0.05, max_delay=0.5)


def running(run_id: str) -> JobResult:
    return JobResult(job="report", run_id=run_id, status=RunStatus.RUNNING, started_at=T0)


def final(result: JobResult) -> JobResult:
    return result.model_copy(
        update={"status": RunStatus.SUCCEEDED, "completed_at": T0 + timedelta(seconds=1)}
    )


async def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# -- URLs and errors at open (no server needed for some) ---------------------------------


def test_urls() -> None:
    store = open_store(f"postgres://app:{PASSWORD}@db.example:5432/jobs")
    assert isinstance(store, PostgresStore)
    assert PASSWORD not in repr(store)
    assert "app:***@db.example" in repr(store)
    with pytest.raises(ConfigError, match="settings: store_url: invalid URL") as info:
        open_store(f"postgresql://app:{PASSWORD}@db:notaport/jobs")
    assert PASSWORD not in str(info.value)


async def test_an_unreachable_server_is_a_loud_error_without_the_password() -> None:
    store = PostgresStore(f"postgresql://app:{PASSWORD}@127.0.0.1:9/jobs", connect_timeout=5)
    with pytest.raises(StoreError, match="settings: store_url: cannot connect") as info:
        await store.open()
    assert PASSWORD not in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.postgres
async def test_a_wrong_password_is_a_config_error_without_it(postgres_dsn: str) -> None:
    wrong = postgres_dsn.replace(PASSWORD, "Wr0ng-Secret")
    with pytest.raises(ConfigError, match="settings: store_url") as info:
        await PostgresStore(wrong).open()
    assert "Wr0ng-Secret" not in str(info.value)
    assert PASSWORD not in str(info.value)


@pytest.mark.postgres
async def test_a_missing_database_is_a_config_error(postgres_dsn: str) -> None:
    missing = postgres_dsn.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(ConfigError, match="no_such_db"):
        await PostgresStore(missing).open()


# -- schema ------------------------------------------------------------------------------


@pytest.mark.postgres
async def test_replicas_starting_together_migrate_once(fresh_postgres_dsn: str) -> None:
    stores = [PostgresStore(fresh_postgres_dsn) for _ in range(5)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        assert await stores[0].claim_tick("report", T0, "a")
        assert not await stores[4].claim_tick("report", T0, "b")
    finally:
        await asyncio.gather(*(store.aclose() for store in stores))
    conn = await asyncpg.connect(fresh_postgres_dsn)
    try:
        assert await conn.fetch("SELECT version FROM asyncjobs_schema") == [(1,)]
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_a_newer_schema_is_refused(fresh_postgres_dsn: str) -> None:
    async with PostgresStore(fresh_postgres_dsn):
        pass
    conn = await asyncpg.connect(fresh_postgres_dsn)
    await conn.execute("UPDATE asyncjobs_schema SET version = 99")
    await conn.close()
    with pytest.raises(ConfigError, match="schema version 99, newer than"):
        await PostgresStore(fresh_postgres_dsn).open()


# -- batches ---------------------------------------------------------------------------


@pytest.mark.postgres
async def test_a_batch_committed_twice_answers_the_same(fresh_postgres_dsn: str) -> None:
    """A batch is retried whole when the answer to its commit is lost: same answers again."""
    async with PostgresStore(fresh_postgres_dsn) as store:
        await store.start_run(running("r1"), T0 + timedelta(seconds=30))
    writes = [
        PgWrite("claim", ("report", T0, "c1")),
        PgWrite("upsert", (*result_to_row(running("r2"), utc), T0)),
        PgWrite("finish", result_to_row(final(running("r1")), utc)),
    ]
    conn = await asyncpg.connect(fresh_postgres_dsn)
    try:
        first = await apply_batch(conn, writes)
        again = await apply_batch(conn, writes)
    finally:
        await conn.close()
    assert first == again == [True, None, True]


@pytest.mark.postgres
async def test_many_writes_share_a_round_trip(
    fresh_postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncjobs.stores.postgres_batch as batch_module

    sizes: list[int] = []
    real = batch_module.apply_batch

    async def counting(conn: object, writes: list[PgWrite]) -> list[object]:
        sizes.append(len(writes))
        return await real(conn, writes)

    monkeypatch.setattr(batch_module, "apply_batch", counting)
    async with PostgresStore(fresh_postgres_dsn) as store:
        rows = [running(f"r{i:04d}") for i in range(300)]
        await asyncio.gather(*(store.start_run(r, T0 + timedelta(seconds=30)) for r in rows))
        assert all(await asyncio.gather(*(store.finish_run(final(r)) for r in rows)))
        claims = await asyncio.gather(*(store.claim_tick("report", T0, f"c{i}") for i in range(50)))
        assert claims.count(True) == 1
    assert sum(sizes) == 650
    assert len(sizes) <= 6


# -- outages: a server of this module's own, stopped and started -------------------------


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server of this module's own: stopping it must not disturb other tests."""
    yield from serve_or_skip()


@pytest.fixture
def server(own_server: PostgresServer) -> Iterator[PostgresServer]:
    """The module's server, running again after the test whatever the test did to it."""
    yield own_server
    if not own_server.is_running():
        own_server.start()


@pytest.mark.postgres
async def test_a_finish_during_a_restart_lands_afterwards(
    server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="asyncjobs.stores.postgres")
    async with PostgresStore(create_database(server.dsn()), reconnect=QUICK) as store:
        run = running("r1")
        await store.start_run(run, T0 + timedelta(seconds=30))
        await asyncio.to_thread(server.stop)

        finishing = asyncio.create_task(store.finish_run(final(run)))
        await wait_until(lambda: any("unreachable" in r.getMessage() for r in caplog.records))
        assert not finishing.done()

        await asyncio.to_thread(server.start)
        assert await asyncio.wait_for(finishing, timeout=120)
        stored = await store.get_run("r1")
        assert stored is not None and stored.status is RunStatus.SUCCEEDED
        assert await store.claim_tick("report", T0, "after")
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


@pytest.mark.postgres
async def test_a_long_outage_ends_in_a_store_error_without_the_password(
    server: PostgresServer,
) -> None:
    brief = Reconnect(initial_delay=0.05, max_delay=0.2, write_for=1.0, read_for=0.5)
    async with PostgresStore(create_database(server.dsn()), reconnect=brief) as store:
        await asyncio.to_thread(server.stop)
        with pytest.raises(StoreError, match=r"settings: store_url: .* unreachable") as info:
            await store.add_result(final(running("r1")))
        assert PASSWORD not in str(info.value)
        with pytest.raises(StoreError, match="unreachable"):
            await store.history()
        await asyncio.to_thread(server.start)
        await store.add_result(final(running("r1")))
        assert [r.run_id for r in await store.history()] == ["r1"]
