"""``AsyncResource``: ``async with`` for anything with ``open`` and ``aclose``.

Stores, mailers and the app's runtime are all resources: entering opens,
leaving closes, always (the pattern of anyio's ``AsyncResource``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ("AsyncResource",)


class AsyncResource:
    """Base class: ``async with resource:`` calls :meth:`open`, then :meth:`aclose`."""

    __slots__ = ()

    async def open(self) -> None:
        """Acquire what the resource needs; the default needs nothing."""

    async def aclose(self) -> None:
        """Release it; safe to call twice. The default holds nothing."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
