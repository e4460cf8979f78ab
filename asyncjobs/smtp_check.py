"""``check --smtp``: connect and log in to the SMTP server without sending.

The mailer owns the connection rules (STARTTLS required, certificates
verified, no login without TLS), so the check goes through
:meth:`SmtpMailer.verify` rather than opening its own aiosmtplib session: a
check that passes means sends will connect the same way.
"""

from __future__ import annotations

from asyncjobs.exceptions import ConfigError
from asyncjobs.mail.base import Mailer

__all__ = ("verify_smtp",)


async def verify_smtp(mailer: Mailer) -> None:
    """Connect, secure and log in with ``mailer``, then say QUIT.

    Raises :class:`ConfigError` when the mailer is not an SMTP mailer and
    :class:`MailError` (password never included) when the server refuses.
    """
    from asyncjobs.mail.smtp import SmtpMailer

    if not isinstance(mailer, SmtpMailer):
        raise ConfigError(
            f"the mail backend is {type(mailer).__name__}, not SMTP "
            "(set ASYNCJOBS_SMTP_HOST or ASYNCJOBS_MAIL_BACKEND=smtp)",
            field="--smtp",
        )
    await mailer.verify()
