"""The non-SMTP backends and build_mailer's choice."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from asyncjobs.exceptions import ConfigError
from asyncjobs.mail import (
    ConsoleMailer,
    DisabledMailer,
    FileMailer,
    MemoryMailer,
    SmtpMailer,
    build_mailer,
)
from asyncjobs.mail.smtp import DEFAULT_PORTS
from tests.unit.notif_factories import make_settings


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ({"mail_backend": "auto"}, ConsoleMailer),
        ({"mail_backend": "auto", "smtp_host": "mail.example.com"}, SmtpMailer),
        ({"mail_backend": "console"}, ConsoleMailer),
        ({"mail_backend": "file"}, FileMailer),
        ({"mail_backend": "memory"}, MemoryMailer),
        ({"mail_backend": "disabled"}, DisabledMailer),
    ],
)
def test_build_mailer_picks_backend(values: dict[str, str], kind: type) -> None:
    assert type(build_mailer(make_settings(**values))) is kind


def test_smtp_default_ports() -> None:
    assert DEFAULT_PORTS == {"starttls": 587, "tls": 465, "none": 25}
    for security, port in DEFAULT_PORTS.items():
        assert SmtpMailer("mail.example.com", security=security).port == port  # type: ignore[arg-type]


def test_smtp_backend_needs_a_host() -> None:
    with pytest.raises(ConfigError, match="smtp_host"):
        build_mailer(make_settings(mail_backend="smtp"))


def test_bad_mail_from_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="mail_from"):
        build_mailer(make_settings(mail_from="nobody"))


async def test_memory_mailer_outbox() -> None:
    mailer = MemoryMailer()
    await mailer.send("a@example.com", "one", text="1")
    assert [m["Subject"] for m in mailer.outbox] == ["one"]
    assert mailer.outbox[0]["From"] == "asyncjobs@localhost"
    mailer.clear()
    assert mailer.outbox == []


async def test_console_mailer_prints() -> None:
    stream = io.StringIO()
    await ConsoleMailer("j@example.com", stream=stream).send(
        "a@example.com", "hello there", text="body"
    )
    assert "Subject: hello there" in stream.getvalue()
    assert "body" in stream.getvalue()


async def test_file_mailer_writes_eml(tmp_path: Path) -> None:
    mailer = build_mailer(make_settings(mail_backend="file", mail_outbox_dir=str(tmp_path / "out")))
    await mailer.send("a@example.com", "first", text="1")
    await mailer.send("a@example.com", "second", text="2")
    files = sorted((tmp_path / "out").glob("*.eml"))
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    assert subjects == ["first", "second"]


async def test_disabled_mailer_sends_nothing_but_validates() -> None:
    mailer = DisabledMailer()
    msg = await mailer.send("a@example.com", "x", text="x")
    assert msg["To"] == "a@example.com"
    with pytest.raises(Exception, match="invalid email address"):
        await mailer.send("bad", "x")
