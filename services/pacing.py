"""Telegram's flood limits, shared by people's replies and the reminder fan-out.

Telegram answers ``429 Too Many Requests`` beyond about 30 messages a second overall, one a
second per chat (short bursts are tolerated) and 20 a minute per group. :class:`Pacer` keeps
the times of the messages this process sent (sliding windows, the model of
:mod:`bot.testing.telegram_double`) and says how long a new one must wait:

* a **person's reply** (interactive) waits only when Telegram would refuse it;
* the **fan-out** (reminders, digests, notices; "background") uses what the replies leave: at
  most :data:`BACKGROUND_PER_SECOND` a second in all (replies counted too), one a second per
  person, and never while a reply is waiting. So a reply never queues behind a broadcast, and
  the broadcast paces itself so that Telegram never has to answer 429.

:class:`PacedRateLimiter` is the PTB rate limiter that applies the pacer to every request of
the Application's bot; the sender (:mod:`services.sender`) asks the pacer itself and marks its
requests as already paced.

Only messages count (``send*``, ``copyMessage``, ``forwardMessage``): edits, callback answers
and the rest pass straight through, as Telegram does not count them in these limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

#: Telegram: messages in any one-second window, all chats together.
OVERALL_PER_SECOND = 30
#: Telegram: messages to one private chat in any window of PRIVATE_WINDOW seconds (a burst of 3,
#: one a second on average).
PRIVATE_BURST = 3
PRIVATE_WINDOW = 3.0
#: Telegram: messages to one group in any minute.
GROUP_PER_MINUTE = 20
#: The fan-out's share of the overall limit; the rest is kept for people's replies.
BACKGROUND_PER_SECOND = 29
#: The fan-out sends to one person at most once in this many seconds.
BACKGROUND_CHAT_GAP = 1.05
#: Added to every window (clocks and rounding).
MARGIN = 0.02
#: How often to look again when only answers still awaited stand in the way.
POLL = 0.005

#: Rate-limit arguments of a request the caller has already paced.
PACED = {"paced": True}

MESSAGE_METHODS = frozenset({"copymessage", "copymessages", "forwardmessage", "forwardmessages"})


def counts_as_message(endpoint: str) -> bool:
    """Whether Telegram counts this Bot API method against the message limits."""
    name = endpoint.lower()
    return (name.startswith("send") and name != "sendchataction") or name in MESSAGE_METHODS


def retry_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds."""
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    raw = exc.retry_after
    return raw.total_seconds() if isinstance(raw, timedelta) else float(raw)


def _chat_key(chat_id: object) -> int | str:
    with contextlib.suppress(TypeError, ValueError):
        return int(chat_id)  # type: ignore[call-overload]
    return str(chat_id)


def _is_group(chat: int | str) -> bool:
    return isinstance(chat, str) or chat < 0


class Pacer:
    """Sliding windows of sent messages and the waits they impose.

    Args:
        monotonic: Seconds of a monotonic clock (tests pass a fake one).
        sleep: How to wait (tests pass one that advances the fake clock).
        background_per_second: The fan-out's share of the overall limit.
    """

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        background_per_second: int = BACKGROUND_PER_SECOND,
    ) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self.background_per_second = background_per_second
        self._overall: deque[float] = deque()
        self._chats: dict[int | str, deque[float]] = {}
        self._hold_until = 0.0
        self._replies_waiting = 0
        self._flying = 0
        self._chat_flying: dict[int | str, int] = {}
        self.sent = 0
        self.background_sent = 0

    def _window(self, chat: int | str) -> tuple[int, float]:
        if _is_group(chat):
            return GROUP_PER_MINUTE, 60.0 + MARGIN
        return PRIVATE_BURST, PRIVATE_WINDOW + MARGIN

    def _prune(self, now: float) -> None:
        while self._overall and self._overall[0] <= now - 1.0 - MARGIN:
            self._overall.popleft()
        if len(self._chats) > 256:
            for chat in [c for c, q in self._chats.items() if not q or q[-1] <= now - 61.0]:
                del self._chats[chat]

    def wait_time(self, chat_id: object, *, background: bool = False) -> float:
        """Seconds until a message to ``chat_id`` would be within the limits (0: now)."""
        return max(self._waits(chat_id, background))

    def _waits(self, chat_id: object, background: bool) -> tuple[float, float]:
        """(wait for the overall limit, wait for the chat's own limits)."""
        now = self.monotonic()
        self._prune(now)
        chat = _chat_key(chat_id)
        overall = max(self._hold_until - now, 0.0)
        cap = self.background_per_second if background else OVERALL_PER_SECOND
        overall = max(overall, self._room(self._overall, self._flying, cap, 1.0 + MARGIN, now))
        own = 0.0
        sent = self._chats.setdefault(chat, deque())
        flying = self._chat_flying.get(chat, 0)
        limit, window = self._window(chat)
        own = self._room(sent, flying, limit, window, now)
        if background and not _is_group(chat):
            if flying:
                own = max(own, POLL)
            elif sent:
                own = max(own, sent[-1] + BACKGROUND_CHAT_GAP - now)
        return overall, max(own, 0.0)

    @staticmethod
    def _room(sent: deque[float], flying: int, limit: int, window: float, now: float) -> float:
        """Seconds until fewer than ``limit`` messages are in flight or in the last ``window``.

        A message counts from the moment it is let go until ``window`` after Telegram's answer:
        it reached Telegram somewhere in between, so the window is right however long the
        request took (no jitter allowance needed).
        """
        while sent and sent[0] <= now - window:
            sent.popleft()
        excess = len(sent) + flying - limit + 1
        if excess <= 0:
            return 0.0
        if excess > len(sent):
            return POLL  # the requests in flight alone fill it: wait for an answer
        return max(sent[excess - 1] + window - now, 0.0)

    def record(self, chat_id: object) -> None:
        """Count a message sent to ``chat_id`` now."""
        now = self.monotonic()
        self._overall.append(now)
        self._chats.setdefault(_chat_key(chat_id), deque()).append(now)
        self.sent += 1

    def _take(self, chat_id: object) -> None:
        chat = _chat_key(chat_id)
        self._flying += 1
        self._chat_flying[chat] = self._chat_flying.get(chat, 0) + 1

    def done(self, chat_id: object, *, counted: bool = True) -> None:
        """The request let go by :meth:`reply` or :meth:`broadcast` was answered; ``counted``
        False when Telegram refused it with 429 (a refused message does not count)."""
        chat = _chat_key(chat_id)
        self._flying -= 1
        left = self._chat_flying.get(chat, 1) - 1
        if left:
            self._chat_flying[chat] = left
        else:
            self._chat_flying.pop(chat, None)
        if counted:
            self.record(chat_id)

    def hold(self, seconds: float) -> None:
        """Telegram asked to wait (a 429 got through anyway): nobody sends meanwhile."""
        self._hold_until = max(self._hold_until, self.monotonic() + seconds)

    async def reply(self, chat_id: object) -> None:
        """Wait (rarely) until a person's reply to ``chat_id`` is within the limits; the caller
        sends it and calls :meth:`done`.

        While a reply waits for the overall limit, the fan-out does not take the next place.
        """
        while True:
            overall, own = self._waits(chat_id, False)
            if overall <= 0 and own <= 0:
                break
            if overall > 0:
                self._replies_waiting += 1
                try:
                    await self.sleep(max(overall, own))
                finally:
                    self._replies_waiting -= 1
            else:
                await self.sleep(own)
        self._take(chat_id)

    async def broadcast(self, chat_id: object) -> None:
        """Wait until a fan-out message to ``chat_id`` fits in what replies leave; the caller
        sends it and calls :meth:`done`."""
        while True:
            wait = self.wait_time(chat_id, background=True)
            if wait <= 0 and self._replies_waiting == 0:
                break
            await self.sleep(max(wait, POLL))
        self._take(chat_id)
        self.background_sent += 1


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """PTB's rate limiter over a :class:`Pacer`: replies first, the fan-out in what is left.

    ``rate_limit_args``: ``{"background": True}`` paces a request as fan-out; ``PACED`` passes
    a request its caller has already paced. A 429 that gets through anyway holds every request
    for ``retry_after`` and is retried up to ``max_retries`` times (not for paced requests:
    their caller decides).
    """

    def __init__(self, pacer: Pacer | None = None, *, max_retries: int = 3) -> None:
        self.pacer = pacer or Pacer()
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the limits (messages only), send, and retry after a 429."""
        options = rate_limit_args or {}
        chat_id = data.get("chat_id")
        paced = bool(options.get("paced")) or chat_id is None or not counts_as_message(endpoint)
        attempt = 0
        while True:
            if not paced:
                if options.get("background"):
                    await self.pacer.broadcast(chat_id)
                else:
                    await self.pacer.reply(chat_id)
            refused = False
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                refused = True
                seconds = retry_seconds(exc)
                self.pacer.hold(seconds)
                if options.get("paced") or attempt >= self.max_retries:
                    raise
                attempt += 1
                log.warning("Telegram asked to wait %.0f s (%s)", seconds, endpoint)
                await self.pacer.sleep(seconds + 0.1)
            finally:
                if not paced:
                    self.pacer.done(chat_id, counted=not refused)
