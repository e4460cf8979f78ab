"""What the CLI prints: tables, the start-up summary, JSON rows.

Nothing here prints a secret: the store URL goes through
:func:`~asyncjobs.stores.redact_url`, the mailer is described by host, port
and user name only, and no ``SecretStr`` value is ever read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from asyncjobs.app import App
from asyncjobs.definition import JobDefinition
from asyncjobs.result import JobResult
from asyncjobs.stores import redact_url

__all__ = (
    "describe_mailer",
    "format_duration",
    "format_time",
    "history_table",
    "job_row",
    "jobs_table",
    "startup_summary",
    "table",
)

_ERROR_WIDTH = 60


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a header line."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def format_time(when: datetime | None, zone: str) -> str:
    """``2026-01-01 06:00:00 CET`` in ``zone``, or ``-``."""
    if when is None:
        return "-"
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def format_duration(seconds: float | None) -> str:
    """``0.42s``, ``12.3s``, ``45s``, ``4m05s``, ``2h``, ``2h03m`` or ``-``."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.0f}s" if float(seconds).is_integer() else f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"


def _first_line(text: str | None, width: int = _ERROR_WIDTH) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def job_row(app: App, definition: JobDefinition, last: JobResult | None) -> dict[str, Any]:
    """One job as a JSON-safe object (the ``list --json`` row)."""
    next_run = app.next_run_time(definition.name)
    return {
        "name": definition.name,
        "schedule": definition.describe_schedule(),
        "timezone": definition.timezone,
        "next_run_time": next_run.isoformat() if next_run else None,
        "timeout": definition.timeout,
        "retries": definition.retries,
        "overlap": definition.overlap,
        "max_instances": definition.max_instances,
        "limiter": definition.limiter,
        "enabled": definition.enabled,
        "description": definition.description,
        "last_status": last.status.value if last else None,
        "last_run_at": _last_time(last),
        "last_run_id": last.run_id if last else None,
    }


def _last_time(last: JobResult | None) -> str | None:
    if last is None:
        return None
    when = last.started_at or last.scheduled_for or last.completed_at
    return when.isoformat() if when else None


def jobs_table(app: App, rows: Sequence[dict[str, Any]]) -> str:
    """The ``list`` table; times in each job's own timezone."""
    if not rows:
        return "no jobs defined"
    body = []
    for row in rows:
        zone = row["timezone"]
        next_run = row["next_run_time"]
        last_at = row["last_run_at"]
        schedule = row["schedule"] if row["enabled"] else f"{row['schedule']} (disabled)"
        last = "-"
        if row["last_status"]:
            last = (
                f"{row['last_status']} {format_time(datetime.fromisoformat(last_at), zone)}"
                if last_at
                else row["last_status"]
            )
        body.append(
            [
                row["name"],
                schedule,
                zone,
                format_time(datetime.fromisoformat(next_run), zone) if next_run else "-",
                format_duration(row["timeout"]),
                row["overlap"],
                last,
            ]
        )
    headers = ["NAME", "SCHEDULE", "TIMEZONE", "NEXT RUN", "TIMEOUT", "OVERLAP", "LAST RUN"]
    return table(headers, body)


def history_table(results: Sequence[JobResult], zone: str) -> str:
    """The ``history`` table, newest first; the error's first line, shortened."""
    if not results:
        return "no runs recorded"
    body = [
        [
            format_time(r.started_at or r.scheduled_for or r.completed_at, zone),
            r.job,
            r.run_id,
            r.status.value,
            r.trigger,
            format_duration(r.duration_seconds),
            str(r.attempts),
            _first_line(f"{r.error_type}: {r.error}" if r.error_type else r.error),
        ]
        for r in results
    ]
    headers = ["STARTED", "JOB", "RUN ID", "STATUS", "TRIGGER", "DURATION", "TRIES", "ERROR"]
    return table(headers, body)


def describe_mailer(app: App) -> str:
    """The mail backend in words: host, port, security and user; never the password."""
    from asyncjobs.mail import ConsoleMailer, DisabledMailer, FileMailer, MemoryMailer, SmtpMailer

    mailer = app.mailer
    if isinstance(mailer, SmtpMailer):
        user = f", user {mailer.username}" if mailer.username else ""
        return f"smtp {mailer.host}:{mailer.port} ({mailer.security}{user})"
    if isinstance(mailer, ConsoleMailer):
        return "console (messages are printed to stdout)"
    if isinstance(mailer, FileMailer):
        return f"file (.eml files in {app.settings.mail_outbox_dir})"
    if isinstance(mailer, MemoryMailer):
        return "memory (kept in memory, for tests)"
    if isinstance(mailer, DisabledMailer):
        return "disabled (no mail is sent)"
    return type(mailer).__name__


def startup_summary(app: App, source: str) -> str:
    """What ``run`` prints before serving: jobs, schedules, next runs, store, mail."""
    settings = app.settings
    rows = [job_row(app, d, None) for d in app.jobs.values()]
    notify_to = ", ".join(settings.notify_to) or "nobody"
    lines = [
        f"asyncjobs serving {len(rows)} job(s) from {source}",
        f"  store:    {redact_url(settings.store_url_value)}",
        f"  mail:     {describe_mailer(app)}",
        f"  notify:   on {settings.notify_on}, to {notify_to}",
        f"  timezone: {settings.timezone}",
        f"  shutdown: drain up to {format_duration(settings.shutdown_grace)}, then cancel",
        "",
        jobs_table(app, rows),
    ]
    return "\n".join(lines)
