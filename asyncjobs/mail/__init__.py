"""Mailers: the interface and the backend factory."""

from __future__ import annotations

from asyncjobs.mail.base import Attachment, MailError, Mailer
from asyncjobs.mail.memory import MemoryMailer
from asyncjobs.settings import Settings

__all__ = ("Attachment", "MailError", "Mailer", "MemoryMailer", "build_mailer")


def build_mailer(settings: Settings) -> Mailer:
    """The mailer ``settings.mail_backend`` names (placeholder: memory only)."""
    return MemoryMailer()
