"""Every user served at once: updates of different people run concurrently, one person's in order.

PTB hands each update to the Application's update processor as its own task, in the order
Telegram delivered them. :class:`PerPersonUpdateProcessor` keeps one lock per person (per chat
for updates without a user) so a person's second tap waits for their first, while other people's
updates go ahead. A semaphore taken *after* the person's lock bounds how many updates are worked
on at once, so a person with a backlog holds at most one of those places.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

#: Updates worked on at once (handlers mostly wait on the database threads or on Telegram).
MAX_CONCURRENT = 32

#: Updates PTB may hold waiting (their person's lock or a place); far above any real backlog.
MAX_WAITING = 4096


def update_key(update: object) -> tuple[str, int] | None:
    """Whose update this is: the user, else the chat; None for updates of nobody in particular."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Serializes updates per person; runs different people's updates concurrently.

    Args:
        max_concurrent: Updates worked on at once, all people together.
    """

    def __init__(self, max_concurrent: int = MAX_CONCURRENT) -> None:
        super().__init__(MAX_WAITING)
        self.max_concurrent = max_concurrent
        self._slots = asyncio.BoundedSemaphore(max_concurrent)
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self._waiting: dict[tuple[str, int], int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this person's earlier updates, then for a place, then handle the update."""
        key = update_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # nobody of this person queued: forget the lock
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
