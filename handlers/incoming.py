"""What arrives from Telegram, made cheap to read: button presses come without the pressed
message's keyboard parsed into objects, and :func:`pressed_keyboard` reads that keyboard either
way."""

from __future__ import annotations

from typing import Any

from telegram.request import BaseRequest

#: Where a pressed message's keyboard is kept, as rows of (label, callback data), once
#: :class:`LightUpdatesRequest` has taken it out of the update (read by
#: :func:`pressed_keyboard`).
KEYBOARD = "chibo_keyboard"


def lighten(payload: dict[str, Any]) -> dict[str, Any]:
    """Take the pressed message's inline keyboard and text entities out of each button press
    in a ``getUpdates`` answer, before PTB parses it.

    Telegram sends, with every button press, the whole message the button belongs to: its
    text, its entities and every button of its keyboard (up to a hundred). PTB turns each into
    an object, more than half of its work on a tap of a screen of twenty buttons. Nothing reads
    them but the check for a screen already shown (:func:`handlers.base.show`) and the
    candidates' question, which need only the keyboard's labels and data. The keyboard is kept
    as plain rows under :data:`KEYBOARD` (PTB files an unknown key in the message's
    ``api_kwargs``); the entities are dropped (the plain text stays). A webhook's update is
    lightened the same way (:func:`lighten_update`); one built otherwise (the tests' in-process
    driver) keeps its parsed keyboard, which :func:`pressed_keyboard` reads as well.
    """
    if isinstance(payload, dict) and isinstance(payload.get("result"), list):
        for update in payload["result"]:
            lighten_update(update)
    return payload


def lighten_update(update: Any) -> Any:
    """:func:`lighten` for one update (a webhook's POST); anything else is left as it is."""
    query = update.get("callback_query") if isinstance(update, dict) else None
    message = query.get("message") if isinstance(query, dict) else None
    if not isinstance(message, dict):
        return update
    message.pop("entities", None)
    markup = message.pop("reply_markup", None)
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if isinstance(rows, list):
        message[KEYBOARD] = [
            [(button.get("text"), button.get("callback_data")) for button in row]
            for row in rows
            if isinstance(row, list)
        ]
    return update


class LightUpdatesRequest(BaseRequest):
    """The ``getUpdates`` request of the bot: ``inner``'s HTTP, with each answer lightened
    (:func:`lighten`) before PTB parses it."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        """The inner request's read timeout (the long poll's)."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Initialize the inner request."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Shut the inner request down."""
        await self.inner.shutdown()

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """The inner request's HTTP round trip."""
        return await self.inner.do_request(*args, **kwargs)

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """PTB's parsing, then :func:`lighten`."""
        return lighten(BaseRequest.parse_json_payload(payload))


def pressed_keyboard(message: Any) -> list[list[tuple[str, str]]]:
    """The inline keyboard of a pressed message, as rows of (label, callback data): as
    :func:`bot.updates.lighten` kept it, or from the parsed markup (an update that did not come
    through ``getUpdates``)."""
    kept = (getattr(message, "api_kwargs", None) or {}).get(KEYBOARD)
    if isinstance(kept, list):
        return [[(str(label), str(data)) for label, data in row] for row in kept]
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return []
    return [[(b.text, str(b.callback_data)) for b in row] for row in markup.inline_keyboard]
