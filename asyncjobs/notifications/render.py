"""The words of a result notification: subject, text part, HTML part, one-line summary.

Everything that came from the job (its name, error, traceback, returned data)
is HTML-escaped in the HTML part and bounded in length, with a marker saying
how much was cut.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any

from asyncjobs.result import JobResult

__all__ = ("render_html", "render_subject", "render_text", "summary_line", "truncate")

ERROR_LIMIT = 4_000
TRACEBACK_LIMIT = 20_000
VALUE_LIMIT = 1_000
DATA_ROWS = 50


def truncate(value: str, limit: int, *, keep: str = "head") -> str:
    """``value`` cut to about ``limit`` characters with a marker; ``keep="tail"`` keeps the end.

    Tracebacks keep their tail: the innermost frames and the exception are there.
    """
    if len(value) <= limit:
        return value
    cut = len(value) - limit
    marker = f"… [truncated {cut} characters]"
    if keep == "tail":
        return f"{marker}\n{value[-limit:]}"
    return value[:limit] + marker


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if value is not None else "-"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return truncate(text, VALUE_LIMIT)


def _fields(result: JobResult) -> list[tuple[str, str]]:
    duration = result.duration_seconds
    return [
        ("Status", result.status.value),
        ("Trigger", result.trigger),
        ("Scheduled for", _when(result.scheduled_for)),
        ("Started", _when(result.started_at)),
        ("Completed", _when(result.completed_at)),
        ("Duration", f"{duration:.2f}s" if duration is not None else "-"),
        ("Attempts", str(result.attempts)),
        ("Run id", result.run_id),
    ]


def _data_rows(result: JobResult) -> tuple[list[tuple[str, str]], int]:
    items = list((result.data or {}).items())
    rows = [(truncate(str(k), 200), _value(v)) for k, v in items[:DATA_ROWS]]
    return rows, len(items) - len(rows)


def _error(result: JobResult) -> str | None:
    if result.error is None and result.error_type is None:
        return None
    prefix = f"{result.error_type}: " if result.error_type else ""
    return truncate(prefix + (result.error or ""), ERROR_LIMIT)


def summary_line(result: JobResult, host: str) -> str:
    """``daily_report 3f2a9c1e failed in 1.20s (3 attempts): ValueError: boom on web-1``."""
    return truncate(f"{result.summary()} on {host}", 1_000)


def render_subject(result: JobResult, host: str) -> str:
    """``[asyncjobs] daily_report failed on web-1`` (header folding happens in the mailer)."""
    return f"[asyncjobs] {result.job} {result.status.value.replace('_', ' ')} on {host}"


def render_text(result: JobResult, host: str) -> str:
    """The plain-text part."""
    lines = [f"{result.job} {result.status.value} on {host}", ""]
    width = max(len(name) for name, _ in _fields(result)) + 2
    lines += [f"{name + ':':<{width}}{value}" for name, value in _fields(result)]
    error = _error(result)
    if error is not None:
        lines += ["", "Error:", error]
    if result.traceback:
        lines += [
            "",
            "Traceback:",
            truncate(result.traceback.rstrip(), TRACEBACK_LIMIT, keep="tail"),
        ]
    rows, more = _data_rows(result)
    if rows:
        lines += ["", "Data:"] + [f"  {key}: {value}" for key, value in rows]
        if more:
            lines.append(f"  … and {more} more")
    return "\n".join(lines) + "\n"


_CELL = 'style="padding:2px 12px 2px 0;vertical-align:top;text-align:left"'
_PRE = 'style="white-space:pre-wrap;font-family:monospace;font-size:12px"'


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th {_CELL}>{escape(k)}</th><td {_CELL}>{escape(v)}</td></tr>" for k, v in rows
    )
    return f'<table style="border-collapse:collapse">{body}</table>'


def render_html(result: JobResult, host: str) -> str:
    """The HTML part: every value from the job escaped."""
    colour = "#1a7f37" if result.success else "#cf222e"
    parts = [
        '<html><body style="font-family:sans-serif">',
        f'<h2 style="color:{colour}">{escape(result.job)} {escape(result.status.value)}'
        f" on {escape(host)}</h2>",
        _table(_fields(result)),
    ]
    error = _error(result)
    if error is not None:
        parts.append(f"<h3>Error</h3><pre {_PRE}>{escape(error)}</pre>")
    if result.traceback:
        tb = truncate(result.traceback.rstrip(), TRACEBACK_LIMIT, keep="tail")
        parts.append(f"<h3>Traceback</h3><pre {_PRE}>{escape(tb)}</pre>")
    rows, more = _data_rows(result)
    if rows:
        parts.append("<h3>Data</h3>" + _table(rows))
        if more:
            parts.append(f"<p>… and {more} more</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
