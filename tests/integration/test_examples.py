"""The runnable examples in ``examples/`` do what their docstrings say."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` afresh, so each test gets its own ``App``."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_embedded_example_runs_jobs_and_exits() -> None:
    # A 2 s interval always has a tick inside a 3 s window; the timeout is for a loaded box.
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "embedded.py"), "--seconds", "3"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "report: succeeded, data={'rows': 42}" in out
    history = out.split("history, newest first:", 1)[1].splitlines()
    assert any(line.split()[:3] == ["report", "manual", "succeeded"] for line in history)
    assert any(line.split()[:3] == ["heartbeat", "schedule", "succeeded"] for line in history)


async def test_fastapi_example_lists_and_runs_jobs() -> None:
    module = _load("fastapi_app")
    api, jobs = module.fastapi_app, module.app
    # ASGITransport sends no lifespan events: enter the lifespan ourselves, in this loop.
    async with api.router.lifespan_context(api):
        assert jobs.running
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://example") as client:
            listed = await client.get("/jobs")
            assert listed.status_code == 200
            by_name = {job["name"]: job for job in listed.json()}
            assert set(by_name) == {"refresh_cache", "rebuild_index"}
            assert by_name["refresh_cache"]["schedule"] == "every 5m"
            assert by_name["refresh_cache"]["next_run_time"] is not None
            assert by_name["rebuild_index"]["next_run_time"] is None

            ran = await client.post("/jobs/rebuild_index/run")
            assert ran.status_code == 200
            body = ran.json()
            assert body["status"] == "succeeded"
            assert body["trigger"] == "manual"
            assert body["data"] == {"index": "rebuilt"}
            assert body["success"] is True

            missing = await client.post("/jobs/no_such_job/run")
            assert missing.status_code == 404
            assert "no_such_job" in missing.json()["detail"]
        assert [r.run_id for r in await jobs.history("rebuild_index")] == [body["run_id"]]
    assert not jobs.running
