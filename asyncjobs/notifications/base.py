"""The notifier interface the runner calls for every run."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from asyncjobs.result import JobResult, NotificationOutcome

if TYPE_CHECKING:
    from asyncjobs.definition import JobDefinition

__all__ = ("Notifier",)


class Notifier(ABC):
    """Tells the outside world about runs (email, webhook, heartbeat pings).

    Implementations never raise and never change a run's status: a failed
    notification is logged and returned as a :class:`NotificationOutcome`.
    """

    @abstractmethod
    def run_started(self, definition: JobDefinition, result: JobResult) -> None:
        """A run started; must not block or delay it (fire and forget)."""

    @abstractmethod
    async def run_finished(
        self, definition: JobDefinition | None, result: JobResult
    ) -> list[NotificationOutcome]:
        """A run reached a final status; send what the job's notify policy asks for.

        ``definition`` is ``None`` for an abandoned run of a job no longer defined.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Wait briefly for pings in flight, then stop."""
