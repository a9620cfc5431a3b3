"""A seeded Khối and a real PTB Application on the in-process Bot API test double."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import Application

from bot.app import build_application
from bot.testing.driver import InProcessDriver
from bot.testing.request import FakeTelegramRequest
from bot.testing.telegram_double import FakeMessage, FakeTelegram
from domain.clock import ManualClock
from domain.settings import Settings
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstu"


def test_settings(**overrides: object) -> Settings:
    """Settings for tests (no .env file is read)."""
    values: dict[str, object] = {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "sqlite://"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class BotKit:
    """Everything a story test needs: the double, the app, the driver, the seed."""

    fake: FakeTelegram
    app: Application
    driver: InProcessDriver
    db: Database
    clock: ManualClock
    khoi: DemoKhoi

    @classmethod
    async def start(cls, db: Database, clock: ManualClock, *, seed: bool = True) -> BotKit:
        """Seed the demo Khối, build the app on the double and initialize it."""
        # Scripted users act in microseconds, far faster than people, and these stories test
        # behaviour, not pacing: the flood limits are tested on their own (tests/testing,
        # tests/process/test_delivery.py, tests/bot/test_pacing.py).
        fake = FakeTelegram(
            token=TOKEN, bot_username="chibo_test_bot", clock=clock.now, rate_limits=False
        )
        with db.transaction() as session:
            khoi = seed_demo(session, now=clock.now()) if seed else DemoKhoi(top_id=0)
        for user in khoi.users.values():
            first, *_rest = user.name.split()[::-1]
            fake.add_user(user.telegram_user_id, first_name=first, language_code="vi")
        app = build_application(
            test_settings(),
            db,
            clock=clock,
            request=FakeTelegramRequest(fake),
            rate_limiter=False,
            jobs=False,
        )
        await app.initialize()
        return cls(fake, app, InProcessDriver(fake, app), db, clock, khoi)

    async def stop(self) -> None:
        """Shut the application down."""
        await self.app.shutdown()

    def uid(self, key: str) -> int:
        """The Telegram user id of a demo user ("bt_bv", "lanh_dao", …)."""
        return self.khoi.users[key].telegram_user_id

    async def send(self, key: str, text: str) -> list[FakeMessage]:
        """A demo user types ``text``; returns what the bot sent or edited."""
        return await self.driver.send(self.uid(key), text)

    async def press(self, key: str, label: str) -> list[FakeMessage]:
        """A demo user presses the newest button whose label contains ``label``."""
        return await self.driver.press(self.uid(key), label)

    def last_text(self, key: str) -> str:
        """The newest bot message in the user's chat, as plain text."""
        return self.driver.last_text(self.uid(key))
