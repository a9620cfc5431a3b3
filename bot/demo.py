"""``chibo demo``: the bot offline in the terminal, on a seeded demo Khối.

The real Application runs against the in-process Bot API test double; the terminal plays the
Telegram client. Lines (typed, or read from a script):

* ``as <user>`` switches the demo user (``users`` lists them);
* ``[3]`` or ``#3`` presses button 3 of the message just shown (after an edit too); a bare
  number such as ``100`` is typed text, the answer to "how many minutes?";
* ``press <label>`` presses the newest button whose label contains the text;
* ``clock <ISO date-time>`` moves the bot's clock (local time) and runs the reminder tick;
* ``quit`` leaves; anything else is sent as a message.

Documents the bot sends (Excel, Word, charts) are saved in the ``--out`` folder.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from bot.app import build_application
from bot.testing.driver import InProcessDriver, button_by_number, render_message
from bot.testing.request import FakeTelegramRequest
from bot.testing.telegram_double import FakeMessage, FakeTelegram
from domain.access import ROLE_NAMES
from domain.clock import ManualClock, SystemClock
from domain.i18n import N_, Translator, pick_locale, translator
from domain.settings import Settings
from services.calendar import load_default
from services.scheduler import tick
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo, seed_pipeline
from storage.migrate import upgrade
from storage.models import Person

DEMO_TOKEN = "100000001:DEMO-offline-token-not-for-telegram"
BANNER = N_(
    "Sổ tay Chi bộ — offline demo (no Telegram, no network)\n"
    'Demo users (type "as <user>" to switch):\n'
    "{users}\n"
    "Type a message or a command as in Telegram (a number is typed text, e.g. 100 minutes).\n"
    "[3] or #3 presses button 3 of the message just shown; press <label> presses a button "
    "by its label; as <user>; users; clock 2026-11-20T08:00; quit.\n"
    "Documents the bot sends are saved in: {out}"
)

#: ``[3]`` or ``#3``: press button 3 (a bare number is text the user types).
BUTTON = re.compile(r"^(?:\[\s*(\d+)\s*\]|#\s*(\d+))$")


class Demo:
    """The demo session: the double, the bot, the clock and the current user."""

    def __init__(
        self, database_url: str | None, out: TextIO, out_dir: str | Path = "chibo-demo-files"
    ) -> None:
        self.out = out
        self.out_dir = Path(out_dir)
        self.saved: list[Path] = []
        #: The message whose buttons [n] refers to, per demo user: the last one shown with any.
        self.seen: dict[int, int] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if not database_url or database_url in ("sqlite://", "sqlite:///:memory:"):
            self._tmp = tempfile.TemporaryDirectory(prefix="chibo-demo-")
            database_url = f"sqlite:///{Path(self._tmp.name) / 'demo.sqlite3'}"
        self.db = Database.from_url(database_url)
        self.clock = ManualClock(SystemClock().now())
        self.settings = Settings(  # type: ignore[call-arg]
            _env_file=None, TELEGRAM_BOT_TOKEN=DEMO_TOKEN, DATABASE_URL=database_url
        )
        self.fake = FakeTelegram(
            token=DEMO_TOKEN, bot_username="chibo_demo_bot", clock=self.clock.now
        )
        self.khoi: DemoKhoi | None = None
        self.user = ""
        self.app = build_application(
            self.settings,
            self.db,
            clock=self.clock,
            request=FakeTelegramRequest(self.fake),
            rate_limiter=False,
            jobs=False,
        )
        self.driver = InProcessDriver(self.fake, self.app)
        self.t = translator(self.settings.locale)

    async def start(self, user: str | None) -> None:
        """Migrate, seed and initialize the bot."""
        upgrade(self.db.engine)
        with self.db.transaction() as session:
            self.khoi = seed_demo(session, now=self.clock.now())
            seed_pipeline(session, self.khoi, now=self.clock.now())
            _load_calendar(session, self.clock)
        for demo_user in self.khoi.users.values():
            self.fake.add_user(
                demo_user.telegram_user_id,
                first_name=demo_user.name.split()[-1],
                last_name=" ".join(demo_user.name.split()[:-1]),
                language_code="vi",
            )
        await self.app.initialize()
        self.user = user if user in self.khoi.users else "bt_bv"
        self.print(self.t.gettext(BANNER).format(users=self.users_text(), out=self.out_dir))

    async def stop(self) -> None:
        """Shut the bot down and remove the temporary database."""
        await self.app.shutdown()
        self.db.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def tr(self) -> Translator:
        """The current demo user's language (their /language choice, else the default)."""
        if self.khoi is None or not self.user:
            return self.t
        with self.db.transaction() as session:
            stored = session.scalar(
                select(Person.locale).where(Person.telegram_user_id == self.uid)
            )
        return translator(pick_locale(stored, None, self.settings.locale))

    def users_text(self) -> str:
        """The demo users, one per line."""
        assert self.khoi is not None
        return "\n".join(
            f"  {key:<10} {u.name} — {self.tr.gettext(ROLE_NAMES[u.role])} ({u.org_code})"
            for key, u in self.khoi.users.items()
        )

    def print(self, text: str) -> None:
        """Write to the terminal."""
        self.out.write(text + ("\n" if not text.endswith("\n") else ""))
        self.out.flush()

    @property
    def uid(self) -> int:
        """The current demo user's Telegram id."""
        assert self.khoi is not None
        return self.khoi.users[self.user].telegram_user_id

    def show(self, messages: list[FakeMessage], who: str | None = None) -> None:
        """Print bot messages the way a chat shows them; save the documents they carry."""
        for msg in messages:
            prefix = f"🤖 → {who}\n" if who else "🤖\n"
            text = render_message(msg)
            saved = self.save(msg)
            if saved is not None:
                text += "\n" + self.tr.gettext("(saved: {path})").format(path=saved)
            self.print(prefix + text)
            if msg.reply_markup and not msg.deleted:
                self.seen[msg.chat_id] = msg.message_id

    def save(self, msg: FakeMessage) -> Path | None:
        """Write the document or photo of ``msg`` into the output folder; return its path."""
        attached = msg.document or msg.photo
        if attached is None or msg.deleted:
            return None
        name = Path(attached.file_name or f"photo-{msg.message_id}.jpg").name
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path, n = self.out_dir / name, 1
        while path.exists():  # never overwrite: an earlier document or run keeps its file
            n += 1
            path = self.out_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
        path.write_bytes(attached.content)
        self.saved.append(path)
        return path

    def _shown(self) -> FakeMessage | None:
        message_id = self.seen.get(self.uid)
        if message_id is None:
            return None
        return next((m for m in self.fake.messages(self.uid) if m.message_id == message_id), None)

    async def handle(self, line: str) -> bool:
        """Act on one line. Returns False to stop."""
        line = line.rstrip("\n")
        stripped = line.strip()
        if not stripped:
            return True
        if stripped in ("quit", "exit", "thoat"):
            return False
        if stripped == "users":
            self.print(self.users_text())
            return True
        if stripped.startswith("as "):
            key = stripped[3:].strip()
            assert self.khoi is not None
            if key not in self.khoi.users:
                self.print(
                    self.tr.gettext("(no demo user {key}; type users to list them)").format(
                        key=key
                    )
                )
            else:
                self.user = key
                self.print(self.tr.gettext("(now: {name})").format(name=self.khoi.users[key].name))
            return True
        if stripped.startswith("clock "):
            await self.move_clock(stripped[6:].strip())
            return True
        try:
            if match := BUTTON.match(stripped):
                shown = self._shown()
                if shown is None:
                    self.print(self.tr.gettext("(no message with buttons is shown)"))
                    return True
                try:
                    data = button_by_number(shown, int(match.group(1) or match.group(2)))
                except ValueError:
                    self.print(
                        self.tr.gettext(
                            "(no button with that number on the message just shown: "
                            "choose [1]..[{last}])"
                        ).format(last=len(shown.buttons()))
                    )
                    return True
                sent = await self.driver.press_data(self.uid, shown.message_id, data)
            elif stripped.startswith("press "):
                sent = await self.driver.press(self.uid, stripped[6:].strip())
            else:
                sent = await self.driver.send(self.uid, line)
        except ValueError:
            self.print(self.tr.gettext("(no visible button has that label)"))
            return True
        self.show(sent)
        return True

    async def move_clock(self, text: str) -> None:
        """Set the clock (local time) and run the reminder tick, showing what it sent."""
        try:
            when = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            self.print(
                self.tr.gettext("(not a date and time; for example: clock 2026-11-20T08:00)")
            )
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.settings.tz)
        self.clock.set(when)
        local = when.astimezone(self.settings.tz)
        self.print(
            self.tr.gettext("(clock: {when})").format(when=f"{self.t.date(local)} {local:%H:%M}")
        )
        before = {
            u.telegram_user_id: len(self.fake.messages(u.telegram_user_id))
            for u in (self.khoi.users.values() if self.khoi else [])
        }
        await _tick(self.app)
        assert self.khoi is not None
        for key, u in self.khoi.users.items():
            new = self.fake.messages(u.telegram_user_id)[before[u.telegram_user_id] :]
            self.show(new, who=f"{u.name} ({key})")


def _load_calendar(session, clock) -> None:
    load_default(session, now=clock.now())


async def _tick(app) -> None:
    await tick(app.bot_data["app"], app.bot)


async def _main(
    script: TextIO | None, database_url: str | None, user: str | None, out_dir: str | Path
) -> int:
    demo = Demo(database_url, sys.stdout, out_dir)
    await demo.start(user)
    try:
        if script is not None:
            for line in script:
                demo.print(f"\n[{demo.user}]> {line.rstrip()}")
                if not await demo.handle(line):
                    break
        else:
            loop = asyncio.get_running_loop()
            while True:
                try:
                    line = await loop.run_in_executor(None, input, f"\n[{demo.user}]> ")
                except EOFError:
                    break
                if not await demo.handle(line):
                    break
    finally:
        await demo.stop()
    return 0


def run_demo(
    *,
    script: str | None,
    database_url: str | None,
    user: str | None,
    out_dir: str | Path = "chibo-demo-files",
) -> int:
    """Run the demo: a script file, piped standard input, or an interactive terminal."""
    if script:
        with open(script, encoding="utf-8") as fh:
            return asyncio.run(_main(fh, database_url, user, out_dir))
    if not sys.stdin.isatty():
        return asyncio.run(_main(sys.stdin, database_url, user, out_dir))
    return asyncio.run(_main(None, database_url, user, out_dir))
