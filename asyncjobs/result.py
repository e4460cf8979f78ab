"""The outcome of one run: :class:`RunStatus`, :class:`JobResult`.

A ``JobResult`` is also the history row: stores persist its fields as plain
columns and JSON, never pickles.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

__all__ = ("FINAL_STATUSES", "JobResult", "NotificationOutcome", "RunStatus", "Trigger")

Trigger = Literal["schedule", "manual", "catch_up"]


class RunStatus(StrEnum):
    """Where a run is, or how it ended."""

    #: started and not finished yet (holds a lease in the store)
    RUNNING = "running"
    #: the job returned normally
    SUCCEEDED = "succeeded"
    #: the job raised on its last attempt
    FAILED = "failed"
    #: the last attempt ran past the job's timeout
    TIMED_OUT = "timed_out"
    #: cut off by shutdown past ``shutdown_grace``, or replaced (``overlap="replace"``)
    CANCELLED = "cancelled"
    #: a scheduled tick not run because the previous run was still going (overlap policy)
    SKIPPED = "skipped"
    #: a scheduled tick that could not start within ``misfire_grace_time``
    MISSED = "missed"
    #: left ``running`` by a process that died; found once its lease expired
    ABANDONED = "abandoned"


FINAL_STATUSES = frozenset(RunStatus) - {RunStatus.RUNNING}


class NotificationOutcome(BaseModel):
    """What happened to one notification sent for a run (email, webhook, heartbeat)."""

    model_config = ConfigDict(frozen=True)

    channel: str
    ok: bool
    error: str | None = None


class JobResult(BaseModel):
    """One run of one job, as returned by ``run_async`` and kept in the history."""

    model_config = ConfigDict(extra="ignore")

    job: str
    run_id: str
    status: RunStatus
    trigger: Trigger = "manual"
    scheduled_for: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: float | None = None
    attempts: int = 0
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    data: dict[str, Any] | None = None
    notifications: list[NotificationOutcome] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        """True only when the run succeeded."""
        return self.status is RunStatus.SUCCEEDED

    def summary(self) -> str:
        """One human line: ``daily_report 3f2a9c1e succeeded in 1.20s (1 attempt)``."""
        line = f"{self.job} {self.run_id} {self.status.value}"
        if self.duration_seconds is not None:
            line += f" in {self.duration_seconds:.2f}s"
        if self.attempts:
            line += f" ({self.attempts} attempt{'s' if self.attempts != 1 else ''})"
        if self.error:
            first = self.error.splitlines()[0] if self.error.strip() else self.error
            line += f": {self.error_type + ': ' if self.error_type else ''}{first}"
        return line
