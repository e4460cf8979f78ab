"""What a job receives (:class:`RunContext`) and the run's context variable.

The current run rides on one :class:`contextvars.ContextVar`; the logging
record factory reads it, so every record created during a run, by any logger
and in worker threads too, carries ``job`` and ``run_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from asyncjobs.result import Trigger

if TYPE_CHECKING:
    import httpx

    from asyncjobs.definition import JobDefinition
    from asyncjobs.mail.base import Mailer
    from asyncjobs.settings import Settings

__all__ = ("RunContext", "current_run")


@dataclass(slots=True, kw_only=True)
class RunContext:
    """Handed to every job run.

    ``http`` (one shared ``httpx.AsyncClient`` per app) and ``mailer`` are
    made on first use. ``idempotency_key`` is the same for every attempt of
    a run and, for scheduled runs, for every replica: ``<job>:<tick ISO time>``.
    """

    job: str
    run_id: str
    scheduled_for: datetime | None
    attempt: int
    trigger: Trigger
    log: logging.Logger
    settings: Settings
    definition: JobDefinition = field(repr=False)
    _http: Callable[[], httpx.AsyncClient] = field(repr=False)
    _mailer: Callable[[], Mailer] = field(repr=False)

    @property
    def idempotency_key(self) -> str:
        """``<job>:<tick ISO time>`` for scheduled runs, ``<job>:<run_id>`` for manual ones."""
        if self.scheduled_for is not None:
            return f"{self.job}:{self.scheduled_for.isoformat()}"
        return f"{self.job}:{self.run_id}"

    @property
    def http(self) -> httpx.AsyncClient:
        """The app's shared HTTP client."""
        return self._http()

    @property
    def mailer(self) -> Mailer:
        """The app's configured mailer."""
        return self._mailer()


#: The run the current task (or worker thread) belongs to.
current_run: ContextVar[RunContext | None] = ContextVar("asyncjobs_current_run", default=None)
