"""``MemoryMailer``: keeps sent messages in ``outbox`` (placeholder)."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from asyncjobs.mail.base import Attachment, Mailer

__all__ = ("MemoryMailer",)


class MemoryMailer(Mailer):
    """Collects messages in :attr:`outbox` instead of sending them."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    async def send(
        self,
        to: str | Sequence[str],
        subject: str,
        *,
        text: str | None = None,
        html: str | None = None,
        cc: str | Sequence[str] | None = None,
        reply_to: str | None = None,
        attachments: Sequence[Attachment] | None = None,
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["To"] = to if isinstance(to, str) else ", ".join(to)
        msg["Subject"] = subject
        msg.set_content(text or "")
        self.outbox.append(msg)
        return msg
