"""``WebhookChannel``: a JSON POST of the result to ``Settings.webhook_url``.

The body is ``result.model_dump(mode="json")`` plus a ``text`` line, so a
Slack-compatible incoming webhook shows something readable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr

from asyncjobs.http import register_secret
from asyncjobs.notifications.delivery import HttpPolicy, deliver
from asyncjobs.notifications.render import summary_line
from asyncjobs.result import JobResult, NotificationOutcome

if TYPE_CHECKING:
    from asyncjobs.definition import JobDefinition

__all__ = ("WebhookChannel", "webhook_body")

log = logging.getLogger("asyncjobs.notifications")


def _slack_escape(text: str) -> str:
    # Slack's text is markup: without this a job's error could say <!channel>.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(result: JobResult, host: str) -> dict[str, Any]:
    """The JSON object posted: the result's fields and a ``text`` line."""
    return {**result.model_dump(mode="json"), "text": _slack_escape(summary_line(result, host))}


class WebhookChannel:
    """Posts results to one secret URL."""

    channel = "webhook"

    def __init__(
        self, url: SecretStr, http: Callable[[], httpx.AsyncClient], host: str, policy: HttpPolicy
    ) -> None:
        self._url = url
        self._http = http
        self._host = host
        self._policy = policy
        register_secret(url.get_secret_value())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._url!r})"

    async def send(
        self, definition: JobDefinition | None, result: JobResult
    ) -> list[NotificationOutcome]:
        """Post the result. Never raises."""
        try:
            client = self._http()
        except Exception as exc:
            error: str | None = f"no HTTP client: {type(exc).__name__}"
        else:
            error = await deliver(
                client,
                "POST",
                self._url.get_secret_value(),
                self._policy,
                what=f"webhook for {result.job} run {result.run_id}",
                json=webhook_body(result, self._host),
            )
        if error is not None:
            log.warning("webhook about %s run %s failed: %s", result.job, result.run_id, error)
        return [NotificationOutcome(channel=self.channel, ok=error is None, error=error)]
