"""The chats' transcripts and the activity log tests read and wait on."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from bot.testing.telegram_double.files import Files
from bot.testing.telegram_double.model import FakeMessage


class Transcript(Files):
    """Messages by chat, the bot's activity, and the JSON Telegram gives of a message."""

    def _append_message(self, chat_id: int, *, from_bot: bool, **fields: Any) -> FakeMessage:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        msg = FakeMessage(
            message_id=message_id, chat_id=chat_id, from_bot=from_bot, date=self._now(), **fields
        )
        self._chats.setdefault(chat_id, []).append(msg)
        return msg

    def _find_message(self, chat_id: int, message_id: int | None) -> FakeMessage | None:
        if message_id is None:
            return None
        for msg in self._chats.get(chat_id, []):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None

    def messages(self, chat_id: int, include_deleted: bool = False) -> list[FakeMessage]:
        """The chat transcript (user and bot messages), oldest first."""
        return [m for m in self._chats.get(chat_id, []) if include_deleted or not m.deleted]

    def bot_messages(self, chat_id: int, include_deleted: bool = False) -> list[FakeMessage]:
        """Only the bot's messages of the chat, oldest first."""
        return [m for m in self.messages(chat_id, include_deleted) if m.from_bot]

    def last_message(self, chat_id: int, *, from_bot: bool | None = True) -> FakeMessage | None:
        """The newest non-deleted message (by default the newest *bot* message).

        Args:
            chat_id: The chat.
            from_bot: True: bot messages only; False: user messages only; None: any.
        """
        for msg in reversed(self.messages(chat_id)):
            if from_bot is None or msg.from_bot == from_bot:
                return msg
        return None

    @staticmethod
    def buttons(message: FakeMessage) -> list[tuple[str, str | None]]:
        """Inline buttons of a message as ``(label, callback_data)``."""
        return message.buttons()

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, str]]:
        """Commands stored by ``setMyCommands`` for a scope and language."""
        return copy.deepcopy(self._commands.get((scope_type, chat_id, user_id, language_code), []))

    def unanswered_callback_queries(self) -> list[str]:
        """Ids of callback queries the bot never answered (the client would spin)."""
        return [q.query_id for q in self._queries.values() if not q.answered]

    def activity_mark(self) -> int:
        """A position in the bot activity log, for :meth:`activity_since`."""
        return len(self._activity)

    def activity_since(self, mark: int, chat_id: int | None = None) -> list[FakeMessage]:
        """Bot messages sent or edited after ``mark``, in order of first activity, each once."""
        seen: set[int] = set()
        result: list[FakeMessage] = []
        for kind, msg in self._activity[mark:]:
            if kind not in {"sent", "edited"} or (chat_id is not None and msg.chat_id != chat_id):
                continue
            if id(msg) not in seen:
                seen.add(id(msg))
                result.append(msg)
        return result

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the HTTP control API
    ) -> list[FakeMessage]:
        """Wait until the bot has sent at least ``count`` messages to the chat (deleted included).

        Useful when the bot runs its own polling loop in-process; no sleeping involved.

        Returns:
            The bot's messages in that chat (deleted included).

        Raises:
            TimeoutError: If that many messages did not arrive in time.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(sent := self.bot_messages(chat_id, include_deleted=True)) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"chat {chat_id}: expected {count} bot messages within {timeout}s, "
                    f"got {len(sent)}"
                )
            await self.wait_for_activity(remaining)
        return sent

    def _log(self, kind: str, msg: FakeMessage) -> None:
        self._activity.append((kind, msg))
        self._wake_activity_waiters()

    def _wake_activity_waiters(self) -> None:
        waiters, self._activity_waiters = self._activity_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(True)

    async def wait_for_activity(self, timeout: float) -> bool:  # noqa: ASYNC109 - like above
        """Wait until the bot makes any Bot API call or a bot message is sent/edited/deleted.

        Args:
            timeout: Seconds to wait at most.

        Returns:
            True if something happened, False on timeout.
        """
        if timeout <= 0:
            return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._activity_waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            if waiter in self._activity_waiters:
                self._activity_waiters.remove(waiter)

    def message_to_api(self, msg: FakeMessage) -> dict[str, Any]:
        """The Bot API ``Message`` object for a transcript message."""
        user = self.users[msg.chat_id]
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.bot_user_api() if msg.from_bot else user.to_api(),
            "chat": user.chat_api(),
            "date": int(msg.date.timestamp()),
        }
        if msg.edit_date is not None:
            data["edit_date"] = int(msg.edit_date.timestamp())
        if msg.has_media:
            if msg.document is not None:
                data["document"] = self._file_api(msg.document)
            if msg.photo is not None:
                data["photo"] = [self._file_api(msg.photo)]
            if msg.text:
                data["caption"] = msg.text
                if msg.entities:
                    data["caption_entities"] = copy.deepcopy(msg.entities)
        else:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = copy.deepcopy(msg.entities)
        if msg.reply_markup:
            data["reply_markup"] = {"inline_keyboard": copy.deepcopy(msg.reply_markup)}
        if msg.reply_to_message_id is not None:
            target = self._find_message(msg.chat_id, msg.reply_to_message_id)
            if target is not None:
                data["reply_to_message"] = self.message_to_api(target)
        return data
