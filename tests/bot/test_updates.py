"""Every user served at once: people proceed concurrently, one person's updates stay in order."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from bot.updates import PerPersonUpdateProcessor, update_key

# Only a guard against a hung test; nothing here measures time.
GUARD = 20.0


async def _deliver(kit: Any, payload: dict[str, Any]) -> None:
    """Hand an update to the running Application as polling would (its update queue)."""
    kit.fake.discard_update(payload["update_id"])
    await kit.app.update_queue.put(Update.de_json(copy.deepcopy(payload), kit.app.bot))


async def test_one_slow_person_holds_up_nobody_else_and_keeps_their_own_order(bot) -> None:
    app = bot.app
    assert isinstance(app.update_processor, PerPersonUpdateProcessor)
    slow, quick = bot.uid("bt_vp"), bot.uid("bt_bv")
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[str] = []

    async def hold_the_first(update: Update, context: Any) -> None:
        """Stands in for a slow step of the slow person (a long query, a slow Telegram)."""
        if update.effective_user is None or update.effective_user.id != slow:
            return
        text = update.effective_message.text if update.effective_message else ""
        seen.append(text or "")
        if text == "/meeting" and not release.is_set():
            entered.set()
            await release.wait()

    app.add_handler(TypeHandler(Update, hold_the_first), group=-1)
    await app.start()
    try:
        async with asyncio.timeout(GUARD):
            await _deliver(bot, bot.fake.user_sends_text(slow, "/meeting"))
            await _deliver(bot, bot.fake.user_sends_text(slow, "/help"))
            await _deliver(bot, bot.fake.user_sends_text(quick, "/meeting"))
            await entered.wait()
            # The other secretary is answered while the first one's update is still running …
            quick_reply = await bot.fake.wait_for_bot_messages(quick, 1, GUARD)
            assert "Chi bộ" in quick_reply[0].text or quick_reply[0].buttons
            # … and the slow person's second update has not started before their first ended.
            assert seen == ["/meeting"]
            assert bot.fake.bot_messages(slow) == []
            release.set()
            replies = await bot.fake.wait_for_bot_messages(slow, 2, GUARD)
        assert seen == ["/meeting", "/help"]
        assert replies[0].buttons  # the meeting's first screen, then the help
        assert "/meeting" in replies[1].text
    finally:
        await app.stop()


async def test_a_person_with_a_backlog_holds_one_place_only() -> None:
    processor = PerPersonUpdateProcessor(max_concurrent=2)
    gate = asyncio.Event()
    done: list[str] = []

    def update(user_id: int, update_id: int) -> Update:
        return Update.de_json(
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": 0,
                    "chat": {"id": user_id, "type": "private"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                    "text": "x",
                },
            },
            None,
        )

    async def work(name: str, wait: bool) -> None:
        if wait:
            await gate.wait()
        done.append(name)

    async with asyncio.timeout(GUARD):
        backlog = [
            asyncio.create_task(processor.process_update(update(1, i), work(f"a{i}", True)))
            for i in range(5)
        ]
        await asyncio.sleep(0)  # let the backlog queue up behind its first update
        other = processor.process_update(update(2, 99), work("b", False))
        await other  # another person goes ahead although five of the first person's wait
        assert done == ["b"]
        gate.set()
        await asyncio.gather(*backlog)
    assert done == ["b", "a0", "a1", "a2", "a3", "a4"]


def test_updates_are_keyed_by_user_else_chat() -> None:
    channel_post = Update.de_json(
        {
            "update_id": 1,
            "channel_post": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": -100, "type": "channel"},
                "text": "x",
            },
        },
        None,
    )
    assert update_key(channel_post) == ("chat", -100)
    assert update_key(object()) is None
