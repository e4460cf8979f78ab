"""``SmtpMailer``: sends through an SMTP server with aiosmtplib (the only module that imports it).

Security is explicit and never silently downgraded:

* ``starttls`` (port 587): the server must offer STARTTLS, or the send fails
  before anything else, credentials included, is sent.
* ``tls`` (port 465): TLS from the first byte.
* ``none`` (port 25): for a local relay only; logging in over it is refused.

Certificates are verified against the system store, plus ``ca_file`` when
given. A transient failure (connection refused or reset, a timeout, a 4xx
reply) is retried with exponential backoff up to ``retries`` times; a
permanent one (5xx, a TLS or authentication failure) is not. Connections are
kept in a small pool, so one connection carries several messages and at most
``max_connections`` sends run at once.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal

import aiosmtplib
from pydantic import SecretStr

from asyncjobs.exceptions import ConfigError
from asyncjobs.mail.backend import MessageMailer
from asyncjobs.mail.base import MailError
from asyncjobs.mail.message import Envelope

if TYPE_CHECKING:
    from asyncjobs.settings import Settings

__all__ = ("DEFAULT_PORTS", "SmtpMailer", "SmtpSecurity")

log = logging.getLogger("asyncjobs.mail")

SmtpSecurity = Literal["starttls", "tls", "none"]

#: The port used when ``smtp_port`` is not set.
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}

#: A pooled connection idle for longer is closed rather than reused: servers
#: drop idle clients, and a fresh connection is cheaper than a failed send.
_IDLE_REUSE_SECONDS = 60.0
#: One ``send`` (waiting for a connection, every attempt and backoff) is bounded
#: by this many ``timeout``\ s.
_OVERALL_TIMEOUTS = 3
#: How long closing a connection may wait for the server's side of the TLS
#: shutdown before the socket is closed regardless.
_CLOSE_WAIT_SECONDS = 2.0


class _Client(aiosmtplib.SMTP):
    """``aiosmtplib.SMTP`` whose closing can be awaited until its socket is closed.

    ``SMTP.close()`` (called by aiosmtplib itself too, after QUIT or a failed
    connect) only starts closing: over TLS the transport first exchanges
    close_notify with the server. A loop that ends before that finishes (the
    CLI, the sync ``app.run``) leaves the socket open, reported as a
    ResourceWarning when collected. So every transport this client closes is
    remembered, and :meth:`wait_closed` waits for its socket to be closed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._closing: list[asyncio.BaseTransport] = []

    def close(self) -> None:
        if self.transport is not None:
            self._closing.append(self.transport)
        super().close()

    async def wait_closed(self, grace: float) -> None:
        """Close, and return once every socket this client opened is closed.

        A transport still closing after ``grace`` seconds (a server that
        never completes the TLS shutdown) is aborted rather than waited for.
        """
        self.close()
        closing, self._closing = self._closing, []

        def still_open() -> list[asyncio.BaseTransport]:
            return [t for t in closing if _socket_open(t)]

        try:
            async with asyncio.timeout(grace):
                # Polled: nothing signals that a transport's socket is closed
                # (a failed STARTTLS handshake never calls connection_lost).
                while still_open():  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
        finally:
            for transport in still_open():
                if isinstance(transport, asyncio.WriteTransport):
                    transport.abort()
                else:  # pragma: no cover - every TCP or TLS transport is a WriteTransport
                    transport.close()
        # An aborted transport closes its socket within a few loop iterations.
        for _ in range(10):
            if not still_open():
                return
            await asyncio.sleep(0)


def _socket_open(transport: asyncio.BaseTransport) -> bool:
    # A TLS transport reports the socket of the TCP transport under it.
    sock = transport.get_extra_info("socket")
    return sock is not None and sock.fileno() != -1


class _Idle:
    __slots__ = ("client", "loop", "since")

    def __init__(self, client: _Client, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop
        self.since = loop.time()


class SmtpMailer(MessageMailer):
    """Sends messages through one SMTP server."""

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        security: SmtpSecurity = "starttls",
        username: str | None = None,
        password: SecretStr | None = None,
        timeout: float = 30.0,
        ca_file: str | None = None,
        mail_from: str | None = None,
        retries: int = 2,
        retry_delay: float = 1.0,
        max_connections: int = 2,
    ) -> None:
        super().__init__(mail_from)
        if security not in DEFAULT_PORTS:
            raise ConfigError("expected starttls, tls or none", field="settings: smtp_security")
        if security == "none" and username:
            raise ConfigError(
                "smtp_username is set but smtp_security is none: refusing to send credentials "
                "without TLS (use starttls or tls)",
                field="settings: smtp_security",
            )
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.security: SmtpSecurity = security
        self.username = username
        self._password = password
        self.timeout = timeout
        self.ca_file = ca_file
        self.retries = retries
        self.retry_delay = retry_delay
        self.max_connections = max_connections
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._idle: list[_Idle] = []
        self._tls: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        """The mailer the ``smtp_*`` settings describe."""
        if not settings.smtp_host:
            raise ConfigError("required with mail_backend=smtp", field="settings: smtp_host")
        return cls(
            settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
            ca_file=settings.smtp_ca_file,
            mail_from=settings.mail_from,
            retries=settings.smtp_retries,
            max_connections=settings.smtp_max_connections,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(host={self.host!r}, port={self.port}, "
            f"security={self.security!r}, username={self.username!r})"
        )

    @property
    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    async def deliver(self, msg: EmailMessage, envelope: Envelope) -> None:
        """Send one message, retrying transient failures. Raises :class:`MailError`."""
        overall = self.timeout * _OVERALL_TIMEOUTS
        try:
            async with asyncio.timeout(overall), self._slots_for_loop():
                await self._deliver_with_retries(msg, envelope)
        except TimeoutError:
            raise MailError(f"{self._where}: gave up after {overall:g}s") from None

    async def verify(self) -> None:
        """Check the connection settings without sending anything.

        Connects, secures the connection as ``security`` says (STARTTLS is
        required when chosen, before anything else is sent), logs in when a
        username is set, and says QUIT. Raises :class:`MailError`, whose
        message never holds the password, when any step fails.
        """
        try:
            client = await self._connect()
            try:
                await client.quit()
            finally:
                await self._close(client)
        except Exception as exc:
            _, reason = self._classify(exc)
            raise MailError(f"{self._where}: {reason}") from None

    def _slots_for_loop(self) -> asyncio.Semaphore:
        # An asyncio.Semaphore binds to the first loop that waits on it; the sync
        # ``app.run`` shim may use a fresh loop per call, so keep one per loop.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.max_connections))
        return self._slots[1]

    async def _deliver_with_retries(self, msg: EmailMessage, envelope: Envelope) -> None:
        for attempt in range(self.retries + 1):
            try:
                await self._deliver_once(msg, envelope)
                return
            except Exception as exc:  # classified below; CancelledError passes through
                transient, reason = self._classify(exc)
                if not transient or attempt == self.retries:
                    tries = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise MailError(f"{self._where}: {reason}{tries}") from None
                delay = self.retry_delay * 2**attempt
                log.warning("%s: %s; retrying in %.1fs", self._where, reason, delay)
                await asyncio.sleep(delay)

    async def _deliver_once(self, msg: EmailMessage, envelope: Envelope) -> None:
        client = await self._reuse() or await self._connect()
        try:
            await client.send_message(
                msg, sender=envelope.sender, recipients=list(envelope.recipients)
            )
        except BaseException:
            # After an error or a cancellation the session state is unknown.
            await self._close(client)
            raise
        self._idle.append(_Idle(client, asyncio.get_running_loop()))

    async def _reuse(self) -> _Client | None:
        loop = asyncio.get_running_loop()
        while self._idle:
            idle = self._idle.pop()
            if idle.loop is not loop or not idle.client.is_connected:
                continue  # a connection from another (finished) loop cannot be used
            if loop.time() - idle.since > _IDLE_REUSE_SECONDS:
                await self._close(idle.client)
                continue
            try:
                await idle.client.noop()
            except (aiosmtplib.SMTPException, OSError):
                await self._close(idle.client)
                continue
            return idle.client
        return None

    async def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            # Loading the system store reads files: keep it off the event loop.
            self._tls = await asyncio.to_thread(self._build_tls_context)
        return self._tls

    def _build_tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if self.ca_file:
            # Adds to the system store rather than replacing it.
            context.load_verify_locations(cafile=self.ca_file)
        return context

    async def _close(self, client: _Client) -> None:
        await client.wait_closed(min(self.timeout, _CLOSE_WAIT_SECONDS))

    async def _connect(self) -> _Client:
        tls = await self._tls_context() if self.security != "none" else None
        client = _Client(
            hostname=self.host,
            port=self.port,
            use_tls=self.security == "tls",
            start_tls=False,  # done by hand below, so that it can be required
            tls_context=tls,
            timeout=self.timeout,
        )
        try:
            await client.connect()
            if self.security == "starttls":
                await client.ehlo()
                if not client.supports_extension("starttls"):
                    raise MailError(
                        f"{self._where}: the server does not offer STARTTLS; refusing to "
                        "continue without TLS (use smtp_security=tls for port 465, or none for "
                        "a local relay without login)"
                    )
                await client.starttls(tls_context=tls)
            if self.username:
                if client.get_transport_info("sslcontext") is None:  # pragma: no cover - guarded
                    raise MailError(f"{self._where}: refusing to log in without TLS")
                password = self._password.get_secret_value() if self._password else ""
                await client.login(self.username, password)
        except BaseException:
            await self._close(client)
            raise
        return client

    def _classify(self, exc: BaseException) -> tuple[bool, str]:
        """``(transient, reason)`` for a failed attempt; the reason never holds a secret."""
        reason = self._describe(exc)
        if self._password is not None:
            reason = reason.replace(self._password.get_secret_value(), "**********")
        if isinstance(exc, MailError) or _tls_error(exc) is not None:
            return False, reason
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            return all(400 <= r.code < 500 for r in exc.recipients), reason
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return False, reason
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return 400 <= exc.code < 500, reason
        if isinstance(exc, TimeoutError | ConnectionError | OSError):
            return True, reason
        return False, reason

    def _describe(self, exc: BaseException) -> str:
        tls = _tls_error(exc)
        if isinstance(exc, MailError):
            return str(exc).removeprefix(f"{self._where}: ")
        if tls is not None:
            return f"TLS failed: {getattr(tls, 'reason', None) or tls}"
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            refused = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            return f"recipients refused ({refused})"
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return f"login refused ({exc.code} {exc.message})"
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return f"server replied {exc.code} {exc.message}"
        if isinstance(exc, TimeoutError):
            return f"timed out after {self.timeout:g}s"
        if isinstance(exc, aiosmtplib.SMTPException):
            return exc.message
        return f"{type(exc).__name__}: {exc}"

    async def aclose(self) -> None:
        """Say QUIT on pooled connections (briefly) and close them."""
        idle, self._idle = self._idle, []
        loop = asyncio.get_running_loop()
        for item in idle:
            if item.loop is not loop:
                continue  # its loop is gone, and its transport with it
            if item.client.is_connected:
                try:
                    async with asyncio.timeout(min(self.timeout, 5.0)):
                        await item.client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    pass
            await self._close(item.client)


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``exc`` (aiosmtplib wraps it in a connect error), if any."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
