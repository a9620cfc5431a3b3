"""Logs at DEBUG hold no personal data: no names, message texts, reasons, invite codes, token.

Also the invite stories whose answers are about the person: reusing one's own invite says
"already linked", and an invite cancelled by the office no longer works.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.logs import configure
from storage import orgs, people
from storage.audit import Actor
from storage.models import Member, Organization, Role
from tests.auxil.botkit import TOKEN

NEWCOMER = 5001


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The production logging set-up at DEBUG, writing into a buffer; restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {n: logging.getLogger(n).level for n in ("httpx", "httpcore", "sqlalchemy", "alembic")}
    stream = io.StringIO()
    configure("DEBUG", token=TOKEN, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)


def make_invite(bot, org_code: str, role: Role) -> str:
    with bot.db.transaction() as session:
        org = orgs.by_code(session, org_code)
        assert org is not None
        return people.create_invite(
            session, org=org, role=role, actor=Actor.system("test"), now=bot.clock.now()
        ).code


async def test_a_conversation_at_debug_logs_ids_and_outcomes_but_no_personal_data(
    bot, debug_log: io.StringIO
) -> None:
    code = make_invite(bot, "CBBV-DK", Role.DEPUTY)
    bot.fake.add_user(NEWCOMER, first_name="Hương", last_name="Trần Thị", language_code="vi")
    await bot.driver.send(NEWCOMER, f"/start {code}")
    reason = "Chăm con ốm ở Bệnh viện Nhi"
    await bot.send("bt_bv", "/meeting")
    await bot.press("bt_bv", "thường kỳ")
    await bot.send("bt_bv", "97")
    await bot.press("bt_bv", "Hôm nay")
    with bot.db.transaction() as session:
        cell = session.scalar(select(Organization.id).where(Organization.code == "CBBV-DK"))
        names = list(
            session.scalars(select(Member.full_name).where(Member.org_id == cell).limit(3))
        )
    await bot.press("bt_bv", names[0])
    await bot.press("bt_bv", "Xong")
    await bot.press("bt_bv", "lý do khác")
    await bot.send("bt_bv", reason)
    await bot.send("bt_bv", "Một tin nhắn lạc đề của đồng chí bí thư")
    await bot.send("bt_bv", "/cancel")

    log = debug_log.getvalue()
    lines = log.splitlines()
    assert lines, "the conversation logged nothing"
    handled = [line for line in lines if "handler=" in line]
    assert len(handled) >= 8
    assert all(
        re.search(r"update=\d+ kind=\w+ handler=\S+ outcome=\S+$", line) for line in handled
    )
    secrets = [
        TOKEN,
        TOKEN.split(":")[1],
        code,
        "Hương",
        "Trần Thị",
        "Huỳnh Văn Tâm",
        reason,
        "lạc đề",
        *names,
    ]
    leaked = [s for s in secrets if s in log]
    assert leaked == [], f"personal data in the log: {leaked}"


async def test_reusing_ones_own_invite_says_already_linked(bot) -> None:
    code = make_invite(bot, "CBVP-SYT", Role.DEPUTY)
    bot.fake.add_user(NEWCOMER, first_name="Hương", last_name="Trần Thị", language_code="vi")
    await bot.driver.send(NEWCOMER, f"/start {code}")

    again = await bot.driver.send(NEWCOMER, f"/start {code}")

    assert "đã được liên kết" in again[0].text
    assert "không hợp lệ" not in again[0].text


async def test_a_cancelled_invite_no_longer_works(bot) -> None:
    code = make_invite(bot, "CBVP-SYT", Role.DEPUTY)
    with bot.db.transaction() as session:
        pending = people.list_pending_invites(session, now=bot.clock.now())
        assert [p.org_code for p in pending] == ["CBVP-SYT"]
        people.revoke_invite(
            session, invite_id=pending[0].invite_id, actor=Actor.system("t"), now=bot.clock.now()
        )
        assert people.list_pending_invites(session, now=bot.clock.now()) == []
    bot.fake.add_user(NEWCOMER, first_name="Hương", language_code="vi")

    replies = await bot.driver.send(NEWCOMER, f"/start {code}")

    assert "Mã mời không hợp lệ" in replies[0].text


def test_alembic_does_not_talk_in_the_bot_log(db, debug_log: io.StringIO) -> None:
    from storage.migrate import current_revision, head_revision, upgrade

    upgrade(db.engine)  # what chibo run's schema check and chibo db upgrade go through
    assert current_revision(db.engine) == head_revision()

    assert "alembic" not in debug_log.getvalue()
    assert "Context impl" not in debug_log.getvalue()
