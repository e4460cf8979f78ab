"""Exceptions raised by asyncjobs.

::

    AsyncJobsError             base of everything asyncjobs raises on purpose
    ├── ConfigError            bad settings, schedule, name or override; names the job and field
    └── UnknownJobError        a run was asked for a job name the app does not have

A job's own failure is never raised to the caller of ``run_async``: it is
reported in the returned :class:`~asyncjobs.JobResult`.
"""

from __future__ import annotations

__all__ = ("AsyncJobsError", "ConfigError", "UnknownJobError")


class AsyncJobsError(Exception):
    """Base class of every exception asyncjobs raises on purpose."""


class ConfigError(AsyncJobsError, ValueError):
    """Bad configuration, detected before anything runs.

    The message is one line naming the job (when there is one) and the field,
    for example ``job 'daily_report': cron: expected 5 fields, got 4``.
    """

    def __init__(self, message: str, *, job: str | None = None, field: str | None = None) -> None:
        self.job = job
        self.field = field
        parts = []
        if job is not None:
            parts.append(f"job {job!r}")
        if field is not None:
            parts.append(field)
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnknownJobError(AsyncJobsError, LookupError):
    """No job of that name is registered with the app."""

    def __init__(self, name: str, known: list[str] | None = None) -> None:
        self.name = name
        hint = f" (known jobs: {', '.join(sorted(known))})" if known else ""
        super().__init__(f"unknown job {name!r}{hint}")
