"""Three replicas of one app on one store, as an operator runs them.

Each replica is a real ``python -m asyncjobs run`` process. The history, read
from the test process, must show every tick started exactly once with no
gap; a replica killed mid-run leaves an ``abandoned`` run while the others
keep ticking; a replica paused past its lease does not write over the
takeover when it resumes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from asyncjobs import JobResult, RunStatus
from asyncjobs.stores import open_store
from tests.helpers import wait_until

REPO = Path(__file__).resolve().parents[2]

APP_SOURCE = textwrap.dedent(
    """
    import asyncio, os, pathlib
    from asyncjobs import App, RunContext

    app = App()
    MARKS = pathlib.Path(os.environ["MARKS_DIR"])

    @app.job(every=1, timeout=30)
    async def tick(ctx: RunContext) -> dict:
        return {"pid": os.getpid()}

    @app.job(every=2, timeout=60, overlap="allow", max_instances=5, catch_up=False)
    async def hold(ctx: RunContext) -> dict:
        # Marks which process runs which run, so the test can kill or pause it.
        (MARKS / f"{os.getpid()}-{ctx.run_id}").write_text(ctx.job)
        await asyncio.sleep(float(os.environ.get("HOLD_SECONDS", "0")))
        return {"pid": os.getpid()}
    """
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    dsn: str = request.getfixturevalue("fresh_postgres_dsn")
    return dsn


class Replicas:
    """Starts and stops replica processes serving the test app."""

    def __init__(self, tmp_path: Path, store_url: str, **env: str) -> None:
        self.dir = tmp_path
        (tmp_path / "replica_app.py").write_text(APP_SOURCE)
        self.marks = tmp_path / "marks"
        self.marks.mkdir()
        self.env = {
            **os.environ,
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}",
            "ASYNCJOBS_APP": "replica_app:app",
            "ASYNCJOBS_STORE_URL": store_url,
            "ASYNCJOBS_MAIL_BACKEND": "disabled",
            "ASYNCJOBS_SHUTDOWN_GRACE": "5",
            "MARKS_DIR": str(self.marks),
            **env,
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        for index in range(count):
            path = self.dir / f"replica-{len(self.procs)}-{index}.log"
            with path.open("wb") as log:  # the child keeps its own descriptor
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "asyncjobs", "run"],
                        cwd=self.dir,
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

    def holders(self) -> list[tuple[int, str]]:
        """(pid, run_id) of every ``hold`` run started so far."""
        out = []
        for mark in self.marks.iterdir():
            pid, run_id = mark.name.split("-")
            out.append((int(pid), run_id))
        return out

    def stop_all(self) -> list[int]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
        return [proc.wait(timeout=60) for proc in self.procs]

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.dir.glob("replica-*.log"))


@pytest.fixture
def replicas(tmp_path: Path, store_url: str) -> Iterator[Any]:
    made: list[Replicas] = []

    def make(**env: str) -> Replicas:
        group = Replicas(tmp_path, store_url, **env)
        made.append(group)
        return group

    yield make
    for group in made:
        for proc in group.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def _history(store_url: str, job: str) -> list[JobResult]:
    async with open_store(store_url) as store:
        return await store.history(job, limit=10_000)


async def _get_run(store_url: str, run_id: str) -> JobResult | None:
    async with open_store(store_url) as store:
        return await store.get_run(run_id)


def _succeeded_ticks(rows: list[JobResult]) -> list[Any]:
    return sorted(r.scheduled_for for r in rows if r.status is RunStatus.SUCCEEDED)


async def test_three_replicas_start_each_tick_exactly_once(replicas: Any, store_url: str) -> None:
    group = replicas(ASYNCJOBS_JOBS__HOLD__ENABLED="false")
    group.start(3)

    async def enough() -> bool:
        return len(_succeeded_ticks(await _history(store_url, "tick"))) >= 6

    await wait_until(enough, timeout=90, what="six ticks across the replicas")
    codes = group.stop_all()
    assert codes == [0, 0, 0], group.logs()
    rows = await _history(store_url, "tick")
    ticks = [r.scheduled_for for r in rows]
    assert len(ticks) == len(set(ticks)), "a tick was started (or recorded) twice"
    started = _succeeded_ticks(rows)
    # No gap: consecutive one-second ticks from the first to the last.
    assert started == [started[0] + timedelta(seconds=i) for i in range(len(started))]
    assert all(r.status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED) for r in rows)


async def test_killed_replica_run_becomes_abandoned_and_others_keep_ticking(
    replicas: Any, store_url: str
) -> None:
    group = replicas(HOLD_SECONDS="30", ASYNCJOBS_LEASE_SECONDS="1.5")
    group.start(3)
    await wait_until(lambda: bool(group.holders()), timeout=90, what="a hold run to start")
    pid, run_id = group.holders()[0]
    os.kill(pid, signal.SIGKILL)
    killed_at = len(_succeeded_ticks(await _history(store_url, "tick")))

    async def abandoned() -> bool:
        row = await _get_run(store_url, run_id)
        return row is not None and row.status is RunStatus.ABANDONED

    await wait_until(abandoned, timeout=90, what="the killed run to be abandoned")

    async def still_ticking() -> bool:
        return len(_succeeded_ticks(await _history(store_url, "tick"))) >= killed_at + 3

    await wait_until(still_ticking, timeout=90, what="the survivors to keep ticking")
    survivors = [p for p in group.procs if p.pid != pid]
    assert all(p.poll() is None for p in survivors)
    group.stop_all()


async def test_paused_replica_does_not_write_over_the_takeover(
    replicas: Any, store_url: str
) -> None:
    group = replicas(HOLD_SECONDS="4", ASYNCJOBS_LEASE_SECONDS="1")
    group.start(2)
    await wait_until(lambda: bool(group.holders()), timeout=90, what="a hold run to start")
    pid, run_id = group.holders()[0]
    os.kill(pid, signal.SIGSTOP)

    async def taken_over() -> bool:
        found = await _get_run(store_url, run_id)
        return found is not None and found.status is RunStatus.ABANDONED

    try:
        await wait_until(taken_over, timeout=90, what="the other replica to take over")
    finally:
        os.kill(pid, signal.SIGCONT)
    # Resumed, the paused process finishes its run (it slept 4 s) and must not
    # record it: wait until it has logged that, then check the row again.
    await wait_until(
        lambda: run_id in group.logs() and "not recorded" in group.logs(),
        timeout=90,
        what="the resumed replica to give up its result",
    )
    final = await _get_run(store_url, run_id)
    assert final is not None and final.status is RunStatus.ABANDONED
    assert group.stop_all() == [0, 0]
