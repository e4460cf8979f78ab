"""SmtpMailer against a real aiosmtpd server: what the server actually received."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings

import pytest
from pydantic import SecretStr

from asyncjobs.exceptions import ConfigError
from asyncjobs.mail import MailError, SmtpMailer, build_mailer
from asyncjobs.settings import Settings
from tests.integration.smtp_server import (
    Recorder,
    SmtpServer,
    SmtpServerFactory,
    StallingServer,
    free_port,
)


def mailer_for(server: SmtpServer, security: str = "none", **kwargs: object) -> SmtpMailer:
    options: dict[str, object] = {
        "port": server.port,
        "security": security,
        "ca_file": server.ca_file,
        "mail_from": "Jobs <jobs@example.com>",
        "timeout": 10.0,
        "retry_delay": 0.01,
    }
    options.update(kwargs)
    return SmtpMailer(server.host, **options)  # type: ignore[arg-type]


async def test_plain_relay_receives_message(smtp_servers: SmtpServerFactory) -> None:
    server = smtp_servers.start("plain")
    async with mailer_for(server) as mailer:
        sent = await mailer.send(
            ["a@example.com", "Zoë Ärger <z@example.com>"],
            "Rapport du jour — ✓",
            text="hello",
            html="<p>hello</p>",
            cc="c@example.com",
        )
    [got] = server.handler.received
    assert got.mail_from == "jobs@example.com"
    assert got.rcpt_tos == ["a@example.com", "z@example.com", "c@example.com"]
    msg = got.message
    assert msg["Subject"] == "Rapport du jour — ✓"
    assert msg["To"].addresses[1].display_name == "Zoë Ärger"
    assert msg["Message-ID"] == sent["Message-ID"]
    assert msg["Date"] is not None
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().strip() == "hello"  # type: ignore[union-attr]
    assert msg.get_body(("html",)).get_content().strip() == "<p>hello</p>"  # type: ignore[union-attr]


async def test_starttls_with_auth(smtp_servers: SmtpServerFactory) -> None:
    server = smtp_servers.start("starttls", auth=True)
    mailer = mailer_for(server, "starttls", username="user", password=SecretStr("s3cret-password"))
    async with mailer:
        await mailer.send("a@example.com", "over tls", text="x")
    assert server.handler.logins == [("user", "s3cret-password")]
    [got] = server.handler.received
    assert got.tls is True
    assert got.rcpt_tos == ["a@example.com"]


async def test_implicit_tls(smtp_servers: SmtpServerFactory) -> None:
    server = smtp_servers.start("tls", auth=True)
    mailer = mailer_for(server, "tls", username="user", password=SecretStr("s3cret-password"))
    async with mailer:
        await mailer.send("a@example.com", "implicit", text="x")
    [got] = server.handler.received
    assert got.tls is True
    assert server.handler.logins == [("user", "s3cret-password")]


async def test_untrusted_certificate_is_refused_and_not_retried(
    smtp_servers: SmtpServerFactory,
) -> None:
    server = smtp_servers.start("tls")
    mailer = mailer_for(server, "tls", ca_file=None)
    with pytest.raises(MailError, match="TLS failed") as info:
        await mailer.send("a@example.com", "x", text="x")
    assert "attempts" not in str(info.value)
    assert server.handler.received == []


@pytest.mark.parametrize("call", ["send", "verify"])
async def test_no_starttls_offered_never_sends_credentials(
    smtp_servers: SmtpServerFactory, call: str
) -> None:
    # The server offers AUTH in clear text and no STARTTLS: a downgrade.
    server = smtp_servers.start("plain", auth=True)
    mailer = mailer_for(server, "starttls", username="user", password=SecretStr("s3cret-password"))
    with pytest.raises(MailError, match="does not offer STARTTLS") as info:
        if call == "send":
            await mailer.send("a@example.com", "x", text="x")
        else:
            await mailer.verify()
    assert str(info.value).count(f"{server.host}:{server.port}") == 1
    assert "s3cret-password" not in str(info.value)
    assert server.handler.logins == []
    assert server.handler.rcpt_commands == []
    assert server.handler.received == []


def test_login_over_plain_connection_is_refused_at_configuration() -> None:
    with pytest.raises(ConfigError, match="smtp_security"):
        SmtpMailer("mail.example.com", security="none", username="u", password=SecretStr("p"))


async def test_server_down_is_retried_then_fails() -> None:
    mailer = SmtpMailer("127.0.0.1", port=free_port(), security="none", retries=2, retry_delay=0.01)
    with pytest.raises(MailError, match=r"after 3 attempts"):
        await mailer.send("a@example.com", "x", text="x")


async def test_421_is_retried_and_then_delivered(smtp_servers: SmtpServerFactory) -> None:
    handler = Recorder(data_replies=["421 4.3.2 Service shutting down, try later"])
    server = smtp_servers.start("plain", handler=handler)
    async with mailer_for(server) as mailer:
        await mailer.send("a@example.com", "eventually", text="x")
    assert handler.data_commands == 2
    [got] = handler.received
    assert got.message["Subject"] == "eventually"


async def test_550_is_not_retried(smtp_servers: SmtpServerFactory) -> None:
    handler = Recorder(rcpt_replies=["550 5.1.1 No such user"])
    server = smtp_servers.start("plain", handler=handler)
    mailer = mailer_for(server)
    with pytest.raises(MailError, match="550") as info:
        await mailer.send("nobody@example.com", "x", text="x")
    assert "attempts" not in str(info.value)
    assert handler.rcpt_commands == ["nobody@example.com"]
    assert handler.received == []


async def test_stalled_server_times_out_without_leaking_tasks() -> None:
    before = asyncio.all_tasks()
    async with StallingServer() as stall:
        mailer = SmtpMailer(
            "127.0.0.1", port=stall.port, security="none", timeout=0.3, retries=1, retry_delay=0.01
        )
        started = time.monotonic()
        with pytest.raises(MailError, match=r"timed out|gave up"):
            await mailer.send("a@example.com", "x", text="x")
        elapsed = time.monotonic() - started
        await mailer.aclose()
    # Bounded by 3 x timeout whatever the retries; generous for a loaded machine.
    assert elapsed < 0.3 * 3 + 5
    assert stall.connections >= 1
    leaked = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert leaked == {asyncio.current_task()} or leaked == set()


async def test_one_connection_carries_several_messages(smtp_servers: SmtpServerFactory) -> None:
    server = smtp_servers.start("plain")
    async with mailer_for(server, max_connections=1) as mailer:
        await asyncio.gather(*(mailer.send("a@example.com", f"m{i}", text="x") for i in range(4)))
        await mailer.send("a@example.com", "last", text="x")
    received = server.handler.received
    assert sorted(r.message["Subject"] for r in received) == ["last", "m0", "m1", "m2", "m3"]
    assert len({r.session for r in received}) == 1


async def test_build_mailer_smtp_from_settings(smtp_servers: SmtpServerFactory) -> None:
    server = smtp_servers.start("starttls", auth=True)
    settings = Settings(**server.settings_values(mail_backend="auto"))
    mailer = build_mailer(settings)
    assert isinstance(mailer, SmtpMailer)
    assert "s3cret" not in repr(mailer)
    async with mailer:
        await mailer.send("a@example.com", "from settings", text="x")
    assert [r.message["Subject"] for r in server.handler.received] == ["from settings"]


async def test_verify_logs_in_over_starttls_without_sending(
    smtp_servers: SmtpServerFactory,
) -> None:
    server = smtp_servers.start("starttls", auth=True)
    mailer = mailer_for(server, "starttls", username="user", password=SecretStr("s3cret-password"))
    await mailer.verify()
    assert server.handler.logins == [("user", "s3cret-password")]
    assert server.handler.rcpt_commands == [] and server.handler.data_commands == 0
    assert server.handler.received == []


async def test_verify_wrong_password_is_refused_promptly_without_the_password(
    smtp_servers: SmtpServerFactory,
) -> None:
    server = smtp_servers.start("starttls", auth=True)
    mailer = mailer_for(server, "starttls", username="user", password=SecretStr("wrong-sentinel"))
    started = time.monotonic()
    with pytest.raises(MailError, match=r"login refused \(535") as info:
        await mailer.verify()
    # The server answers 535 at once: the failure is not a timeout.
    assert time.monotonic() - started < mailer.timeout / 2
    assert str(info.value).startswith(f"SMTP server {server.host}:{server.port}: ")
    assert "wrong-sentinel" not in str(info.value)
    # aiosmtplib tries each AUTH mechanism the server offers (PLAIN, LOGIN).
    assert set(server.handler.logins) == {("user", "wrong-sentinel")}


@pytest.mark.parametrize("call", ["verify", "send"])
@pytest.mark.parametrize("password", ["s3cret-password", "wrong"])
def test_sockets_are_closed_before_returning(
    smtp_servers: SmtpServerFactory, call: str, password: str
) -> None:
    # The loop is closed right after the call, as a CLI command or the sync
    # app.run shim does: a TLS transport still closing would leave its socket
    # open, on a refused login as after QUIT.
    server = smtp_servers.start("starttls", auth=True)
    mailer = mailer_for(server, "starttls", username="user", password=SecretStr(password))

    async def attempt() -> None:
        if call == "verify":
            await mailer.verify()
        else:
            async with mailer:
                await mailer.send("a@example.com", "x", text="x")

    loop = asyncio.new_event_loop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            if password == "wrong":
                with pytest.raises(MailError, match="login refused"):
                    loop.run_until_complete(attempt())
            else:
                loop.run_until_complete(attempt())
        finally:
            loop.close()
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert len(server.handler.received) == (call == "send" and password != "wrong")
