"""Mailers: the interface, the backends and :func:`build_mailer`.

========== ==========================================================
backend    where a message goes
========== ==========================================================
smtp       an SMTP server (:class:`SmtpMailer`)
console    printed to stdout, for development (:class:`ConsoleMailer`)
file       ``.eml`` files in ``mail_outbox_dir`` (:class:`FileMailer`)
memory     ``MemoryMailer.outbox``, for tests
disabled   nowhere (:class:`DisabledMailer`)
auto       smtp when ``smtp_host`` is set, else console
========== ==========================================================
"""

from __future__ import annotations

from asyncjobs.mail.backend import MessageMailer
from asyncjobs.mail.base import Attachment, Mailer, MailError
from asyncjobs.mail.console import ConsoleMailer
from asyncjobs.mail.disabled import DisabledMailer
from asyncjobs.mail.file import FileMailer
from asyncjobs.mail.memory import MemoryMailer
from asyncjobs.mail.smtp import SmtpMailer
from asyncjobs.settings import Settings

__all__ = (
    "Attachment",
    "ConsoleMailer",
    "DisabledMailer",
    "FileMailer",
    "MailError",
    "Mailer",
    "MemoryMailer",
    "MessageMailer",
    "SmtpMailer",
    "build_mailer",
)


def build_mailer(settings: Settings) -> Mailer:
    """The mailer ``settings.mail_backend`` names.

    Raises :class:`~asyncjobs.ConfigError` for an unusable configuration
    (no ``smtp_host`` for smtp, a login over ``smtp_security=none``, a bad
    ``mail_from``).
    """
    backend = settings.mail_backend
    if backend == "auto":
        backend = "smtp" if settings.smtp_host else "console"
    try:
        if backend == "smtp":
            return SmtpMailer.from_settings(settings)
        if backend == "file":
            return FileMailer(settings.mail_outbox_dir, settings.mail_from)
        if backend == "memory":
            return MemoryMailer(settings.mail_from)
        if backend == "disabled":
            return DisabledMailer(settings.mail_from)
        return ConsoleMailer(settings.mail_from)
    except MailError as exc:
        from asyncjobs.exceptions import ConfigError

        raise ConfigError(str(exc), field="settings: mail_from") from None
