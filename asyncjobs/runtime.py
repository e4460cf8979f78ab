"""The resources of one app session, opened and closed together.

A session is either a started app (``async with app:``) or one
``run_async`` call outside a started app. Its store, HTTP client (made on
first use), notifier and runner share one :class:`contextlib.AsyncExitStack`,
so they close in reverse order, always.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from asyncjobs.http import build_http_client
from asyncjobs.limits import Limits
from asyncjobs.mail.base import Mailer
from asyncjobs.resource import AsyncResource
from asyncjobs.runner import Listener, Runner
from asyncjobs.settings import Settings
from asyncjobs.stores.base import Store

if TYPE_CHECKING:
    import httpx

__all__ = ("Runtime",)


class Runtime(AsyncResource):
    """Store, HTTP client, mailer, notifier, limits and runner for one session."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        mailer: Mailer,
        listeners: list[Listener],
        limiters: Mapping[str, int],
    ) -> None:
        self.settings = settings
        self.store = store
        self.mailer = mailer
        self._listeners = listeners
        self._limiters = dict(limiters)
        self._http: httpx.AsyncClient | None = None
        self._stack = AsyncExitStack()
        self.runner: Runner

    @property
    def http(self) -> httpx.AsyncClient:
        """The session's HTTP client, made on first use."""
        if self._http is None:
            self._http = build_http_client(self.settings)
        return self._http

    def _get_http(self) -> httpx.AsyncClient:
        return self.http

    def _get_mailer(self) -> Mailer:
        return self.mailer

    async def open(self) -> None:
        """Open the store and set up the notifier and runner."""
        from asyncjobs.notifications import build_notifier  # only when a run can happen

        stack = self._stack
        await stack.enter_async_context(self.store)
        try:
            stack.push_async_callback(self._close_http)
            stack.push_async_callback(self.mailer.aclose)
            notifier = build_notifier(self.settings, self._get_http, self._get_mailer)
            stack.push_async_callback(notifier.aclose)
        except BaseException:
            await stack.aclose()  # the store is open: close it before raising
            raise
        self.runner = Runner(
            settings=self.settings,
            store=self.store,
            notifier=notifier,
            limits=Limits(self.settings.max_concurrent_runs, self._limiters),
            listeners=self._listeners,
            http=self._get_http,
            mailer=self._get_mailer,
        )

    async def aclose(self) -> None:
        """Close everything opened, in reverse order."""
        await self._stack.aclose()

    async def _close_http(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
