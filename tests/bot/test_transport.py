"""The bot's HTTP layer (aiohttp under PTB's request interface) and its event loop, through
PTB's real request path against the Bot API double over loopback HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from io import BytesIO

import pytest
import uvloop
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.testing.server import TelegramDoubleServer
from bot.testing.telegram_double import FakeTelegram
from bot.transport import AiohttpRequest, loop_factory
from domain.settings import Settings
from tests.auxil.botkit import TOKEN

CHAT = 4242


@pytest.fixture
async def double() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram(token=TOKEN, bot_username="chibo_test_bot")
    fake.add_user(CHAT, first_name="An")
    async with TelegramDoubleServer(fake) as server:
        yield fake, f"{server.base_url}/bot"


async def test_messages_keyboards_and_answers_go_through(
    double: tuple[FakeTelegram, str],
) -> None:
    fake, base = double
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(connection_pool_size=4)) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Có mặt ✅", callback_data="a:1")]])
        sent = await bot.send_message(
            CHAT, "<b>Chi bộ</b> số 1 — họp", parse_mode="HTML", reply_markup=keyboard
        )
        assert fake.buttons(fake.messages(CHAT)[0]) == [("Có mặt ✅", "a:1")]
        await bot.edit_message_text("Đã lưu", chat_id=CHAT, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "không ai")  # Telegram's refusal, as PTB reports it
    message = fake.last_message(CHAT)
    assert message is not None
    assert sent.text == "Chi bộ số 1 — họp"
    assert (message.message_id, message.text) == (sent.message_id, "Đã lưu")
    assert message.edited_count == 1


async def test_a_document_is_uploaded_with_its_name_type_and_bytes(
    double: tuple[FakeTelegram, str],
) -> None:
    fake, base = double
    content = bytes(range(256)) * 1000  # binary, 256 kB
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest()) as bot:
        await bot.send_document(
            CHAT, BytesIO(content), filename="Báo cáo tháng 11.xlsx", caption="Tổng hợp"
        )
    message = fake.last_message(CHAT)
    assert message is not None and message.document is not None
    assert message.text == "Tổng hợp"
    assert message.document.file_name == "Báo cáo tháng 11.xlsx"
    assert message.document.content == content


async def test_an_answer_that_never_comes_is_timed_out(double: tuple[FakeTelegram, str]) -> None:
    fake, base = double
    fake.fail_next("sendMessage", timeout=True)
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(read_timeout=0.3)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "chậm")
        await bot.send_message(CHAT, "lần sau")  # the pool is usable again
    message = fake.last_message(CHAT)
    assert message is not None and message.text == "lần sau"


async def test_a_failed_connection_is_a_network_error_that_does_not_show_the_token() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest())
    await bot.request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.get_me()
    finally:
        await bot.request.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert TOKEN.split(":")[1] not in str(caught.value)
    assert "aiohttp." in str(caught.value)


async def test_a_request_shut_down_opens_again(double: tuple[FakeTelegram, str]) -> None:
    fake, base = double
    request = AiohttpRequest()
    bot = Bot(TOKEN, base_url=base, request=request)
    async with bot:
        await bot.send_message(CHAT, "một")
    await request.shutdown()  # twice is harmless
    async with bot:
        await bot.send_message(CHAT, "hai")
    assert [m.text for m in fake.messages(CHAT)] == ["một", "hai"]


def test_timeouts_are_ptbs_with_their_sum_as_the_bound() -> None:
    request = AiohttpRequest(read_timeout=5.0, write_timeout=4.0, connect_timeout=3.0)
    timeout = request.timeout(35.0, 4.0, 3.0, 1.0)  # a long poll's read
    assert (timeout.total, timeout.connect, timeout.sock_connect, timeout.sock_read) == (
        43.0,
        4.0,
        3.0,
        35.0,
    )
    unbounded = request.timeout(None, 4.0, 3.0, 1.0)
    assert (unbounded.total, unbounded.sock_read) == (None, None)


def test_the_bot_runs_on_uvloop_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHIBO_EVENT_LOOP", raising=False)
    assert Settings().event_loop == "uvloop"
    assert loop_factory("uvloop") is uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory("uvloop")) as runner:
        assert isinstance(runner.get_loop(), uvloop.Loop)
    monkeypatch.setenv("CHIBO_EVENT_LOOP", "asyncio")
    assert loop_factory(Settings().event_loop) is None


async def test_the_proxy_of_the_environment_is_used(
    double: tuple[FakeTelegram, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The double stands in for the proxy: the Bot API's host does not resolve, so the request
    # reaches Telegram's double only through the proxy. NO_PROXY lets another host bypass it.
    fake, base = double
    proxy = base.removesuffix("/bot")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "bypassed.invalid")
    request = AiohttpRequest()
    async with Bot(TOKEN, base_url="http://api.telegram.invalid/bot", request=request) as bot:
        await bot.send_message(CHAT, "qua proxy")
    assert request.proxy("http://api.telegram.invalid/bot") == proxy
    assert request.proxy("http://bypassed.invalid/bot") is None
    message = fake.last_message(CHAT)
    assert message is not None and message.text == "qua proxy"
