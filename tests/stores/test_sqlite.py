"""What ``SqliteStore`` promises beyond the contract: the file, the schema, processes."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import asyncjobs.stores.sqlite_batch as sqlite_batch
from asyncjobs.exceptions import ConfigError
from asyncjobs.result import JobResult, RunStatus
from asyncjobs.stores import StoreError, migrations, open_store
from asyncjobs.stores.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def row(run_id: str, status: RunStatus = RunStatus.SUCCEEDED) -> JobResult:
    return JobResult(job="report", run_id=run_id, status=status, started_at=T0)


# -- URLs ---------------------------------------------------------------------------


def test_urls_name_relative_and_absolute_files(tmp_path: Path) -> None:
    relative = open_store("sqlite:///data/runs.db")
    assert isinstance(relative, SqliteStore)
    assert relative.path == Path.cwd() / "data" / "runs.db"
    assert SqliteStore.from_url(f"sqlite:///{tmp_path}/a.db").path == tmp_path / "a.db"
    assert "runs.db" in repr(relative)


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite://host/x.db", "sqlite:///x.db?mode=ro"]
)
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="settings: store_url"):
        open_store(url)


# -- the file ---------------------------------------------------------------------------


async def test_the_file_is_owner_only_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    old_umask = os.umask(0)
    try:
        async with SqliteStore(path) as store:
            await store.add_result(row("a1"))
            assert stat.S_IMODE(os.stat(f"{path}-wal").st_mode) == 0o600
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"settings: store_url: directory .* does not exist"):
        await SqliteStore(tmp_path / "nope" / "runs.db").open()


async def test_a_file_that_is_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="not a usable SQLite database"):
        await SqliteStore(path).open()


async def test_a_locked_file_is_a_loud_store_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    async with SqliteStore(path):
        pass
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match=r"settings: store_url: .* is locked"):
            await SqliteStore(path, busy_timeout=0.2).open()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _open_in_child(path: Path, as_user: str | None) -> tuple[int, str]:
    """Open a store in a forked child (as ``as_user``); its exit code and ConfigError text."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read)
            if as_user is not None:
                user = pwd.getpwnam(as_user)
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
            try:
                asyncio.run(SqliteStore(path).open())
                code = 0
            except ConfigError as exc:
                os.write(write, str(exc).encode())
                code = 3
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), message


def test_a_read_only_file_is_a_config_error() -> None:
    # Root may write any file: as root, the store is opened by a child that became nobody.
    base = Path(tempfile.mkdtemp(prefix="asyncjobs-ro-"))
    try:
        path = base / "runs.db"
        sqlite3.connect(path).close()
        path.chmod(0o444)
        base.chmod(0o755)
        code, message = _open_in_child(path, "nobody" if os.geteuid() == 0 else None)
        assert code == 3
        assert message.startswith("settings: store_url: ")
        assert "read-only" in message
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- schema versions --------------------------------------------------------------------


async def test_an_older_schema_is_migrated_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.db"
    async with SqliteStore(path) as store:
        await store.add_result(row("kept1"))
    extra = "ALTER TABLE asyncjobs_runs ADD COLUMN note TEXT; CREATE TABLE asyncjobs_extra (x)"
    monkeypatch.setattr(migrations, "SQLITE", [*migrations.SQLITE, extra])

    async with SqliteStore(path) as store:
        assert await store.get_run("kept1") == row("kept1")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM asyncjobs_schema").fetchall() == [(2,)]
        columns = [r[1] for r in conn.execute("PRAGMA table_info(asyncjobs_runs)")]
        assert "note" in columns
        conn.execute("SELECT x FROM asyncjobs_extra")


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    async with SqliteStore(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE asyncjobs_schema SET version = 99")
    with pytest.raises(ConfigError, match="schema version 99, newer than"):
        await SqliteStore(path).open()


# -- group commit ------------------------------------------------------------------------


async def test_writes_of_one_loop_iteration_share_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real = sqlite_batch.run_batch

    def counting(conn: sqlite3.Connection, writes: list[sqlite_batch.Write]) -> object:
        batches.append(len(writes))
        return real(conn, writes)

    monkeypatch.setattr("asyncjobs.stores.sqlite.run_batch", counting)
    async with SqliteStore(tmp_path / "runs.db") as store:
        running = [row(f"r{i:04d}", RunStatus.RUNNING) for i in range(300)]
        await asyncio.gather(*(store.start_run(r, T0 + timedelta(seconds=30)) for r in running))
        claims = await asyncio.gather(*(store.claim_tick("report", T0, f"c{i}") for i in range(50)))
        assert claims.count(True) == 1
        assert len(await store.history(limit=1000)) == 300
    assert len(batches) <= 4
    assert sum(batches) == 350


async def test_one_bad_write_does_not_fail_its_batch(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "runs.db") as store:
        outcomes = await asyncio.gather(
            store.add_result(row("good1")),
            store.claim_tick(None, T0, "bad"),  # type: ignore[arg-type]  # NOT NULL
            store.add_result(row("good2")),
            return_exceptions=True,
        )
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], StoreError)
        assert {r.run_id for r in await store.history()} == {"good1", "good2"}


async def test_closing_commits_queued_writes(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = SqliteStore(path)
    await store.open()
    pending = asyncio.ensure_future(store.add_result(row("late1")))
    await asyncio.sleep(0)  # let it queue its write
    await store.aclose()
    await pending
    async with SqliteStore(path) as reopened:
        assert await reopened.get_run("late1") is not None
    with pytest.raises(StoreError, match="not open"):
        await store.add_result(row("after"))


# -- two processes on one file -----------------------------------------------------------

CLAIMER = """
import asyncio, json, sys
from datetime import UTC, datetime, timedelta
from asyncjobs.stores.sqlite import SqliteStore

async def main(path, name, ticks):
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    won = []
    async with SqliteStore(path, busy_timeout=60) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(ticks):
            tick = t0 + timedelta(minutes=i)
            # two schedulers in this process race as well
            a, b = await asyncio.gather(
                store.claim_tick("job", tick, f"{name}a{i}"),
                store.claim_tick("job", tick, f"{name}b{i}"),
            )
            won += [i] * (a + b)
    print(json.dumps(won), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_two_processes_claim_each_tick_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    ticks = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(path), name, str(ticks)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for name in ("p", "q")
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.communicate()[1]
        for proc in procs:  # both start together
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    won = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    assert sorted(won[0] + won[1]) == list(range(ticks))
