"""``DisabledMailer``: accepts messages and drops them."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from asyncjobs.mail.backend import MessageMailer
from asyncjobs.mail.message import Envelope

__all__ = ("DisabledMailer",)

log = logging.getLogger("asyncjobs.mail")


class DisabledMailer(MessageMailer):
    """Builds each message (so mistakes still show) and sends nothing."""

    async def deliver(self, msg: EmailMessage, envelope: Envelope) -> None:
        """Drop the message, with a debug line."""
        log.debug("mail is disabled: not sending %r", msg["Subject"])
