"""Which final statuses a notify policy (``failure|always|success|never``) reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncjobs.result import FINAL_STATUSES, RunStatus
from asyncjobs.settings import NotifyPolicy, Settings

if TYPE_CHECKING:
    from asyncjobs.definition import JobDefinition

__all__ = ("FAILURE_STATUSES", "policy_for", "recipients_for", "wants")

#: What ``notify="failure"`` reports and heartbeats ping ``/fail`` for: the job
#: did not do its work. ``skipped`` (the previous run is still going) and
#: ``cancelled`` (shutdown or ``overlap="replace"``) are not failures.
FAILURE_STATUSES = frozenset(
    {RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABANDONED, RunStatus.MISSED}
)


def policy_for(definition: JobDefinition | None, settings: Settings) -> NotifyPolicy:
    """The job's ``notify``, or ``settings.notify_on``."""
    if definition is not None and definition.notify is not None:
        return definition.notify
    return settings.notify_on


def recipients_for(definition: JobDefinition | None, settings: Settings) -> tuple[str, ...]:
    """The job's ``notify_to``, or ``settings.notify_to``."""
    if definition is not None and definition.notify_to is not None:
        return definition.notify_to
    return tuple(settings.notify_to)


def wants(policy: NotifyPolicy, status: RunStatus) -> bool:
    """True when ``policy`` asks for a notification about a run ending in ``status``."""
    if status not in FINAL_STATUSES:
        return False
    if policy == "always":
        return True
    if policy == "failure":
        return status in FAILURE_STATUSES
    if policy == "success":
        return status is RunStatus.SUCCEEDED
    return False
