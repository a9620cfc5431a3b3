"""Button presses arrive through ``getUpdates`` without the pressed message's keyboard parsed
into objects (:mod:`handlers.incoming`), and what reads that keyboard still sees it."""

from __future__ import annotations

import copy
from typing import Any

from telegram import Update

from handlers.incoming import KEYBOARD, lighten, lighten_update, pressed_keyboard
from tests.auxil.botkit import BotKit
from tests.handlers.test_meetings import Taps, to_attendance


def calls(bot: BotKit, method: str, since: int = 0) -> list[dict[str, Any]]:
    return [p for name, p in bot.fake.calls[since:] if name == method]


async def polled(bot: BotKit) -> list[Update]:
    """The queued updates, fetched as the running bot fetches them (PTB's getUpdates request)."""
    return list(await bot.app.bot.get_updates(timeout=0))


async def test_a_polled_press_carries_the_keyboard_as_rows_not_objects(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    msg = bot.fake.last_message(t.uid)
    assert msg is not None
    mid, data = t.find(lambda _l, d: d.startswith("mtg:abs:"))
    bot.fake.user_presses(t.uid, mid, data)
    (update,) = await polled(bot)
    assert update.callback_query is not None
    pressed = update.callback_query.message
    assert pressed is not None
    assert pressed.reply_markup is None  # not parsed into objects
    assert pressed.entities == ()  # dropped: nothing reads them
    shown = [(label, d) for row in pressed_keyboard(pressed) for label, d in row]
    assert shown == msg.buttons()
    assert len(shown) > 20  # the attendance screen: a button per member and more
    assert pressed.text == msg.text


async def test_a_refused_double_tap_polled_does_not_edit_the_message_into_itself(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")  # to the guests
    mid, data = t.find(lambda _l, d: d.startswith("mtg:gok:"))
    bot.fake.user_presses(t.uid, mid, data)
    bot.fake.user_presses(t.uid, mid, data)
    first, second = await polled(bot)
    mark = len(bot.fake.calls)
    await bot.app.process_update(first)
    await bot.app.process_update(second)
    # The second tap is refused: the message is edited once, and each tap answered once.
    assert len(calls(bot, "editMessageText", mark)) == 1
    assert len(calls(bot, "answerCallbackQuery", mark)) == 2


async def test_a_step_that_changes_nothing_polled_sends_no_edit(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    mid, data = t.find(lambda _l, d: d.startswith("mtg:all:"))
    bot.fake.user_presses(t.uid, mid, data)  # everyone is already present
    (update,) = await polled(bot)
    mark = len(bot.fake.calls)
    await bot.app.process_update(update)
    assert calls(bot, "editMessageText", mark) == []
    assert len(calls(bot, "answerCallbackQuery", mark)) == 1


def press(message: Any) -> dict[str, Any]:
    return {"update_id": 1, "callback_query": {"id": "9", "data": "x", "message": message}}


def test_lighten_keeps_rows_and_leaves_everything_else_alone() -> None:
    keyboard = {
        "inline_keyboard": [
            [{"text": "Có", "callback_data": "a:1"}, {"text": "Không", "callback_data": "a:0"}],
            [{"text": "Trang web", "url": "https://example.org"}],
        ]
    }
    message = {"message_id": 3, "text": "Hỏi", "entities": [{"type": "bold"}]}
    payload = {
        "ok": True,
        "result": [
            press({**message, "reply_markup": keyboard}),
            {"update_id": 2, "message": {**message, "reply_markup": keyboard}},  # typed: as is
            press({"message_id": 4, "date": 0, "chat": {"id": 1}}),  # inaccessible message
            {"update_id": 3, "callback_query": {"id": "8", "data": "y"}},  # inline message
        ],
    }
    before = copy.deepcopy(payload)
    out = lighten(payload)
    pressed = out["result"][0]["callback_query"]["message"]
    assert "reply_markup" not in pressed and "entities" not in pressed
    assert pressed[KEYBOARD] == [[("Có", "a:1"), ("Không", "a:0")], [("Trang web", None)]]
    assert pressed["text"] == "Hỏi"
    assert out["result"][1:] == before["result"][1:]


def test_lighten_passes_answers_that_are_not_update_lists() -> None:
    for payload in ({"ok": True, "result": True}, {"ok": False, "description": "x"}, {}):
        assert lighten(copy.deepcopy(payload)) == payload
    odd = {"ok": True, "result": ["junk", press("junk"), press({"reply_markup": "junk"})]}
    assert lighten(copy.deepcopy(odd))["result"][:2] == odd["result"][:2]


def test_a_webhook_update_is_lightened_alone() -> None:
    message = {"message_id": 3, "text": "Hỏi", "reply_markup": {"inline_keyboard": [[]]}}
    update = lighten_update(press(message))
    assert update["callback_query"]["message"] == {"message_id": 3, "text": "Hỏi", KEYBOARD: [[]]}
    for other in ("junk", [press(message)], {"update_id": 5, "message": {"text": "x"}}):
        assert lighten_update(copy.deepcopy(other)) == other
