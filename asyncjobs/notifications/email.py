"""``EmailChannel``: the result email to the job's ``notify_to``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from asyncjobs.http import redact
from asyncjobs.mail.base import Mailer, MailError
from asyncjobs.notifications.policy import recipients_for
from asyncjobs.notifications.render import render_html, render_subject, render_text
from asyncjobs.result import JobResult, NotificationOutcome
from asyncjobs.settings import Settings

if TYPE_CHECKING:
    from asyncjobs.definition import JobDefinition

__all__ = ("EmailChannel",)

log = logging.getLogger("asyncjobs.notifications")


class EmailChannel:
    """Sends one message (text and HTML) per result to the job's recipients."""

    channel = "email"

    def __init__(self, settings: Settings, mailer: Callable[[], Mailer], host: str) -> None:
        self._settings = settings
        self._mailer = mailer
        self._host = host

    async def send(
        self, definition: JobDefinition | None, result: JobResult
    ) -> list[NotificationOutcome]:
        """Mail the result; no outcome when nobody is to be told. Never raises."""
        to = recipients_for(definition, self._settings)
        if not to:
            return []
        try:
            await self._mailer().send(
                list(to),
                render_subject(result, self._host),
                text=render_text(result, self._host),
                html=render_html(result, self._host),
            )
        except Exception as exc:  # a notification never fails the run
            error = str(exc) if isinstance(exc, MailError) else f"{type(exc).__name__}: {exc}"
            error = redact(error)
            log.warning("email about %s run %s not sent: %s", result.job, result.run_id, error)
            return [NotificationOutcome(channel=self.channel, ok=False, error=error)]
        return [NotificationOutcome(channel=self.channel, ok=True)]
