"""What the SQL stores share: the row layout, ``JobResult`` <-> row, truncation.

A history row is plain columns plus two JSON texts (``data`` and
``notifications``); nothing is pickled. Oversized values are cut here, once,
before either SQL store writes them:

* ``data`` whose JSON is over :data:`MAX_DATA_BYTES` becomes
  ``{"_truncated": true, "size": <bytes>, "preview": "<start of the JSON>"}``;
* ``traceback`` and ``error`` over :data:`MAX_TEXT_CHARS` keep their head and
  tail (the tail of a traceback names the exception) around a
  ``... [truncated N characters] ...`` line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic_core import to_json

from asyncjobs.result import JobResult, NotificationOutcome

__all__ = (
    "ABANDONED_ERROR",
    "COLUMNS",
    "MAX_DATA_BYTES",
    "MAX_TEXT_CHARS",
    "PREVIEW_CHARS",
    "bounded",
    "encode_data",
    "result_to_row",
    "row_to_result",
    "truncate_text",
    "utc",
)

T = TypeVar("T")

#: Largest ``data`` stored as is, measured as UTF-8 JSON.
MAX_DATA_BYTES = 64 * 1024
#: How much of an oversized ``data`` JSON is kept as ``preview``.
PREVIEW_CHARS = 1024
#: Largest ``traceback`` or ``error`` stored as is.
MAX_TEXT_CHARS = 16 * 1024
#: The ``error`` of a row marked ``abandoned`` (the same text as ``MemoryStore``).
ABANDONED_ERROR = "the process running it stopped renewing its lease"

#: History columns in the order of :func:`result_to_row`; ``seq`` and
#: ``lease_expires_at`` are the stores' own.
COLUMNS: tuple[str, ...] = (
    "run_id",
    "job",
    "status",
    "trigger",
    "scheduled_for",
    "started_at",
    "completed_at",
    "duration_seconds",
    "attempts",
    "error",
    "error_type",
    "traceback",
    "data",
    "notifications",
)


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    tz = value.tzinfo
    if tz is UTC:  # the common case, and astimezone is not free
        return value
    if tz is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def truncate_text(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """``text`` cut to about ``limit`` characters, keeping its head and its tail."""
    if text is None or len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head - 64  # room for the marker line
    cut = len(text) - head - tail
    return f"{text[:head]}\n... [truncated {cut} characters] ...\n{text[-tail:]}"


def encode_data(data: dict[str, Any] | None) -> str | None:
    """``data`` as JSON text, replaced by a marker object when it is too large.

    Values JSON cannot hold are written the way pydantic writes them
    (datetimes as ISO text) or, failing that, as their ``str()``.
    """
    if data is None:
        return None
    raw = to_json(data, serialize_unknown=True)
    if len(raw) <= MAX_DATA_BYTES:
        return raw.decode()
    text = raw.decode()
    marker = {"_truncated": True, "size": len(raw), "preview": text[:PREVIEW_CHARS]}
    return json.dumps(marker)


def _encode_notifications(items: list[NotificationOutcome]) -> str | None:
    if not items:
        return None
    return to_json(items).decode()


def result_to_row(result: JobResult, time: Callable[[datetime], T]) -> tuple[Any, ...]:
    """``result`` as values for :data:`COLUMNS`, truncated; ``time`` encodes UTC datetimes."""

    def when(value: datetime | None) -> T | None:
        return None if value is None else time(utc(value))

    return (
        result.run_id,
        result.job,
        result.status.value,
        result.trigger,
        when(result.scheduled_for),
        when(result.started_at),
        when(result.completed_at),
        result.duration_seconds,
        result.attempts,
        truncate_text(result.error),
        result.error_type,
        truncate_text(result.traceback),
        encode_data(result.data),
        _encode_notifications(result.notifications),
    )


def row_to_result(row: Sequence[Any], time: Callable[[Any], datetime]) -> JobResult:
    """A ``JobResult`` from a row holding :data:`COLUMNS` in order; ``time`` decodes times."""
    fields = dict(zip(COLUMNS, row, strict=True))
    for name in ("scheduled_for", "started_at", "completed_at"):
        if fields[name] is not None:
            fields[name] = time(fields[name])
    fields["data"] = None if fields["data"] is None else json.loads(fields["data"])
    notes = fields["notifications"]
    fields["notifications"] = [] if notes is None else json.loads(notes)
    return JobResult.model_validate(fields)


def bounded(result: JobResult) -> JobResult:
    """``result`` as a store keeps it: oversized values cut, times in UTC.

    For stores that keep objects rather than rows (``MemoryStore``), so that
    what a test reads back is what SQLite or PostgreSQL would give.
    """
    changes: dict[str, Any] = {}
    if result.data is not None:
        text = encode_data(result.data)
        if text is not None and text.startswith('{"_truncated"'):
            changes["data"] = json.loads(text)
    for name in ("error", "traceback"):
        value = getattr(result, name)
        if value is not None and len(value) > MAX_TEXT_CHARS:
            changes[name] = truncate_text(value)
    for name in ("scheduled_for", "started_at", "completed_at"):
        value = getattr(result, name)
        if value is not None and value.utcoffset() != timedelta(0):
            changes[name] = utc(value)
    return result.model_copy(update=changes) if changes else result
