"""asyncjobs inside a FastAPI application.

The FastAPI lifespan enters ``async with app:``, so the scheduler runs in
the server's event loop and stops (after draining running jobs) when the
server shuts down. Two endpoints::

    GET  /jobs              every job, its schedule and next run time
    POST /jobs/{name}/run   run a job now and return its result (404: unknown job)

Serve it with ``uvicorn examples.fastapi_app:fastapi_app``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

from asyncjobs import App, RunContext, Settings, UnknownJobError

# Memory keeps the example self-contained; a real service keeps the default
# sqlite:///asyncjobs.db, or PostgreSQL when it runs several replicas.
app = App(Settings(store_url="memory://", mail_backend="memory"))


@app.job(every="5m", timeout=60)
async def refresh_cache(ctx: RunContext) -> dict[str, int]:
    """A scheduled job: runs every five minutes while the server is up."""
    await asyncio.sleep(0)  # stands in for the real work
    return {"entries": 128}


@app.job(timeout=60)
async def rebuild_index(ctx: RunContext) -> dict[str, str]:
    """A manual-only job, run through ``POST /jobs/rebuild_index/run``."""
    ctx.log.info("rebuilding")
    return {"index": "rebuilt"}


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Start the scheduler with the server; drain and stop it on shutdown."""
    async with app:
        yield


fastapi_app = FastAPI(title="asyncjobs example", lifespan=lifespan)


@fastapi_app.get("/jobs")
async def list_jobs() -> list[dict[str, Any]]:
    """Every job with its schedule and next run time (``null`` for manual jobs)."""
    jobs = []
    for name, definition in app.jobs.items():
        nxt = app.next_run_time(name)
        jobs.append(
            {
                "name": name,
                "schedule": definition.describe_schedule(),
                "next_run_time": nxt.isoformat() if nxt else None,
            }
        )
    return jobs


@fastapi_app.post("/jobs/{name}/run")
async def run_job(name: str) -> dict[str, Any]:
    """Run job ``name`` now; the job's own failure is in the result, not an HTTP error."""
    try:
        result = await app.run_async(name)
    except UnknownJobError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    return result.model_dump(mode="json")
