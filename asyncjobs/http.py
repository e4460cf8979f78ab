"""The one place that builds httpx clients.

One ``httpx.AsyncClient`` per app serves ``ctx.http``, webhooks and heartbeat
pings; it is closed with the app.
"""

from __future__ import annotations

import httpx

from asyncjobs.settings import Settings

__all__ = ("build_http_client",)


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """A client with the app's timeout; redirects are not followed."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout),
        follow_redirects=False,
        headers={"User-Agent": "asyncjobs"},
    )
