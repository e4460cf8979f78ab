"""Webhook posts and heartbeat pings, with respx standing in for the far end."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
import respx
from pydantic import SecretStr

from asyncjobs.mail import MemoryMailer
from asyncjobs.result import RunStatus
from tests.unit.notif_factories import make_definition, make_notifier, make_result, make_settings

HOOK = "https://hooks.example.com/services/T000/B000/tokentokentoken"
HB = "https://hc-ping.example.com/0f3c7a2e-1111-2222-3333-444455556666"


def hanging(
    release: asyncio.Event, reached: asyncio.Event | None = None
) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """A respx side effect: an endpoint that answers only once ``release`` is set."""

    async def side_effect(request: httpx.Request) -> httpx.Response:
        if reached is not None:
            reached.set()
        await release.wait()
        return httpx.Response(200)

    return side_effect


async def test_webhook_posts_result_json(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(HOOK).respond(200)
    settings = make_settings(webhook_url=HOOK)
    result = make_result(error="<!channel> & co")
    outcomes = await make_notifier(settings, MemoryMailer()).run_finished(make_definition(), result)
    assert [(o.channel, o.ok) for o in outcomes] == [("webhook", True)]
    body = json.loads(route.calls.last.request.content)
    assert body["job"] == "daily_report" and body["status"] == "failed"
    assert body["scheduled_for"] == "2026-03-01T06:00:00Z"
    assert body["text"].startswith("daily_report 3f2a9c1e failed")
    assert "&lt;!channel&gt; &amp; co" in body["text"]
    assert body["notifications"] == []


async def test_webhook_follows_policy(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(HOOK).respond(200)
    settings = make_settings(webhook_url=HOOK)
    notifier = make_notifier(settings, MemoryMailer())
    assert await notifier.run_finished(make_definition(), make_result(RunStatus.SUCCEEDED)) == []
    assert not route.called
    await notifier.run_finished(make_definition(notify="always"), make_result(RunStatus.SUCCEEDED))
    assert route.call_count == 1


async def test_webhook_retries_5xx_not_4xx(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(HOOK)
    route.side_effect = [httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(204)]
    settings = make_settings(webhook_url=HOOK)
    [ok] = await make_notifier(settings, MemoryMailer()).run_finished(
        make_definition(), make_result()
    )
    assert ok.ok and route.call_count == 3


async def test_webhook_does_not_retry_4xx(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(HOOK).respond(400)
    settings = make_settings(webhook_url=HOOK)
    [bad] = await make_notifier(settings, MemoryMailer()).run_finished(
        make_definition(), make_result()
    )
    assert (bad.ok, bad.error) == (False, "HTTP 400")
    assert route.call_count == 1


async def test_webhook_retries_are_bounded(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(HOOK).respond(502)
    settings = make_settings(webhook_url=HOOK)
    [out] = await make_notifier(settings, MemoryMailer(), retries=2).run_finished(
        make_definition(), make_result()
    )
    assert (out.ok, out.error) == (False, "HTTP 502")
    assert route.call_count == 3


@pytest.mark.respx(assert_all_called=False)
async def test_webhook_redirect_is_not_followed(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).respond(302, headers={"Location": "https://elsewhere.example.com/"})
    other = respx_mock.post("https://elsewhere.example.com/").respond(200)
    settings = make_settings(webhook_url=HOOK)
    [out] = await make_notifier(settings, MemoryMailer()).run_finished(
        make_definition(), make_result()
    )
    assert out.ok is False and "redirect" in (out.error or "")
    assert not other.called


async def test_hanging_webhook_is_cut_at_its_timeout(respx_mock: respx.MockRouter) -> None:
    release = asyncio.Event()
    respx_mock.post(HOOK).mock(side_effect=hanging(release))
    settings = make_settings(webhook_url=HOOK)
    started = time.monotonic()
    [out] = await make_notifier(settings, MemoryMailer(), deadline=0.3).run_finished(
        make_definition(), make_result()
    )
    elapsed = time.monotonic() - started
    assert (out.ok, out.error) == (False, "timed out after 0.3s")
    assert 0.25 <= elapsed < 3.0
    release.set()


async def test_heartbeat_start_then_success(respx_mock: respx.MockRouter) -> None:
    start = respx_mock.get(f"{HB}/start").respond(200)
    done = respx_mock.post(HB).respond(200)
    settings = make_settings()
    notifier = make_notifier(settings, MemoryMailer())
    defn = make_definition(heartbeat_url=HB)
    result = make_result(RunStatus.SUCCEEDED)
    notifier.run_started(defn, make_result(RunStatus.RUNNING))
    outcomes = await notifier.run_finished(defn, result)
    assert [(o.channel, o.ok) for o in outcomes] == [("heartbeat", True)]
    assert start.call_count == 1 and done.call_count == 1
    assert done.calls.last.request.content.startswith(b"daily_report 3f2a9c1e succeeded")
    await notifier.aclose()


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.TIMED_OUT])
async def test_heartbeat_fail_ping(respx_mock: respx.MockRouter, status: RunStatus) -> None:
    fail = respx_mock.post(f"{HB}/fail").respond(200)
    settings = make_settings()
    defn = make_definition(heartbeat_url=HB + "/")
    [out] = await make_notifier(settings, MemoryMailer()).run_finished(defn, make_result(status))
    assert out.ok and fail.call_count == 1


async def test_no_closing_ping_for_skipped(respx_mock: respx.MockRouter) -> None:
    settings = make_settings()
    defn = make_definition(heartbeat_url=HB)
    assert (
        await make_notifier(settings, MemoryMailer()).run_finished(
            defn, make_result(RunStatus.SKIPPED)
        )
        == []
    )


async def test_start_ping_never_delays_the_run(respx_mock: respx.MockRouter) -> None:
    release, reached = asyncio.Event(), asyncio.Event()
    respx_mock.get(f"{HB}/start").mock(side_effect=hanging(release, reached))
    settings = make_settings()
    notifier = make_notifier(settings, MemoryMailer(), deadline=60.0)
    before = time.monotonic()
    notifier.run_started(make_definition(heartbeat_url=HB), make_result(RunStatus.RUNNING))
    assert time.monotonic() - before < 0.5  # returns at once, the ping is a background task
    tasks = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    await asyncio.wait_for(reached.wait(), timeout=30)
    closing = time.monotonic()
    await notifier.aclose()  # waits its brief grace (2s), then cancels the ping
    assert time.monotonic() - closing < 10.0
    assert tasks and all(t.done() for t in tasks)
    release.set()


async def test_hanging_ping_is_cut_at_its_timeout(respx_mock: respx.MockRouter) -> None:
    release = asyncio.Event()
    respx_mock.post(f"{HB}/fail").mock(side_effect=hanging(release))
    settings = make_settings()
    started = time.monotonic()
    [out] = await make_notifier(settings, MemoryMailer(), deadline=0.3).run_finished(
        make_definition(heartbeat_url=HB), make_result()
    )
    assert (out.ok, out.error) == (False, "timed out after 0.3s")
    assert time.monotonic() - started < 3.0
    release.set()


async def test_failed_start_ping_is_reported_with_the_result(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{HB}/start").mock(side_effect=httpx.ConnectError("refused"))
    respx_mock.post(HB).respond(200)
    settings = make_settings()
    notifier = make_notifier(settings, MemoryMailer(), retries=0)
    defn = make_definition(heartbeat_url=HB)
    notifier.run_started(defn, make_result(RunStatus.RUNNING))
    outcomes = await notifier.run_finished(defn, make_result(RunStatus.SUCCEEDED))
    assert [(o.ok, o.error) for o in outcomes] == [
        (False, "start ping: ConnectError: refused"),
        (True, None),
    ]


async def test_everything_at_once_runs_concurrently(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).respond(200)
    respx_mock.post(f"{HB}/fail").respond(200)
    settings = make_settings(webhook_url=SecretStr(HOOK), notify_to=["ops@example.com"])
    mailer = MemoryMailer()
    outcomes = await make_notifier(settings, mailer).run_finished(
        make_definition(heartbeat_url=HB), make_result()
    )
    assert sorted((o.channel, o.ok) for o in outcomes) == [
        ("email", True),
        ("heartbeat", True),
        ("webhook", True),
    ]
