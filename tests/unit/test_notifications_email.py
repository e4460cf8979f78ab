"""Result emails: the notify policy, recipients, and what the message says."""

from __future__ import annotations

import pytest

from asyncjobs.http import build_http_client
from asyncjobs.mail import MemoryMailer
from asyncjobs.mail.base import Mailer, MailError
from asyncjobs.notifications import ResultNotifier
from asyncjobs.notifications.policy import FAILURE_STATUSES, wants
from asyncjobs.notifications.render import TRACEBACK_LIMIT, VALUE_LIMIT, render_html, truncate
from asyncjobs.result import FINAL_STATUSES, RunStatus
from tests.unit.notif_factories import make_definition, make_notifier, make_result, make_settings


def test_failure_statuses() -> None:
    assert {
        RunStatus.FAILED,
        RunStatus.TIMED_OUT,
        RunStatus.ABANDONED,
        RunStatus.MISSED,
    } == FAILURE_STATUSES
    assert not wants("failure", RunStatus.SKIPPED)
    assert not wants("failure", RunStatus.CANCELLED)
    assert all(wants("always", s) for s in FINAL_STATUSES)
    assert not any(wants("never", s) for s in FINAL_STATUSES)
    assert [s for s in FINAL_STATUSES if wants("success", s)] == [RunStatus.SUCCEEDED]
    assert not wants("always", RunStatus.RUNNING)


@pytest.mark.parametrize(
    ("notify", "status", "sent"),
    [
        ("failure", RunStatus.FAILED, 1),
        ("failure", RunStatus.TIMED_OUT, 1),
        ("failure", RunStatus.SUCCEEDED, 0),
        ("failure", RunStatus.SKIPPED, 0),
        ("always", RunStatus.SUCCEEDED, 1),
        ("always", RunStatus.FAILED, 1),
        ("success", RunStatus.SUCCEEDED, 1),
        ("success", RunStatus.FAILED, 0),
        ("never", RunStatus.FAILED, 0),
    ],
)
async def test_policy(notify: str, status: RunStatus, sent: int) -> None:
    settings = make_settings(notify_to=["ops@example.com"])
    mailer = MemoryMailer()
    defn = make_definition(notify=notify, settings=settings)
    outcomes = await make_notifier(settings, mailer).run_finished(defn, make_result(status))
    assert len(mailer.outbox) == sent
    assert [o.channel for o in outcomes] == ["email"] * sent
    assert all(o.ok for o in outcomes)


async def test_defaults_come_from_settings() -> None:
    settings = make_settings(notify_on="always", notify_to="a@example.com, b@example.com")
    mailer = MemoryMailer()
    await make_notifier(settings, mailer).run_finished(
        make_definition(settings=settings), make_result(RunStatus.SUCCEEDED)
    )
    [msg] = mailer.outbox
    assert msg["To"] == "a@example.com, b@example.com"


async def test_job_recipients_override_settings() -> None:
    settings = make_settings(notify_to=["ops@example.com"])
    mailer = MemoryMailer()
    defn = make_definition(notify_to=["team@example.com"], settings=settings)
    await make_notifier(settings, mailer).run_finished(defn, make_result())
    assert [m["To"] for m in mailer.outbox] == ["team@example.com"]


async def test_nobody_to_tell_sends_nothing() -> None:
    settings = make_settings()
    mailer = MemoryMailer()
    assert (
        await make_notifier(settings, mailer).run_finished(make_definition(), make_result()) == []
    )
    assert mailer.outbox == []


async def test_abandoned_run_of_removed_job_uses_settings() -> None:
    settings = make_settings(notify_to=["ops@example.com"])
    mailer = MemoryMailer()
    outcomes = await make_notifier(settings, mailer).run_finished(
        None, make_result(RunStatus.ABANDONED, job="gone")
    )
    assert [o.ok for o in outcomes] == [True]
    assert "gone abandoned" in mailer.outbox[0]["Subject"]


async def test_message_content() -> None:
    settings = make_settings(notify_to=["ops@example.com"])
    mailer = MemoryMailer()
    result = make_result(
        attempts=3,
        error="<script>alert(1)</script>",
        data={"rows": 12, "<b>key</b>": "<script>steal()</script>", "long": "y" * 5000},
    )
    await make_notifier(settings, mailer).run_finished(make_definition(), result)
    [msg] = mailer.outbox
    assert msg["Subject"] == "[asyncjobs] daily_report failed on test-host"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    for expected in ("failed", "schedule", "2026-03-01 06:00:00 UTC", "2.50s", "Attempts:", "3"):
        assert expected in text_body
    assert "<script>" not in html_body
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html_body
    assert "&lt;b&gt;key&lt;/b&gt;" in html_body
    assert "Traceback" in html_body and "ValueError: boom" in html_body
    assert "[truncated" in text_body and "[truncated" in html_body
    assert "rows" in text_body and "12" in text_body


def test_truncate_keeps_head_or_tail() -> None:
    assert truncate("abc", 5) == "abc"
    assert truncate("a" * 10 + "END", 10).startswith("a" * 10)
    assert truncate("START" + "b" * 10, 10, keep="tail").endswith("b" * 10)
    big = make_result(
        traceback="frame\n" * 10_000 + "ValueError: last", data={"v": "z" * 3 * VALUE_LIMIT}
    )
    html = render_html(big, "h")
    assert "ValueError: last" in html
    assert len(html) < TRACEBACK_LIMIT + 4 * VALUE_LIMIT


async def test_injection_through_error_text_adds_no_header_or_recipient() -> None:
    settings = make_settings(notify_to=["ops@example.com"])
    mailer = MemoryMailer()
    result = make_result(job="daily_report", error="boom\r\nBcc: x@example.com")
    await make_notifier(settings, mailer).run_finished(make_definition(), result)
    [msg] = mailer.outbox
    assert msg["Bcc"] is None
    assert mailer.envelopes[0].recipients == ("ops@example.com",)
    assert "x@example.com" not in str(msg["To"])


class _Broken(Mailer):
    async def send(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise MailError("SMTP server mail.example.com:587: server replied 554 no")


async def test_failed_email_is_an_outcome_not_an_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(notify_to=["ops@example.com"])
    outcomes = await make_notifier(settings, _Broken()).run_finished(
        make_definition(), make_result()
    )
    [outcome] = outcomes
    assert (outcome.channel, outcome.ok) == ("email", False)
    assert outcome.error is not None and "554" in outcome.error
    assert "not sent" in caplog.text


async def test_mailer_factory_failure_is_an_outcome() -> None:
    settings = make_settings(notify_to=["ops@example.com"])

    def no_mailer() -> Mailer:
        raise RuntimeError("misconfigured")

    notifier = ResultNotifier(settings, http=lambda: build_http_client(settings), mailer=no_mailer)
    [outcome] = await notifier.run_finished(make_definition(), make_result())
    assert outcome.ok is False and "misconfigured" in (outcome.error or "")
