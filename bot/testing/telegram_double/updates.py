"""The update queue: what users did, waiting for ``getUpdates`` (long polling included)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any

from bot.testing.telegram_double.base import Base


class UpdateQueue(Base):
    """Queueing updates, handing them out, confirming them, and waking the pollers."""

    def _push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        self._updates.append(update)
        self._wake_update_waiters(True)
        return copy.deepcopy(update)

    def _wake_update_waiters(self, value: bool) -> None:
        waiters, self._update_waiters = self._update_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(value)

    def _allowed(self, update: Mapping[str, Any]) -> bool:
        if not self._allowed_updates:
            return True
        return any(key in self._allowed_updates for key in update if key != "update_id")

    def pending_updates(self, offset: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Queued updates with ``update_id >= offset`` (negative: the last ``-offset``).

        Pure read: nothing is confirmed.

        Returns:
            Deep copies of at most ``limit`` updates, oldest first.
        """
        updates = [u for u in self._updates if self._allowed(u)]
        if offset is not None and offset < 0:
            updates = updates[offset:]
        elif offset:
            updates = [u for u in updates if u["update_id"] >= offset]
        return copy.deepcopy(updates[: max(1, min(limit, 100))])

    def confirm_updates(self, offset: int) -> None:
        """Forget updates below ``offset`` (negative: keep only the last ``-offset``)."""
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def discard_update(self, update_id: int) -> None:
        """Drop one update from the queue (an in-process driver delivered it itself)."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]

    async def wait_for_updates(self, timeout: float) -> bool:  # noqa: ASYNC109 - API contract
        """Wait until a new update is queued.

        Args:
            timeout: Seconds to wait at most.

        Returns:
            True if an update arrived, False on timeout or when waiters were released.
        """
        return await self._wait_update(timeout, poll=False)

    async def _wait_update(self, seconds: float, *, poll: bool) -> bool:
        if seconds <= 0:
            return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._update_waiters.append(waiter)
        if poll:
            self._poll_waiter = waiter
        try:
            return await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            return False
        finally:
            if waiter in self._update_waiters:
                self._update_waiters.remove(waiter)
            if self._poll_waiter is waiter:
                self._poll_waiter = None

    def release_waiters(self) -> None:
        """End all pending long polls now (they answer an empty result); used on shutdown."""
        self._release_generation += 1
        self._wake_update_waiters(False)
