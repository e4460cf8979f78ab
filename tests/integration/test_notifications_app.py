"""Notifications through the real App and runner, the way a user tests their jobs."""

from __future__ import annotations

import json

import respx

from asyncjobs import App, MemoryMailer, RunContext, RunStatus, Settings
from tests.integration.smtp_server import SmtpServerFactory

HOOK = "https://hooks.example.com/services/T000/B000/apptoken"
HB = "https://hc-ping.example.com/5d0c2a5e-aaaa-bbbb-cccc-ddddeeeeffff"


def memory_app(**values: object) -> App:
    return App(settings=Settings(store_url="memory://", mail_backend="memory", **values))  # type: ignore[arg-type]


async def test_job_sends_mail_through_ctx_mailer() -> None:
    app = memory_app()

    @app.job()
    async def weekly_digest(ctx: RunContext) -> dict[str, int]:
        await ctx.mailer.send(
            ["team@example.com"], "Weekly digest", text="3 new items", html="<p>3 new items</p>"
        )
        return {"sent": 1}

    result = await app.run_async("weekly_digest")
    assert result.status is RunStatus.SUCCEEDED
    assert isinstance(app.mailer, MemoryMailer)
    [msg] = app.mailer.outbox
    assert msg["To"] == "team@example.com"
    assert msg["Subject"] == "Weekly digest"
    assert result.notifications == []  # notify_on="failure" and it succeeded


async def test_failing_job_sends_one_email() -> None:
    app = memory_app(notify_to=["ops@example.com"])

    @app.job(notify="failure")
    async def nightly_sync(ctx: RunContext) -> None:
        raise RuntimeError("upstream said <no>")

    result = await app.run_async("nightly_sync")
    assert result.status is RunStatus.FAILED
    assert isinstance(app.mailer, MemoryMailer)
    [msg] = app.mailer.outbox
    assert msg["To"] == "ops@example.com"
    assert "nightly_sync failed" in msg["Subject"]
    html = msg.get_body(("html",))
    assert html is not None and "upstream said &lt;no&gt;" in html.get_content()
    assert [(n.channel, n.ok) for n in result.notifications] == [("email", True)]
    [stored] = await app.history("nightly_sync")
    assert [(n.channel, n.ok) for n in stored.notifications] == [("email", True)]


async def test_failure_over_real_smtp_cannot_inject_recipients(
    smtp_servers: SmtpServerFactory,
) -> None:
    server = smtp_servers.start("starttls", auth=True)
    app = App(settings=Settings(**server.settings_values(notify_to=["ops@example.com"])))

    @app.job()
    async def report(ctx: RunContext) -> None:
        raise ValueError("bad row\r\nBcc: x@example.com\r\nSubject: pwned")

    result = await app.run_async("report")
    assert result.status is RunStatus.FAILED
    assert [(n.channel, n.ok) for n in result.notifications] == [("email", True)]
    [got] = server.handler.received
    assert got.tls is True
    assert got.rcpt_tos == ["ops@example.com"]
    assert server.handler.rcpt_commands == ["ops@example.com"]
    msg = got.message
    assert msg["Bcc"] is None
    assert msg.get_all("Subject") == [
        "[asyncjobs] report failed on " + msg["Subject"].rsplit(" ", 1)[1]
    ]


async def test_webhook_and_heartbeat_through_the_runner(respx_mock: respx.MockRouter) -> None:
    hook = respx_mock.post(HOOK).respond(200)
    start = respx_mock.get(f"{HB}/start").respond(200)
    fail = respx_mock.post(f"{HB}/fail").respond(200)
    app = memory_app(webhook_url=HOOK)

    @app.job(heartbeat_url=HB)
    async def flaky(ctx: RunContext) -> None:
        raise RuntimeError("nope")

    result = await app.run_async("flaky")
    assert result.status is RunStatus.FAILED
    assert start.call_count == 1 and fail.call_count == 1 and hook.call_count == 1
    body = json.loads(hook.calls.last.request.content)
    assert (body["job"], body["status"], body["run_id"]) == ("flaky", "failed", result.run_id)
    assert sorted((n.channel, n.ok) for n in result.notifications) == [
        ("heartbeat", True),
        ("webhook", True),
    ]
