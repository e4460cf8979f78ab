"""``HeartbeatPinger``: healthchecks.io-style pings for a job's ``heartbeat_url``.

``<url>/start`` when a run starts (fire and forget: never delays the run),
``<url>`` when it succeeds, ``<url>/fail`` when it fails (see
:data:`~asyncjobs.notifications.policy.FAILURE_STATUSES`). Runs that end
``skipped`` or ``cancelled`` send no closing ping: the monitor then reports a
missing ping itself if the job does not come back. The closing ping is a POST
whose body is the run's summary line, which healthchecks.io shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from asyncjobs.http import register_secret
from asyncjobs.notifications.delivery import HttpPolicy, deliver
from asyncjobs.notifications.policy import FAILURE_STATUSES
from asyncjobs.notifications.render import summary_line
from asyncjobs.result import JobResult, NotificationOutcome, RunStatus

if TYPE_CHECKING:
    from asyncjobs.definition import JobDefinition

__all__ = ("HeartbeatPinger", "ping_url")

log = logging.getLogger("asyncjobs.notifications")


def ping_url(base: str, suffix: str) -> httpx.URL:
    """``base`` with ``/start`` or ``/fail`` appended to its path (query kept)."""
    url = httpx.URL(base)
    return url.copy_with(path=url.path.rstrip("/") + suffix) if suffix else url


class HeartbeatPinger:
    """Sends the pings; :meth:`aclose` waits briefly for start pings in flight."""

    channel = "heartbeat"

    def __init__(
        self, http: Callable[[], httpx.AsyncClient], host: str, policy: HttpPolicy
    ) -> None:
        self._http = http
        self._host = host
        self._policy = policy
        # One start ping per run in flight, so the closing ping can wait for it:
        # a monitor that saw "success" before "start" would think the run hangs.
        self._starts: dict[str, asyncio.Task[str | None]] = {}

    def started(self, definition: JobDefinition, result: JobResult) -> None:
        """Ping ``/start`` in the background."""
        base = definition.heartbeat_url
        if not base:
            return
        register_secret(base)
        run_id = result.run_id
        task = asyncio.get_running_loop().create_task(
            self._ping(ping_url(base, "/start"), "GET", what=f"start ping for {result.job}")
        )
        self._starts[run_id] = task

        def _forget(done: asyncio.Task[str | None]) -> None:
            if self._starts.get(run_id) is done:
                del self._starts[run_id]

        task.add_done_callback(_forget)

    async def finished(
        self, definition: JobDefinition | None, result: JobResult
    ) -> list[NotificationOutcome]:
        """Send the closing ping (after the start ping); one outcome per failed or sent ping."""
        outcomes: list[NotificationOutcome] = []
        start = self._starts.pop(result.run_id, None)
        if start is not None:
            # Bounded by the start ping's own deadline; asyncio.wait does not cancel it.
            await asyncio.wait([start])
            error = None if start.cancelled() else start.result()
            if error is not None:
                outcomes.append(self._outcome(f"start ping: {error}"))
        base = definition.heartbeat_url if definition is not None else None
        if not base:
            return outcomes
        if result.status is RunStatus.SUCCEEDED:
            suffix = ""
        elif result.status in FAILURE_STATUSES:
            suffix = "/fail"
        else:
            return outcomes
        register_secret(base)
        error = await self._ping(
            ping_url(base, suffix),
            "POST",
            what=f"heartbeat for {result.job} run {result.run_id}",
            content=summary_line(result, self._host).encode(),
        )
        outcomes.append(self._outcome(error))
        return outcomes

    def _outcome(self, error: str | None) -> NotificationOutcome:
        return NotificationOutcome(channel=self.channel, ok=error is None, error=error)

    async def _ping(
        self, url: httpx.URL, method: str, *, what: str, content: bytes | None = None
    ) -> str | None:
        try:
            client = self._http()
        except Exception as exc:
            error: str | None = f"no HTTP client: {type(exc).__name__}"
        else:
            error = await deliver(client, method, url, self._policy, what=what, content=content)
        if error is not None:
            log.warning("%s failed: %s", what, error)
        return error

    async def aclose(self, grace: float = 2.0) -> None:
        """Wait up to ``grace`` seconds for start pings in flight, then cancel the rest."""
        tasks = list(self._starts.values())
        self._starts.clear()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
