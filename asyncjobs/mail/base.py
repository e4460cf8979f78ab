"""The mailer interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from asyncjobs.exceptions import AsyncJobsError
from asyncjobs.resource import AsyncResource

__all__ = ("Attachment", "MailError", "Mailer")

#: A path, or ``(filename, content, mime type)``.
Attachment = Path | str | tuple[str, bytes, str]


class MailError(AsyncJobsError):
    """A message could not be sent (the message says why; never a secret)."""


class Mailer(AsyncResource, ABC):
    """Sends email. Use as ``async with mailer:`` or call :meth:`aclose`."""

    @abstractmethod
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
        """Build and send one message; return it. Raises :class:`MailError`."""
