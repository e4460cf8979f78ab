"""``MemoryMailer``: keeps sent messages in ``outbox``, for tests (yours and ours)."""

from __future__ import annotations

from email.message import EmailMessage

from asyncjobs.mail.backend import MessageMailer
from asyncjobs.mail.message import Envelope

__all__ = ("MemoryMailer",)


class MemoryMailer(MessageMailer):
    """Collects messages in :attr:`outbox` instead of sending them.

    ``outbox`` holds the :class:`~email.message.EmailMessage` objects in the
    order they were sent; ``envelopes`` the matching SMTP envelopes (sender
    and every ``To``/``Cc`` recipient).
    """

    def __init__(self, mail_from: str | None = None) -> None:
        super().__init__(mail_from)
        self.outbox: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []

    async def deliver(self, msg: EmailMessage, envelope: Envelope) -> None:
        """Append the message to :attr:`outbox`."""
        self.outbox.append(msg)
        self.envelopes.append(envelope)

    def clear(self) -> None:
        """Forget every message sent so far."""
        self.outbox.clear()
        self.envelopes.clear()
