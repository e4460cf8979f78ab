"""``ConsoleMailer``: prints each message, for development."""

from __future__ import annotations

import sys
from email.message import EmailMessage
from typing import TextIO

from asyncjobs.mail.backend import MessageMailer
from asyncjobs.mail.message import Envelope

__all__ = ("ConsoleMailer",)


class ConsoleMailer(MessageMailer):
    """Writes every message, headers and parts, to ``stream`` (stdout by default)."""

    def __init__(self, mail_from: str | None = None, *, stream: TextIO | None = None) -> None:
        super().__init__(mail_from)
        self._stream = stream

    async def deliver(self, msg: EmailMessage, envelope: Envelope) -> None:
        """Print the message between two rulers."""
        # Looked up at send time so that pytest's capsys and redirected stdout work.
        stream = self._stream or sys.stdout
        rule = "-" * 72
        stream.write(f"{rule}\n{msg.as_string()}\n{rule}\n")
        stream.flush()
