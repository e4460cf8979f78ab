"""``ResultNotifier``: the app's notifier, fanning a result out to email, webhook and heartbeat."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import httpx

from asyncjobs.mail.base import Mailer
from asyncjobs.notifications.base import Notifier
from asyncjobs.notifications.delivery import HttpPolicy
from asyncjobs.notifications.email import EmailChannel
from asyncjobs.notifications.heartbeat import HeartbeatPinger
from asyncjobs.notifications.policy import policy_for, wants
from asyncjobs.notifications.webhook import WebhookChannel
from asyncjobs.result import JobResult, NotificationOutcome
from asyncjobs.settings import Settings

if TYPE_CHECKING:
    from asyncjobs.definition import JobDefinition

__all__ = ("ResultNotifier",)

log = logging.getLogger("asyncjobs.notifications")

_Send = Callable[["JobDefinition | None", JobResult], Awaitable[list[NotificationOutcome]]]


class ResultNotifier(Notifier):
    """Email and webhook as the job's notify policy says; heartbeat pings whenever a URL is set.

    The channels of one result run concurrently; each is bounded by its own
    timeout (``smtp_timeout`` for mail, ``http_timeout`` for HTTP).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        http: Callable[[], httpx.AsyncClient],
        mailer: Callable[[], Mailer],
        host: str | None = None,
        http_policy: HttpPolicy | None = None,
    ) -> None:
        self._settings = settings
        host = host or socket.gethostname()
        policy = http_policy or HttpPolicy(deadline=settings.http_timeout)
        self._email = EmailChannel(settings, mailer, host)
        self._webhook = (
            WebhookChannel(settings.webhook_url, http, host, policy)
            if settings.webhook_url is not None
            else None
        )
        self._heartbeat = HeartbeatPinger(http, host, policy)

    def run_started(self, definition: JobDefinition, result: JobResult) -> None:
        """Send the heartbeat start ping in the background."""
        try:
            self._heartbeat.started(definition, result)
        except Exception:  # the run must start whatever happens here
            log.exception("start ping for %s not sent", result.job)

    async def run_finished(
        self, definition: JobDefinition | None, result: JobResult
    ) -> list[NotificationOutcome]:
        """Notify as the policy says; return one outcome per notification tried."""
        sends: list[tuple[str, _Send]] = []
        if definition is not None and definition.heartbeat_url:
            sends.append(("heartbeat", self._heartbeat.finished))
        if wants(policy_for(definition, self._settings), result.status):
            sends.append(("email", self._email.send))
            if self._webhook is not None:
                sends.append(("webhook", self._webhook.send))
        # The common case (nothing to send, or one channel) skips gather's tasks:
        # this runs once per run, on the hot path.
        if not sends:
            return []
        if len(sends) == 1:
            return await self._guarded(*sends[0], definition, result)
        groups = await asyncio.gather(
            *(self._guarded(channel, send, definition, result) for channel, send in sends)
        )
        return [outcome for group in groups for outcome in group]

    async def _guarded(
        self, channel: str, send: _Send, definition: JobDefinition | None, result: JobResult
    ) -> list[NotificationOutcome]:
        try:
            return await send(definition, result)
        except Exception as exc:  # channels do not raise; this is the last fence
            log.exception("%s notification about %s failed", channel, result.job)
            return [NotificationOutcome(channel=channel, ok=False, error=type(exc).__name__)]

    async def aclose(self) -> None:
        """Wait briefly for start pings in flight, then cancel them."""
        await self._heartbeat.aclose()
