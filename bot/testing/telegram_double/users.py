"""The users of the double and what they do: write, send files, press buttons, block the bot."""

from __future__ import annotations

import copy
from typing import Any

from bot.testing.html_check import utf16_len
from bot.testing.telegram_double.model import CallbackQuery, FakeMessage, FakeUser
from bot.testing.telegram_double.params import COMMAND_RE
from bot.testing.telegram_double.transcript import Transcript


class Users(Transcript):
    """Adding users, and their actions, each queued as an update and returned."""

    def add_user(
        self,
        user_id: int | None = None,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> FakeUser:
        """Create a user (and its private chat).

        Args:
            user_id: Telegram id; auto-assigned from 100001 upwards if None.
            first_name: First name.
            last_name: Last name.
            username: Username without ``@``.
            language_code: Client language.

        Returns:
            The new user.

        Raises:
            ValueError: If the id is taken or not positive.
        """
        if user_id is None:
            while self._next_auto_user_id in self.users or self._next_auto_user_id == self.bot_id:
                self._next_auto_user_id += 1
            user_id = self._next_auto_user_id
            self._next_auto_user_id += 1
        if user_id <= 0 or user_id == self.bot_id:
            raise ValueError(f"invalid user id {user_id}")
        if user_id in self.users:
            raise ValueError(f"user {user_id} already exists")
        user = FakeUser(
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[user_id] = user
        self._chats[user_id] = []
        return user

    def user(self, user_id: int) -> FakeUser:
        """Return a known user.

        Raises:
            ValueError: If there is no such user.
        """
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}; call add_user() first") from None

    def started(self, user_id: int) -> bool:
        """Whether the user has ever sent anything to the bot."""
        return self.user(user_id).started

    def _member_update(self, user: FakeUser, old: str, new: str) -> dict[str, Any]:
        bot = self.bot_user_api()
        new_member: dict[str, Any] = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        return self._push_update(
            {
                "my_chat_member": {
                    "chat": user.chat_api(),
                    "from": user.to_api(),
                    "date": int(self._now().timestamp()),
                    "old_chat_member": {"status": old, "user": bot},
                    "new_chat_member": new_member,
                }
            }
        )

    def block(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot; sends to them now answer 403.

        Returns:
            The ``my_chat_member`` update Telegram sends for it.
        """
        user = self.user(user_id)
        user.blocked = True
        return self._member_update(user, "member", "kicked")

    def unblock(self, user_id: int) -> dict[str, Any]:
        """The user unblocks the bot.

        Returns:
            The ``my_chat_member`` update Telegram sends for it.
        """
        user = self.user(user_id)
        user.blocked = False
        return self._member_update(user, "kicked", "member")

    def _user_for_action(self, user_id: int) -> FakeUser:
        user = self.user(user_id)
        if user.blocked:
            raise ValueError(
                f"user {user_id} has blocked the bot; a client must unblock() before writing"
            )
        user.started = True
        return user

    def _user_message_update(self, msg: FakeMessage, extra: dict[str, Any]) -> dict[str, Any]:
        user = self.users[msg.chat_id]
        body: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": user.to_api(),
            "chat": user.chat_api(),
            "date": int(msg.date.timestamp()),
            **extra,
        }
        return self._push_update({"message": body})

    def user_sends_text(self, user_id: int, text: str) -> dict[str, Any]:
        """The user sends a text message.

        A leading ``/command`` or ``/command@botname`` gets a ``bot_command`` entity (UTF-16
        offsets, like Telegram).

        Returns:
            The queued ``message`` update (a copy).
        """
        if not text.strip():
            raise ValueError("Telegram clients cannot send empty messages")
        self._user_for_action(user_id)
        msg = self._append_message(
            user_id,
            from_bot=False,
            text=text,
            raw_text=text,
            entities=self._command_entities(text),
        )
        extra: dict[str, Any] = {"text": text}
        if msg.entities:
            extra["entities"] = copy.deepcopy(msg.entities)
        return self._user_message_update(msg, extra)

    @staticmethod
    def _command_entities(text: str) -> list[dict[str, Any]]:
        match = COMMAND_RE.match(text)
        if not match:
            return []
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]

    def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a file as a document.

        Returns:
            The queued ``message`` update with a ``document``.
        """
        self._user_for_action(user_id)
        stored = self._store_file(
            content, kind="document", file_name=file_name, mime_type=mime_type
        )
        caption_text = caption or ""
        msg = self._append_message(
            user_id, from_bot=False, text=caption_text, raw_text=caption_text, document=stored
        )
        extra: dict[str, Any] = {"document": self._file_api(stored)}
        if caption:
            extra["caption"] = caption
        return self._user_message_update(msg, extra)

    def user_sends_photo(
        self, user_id: int, content: bytes, caption: str | None = None
    ) -> dict[str, Any]:
        """The user sends a photo.

        Returns:
            The queued ``message`` update with ``photo`` sizes.
        """
        self._user_for_action(user_id)
        stored = self._store_file(content, kind="photo", file_name=None, mime_type="image/jpeg")
        caption_text = caption or ""
        msg = self._append_message(
            user_id, from_bot=False, text=caption_text, raw_text=caption_text, photo=stored
        )
        extra: dict[str, Any] = {"photo": [self._file_api(stored)]}
        if caption:
            extra["caption"] = caption
        return self._user_message_update(msg, extra)

    def user_presses(self, user_id: int, message_id: int, callback_data: str) -> dict[str, Any]:
        """The user presses an inline button of a bot message in their chat.

        Returns:
            The queued ``callback_query`` update.

        Raises:
            ValueError: If the message is not in the user's chat, is deleted, or has no button
                with that callback_data (a real client can only press existing buttons).
        """
        user = self.user(user_id)
        msg = self._find_message(user_id, message_id)
        if msg is None:
            raise ValueError(f"message {message_id} does not exist in chat {user_id}")
        if not msg.from_bot or callback_data not in [data for _, data in msg.buttons()]:
            raise ValueError(
                f"message {message_id} has no button with callback_data {callback_data!r}; "
                f"visible buttons: {self._describe_buttons(user_id)}"
            )
        user.started = True
        self._query_counter += 1
        query_id = str(4_000_000_000_000_000_000 + self.bot_id * 1_000_000 + self._query_counter)
        self._queries[query_id] = CallbackQuery(query_id, user_id, message_id, callback_data)
        return self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_api(),
                    "message": self.message_to_api(msg),
                    "chat_instance": str(-(user_id * 7919 + self.bot_id)),
                    "data": callback_data,
                }
            }
        )

    def user_presses_label(self, user_id: int, label_substring: str) -> dict[str, Any]:
        """Press the button whose label contains ``label_substring`` (case-insensitive).

        The newest bot message that has such a callback button wins; within a message an exact
        (case-insensitive) label match beats a substring match.

        Returns:
            The queued ``callback_query`` update.

        Raises:
            ValueError: If no visible button matches; the message lists the visible buttons.
        """
        self.user(user_id)
        needle = label_substring.casefold()
        for msg in reversed(self._chats.get(user_id, [])):
            if msg.deleted or not msg.from_bot:
                continue
            candidates = [
                (label, data)
                for label, data in msg.buttons()
                if data is not None and needle in label.casefold()
            ]
            if candidates:
                exact = [c for c in candidates if c[0].casefold() == needle]
                _, data = (exact or candidates)[0]
                return self.user_presses(user_id, msg.message_id, data)
        raise ValueError(
            f"no button matching {label_substring!r} in chat {user_id}; visible buttons: "
            f"{self._describe_buttons(user_id)}"
        )

    def _describe_buttons(self, chat_id: int) -> str:
        parts = []
        for msg in reversed(self._chats.get(chat_id, [])):
            if msg.from_bot and not msg.deleted and msg.reply_markup:
                labels = ", ".join(
                    f"{label!r}" + ("" if data is not None else " (not a callback button)")
                    for label, data in msg.buttons()
                )
                parts.append(f"message {msg.message_id}: {labels}")
        return "; ".join(parts) if parts else "(none)"
