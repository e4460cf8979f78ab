"""``FileMailer``: writes each message as an ``.eml`` file."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import anyio

from asyncjobs.mail.backend import MessageMailer
from asyncjobs.mail.base import MailError
from asyncjobs.mail.message import Envelope

__all__ = ("FileMailer",)


class FileMailer(MessageMailer):
    """Writes ``<UTC time>-<random>.eml`` files into ``directory`` (made when needed).

    The files open in any mail client; names sort in sending order.
    """

    def __init__(self, directory: str | Path, mail_from: str | None = None) -> None:
        super().__init__(mail_from)
        self.directory = Path(directory)

    async def deliver(self, msg: EmailMessage, envelope: Envelope) -> None:
        """Write the message to a new file in :attr:`directory`."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
        path = anyio.Path(self.directory / f"{stamp}-{secrets.token_hex(4)}.eml")
        try:
            await path.parent.mkdir(parents=True, exist_ok=True)
            await path.write_bytes(msg.as_bytes())
        except OSError as exc:
            raise MailError(
                f"cannot write to the outbox {str(self.directory)!r}: {exc.strerror}"
            ) from None
