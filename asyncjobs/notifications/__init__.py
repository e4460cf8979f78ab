"""Run notifications: email, webhook and heartbeat pings.

The runner calls :meth:`Notifier.run_started` when a run starts and
:meth:`Notifier.run_finished` with every final result; the outcomes it
returns are kept in ``JobResult.notifications``.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from asyncjobs.http import install_log_redaction
from asyncjobs.mail.base import Mailer
from asyncjobs.notifications.base import Notifier
from asyncjobs.notifications.notifier import ResultNotifier
from asyncjobs.notifications.policy import FAILURE_STATUSES
from asyncjobs.settings import Settings

__all__ = ("FAILURE_STATUSES", "Notifier", "ResultNotifier", "build_notifier")


def build_notifier(
    settings: Settings, http: Callable[[], httpx.AsyncClient], mailer: Callable[[], Mailer]
) -> Notifier:
    """The app's notifier. ``http`` and ``mailer`` are called only when a notification is sent."""
    install_log_redaction()
    return ResultNotifier(settings, http=http, mailer=mailer)
