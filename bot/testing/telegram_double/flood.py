"""Telegram's flood limits, modelled as sliding windows over the messages it accepted."""

from __future__ import annotations

from collections import deque

#: Flood limits (see :class:`FloodWindows`).
OVERALL_PER_SECOND = 30


PRIVATE_BURST = 3


PRIVATE_WINDOW = 3.0


GROUP_PER_MINUTE = 20


class FloodWindows:
    """Telegram's flood limits as sliding windows over the messages it accepted.

    The model (Telegram publishes the figures, not the algorithm):

    * at most :data:`OVERALL_PER_SECOND` messages in any 1-second window, all chats together;
    * a private chat: one a second, with short bursts tolerated — at most
      :data:`PRIVATE_BURST` messages in any :data:`PRIVATE_WINDOW`-second window;
    * a group chat (negative id): at most :data:`GROUP_PER_MINUTE` messages in any minute.

    A message beyond a limit is refused (not counted) with ``429`` and ``retry_after``: the
    whole seconds until the window has room again. Only ``send*`` calls count; edits, callback
    answers and deletions do not.
    """

    def __init__(self) -> None:
        self.overall: deque[float] = deque()
        self.chats: dict[int, deque[float]] = {}

    @staticmethod
    def _room(sent: deque[float], limit: int, window: float, now: float) -> float:
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) < limit:
            return 0.0
        return sent[len(sent) - limit] + window - now

    def wait_time(self, chat_id: int, now: float) -> float:
        chat = self.chats.setdefault(chat_id, deque())
        limit, window = (
            (GROUP_PER_MINUTE, 60.0) if chat_id < 0 else (PRIVATE_BURST, PRIVATE_WINDOW)
        )
        return max(
            self._room(self.overall, OVERALL_PER_SECOND, 1.0, now),
            self._room(chat, limit, window, now),
        )

    def take(self, chat_id: int, now: float) -> None:
        self.overall.append(now)
        self.chats.setdefault(chat_id, deque()).append(now)
