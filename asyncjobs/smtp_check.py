"""``check --smtp``: connect and log in to the SMTP server without sending.

The mailer owns the connection rules (STARTTLS required, certificates
verified, no login without TLS), so the check goes through it rather than
opening its own aiosmtplib session: a check that passes means sends will
connect the same way.
"""

from __future__ import annotations

from typing import Any

from asyncjobs.exceptions import ConfigError
from asyncjobs.mail.base import Mailer, MailError

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
    verify = getattr(mailer, "verify", None)
    if verify is not None:
        await verify()
        return
    # Until SmtpMailer offers a public verify(), reuse its own connect (TLS and
    # login rules) and error wording (which redacts the password).
    client: Any = None
    try:
        client = await mailer._connect()
        await client.quit()
    except MailError:
        raise
    except Exception as exc:
        _, reason = mailer._classify(exc)
        raise MailError(f"{mailer._where}: {reason}") from None
    finally:
        if client is not None:
            client.close()
