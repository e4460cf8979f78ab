"""A real SMTP server for tests: aiosmtpd in its own thread, with a recording handler.

``SmtpServerFactory.start(...)`` starts one on 127.0.0.1 and a free port, in
one of three modes (plain, STARTTLS, implicit TLS), optionally offering AUTH;
the handler records every envelope, every RCPT and DATA it saw, and every
login attempt, so tests check what the server actually received.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

__all__ = ("Received", "Recorder", "SmtpServer", "SmtpServerFactory", "free_port")

Mode = Literal["plain", "starttls", "tls"]


def free_port() -> int:
    """A TCP port nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    session: int

    @property
    def message(self) -> EmailMessage:
        """The parsed message."""
        msg = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Recorder:
    """An aiosmtpd handler that records everything and can misbehave on purpose.

    ``data_replies`` and ``rcpt_replies`` are consumed in order, one per
    DATA or RCPT command; once empty, the server accepts.
    """

    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    rcpt_commands: list[str] = field(default_factory=list)
    data_commands: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            self.rcpt_commands.append(address)
            reply = self.rcpt_replies.pop(0) if self.rcpt_replies else None
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.data_commands += 1
            reply = self.data_replies.pop(0) if self.data_replies else None
            if reply is not None:
                return reply
            content = envelope.original_content or b""
            self.received.append(
                Received(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=list(envelope.rcpt_tos),
                    content=content,
                    # session.ssl covers STARTTLS only; the transport knows both.
                    tls=server.transport.get_extra_info("ssl_object") is not None,
                    session=id(session),
                )
            )
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Records every login; accepts ``user`` / ``s3cret-password``."""
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        with self._lock:
            self.logins.append((login, password))
        # handled=False: the server, not this callback, sends the 235 or 535 reply.
        return AuthResult(success=(login, password) == ("user", "s3cret-password"), handled=False)


@dataclass
class SmtpServer:
    """A running server: where it is and what it recorded."""

    host: str
    port: int
    handler: Recorder
    ca_file: str

    def settings_values(self, **values: Any) -> dict[str, Any]:
        """``Settings`` keywords for this server, logged in as ``user`` over STARTTLS."""
        return {
            "store_url": "memory://",
            "mail_backend": "smtp",
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_username": "user",
            "smtp_password": "s3cret-password",
            "smtp_ca_file": self.ca_file,
            "mail_from": "jobs@example.com",
            **values,
        }


class SmtpServerFactory:
    """Starts servers for one test and stops them all afterwards."""

    def __init__(self, ca: trustme.CA, ca_file: str) -> None:
        self._ca = ca
        self._ca_file = ca_file
        self._controllers: list[Controller] = []

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        return context

    def start(
        self, mode: Mode = "plain", *, auth: bool = False, handler: Recorder | None = None
    ) -> SmtpServer:
        """Start a server; ``auth`` offers AUTH (over plain text too in ``plain`` mode)."""
        handler = handler or Recorder()
        kwargs: dict[str, Any] = {}
        if mode == "starttls":
            kwargs.update(tls_context=self._server_context(), require_starttls=True)
        if mode == "tls":
            kwargs.update(ssl_context=self._server_context())
        if auth:
            # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; with
            # implicit TLS the whole session is encrypted anyway.
            kwargs.update(authenticator=handler.authenticate, auth_require_tls=mode == "starttls")
        port = free_port()
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, ready_timeout=30.0, **kwargs
        )
        controller.start()
        self._controllers.append(controller)
        return SmtpServer("127.0.0.1", port, handler, self._ca_file)

    def stop(self) -> None:
        """Stop every server started."""
        for controller in self._controllers:
            controller.stop()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    """A throwaway CA and the path of its certificate (for ``smtp_ca_file``)."""
    ca = trustme.CA()
    path = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


@pytest.fixture
def smtp_servers(test_ca: tuple[trustme.CA, str]) -> Iterator[SmtpServerFactory]:
    """Start real SMTP servers with ``smtp_servers.start(mode, auth=...)``."""
    factory = SmtpServerFactory(*test_ca)
    yield factory
    factory.stop()


class StallingServer:
    """Accepts TCP connections and never says a word (an SMTP server that hangs)."""

    def __init__(self) -> None:
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> StallingServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
