"""``MessageMailer``: the shared ``send`` of every backend (compose, then deliver)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from email.message import EmailMessage

from asyncjobs.mail.base import Attachment, Mailer
from asyncjobs.mail.message import Envelope, build_message, load_attachments, parse_address

__all__ = ("DEFAULT_SENDER", "MessageMailer")

#: Used when ``Settings.mail_from`` is not set.
DEFAULT_SENDER = "asyncjobs@localhost"


class MessageMailer(Mailer):
    """A mailer that builds the message itself and hands it to :meth:`deliver`.

    Backends differ only in where a finished message goes.
    """

    def __init__(self, mail_from: str | None = None) -> None:
        self.mail_from = mail_from or DEFAULT_SENDER
        parse_address(self.mail_from)  # fail when configured, not on the first send

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
        """Build one message (see :func:`~asyncjobs.mail.message.build_message`) and deliver it."""
        msg, envelope = build_message(
            sender=self.mail_from,
            to=to,
            subject=subject,
            text=text,
            html=html,
            cc=cc,
            reply_to=reply_to,
            attachments=await load_attachments(attachments),
        )
        await self.deliver(msg, envelope)
        return msg

    @abstractmethod
    async def deliver(self, msg: EmailMessage, envelope: Envelope) -> None:
        """Send or store a finished message. Raises :class:`~asyncjobs.mail.MailError`."""
