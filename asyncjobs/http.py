"""The one place that builds httpx clients, and the redaction of secret URLs in logs.

One ``httpx.AsyncClient`` per app serves ``ctx.http``, webhooks and heartbeat
pings; it is closed with the app.

httpx logs every request at INFO with its full URL, and a webhook or
heartbeat URL is a credential (the token is in the path). A logging filter on
the ``httpx`` and ``httpcore`` loggers replaces every URL registered with
:func:`register_secret` (and any ``user:password@`` part of a URL) before a
handler sees the record.
"""

from __future__ import annotations

import logging
import re

import httpx

from asyncjobs.settings import Settings

__all__ = ("REDACTED", "build_http_client", "install_log_redaction", "redact", "register_secret")

REDACTED = "[secret]"

_secrets: set[str] = set()
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_LOGGERS = ("httpx", "httpcore")


def register_secret(value: str | None) -> None:
    """Never show ``value`` (a webhook or heartbeat URL, say) in httpx's log records."""
    # Short strings would redact innocent text; nothing secret is that short.
    if value and len(value) >= 8:
        _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret and every URL password replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _USERINFO.sub(f"{REDACTED}@", text)


class _RedactSecrets(logging.Filter):
    """Rewrites a record's message when it holds a secret (a filter on the logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_filter = _RedactSecrets()


def install_log_redaction() -> None:
    """Add the redacting filter to httpx's loggers (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """A client with the app's timeout; redirects are not followed."""
    install_log_redaction()
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout),
        follow_redirects=False,
        headers={"User-Agent": "asyncjobs"},
    )
