"""Logging: run context on every record, text and JSON formats.

:func:`install_record_factory` wraps the process's log record factory once so
that a record created while a run is current (see
:data:`asyncjobs.context.current_run`) gets ``job`` and ``run_id``
attributes, whichever logger made it. Outside a run both are ``None``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from asyncjobs.context import current_run

__all__ = ("JsonFormatter", "TextFormatter", "configure_logging", "install_record_factory")

_installed = False


def install_record_factory() -> None:
    """Make every log record carry ``job`` and ``run_id`` (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        ctx = current_run.get()
        if ctx is None:
            record.job = None
            record.run_id = None
        else:
            record.job = ctx.job
            record.run_id = ctx.run_id
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class TextFormatter(logging.Formatter):
    """``2026-01-01 06:00:00,123 INFO [daily_report:3f2a9c1e] name: message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(run_tag)s%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        job = getattr(record, "job", None)
        record.run_tag = f"[{job}:{getattr(record, 'run_id', None)}] " if job else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, job, run_id, exc."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "job": getattr(record, "job", None),
            "run_id": getattr(record, "run_id", None),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send asyncjobs' and the jobs' logs to stderr in the chosen format.

    Used by the CLI; an embedding program keeps its own logging set-up and
    still gets ``job`` and ``run_id`` on every record.
    """
    install_record_factory()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_asyncjobs", False)]:
        root.removeHandler(old)
    handler._asyncjobs = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
