"""Stories exercising the Telegram test double with a real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram import Update as TgUpdate
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.testing import (
    FakeTelegram,
    FakeTelegramRequest,
    HttpDriver,
    InProcessDriver,
    TelegramApiError,
    button_by_number,
    check_html,
    parse_html,
    render_message,
)
from bot.testing.server import TelegramDoubleServer

WELCOME = "<b>Xin chào</b>, đồng chí!\nChọn việc cần làm &amp; bấm nút:"


async def start(update: TgUpdate, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("📅 Họp chi bộ", callback_data="menu:meeting"),
                InlineKeyboardButton("✅ Kiểm điểm", callback_data="menu:review"),
            ],
            [InlineKeyboardButton("Hướng dẫn", url="https://example.org/help")],
        ]
    )
    assert update.message is not None
    await update.message.reply_html(WELCOME, reply_markup=keyboard)


async def on_button(update: TgUpdate, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Đã chọn {query.data}")
    await query.edit_message_text(f"Bạn chọn: <i>{query.data}</i>", parse_mode=ParseMode.HTML)


async def on_document(update: TgUpdate, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message is not None and message.document is not None
    telegram_file = await message.document.get_file()
    content = bytes(await telegram_file.download_as_bytearray())
    await message.reply_document(
        document=content[::-1],
        filename=f"reversed-{message.document.file_name}",
        caption=f"Nhận <code>{len(content)}</code> bytes",
        parse_mode=ParseMode.HTML,
    )


def build_application(fake: FakeTelegram, base_url: str | None = None) -> Application:
    builder = ApplicationBuilder().token(fake.token)
    if base_url is None:
        builder = builder.request(FakeTelegramRequest(fake)).get_updates_request(
            FakeTelegramRequest(fake)
        )
    else:
        builder = builder.base_url(f"{base_url}/bot").base_file_url(f"{base_url}/file/bot")
    application = builder.build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.Document.ALL, on_document))
    return application


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(token="123456:TEST-token", bot_username="chibo_test_bot")


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[Application]:
    application = build_application(fake)
    async with application:
        yield application


# ---------------------------------------------------------------------- in-process stories


async def test_in_process_start_press_and_edit(fake: FakeTelegram, app: Application) -> None:
    lan = fake.add_user(first_name="Lan")
    driver = InProcessDriver(fake, app)

    sent = await driver.send(lan.user_id, "/start")

    assert len(sent) == 1
    welcome = sent[0]
    assert welcome.from_bot
    assert welcome.text == "Xin chào, đồng chí!\nChọn việc cần làm & bấm nút:"
    assert welcome.raw_text == WELCOME
    assert welcome.entities == [{"type": "bold", "offset": 0, "length": 8}]
    assert fake.buttons(welcome) == [
        ("📅 Họp chi bộ", "menu:meeting"),
        ("✅ Kiểm điểm", "menu:review"),
        ("Hướng dẫn", None),
    ]
    assert fake.started(lan.user_id)
    assert [m.from_bot for m in driver.transcript(lan.user_id)] == [False, True]

    edited = await driver.press(lan.user_id, "kiểm điểm")

    assert edited == [welcome]
    assert welcome.text == "Bạn chọn: menu:review"
    assert welcome.reply_markup is None  # editing text without reply_markup drops the keyboard
    assert welcome.edited_count == 1
    assert welcome.history == ["Xin chào, đồng chí!\nChọn việc cần làm & bấm nút:"]
    assert [(a.text, a.data) for a in fake.callback_answers] == [
        ("Đã chọn menu:review", "menu:review")
    ]
    assert fake.unanswered_callback_queries() == []
    assert driver.last_text(lan.user_id) == "Bạn chọn: menu:review"
    assert fake.sent_count == 1
    assert fake.pending_updates() == []  # the driver delivered the updates itself


async def test_command_with_bot_username_and_utf16_entity(
    fake: FakeTelegram,
    app: Application,
) -> None:
    hoa = fake.add_user(first_name="Hoa")
    update = fake.user_sends_text(hoa.user_id, "/start@chibo_test_bot 😀")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 21}]
    mark = fake.activity_mark()
    await InProcessDriver(fake, app).feed(update)
    assert [m.text for m in fake.activity_since(mark, hoa.user_id)] == [
        "Xin chào, đồng chí!\nChọn việc cần làm & bấm nút:"
    ]
    # Only a leading command is marked (what CommandHandler looks at).
    assert "entities" not in fake.user_sends_text(hoa.user_id, "xin chào /start")["message"]


async def test_document_upload_download_round_trip(
    fake: FakeTelegram,
    app: Application,
) -> None:
    user = fake.add_user()
    driver = InProcessDriver(fake, app)

    sent = await driver.send_document(user.user_id, "bien-ban.txt", b"hop chi bo")

    assert len(sent) == 1
    reply = sent[0]
    assert reply.document is not None
    assert reply.document.file_name == "reversed-bien-ban.txt"
    assert reply.document.content == b"ob ihc poh"
    assert reply.text == "Nhận 10 bytes"
    assert render_message(reply).splitlines() == [
        "📎 reversed-bien-ban.txt (10 bytes)",
        "Nhận 10 bytes",
    ]


async def test_pressing_missing_buttons_raises(fake: FakeTelegram, app: Application) -> None:
    user = fake.add_user()
    driver = InProcessDriver(fake, app)
    welcome = (await driver.send(user.user_id, "/start"))[0]

    with pytest.raises(ValueError, match="Họp chi bộ"):
        await driver.press(user.user_id, "Không có nút này")
    with pytest.raises(ValueError, match="no button with callback_data"):
        await driver.press_data(user.user_id, welcome.message_id, "menu:missing")
    with pytest.raises(ValueError, match="does not exist"):
        fake.user_presses(user.user_id, 999, "menu:meeting")
    with pytest.raises(ValueError, match="opens a link"):
        button_by_number(welcome, 3)


# ---------------------------------------------------------------------- validation via PTB


async def test_message_length_counts_utf16_after_html(
    fake: FakeTelegram,
    app: Application,
) -> None:
    chat = fake.add_user().user_id
    bot = app.bot

    await bot.send_message(chat, "a" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(chat, "a" * 4097)

    # Emoji outside the BMP count as two UTF-16 code units, like in Telegram.
    await bot.send_message(chat, "😀" * 2048)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(chat, "😀" * 2048 + "a")

    # Length is measured after HTML parsing: 4096 visible "<" from 16384 source characters.
    await bot.send_message(chat, "&lt;" * 4096, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(chat, "<b> </b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(chat, b"x", filename="x.txt", caption="c" * 1025)
    assert fake.sent_count == 3


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>x", "can't find end tag corresponding to start tag b"),
        ("<div>x</div>", 'unsupported start tag "div" at byte offset 0'),
        ("a < b", 'unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ('<span class="x">y</span>', 'tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_invalid_html_is_rejected_like_telegram(
    fake: FakeTelegram,
    app: Application,
    html: str,
    reason: str,
) -> None:
    chat = fake.add_user().user_id
    with pytest.raises(BadRequest) as info:
        await app.bot.send_message(chat, html, parse_mode=ParseMode.HTML)
    # PTB strips "Bad Request: " and capitalizes the rest of Telegram's description.
    assert info.value.message == f"Can't parse entities: {reason}"
    assert fake.messages(chat) == []
    assert fake.calls[-1][0] == "sendMessage"


async def test_button_and_edit_validation(fake: FakeTelegram, app: Application) -> None:
    chat = fake.add_user().user_id
    bot = app.bot
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(chat, "hi", reply_markup=too_long)
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 32)]])
    message = await bot.send_message(chat, "<b>hi</b>", parse_mode="HTML", reply_markup=ok)

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>hi</b>", chat, message.message_id, parse_mode="HTML", reply_markup=ok
        )
    # Same visible text but different entities is a modification.
    await bot.edit_message_text("hi", chat, message.message_id, reply_markup=ok)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(chat, message.message_id, reply_markup=ok)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat, 999)

    assert await bot.delete_message(chat, message.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(chat, message.message_id)
    assert fake.messages(chat) == []
    assert fake.messages(chat, include_deleted=True)[0].deleted
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")


async def test_unknown_chat_and_blocked_user(fake: FakeTelegram, app: Application) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await app.bot.send_message(424242, "hello")

    user = fake.add_user()
    driver = InProcessDriver(fake, app)
    await driver.send(user.user_id, "/start")
    await driver.block(user.user_id)  # the bot receives my_chat_member (no handler here)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(user.user_id, "nhắc họp")
    with pytest.raises(ValueError, match="blocked"):
        fake.user_sends_text(user.user_id, "hi")

    fake.unblock(user.user_id)
    await app.bot.send_message(user.user_id, "nhắc họp")
    assert fake.last_message(user.user_id).text == "nhắc họp"


# PTB itself reads RetryAfter.retry_after while constructing it, which warns in PTB 22.2+.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limits_answer_retry_after() -> None:
    now = [1000.0]
    fake = FakeTelegram(rate_limits=True, monotonic=lambda: now[0])
    application = build_application(fake)
    async with application:
        chat = fake.add_user().user_id
        for i in range(3):  # per-chat burst of 3 in any 3 seconds
            await application.bot.send_message(chat, f"tin {i}")
        with pytest.raises(RetryAfter) as info:
            await application.bot.send_message(chat, "one too many")
        assert "Retry in 3" in str(info.value)
        assert fake.calls[-1][0] == "sendMessage"
        now[0] += 2.5  # the window still holds all three
        with pytest.raises(RetryAfter) as info:
            await application.bot.send_message(chat, "still too many")
        assert "Retry in 1" in str(info.value)
        now[0] += 0.5
        await application.bot.send_message(chat, "after waiting")
        now[0] += 0.5
        await application.bot.send_message(chat, "a short burst again")
        await application.bot.send_message(chat, "and again")
        with pytest.raises(RetryAfter):  # three in the last 3 seconds: one a second on average
            await application.bot.send_message(chat, "too soon again")
        # Edits and callback answers do not count.
        for _ in range(5):
            await application.bot.edit_message_text(f"edit {_}", chat, 1)

        # Overall: 30 in any one-second window, across chats; a sliding window, not a bucket.
        now[0] += 10.0
        users = [fake.add_user().user_id for _ in range(32)]
        for user_id in users[:30]:
            await application.bot.send_message(user_id, "broadcast")
            now[0] += 0.02
        with pytest.raises(RetryAfter):
            await application.bot.send_message(users[30], "broadcast")
        now[0] += 0.42  # the first of the thirty left the window
        await application.bot.send_message(users[30], "broadcast")
        with pytest.raises(RetryAfter):
            await application.bot.send_message(users[31], "broadcast")
    assert fake.rate_limited == 5
    assert fake.sent_count == 37


async def test_group_chats_get_twenty_messages_a_minute() -> None:
    now = [1000.0]
    fake = FakeTelegram(rate_limits=True, monotonic=lambda: now[0])
    for _ in range(20):
        fake._check_rate(-100)
        now[0] += 1.0
    with pytest.raises(TelegramApiError) as info:
        fake._check_rate(-100)
    assert info.value.retry_after == 40
    now[0] += 40.0
    fake._check_rate(-100)


async def test_limits_are_on_by_default_as_on_telegram() -> None:
    now = [1000.0]
    fake = FakeTelegram(monotonic=lambda: now[0])
    for _ in range(3):
        fake._check_rate(7)
    with pytest.raises(TelegramApiError):
        fake._check_rate(7)
    assert fake.rate_limited == 1


async def test_commands_getme_and_get_updates_semantics(
    fake: FakeTelegram,
    app: Application,
) -> None:
    bot = app.bot
    assert bot.username == "chibo_test_bot"
    user = fake.add_user()
    await bot.set_my_commands([BotCommand("start", "Bắt đầu")], language_code="vi")
    await bot.set_my_commands([BotCommand("hop", "Họp")], scope=BotCommandScopeChat(user.user_id))
    assert fake.commands("default", "vi") == [{"command": "start", "description": "Bắt đầu"}]
    assert fake.commands("chat", chat_id=user.user_id)[0]["command"] == "hop"
    assert [c.command for c in await bot.get_my_commands(language_code="vi")] == ["start"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "x")])

    first = fake.user_sends_text(user.user_id, "một")
    second = fake.user_sends_text(user.user_id, "hai")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    updates = await bot.get_updates(offset=second["update_id"], timeout=0)
    assert [u.message.text for u in updates if u.message] == ["hai"]
    assert [u["update_id"] for u in fake.pending_updates()] == [second["update_id"]]

    # Long poll returns early when an update arrives.
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, fake.user_sends_text, user.user_id, "ba")
    started = loop.time()
    updates = await bot.get_updates(offset=second["update_id"] + 1, timeout=5)
    assert [u.message.text for u in updates if u.message] == ["ba"]
    assert loop.time() - started < 2


async def test_second_long_poll_terminates_the_first_with_conflict(fake: FakeTelegram) -> None:
    first = asyncio.create_task(fake.handle_async("getUpdates", {"timeout": "5"}))
    await asyncio.sleep(0)  # let the first poll start waiting
    waiting = asyncio.create_task(fake.wait_for_updates(5))
    second = asyncio.create_task(fake.handle_async("getUpdates", {"timeout": "5"}))
    status, body = await first
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    user = fake.add_user()
    fake.user_sends_text(user.user_id, "hi")
    status, body = await second
    assert status == 200 and body["result"][0]["message"]["text"] == "hi"
    assert await waiting is True  # plain waiters are not disturbed by polls

    asyncio.get_running_loop().call_soon(fake.handle, "getMe", {})
    assert await fake.wait_for_activity(1) is True  # any Bot API call counts as activity
    assert await fake.wait_for_activity(0.01) is False


def test_clock_is_injectable_and_must_be_aware() -> None:
    fixed = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    fake = FakeTelegram(clock=lambda: fixed)
    user = fake.add_user()
    update = fake.user_sends_text(user.user_id, "hi")
    assert update["message"]["date"] == int(fixed.timestamp())
    status, body = fake.handle("SENDMESSAGE", {"chat_id": str(user.user_id), "text": "ok"})
    assert status == 200 and body["result"]["date"] == int(fixed.timestamp())
    status, body = fake.handle("noSuchMethod", {})
    assert (status, body["description"]) == (404, "Not Found")

    naive = FakeTelegram(clock=lambda: datetime(2025, 1, 1))  # noqa: DTZ001 - rejected on purpose
    naive_user = naive.add_user()
    with pytest.raises(ValueError, match="timezone-aware"):
        naive.user_sends_text(naive_user.user_id, "hi")


def test_html_parser_details() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler>'
        ' <a href="https://t.me/x">l</a> &nbsp; &#128512; <blockquote expandable>q</blockquote>'
    )
    assert parsed.text == "x = 1 s l &nbsp; 😀 q"
    types = [(e["type"], e.get("language"), e.get("url")) for e in parsed.entities]
    assert types == [
        ("pre", "python", None),
        ("spoiler", None, None),
        ("text_link", None, "https://t.me/x"),
        ("expandable_blockquote", None, None),
    ]
    assert parsed.entities[-1]["offset"] == 20  # the emoji counted as 2 UTF-16 units
    assert check_html("<b>ok</b>") is None
    assert check_html("<B>x</B>") == (
        "Bad Request: can't parse entities: Unmatched end tag at byte offset 4, "
        'expected "</b>", found "</B>"'
    )


def test_render_and_button_numbers(fake: FakeTelegram) -> None:
    user = fake.add_user()
    markup = {
        "inline_keyboard": [
            [{"text": "Có", "callback_data": "yes"}, {"text": "Không", "callback_data": "no"}],
            [{"text": "Web", "url": "https://example.org"}],
        ]
    }
    status, _ = fake.handle(
        "sendMessage",
        {
            "chat_id": user.user_id,
            "text": "<b>Đi họp?</b>",
            "parse_mode": "HTML",
            "reply_markup": json.dumps(markup),  # as HTTP clients send it
        },
    )
    assert status == 200
    message = fake.last_message(user.user_id)
    assert message is not None
    assert render_message(message, numbered_from=5) == (
        "Đi họp?\n[5] Có  [6] Không\n[7] Web ↗ https://example.org"
    )
    assert button_by_number(message, 6, numbered_from=5) == "no"
    with pytest.raises(ValueError, match="choose"):
        button_by_number(message, 9)


async def test_in_process_polling_with_updater(fake: FakeTelegram) -> None:
    application = build_application(fake)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=5)
    try:
        user = fake.add_user()
        fake.user_sends_text(user.user_id, "/start")  # wakes the pending long poll
        sent = await fake.wait_for_bot_messages(user.user_id, 1, timeout=3)
        assert sent[0].text.startswith("Xin chào")
        with pytest.raises(TimeoutError):
            await fake.wait_for_bot_messages(user.user_id, 2, timeout=0.05)
    finally:
        # Cancels the 5 s long poll at once, then confirms the processed updates.
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
    assert fake.pending_updates() == []


# ---------------------------------------------------------------------- over HTTP


async def test_http_polling_round_trip() -> None:
    fake = FakeTelegram()
    async with TelegramDoubleServer(fake, port=0) as server:
        application = build_application(fake, base_url=server.base_url)
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            async with HttpDriver(server.base_url) as users:
                lan = await users.add_user(first_name="Lan")
                chat = lan["chat_id"]

                await users.send(chat, "/start")
                transcript = await users.wait_for(chat, 1, timeout=5)
                welcome = transcript[-1]
                assert welcome.text.startswith("Xin chào, đồng chí!")
                assert welcome.buttons()[0] == ("📅 Họp chi bộ", "menu:meeting")

                await users.press(chat, "họp chi bộ")
                await users.send_document(chat, "a.txt", b"abc")
                transcript = await users.wait_for(chat, 2, timeout=5)
                reply = transcript[-1]
                assert reply.document is not None and reply.document.content == b"cba"
                assert reply.text == "Nhận 3 bytes"

                # The edit happened before the document reply was processed (updates are
                # handled in order), so the welcome message is edited now.
                assert await users.last_text(chat) == "Nhận 3 bytes"
                edited = (await users.messages(chat))[1]
                assert edited.text == "Bạn chọn: menu:meeting"
                answers = await users.callback_answers()
                assert answers[0]["text"] == "Đã chọn menu:meeting"

                with pytest.raises(ValueError, match="no button matching"):
                    await users.press(chat, "không tồn tại")
                with pytest.raises(TimeoutError):
                    await users.wait_for(chat, 3, timeout=0.2)
                stats = await users.stats()
                assert stats["sent_count"] == 2
                assert stats["rate_limited"] == 0
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()


async def test_http_wrong_token_and_raw_api() -> None:
    fake = FakeTelegram()
    async with (
        TelegramDoubleServer(fake) as server,
        aiohttp.ClientSession() as session,
    ):
        async with session.post(f"{server.base_url}/botWRONG/getMe") as response:
            assert response.status == 401
        user = fake.add_user()
        form = {"chat_id": str(user.user_id), "text": "<b>x", "parse_mode": "HTML"}
        async with session.post(f"{server.base_url}/bot{fake.token}/sendMessage", data=form) as r:
            body = await r.json()
            assert r.status == 400
            assert body["description"].startswith("Bad Request: can't parse entities")
        async with session.get(f"{server.base_url}/bot{fake.token}/getMe", params={"x": "1"}) as r:
            assert (await r.json())["result"]["username"] == "chibo_test_bot"

        requests = (HTTPXRequest(), HTTPXRequest())
        wrong = Bot(
            "999:WRONG",
            base_url=f"{server.base_url}/bot",
            request=requests[0],
            get_updates_request=requests[1],
        )
        try:
            with pytest.raises(InvalidToken):
                await wrong.initialize()
        finally:
            for request in requests:
                await request.shutdown()
