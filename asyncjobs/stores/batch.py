"""Group commit, shared by the SQL stores.

:meth:`GroupCommit.submit` queues a write and waits for its own answer. One
flusher task sends everything queued so far as one batch (one transaction),
and the writes queued while that batch is in flight form the next one. The
flusher is created, not run, by the first write of a loop iteration, so every
write issued in that iteration joins its batch. A burst of runs thus costs a
few commits, not one per run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ("GroupCommit", "Outcome")

W = TypeVar("W")
#: ``(True, value)`` or ``(False, exception)``, one per write of a batch.
Outcome = tuple[bool, Any]


class GroupCommit(Generic[W]):
    """The queue of writes and its flusher.

    ``send(writes)`` commits a batch and returns one :data:`Outcome` per write;
    ``closed()`` is the error for writes still queued when the flusher stops.
    """

    __slots__ = ("_closed", "_flusher", "_max_batch", "_pending", "_send")

    def __init__(
        self,
        send: Callable[[list[W]], Awaitable[list[Outcome]]],
        closed: Callable[[], Exception],
        max_batch: int,
    ) -> None:
        self._send = send
        self._closed = closed
        self._max_batch = max_batch
        self._pending: list[tuple[W, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, write: W) -> Any:
        """Queue ``write`` for the next batch; its value once committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def drain(self) -> None:
        """Wait until every queued write has been committed (or has failed)."""
        if self._flusher is not None:
            await asyncio.wait([self._flusher])

    async def _flush(self) -> None:
        batch: list[tuple[W, asyncio.Future[Any]]] = []
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    outcomes = await self._send([write for write, _ in batch])
                except Exception as exc:
                    outcomes = [(False, exc)] * len(batch)
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():  # its caller was cancelled; the write still happened
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
                batch = []
        finally:
            self._flusher = None
            for _, future in batch + self._pending:
                if not future.done():
                    future.set_exception(self._closed())
            self._pending = []
