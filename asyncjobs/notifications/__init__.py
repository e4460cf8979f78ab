"""Run notifications: email, webhook and heartbeat pings."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from asyncjobs.mail.base import Mailer
from asyncjobs.notifications.base import Notifier
from asyncjobs.settings import Settings

__all__ = ("Notifier", "build_notifier")


class _Silent(Notifier):
    def run_started(self, definition, result):  # type: ignore[no-untyped-def]
        return None

    async def run_finished(self, definition, result):  # type: ignore[no-untyped-def]
        return []


def build_notifier(
    settings: Settings, http: Callable[[], httpx.AsyncClient], mailer: Callable[[], Mailer]
) -> Notifier:
    """The app's notifier (placeholder until the notifications issue lands)."""
    return _Silent()
