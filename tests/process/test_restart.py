"""Process-level stories: the real `chibo run` process, killed with SIGKILL and restarted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.testing.driver import HttpDriver
from bot.testing.server import TelegramDoubleServer
from bot.testing.telegram_double import FakeTelegram
from domain.clock import SystemClock
from storage import orgs, people
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import seed_demo
from storage.models import Role
from tests.auxil.process import TOKEN, BotProcess, wait_until, wait_until_polling


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[tuple[BotProcess, HttpDriver]]:
    """A seeded database, the double over HTTP, and one bot process."""
    with db.transaction() as session:
        khoi = seed_demo(session, now=SystemClock().now())
    fake = FakeTelegram(token=TOKEN, bot_username="chibo_test_bot")
    for user in khoi.users.values():
        fake.add_user(user.telegram_user_id, first_name=user.name.split()[-1])
    server = TelegramDoubleServer(fake)
    await server.start()
    url = db.engine.url.render_as_string(hide_password=False)
    proc = BotProcess(server, url, tmp_path)
    driver = HttpDriver(server.base_url)
    try:
        yield proc, driver
    finally:
        await proc.astop()
        await driver.close()
        await server.stop()


async def bot_said(driver: HttpDriver, chat_id: int, count: int) -> list[str]:
    """Wait for ``count`` bot messages in the chat and return their texts."""
    messages = await driver.wait_for(chat_id, count, timeout=30)
    return [m.text for m in messages if m.from_bot]


async def test_the_bot_process_answers_survives_sigkill_and_answers_again(world, db) -> None:
    proc, driver = world
    with db.transaction() as session:
        org = orgs.by_code(session, "CBDIEN")
        assert org is not None
        code = people.create_invite(
            session, org=org, role=Role.DEPUTY, actor=Actor("test"), now=SystemClock().now()
        ).code
    await driver.add_user(user_id=7001, first_name="Nam", last_name="Lê Hoài", language_code="vi")
    proc.start()
    await wait_until_polling(proc.server)

    await driver.send(7001, f"/start {code}")
    messages = await bot_said(driver, 7001, 2)
    assert "Phó Bí thư chi bộ" in messages[0], proc.log()

    proc.kill()
    proc.start()
    await wait_until_polling(proc.server)
    await driver.send(7001, "/help")
    messages = await bot_said(driver, 7001, 3)
    assert "/meeting" in messages[2], proc.log()
    # The invite was used once; a second /start with it says so after the restart too.
    await driver.send(7001, f"/start {code}")
    messages = await bot_said(driver, 7001, 4)
    assert "đã được liên kết" in messages[3]


def test_run_refuses_a_database_that_is_behind(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "chibo db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


async def test_sigkill_in_the_middle_of_logging_a_meeting_loses_nothing(world, db) -> None:
    """The secretary answered kind and duration; the bot is killed; she just carries on."""
    from sqlalchemy import select

    from storage.models import Draft, Meeting

    proc, driver = world
    fake = proc.server.fake
    secretary = 1006  # bt_bv, secretary of CBBV-DK in the demo seed
    proc.start()
    await wait_until_polling(proc.server)

    async def press(label: str) -> None:
        answered = len(fake.callback_answers)
        await driver.press(secretary, label)
        await wait_until(fake, lambda: len(fake.callback_answers) > answered)

    await driver.send(secretary, "/meeting")
    await bot_said(driver, secretary, 1)
    await press("Sinh hoạt thường kỳ")
    await press("90 phút")
    with db.transaction() as session:
        draft = session.scalar(select(Draft))
        assert draft is not None
        step_before = (draft.state, draft.data.get("kind"), draft.data.get("duration"))

    proc.kill()
    proc.start()
    await wait_until_polling(proc.server)

    await press("Hôm nay")  # a button of the message shown before the crash
    assert "Điểm danh" in fake.last_message(secretary).text, proc.log()
    with db.transaction() as session:
        draft = session.scalar(select(Draft))
        assert draft is not None
        assert (draft.data.get("kind"), draft.data.get("duration")) == step_before[1:]
    await press("Xong")
    await wait_until(
        fake,
        lambda: (
            "Khách" in fake.last_message(secretary).text
            or "khách" in fake.last_message(secretary).text
        ),
        timeout=10,
    )
    # A second kill and a plain /meeting: the bot offers to continue instead of starting over.
    proc.kill()
    proc.start()
    await wait_until_polling(proc.server)
    count = len(fake.bot_messages(secretary))
    await driver.send(secretary, "/meeting")
    await wait_until(fake, lambda: len(fake.bot_messages(secretary)) > count)
    assert "dở" in fake.last_message(secretary).text, proc.log()
    with db.transaction() as session:
        assert session.scalar(select(Meeting)) is None  # nothing half-written was saved
