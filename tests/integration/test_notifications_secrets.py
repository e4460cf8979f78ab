"""Sentinel secrets never show up in logs (DEBUG, every logger), reprs, errors or emails."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx
from pydantic import SecretStr

from asyncjobs.http import build_http_client
from asyncjobs.mail import SmtpMailer, build_mailer
from asyncjobs.notifications import build_notifier
from asyncjobs.result import RunStatus
from tests.integration.smtp_server import SmtpServerFactory
from tests.unit.notif_factories import make_definition, make_result, make_settings

PASSWORD = "s3cret-password"  # what the test server accepts
HOOK_TOKEN = "SENTINELhookTOKEN0123456789"
HOOK = f"https://hooks.example.com/services/{HOOK_TOKEN}"
HB_TOKEN = "SENTINEL-hb-2b9f4a6c"
HB = f"https://hc-ping.example.com/{HB_TOKEN}"
SENTINELS = (PASSWORD, HOOK_TOKEN, HB_TOKEN)


def assert_clean(text: str, where: str) -> None:
    for secret in SENTINELS:
        assert secret not in text, f"{secret!r} leaked in {where}"


async def test_no_secret_anywhere(
    smtp_servers: SmtpServerFactory,
    respx_mock: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = smtp_servers.start("starttls", auth=True)
    respx_mock.post(HOOK).mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    respx_mock.get(f"{HB}/start").respond(200)
    respx_mock.post(f"{HB}/fail").mock(side_effect=httpx.ConnectError(f"cannot reach {HB}/fail"))
    settings = make_settings(
        **server.settings_values(notify_to=["ops@example.com"], webhook_url=HOOK)
    )
    mailer = build_mailer(settings)
    http = build_http_client(settings)
    notifier = build_notifier(settings, lambda: http, lambda: mailer)
    defn = make_definition(heartbeat_url=HB, settings=settings)
    notifier.run_started(defn, make_result(RunStatus.RUNNING))
    outcomes = await notifier.run_finished(defn, make_result(RunStatus.FAILED))
    await notifier.aclose()
    await mailer.aclose()

    # A wrong password: the server's refusal must not echo ours.
    wrong = SmtpMailer(
        server.host,
        port=server.port,
        username="user",
        password=SecretStr("SENTINEL-wrong-pw"),
        ca_file=server.ca_file,
        retry_delay=0.01,
    )
    with pytest.raises(Exception, match="login refused") as refused:
        await wrong.send("a@example.com", "x", text="x")
    assert "SENTINEL-wrong-pw" not in str(refused.value)
    await http.aclose()

    assert {(o.channel, o.ok) for o in outcomes} == {
        ("email", True),
        ("webhook", True),
        ("heartbeat", False),
    }
    # The far ends did get the real values.
    assert ("user", PASSWORD) in server.handler.logins
    assert respx_mock.calls.last is not None

    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # aiosmtpd: the server
    assert any("HTTP Request" in r.getMessage() for r in ours), "httpx INFO lines were exercised"
    for record in ours:
        assert_clean(record.getMessage(), f"log record from {record.name}")
        if record.exc_text:
            assert_clean(record.exc_text, f"exception logged by {record.name}")
    for obj in (settings, mailer, wrong, notifier, defn, *outcomes):
        assert_clean(repr(obj), f"repr of {type(obj).__name__}")
        assert_clean(str(obj), f"str of {type(obj).__name__}")
    assert server.handler.received
    for got in server.handler.received:
        assert_clean(got.content.decode("utf-8", "replace"), "an email")
    assert "SENTINEL-wrong-pw" not in caplog.text
