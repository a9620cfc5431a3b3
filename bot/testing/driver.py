"""Scripted Telegram users for tests and the terminal demo.

* :class:`InProcessDriver` feeds updates straight into ``Application.process_update`` (no
  polling, no sleeps): when a call returns, everything the handlers did is in the model.
* :class:`HttpDriver` drives a bot running in another process through the control endpoints of
  :class:`bot.testing.server.TelegramDoubleServer`.
* :func:`render_message` / :func:`button_by_number` render bot messages for a terminal.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import TYPE_CHECKING, Any

from telegram import Update

from bot.testing.telegram_double import FakeMessage, FakeTelegram

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiohttp
    from telegram.ext import Application, ContextTypes

__all__ = ["HttpDriver", "InProcessDriver", "button_by_number", "render_message"]


class InProcessDriver:
    """Scripted users for a PTB ``Application`` whose Bot talks to ``fake``.

    The application must be initialized (``async with application:``) and its Bot must use
    :class:`bot.testing.request.FakeTelegramRequest` on the same ``fake``.

    Args:
        fake: The Telegram model.
        application: The real PTB application under test.
        raise_errors: If True (default), an exception raised by a handler is re-raised from the
            driver call (the driver registers an error handler that records it). Set False to
            test the bot's own error handlers.

    Attributes:
        errors: Every handler exception seen so far.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        raise_errors: bool = True,
    ) -> None:
        self.fake = fake
        self.application = application
        self.raise_errors = raise_errors
        self.errors: list[BaseException] = []
        self._error_handler_added = False

    async def _record_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    async def feed(self, update: dict[str, Any]) -> None:
        """Process one update dict (as produced by the model) and wait for the handlers.

        The update is removed from the model's ``getUpdates`` queue since it is delivered here.
        """
        if not self._error_handler_added:
            self.application.add_error_handler(self._record_error)
            self._error_handler_added = True
        self.fake.discard_update(update["update_id"])
        before = len(self.errors)
        ptb_update = Update.de_json(copy.deepcopy(update), self.application.bot)
        await self.application.process_update(ptb_update)
        if self.raise_errors and len(self.errors) > before:
            raise self.errors[before]

    async def _run(self, chat_id: int, action: Callable[[], dict[str, Any]]) -> list[FakeMessage]:
        mark = self.fake.activity_mark()
        await self.feed(action())
        return self.fake.activity_since(mark, chat_id)

    async def send(self, user_id: int, text: str) -> list[FakeMessage]:
        """The user sends ``text``.

        Returns:
            Bot messages sent or edited in that chat meanwhile (new and edited, in order).
        """
        return await self._run(user_id, lambda: self.fake.user_sends_text(user_id, text))

    async def press(self, user_id: int, label_substring: str) -> list[FakeMessage]:
        """Press the newest inline button whose label contains ``label_substring``.

        Raises:
            ValueError: If no such button is visible.
        """
        return await self._run(
            user_id, lambda: self.fake.user_presses_label(user_id, label_substring)
        )

    async def press_data(
        self, user_id: int, message_id: int, callback_data: str
    ) -> list[FakeMessage]:
        """Press the button with ``callback_data`` on message ``message_id``.

        Raises:
            ValueError: If that message has no such button.
        """
        return await self._run(
            user_id, lambda: self.fake.user_presses(user_id, message_id, callback_data)
        )

    async def send_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> list[FakeMessage]:
        """The user sends a document."""
        return await self._run(
            user_id,
            lambda: self.fake.user_sends_document(
                user_id, file_name, content, caption=caption, mime_type=mime_type
            ),
        )

    async def send_photo(
        self, user_id: int, content: bytes, caption: str | None = None
    ) -> list[FakeMessage]:
        """The user sends a photo."""
        return await self._run(
            user_id, lambda: self.fake.user_sends_photo(user_id, content, caption=caption)
        )

    async def block(self, user_id: int) -> list[FakeMessage]:
        """The user blocks the bot (the bot receives the ``my_chat_member`` update)."""
        return await self._run(user_id, lambda: self.fake.block(user_id))

    async def unblock(self, user_id: int) -> list[FakeMessage]:
        """The user unblocks the bot (the bot receives the ``my_chat_member`` update)."""
        return await self._run(user_id, lambda: self.fake.unblock(user_id))

    def last_message(self, user_id: int) -> FakeMessage | None:
        """The newest bot message in the user's chat."""
        return self.fake.last_message(user_id)

    def last_text(self, user_id: int) -> str | None:
        """Plain text of the newest bot message in the user's chat."""
        msg = self.fake.last_message(user_id)
        return None if msg is None else msg.text

    def transcript(self, user_id: int) -> list[FakeMessage]:
        """The whole chat (user and bot messages), oldest first."""
        return self.fake.messages(user_id)


class HttpDriver:
    """Scripted users over the control endpoints of a ``TelegramDoubleServer``.

    Unlike :class:`InProcessDriver`, actions return as soon as the update is queued; use
    :meth:`wait_for` to wait for the bot's answers.

    Args:
        base_url: The server's base URL (``server.base_url``).
        session: An aiohttp session to reuse; one is created (and closed) otherwise.
    """

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> HttpDriver:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this driver created it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp  # optional test dependency, imported lazily

            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        ok_statuses: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:
        session = self._get_session()
        async with session.request(
            method, f"{self.base_url}{path}", json=json_body, params=params
        ) as response:
            text = await response.text()
            try:
                body = json.loads(text)
            except ValueError:
                raise RuntimeError(f"{method} {path} answered {response.status}: {text}") from None
            if response.status == 400 and isinstance(body, dict) and "error" in body:
                raise ValueError(body["error"])
            if response.status not in ok_statuses:
                raise RuntimeError(f"{method} {path} answered {response.status}: {body}")
            return response.status, body

    async def add_user(
        self,
        user_id: int | None = None,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> dict[str, Any]:
        """Create a user; returns its Bot API ``User`` dict plus ``user_id``/``chat_id``."""
        body: dict[str, Any] = {
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
        if user_id is not None:
            body["user_id"] = user_id
        return (await self._request("POST", "/_test/users", json_body=body))[1]

    async def send(self, user_id: int, text: str) -> dict[str, Any]:
        """The user sends ``text``; returns the queued update."""
        body = {"user_id": user_id, "text": text}
        return (await self._request("POST", "/_test/send", json_body=body))[1]

    async def send_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a document; returns the queued update."""
        body = {
            "user_id": user_id,
            "file_name": file_name,
            "content_b64": base64.b64encode(content).decode("ascii"),
            "caption": caption,
            "mime_type": mime_type,
        }
        return (await self._request("POST", "/_test/send_document", json_body=body))[1]

    async def send_photo(
        self, user_id: int, content: bytes, caption: str | None = None
    ) -> dict[str, Any]:
        """The user sends a photo; returns the queued update."""
        body = {
            "user_id": user_id,
            "content_b64": base64.b64encode(content).decode("ascii"),
            "caption": caption,
        }
        return (await self._request("POST", "/_test/send_photo", json_body=body))[1]

    async def press(self, user_id: int, label_substring: str) -> dict[str, Any]:
        """Press a button by label substring; returns the queued update.

        Raises:
            ValueError: If no such button is visible.
        """
        body = {"user_id": user_id, "label": label_substring}
        return (await self._request("POST", "/_test/press", json_body=body))[1]

    async def press_data(
        self, user_id: int, message_id: int, callback_data: str
    ) -> dict[str, Any]:
        """Press a button by message id and callback_data; returns the queued update."""
        body = {"user_id": user_id, "message_id": message_id, "callback_data": callback_data}
        return (await self._request("POST", "/_test/press", json_body=body))[1]

    async def block(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot."""
        return (await self._request("POST", "/_test/block", json_body={"user_id": user_id}))[1]

    async def unblock(self, user_id: int) -> dict[str, Any]:
        """The user unblocks the bot."""
        body = {"user_id": user_id}
        return (await self._request("POST", "/_test/unblock", json_body=body))[1]

    async def messages(self, chat_id: int, include_deleted: bool = False) -> list[FakeMessage]:
        """The chat transcript."""
        params = {"chat_id": chat_id, "include_deleted": "1" if include_deleted else "0"}
        _, body = await self._request("GET", "/_test/messages", params=params)
        return [FakeMessage.from_json(item) for item in body]

    async def wait_for(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - wire param
    ) -> list[FakeMessage]:
        """Wait until the bot has sent at least ``count`` messages to the chat (ever).

        Returns:
            The transcript including deleted messages.

        Raises:
            TimeoutError: If the bot did not send that many messages in time.
        """
        params = {"chat_id": chat_id, "count": count, "timeout": timeout}
        status, body = await self._request(
            "GET", "/_test/wait", params=params, ok_statuses=(200, 408)
        )
        if status == 408:
            raise TimeoutError(
                f"chat {chat_id}: expected {count} bot messages within {timeout}s, "
                f"got {body['count']}"
            )
        return [FakeMessage.from_json(item) for item in body["messages"]]

    async def stats(self) -> dict[str, Any]:
        """``sent_count``, ``calls``, ``rate_limited``, ``users``, ``pending_updates``."""
        return (await self._request("GET", "/_test/stats"))[1]

    async def callback_answers(self) -> list[dict[str, Any]]:
        """Recorded ``answerCallbackQuery`` calls."""
        return (await self._request("GET", "/_test/callback_answers"))[1]

    async def transcript(self, user_id: int) -> list[FakeMessage]:
        """The whole chat with the user (non-deleted messages)."""
        return await self.messages(user_id)

    async def last_text(self, user_id: int) -> str | None:
        """Plain text of the newest bot message in the user's chat."""
        bot_messages = [m for m in await self.messages(user_id) if m.from_bot]
        return bot_messages[-1].text if bot_messages else None


def render_message(msg: FakeMessage, numbered_from: int = 1, show_edited: bool = True) -> str:
    """Render a message for a terminal.

    Layout: attachment line (``📎 name (N bytes)`` / ``🖼 photo (N bytes)``), the plain text
    (HTML already rendered away), then one line per keyboard row with buttons numbered
    ``[n] Label`` starting at ``numbered_from`` (URL buttons show ``↗ url``).

    Args:
        msg: The message.
        numbered_from: Number of the first button.
        show_edited: Prefix ``✏️`` to messages that were edited.

    Returns:
        Multi-line text.
    """
    lines: list[str] = []
    if msg.deleted:
        lines.append("🗑 (deleted)")
    if msg.document is not None:
        name = msg.document.file_name or "file"
        lines.append(f"📎 {name} ({msg.document.size} bytes)")
    if msg.photo is not None:
        lines.append(f"🖼 photo ({msg.photo.size} bytes)")
    if msg.text:
        lines.append(msg.text)
    if show_edited and msg.edited_count and lines:
        lines[0] = f"✏️ {lines[0]}"
    number = numbered_from
    for row in msg.reply_markup or []:
        cells = []
        for button in row:
            label = str(button.get("text", ""))
            if button.get("callback_data") is None and button.get("url"):
                label = f"{label} ↗ {button['url']}"
            cells.append(f"[{number}] {label}")
            number += 1
        lines.append("  ".join(cells))
    return "\n".join(lines)


def button_by_number(msg: FakeMessage, n: int, numbered_from: int = 1) -> str:
    """The callback_data of the button shown as ``[n]`` by :func:`render_message`.

    Raises:
        ValueError: If there is no such button or it is not a callback button.
    """
    buttons = msg.buttons()
    index = n - numbered_from
    if not 0 <= index < len(buttons):
        if not buttons:
            raise ValueError("this message has no buttons")
        last = numbered_from + len(buttons) - 1
        raise ValueError(f"no button [{n}]; choose [{numbered_from}]..[{last}]")
    label, data = buttons[index]
    if data is None:
        raise ValueError(f"button [{n}] {label!r} opens a link; it sends nothing to the bot")
    return data
