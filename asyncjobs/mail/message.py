"""Composing one email: validated addresses, safe headers, text and HTML parts.

Everything that reaches a header goes through :func:`header_text` or
:func:`parse_address`, so a CR or LF in a job name, an error text or a
subject can never start a new header or add a recipient.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from html.parser import HTMLParser
from pathlib import Path

import anyio

from asyncjobs.mail.base import Attachment, MailError

__all__ = (
    "Envelope",
    "build_message",
    "header_text",
    "html_to_text",
    "load_attachments",
    "parse_address",
    "parse_addresses",
)

#: Control characters (CR, LF, NUL, tab, ...) are folded to one space in headers.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
_MAX_HEADER = 900


def header_text(value: str, *, limit: int = _MAX_HEADER) -> str:
    """``value`` made safe for a header: control characters folded to spaces, bounded."""
    text = _CONTROL.sub(" ", value).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def parse_address(value: str) -> Address:
    """One address (``a@example.com`` or ``Name <a@example.com>``), validated.

    Raises :class:`MailError` for anything else: several addresses, control
    characters, a missing ``@``.
    """
    if not isinstance(value, str) or _CONTROL.search(value):
        raise MailError(f"invalid email address {value!r}")
    pairs = getaddresses([value])
    if len(pairs) != 1 or not pairs[0][1]:
        raise MailError(f"invalid email address {value!r}")
    name, spec = pairs[0]
    local, at, domain = spec.rpartition("@")
    if not at or not local or not domain or "," in spec or " " in spec:
        raise MailError(f"invalid email address {value!r}")
    try:
        return Address(display_name=name, addr_spec=spec)
    except (HeaderParseError, ValueError, IndexError):
        raise MailError(f"invalid email address {value!r}") from None


def parse_addresses(value: str | Sequence[str] | None) -> list[Address]:
    """An address or a list of them (``None`` is an empty list)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [parse_address(item) for item in items]


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML document, one line per block element."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "pre", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A plain-text rendering of ``html``, for the text part when only HTML is given."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who the SMTP transaction is from and to, taken from validated addresses only."""

    sender: str
    recipients: tuple[str, ...]


async def load_attachments(
    attachments: Sequence[Attachment] | None,
) -> list[tuple[str, bytes, str]]:
    """Read path attachments (off the event loop); pass ``(name, bytes, type)`` through."""
    loaded: list[tuple[str, bytes, str]] = []
    for item in attachments or ():
        if isinstance(item, tuple):
            name, content, mime = item
        else:
            path = Path(item)
            try:
                content = await anyio.Path(path).read_bytes()
            except OSError as exc:
                raise MailError(f"cannot read attachment {path.name!r}: {exc.strerror}") from None
            name = path.name
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        loaded.append((header_text(name, limit=200), content, mime))
    return loaded


def build_message(
    *,
    sender: str,
    to: str | Sequence[str],
    subject: str,
    text: str | None = None,
    html: str | None = None,
    cc: str | Sequence[str] | None = None,
    reply_to: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> tuple[EmailMessage, Envelope]:
    """A complete message (``Date``, ``Message-ID``, text and optional HTML) and its envelope.

    The text part is always there: derived from ``html`` when ``text`` is not
    given. Non-ASCII names and subjects are encoded by the email package.
    """
    from_addr = parse_address(sender)
    to_addrs = parse_addresses(to)
    cc_addrs = parse_addresses(cc)
    if not to_addrs:
        raise MailError("a message needs at least one recipient")
    msg = EmailMessage()
    msg["Subject"] = header_text(subject)
    msg["From"] = from_addr
    msg["To"] = to_addrs
    if cc_addrs:
        msg["Cc"] = cc_addrs
    if reply_to is not None:
        msg["Reply-To"] = parse_address(reply_to)
    msg["Date"] = datetime.now(UTC)
    # The sender's domain, not socket.getfqdn(): that can block on DNS.
    msg["Message-ID"] = make_msgid(domain=from_addr.domain)
    if text is None:
        text = html_to_text(html) if html is not None else ""
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, content, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=name
        )
    recipients = tuple(dict.fromkeys(a.addr_spec for a in (*to_addrs, *cc_addrs)))
    return msg, Envelope(sender=from_addr.addr_spec, recipients=recipients)
