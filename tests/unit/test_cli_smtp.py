"""``check --smtp`` and ``send-test-email`` against a real aiosmtpd server (STARTTLS, AUTH)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.smtp_server import (
    SmtpServer,
    SmtpServerFactory,
    smtp_servers,
    test_ca,
)
from tests.unit.cli_support import Cli

__all__ = ("smtp_servers", "test_ca")  # fixtures, shared with the integration tests


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, monkeypatch, capsys)


@pytest.fixture
def server(smtp_servers: SmtpServerFactory) -> SmtpServer:
    return smtp_servers.start("starttls", auth=True)


def configure(cli: Cli, server: SmtpServer, password: str) -> None:
    cli.setenv("ASYNCJOBS_SMTP_HOST", server.host)
    cli.setenv("ASYNCJOBS_SMTP_PORT", str(server.port))
    cli.setenv("ASYNCJOBS_SMTP_CA_FILE", server.ca_file)
    cli.setenv("ASYNCJOBS_SMTP_USERNAME", "user")
    cli.setenv("ASYNCJOBS_SMTP_PASSWORD", password)
    cli.setenv("ASYNCJOBS_SMTP_TIMEOUT", "10")


def test_check_smtp_logs_in_without_sending(cli: Cli, server: SmtpServer) -> None:
    configure(cli, server, "s3cret-password")
    result = cli("check", "--smtp")
    assert result.code == 0, result.err
    assert (
        f"ok  mail smtp {server.host}:{server.port} (starttls, user user): logged in" in result.out
    )
    assert server.handler.logins == [("user", "s3cret-password")]
    assert server.handler.received == [] and server.handler.data_commands == 0
    assert "s3cret-password" not in result.out + result.err


def test_check_smtp_refused_login_exits_2_without_the_password(
    cli: Cli, server: SmtpServer
) -> None:
    configure(cli, server, "wrong-sentinel-password")
    result = cli("check", "--smtp")
    assert result.code == 2
    assert len(result.error_lines) == 1
    assert "--smtp" in result.error_lines[0] and "login refused" in result.error_lines[0]
    assert "wrong-sentinel-password" not in result.out + result.err


def test_send_test_email_is_delivered(cli: Cli, server: SmtpServer) -> None:
    configure(cli, server, "s3cret-password")
    result = cli("send-test-email", "me@example.com")
    assert result.code == 0, result.err
    (received,) = server.handler.received
    assert received.rcpt_tos == ["me@example.com"] and received.tls
    assert received.message["Subject"] == "asyncjobs test message"


def test_send_test_email_refused_login_exits_1(cli: Cli, server: SmtpServer) -> None:
    configure(cli, server, "wrong-sentinel-password")
    result = cli("send-test-email", "me@example.com")
    assert result.code == 1
    assert len(result.error_lines) == 1 and "login refused" in result.error_lines[0]
    assert "wrong-sentinel-password" not in result.out + result.err
