"""Factories for notification tests: definitions, results and a notifier wired to real parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from asyncjobs.definition import JobDefinition, build_definition
from asyncjobs.http import build_http_client
from asyncjobs.mail.base import Mailer
from asyncjobs.notifications import ResultNotifier
from asyncjobs.notifications.delivery import HttpPolicy
from asyncjobs.result import JobResult, RunStatus
from asyncjobs.settings import Settings

__all__ = ("make_definition", "make_notifier", "make_result", "make_settings")

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def make_settings(**values: Any) -> Settings:
    """Settings for tests: memory store and mailer, unless told otherwise."""
    values.setdefault("store_url", "memory://")
    values.setdefault("mail_backend", "memory")
    return Settings(**values)


def make_definition(
    name: str = "daily_report", settings: Settings | None = None, **options: Any
) -> JobDefinition:
    """A definition built the way ``@app.job`` builds one."""

    async def job(ctx: object) -> None:
        return None

    return build_definition(name, job, options, settings or make_settings())


def make_result(
    status: RunStatus = RunStatus.FAILED, job: str = "daily_report", **fields: Any
) -> JobResult:
    """A final result with plausible times."""
    values: dict[str, Any] = {
        "job": job,
        "run_id": "3f2a9c1e",
        "status": status,
        "trigger": "schedule",
        "scheduled_for": T0,
        "started_at": T0 + timedelta(seconds=1),
        "completed_at": T0 + timedelta(seconds=3.5),
        "duration_seconds": 2.5,
        "attempts": 1,
    }
    if status is RunStatus.FAILED:
        values.update(
            error="boom", error_type="ValueError", traceback="Traceback ...\nValueError: boom"
        )
    values.update(fields)
    return JobResult(**values)


def make_notifier(
    settings: Settings,
    mailer: Mailer,
    client: httpx.AsyncClient | None = None,
    *,
    deadline: float = 2.0,
    retries: int = 2,
) -> ResultNotifier:
    """A notifier over a real mailer and a real httpx client (respx stands in for the far end)."""
    http = client or build_http_client(settings)
    return ResultNotifier(
        settings,
        http=lambda: http,
        mailer=lambda: mailer,
        host="test-host",
        http_policy=HttpPolicy(deadline=deadline, retries=retries, retry_delay=0.01),
    )
