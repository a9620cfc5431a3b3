"""The steering group's half-yearly and yearly reviews of the enterprises work: recorded in
/enterprises (/doanhnghiep) by the Khối's office, which discharges them in /deadlines and the
reminders (the ``bot`` fixture: demo Khối, Monday 16 November 2026, 08:00 in Vietnam)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from domain.errors import NotAllowed, StaleAction
from services import calendar as calendar_service
from storage import enterprises as es
from storage import obligations as ob
from storage.models import AuditLog, SteeringReview
from tests.auxil.botkit import BotKit
from tests.handlers.test_candidates import Taps

TODAY = date(2026, 11, 16)
#: After the 2027 half-year review's due date (20/06/2027 is a Sunday: Monday 21/06).
LATER = datetime(2027, 6, 25, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def open_reviews(bot: BotKit) -> set[tuple[str, str]]:
    """The steering reviews still owed (not discharged), due from June 2026 to today."""
    with bot.db.transaction() as s:
        catalog = calendar_service.current(s)
        items = ob.instances(
            s,
            catalog,
            calendar_service.work_calendar(s, catalog),
            start=date(2026, 6, 1),
            end=bot.clock.now().date(),
            tz=bot.app.bot_data["app"].settings.tz,
        )
    return {(i.obligation, i.period) for i in items if i.obligation.startswith("steering_")}


async def test_the_office_records_the_half_year_review_and_it_is_no_longer_chased(
    bot: BotKit,
) -> None:
    bot.clock.set(LATER)
    assert open_reviews(bot) == {("steering_annual", "2026"), ("steering_half_year", "2027")}
    (before,) = await bot.send("to_chuc", "/hanchot")
    assert "Sơ kết 6 tháng công tác chỉ đạo doanh nghiệp" in before.text

    t = Taps(bot, "to_chuc")
    await t.type("/doanhnghiep")
    await t.tap("ent:rvl")
    assert "chưa ghi nhận" in t.text()
    await t.tap("ent:rv:steering_half_year:", ":2027")
    # A date in the future is explained and the step stays.
    await t.type(f"{LATER + timedelta(days=3):%d/%m/%Y}")
    assert "sau hôm nay" in t.text()
    await t.type("23/06/2027")
    # A note over the limit is refused with the limit, never cut.
    await t.type("x" * 501)
    assert "501" in t.text() and "500" in t.text()
    with bot.db.transaction() as s:
        assert s.scalars(select(SteeringReview)).all() == []
    await t.type("Sơ kết tại KCN Trà Nóc")
    assert "✅" in t.text() and "23/06/2027" in t.text()

    with bot.db.transaction() as s:
        (row,) = s.scalars(select(SteeringReview)).all()
        assert (row.obligation, row.period, row.held_on) == (
            "steering_half_year",
            "2027",
            date(2027, 6, 23),
        )
        assert row.note == "Sơ kết tại KCN Trà Nóc"
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "steering_review")).all()
        assert [a.action for a in audit] == ["record"]
        assert "Trà Nóc" not in str(audit[0].after)  # the note itself is not copied around

    assert open_reviews(bot) == {("steering_annual", "2026")}
    (after,) = await bot.send("to_chuc", "/hanchot")
    assert "Sơ kết 6 tháng công tác chỉ đạo doanh nghiệp" not in after.text


async def test_the_annual_review_saved_without_a_note_by_a_tapped_day(bot: BotKit) -> None:
    t = Taps(bot, "to_chuc")
    await t.type("/doanhnghiep")
    await t.tap("ent:rvl")
    await t.tap("ent:rv:steering_annual:", ":2026")
    await t.tap("ent:rvd:", f":{TODAY:%Y%m%d}")
    save = t.find(lambda _l, d: d.startswith("ent:rvs:"))
    await t.tap("ent:rvs:")
    with bot.db.transaction() as s:
        (row,) = s.scalars(select(SteeringReview)).all()
        assert row.held_on == TODAY and row.note is None
    assert open_reviews(bot) == set()
    # The save button, pressed again (a double tap), is stale: no second row, no second audit.
    mid, data = save
    message = bot.fake.last_message(t.uid)
    assert message is not None and message.reply_markup is not None
    message.reply_markup[-1][0]["callback_data"] = data  # the old message's button, as tapped
    await bot.driver.press_data(t.uid, mid, data)
    assert "không còn hiệu lực" in (bot.fake.callback_answers[-1].text or "")
    with bot.db.transaction() as s:
        assert len(s.scalars(select(SteeringReview)).all()) == 1
        assert (
            len(s.scalars(select(AuditLog).where(AuditLog.entity == "steering_review")).all()) == 1
        )


def test_a_cell_secretary_cannot_record_a_review(bot: BotKit) -> None:
    with pytest.raises(NotAllowed), bot.db.transaction() as s:
        es.record_steering_review(
            s,
            person_id=bot.khoi.users["bt_bv"].person_id,
            obligation="steering_annual",
            period="2026",
            held_on=TODAY,
            note=None,
            today=TODAY,
            now=bot.clock.now(),
        )
    with bot.db.transaction() as s:
        assert s.scalars(select(SteeringReview)).all() == []


def test_only_the_steering_obligations_can_be_recorded(bot: BotKit) -> None:
    with pytest.raises(StaleAction), bot.db.transaction() as s:
        es.record_steering_review(
            s,
            person_id=bot.khoi.users["to_chuc"].person_id,
            obligation="regular_meeting",
            period="2026-11",
            held_on=TODAY,
            note=None,
            today=TODAY,
            now=bot.clock.now(),
        )


async def test_the_review_reminder_button_opens_the_record_screen_of_its_period(
    bot: BotKit,
) -> None:
    from services.scheduler import tick

    bot.clock.set(datetime(2027, 6, 18, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    await tick(bot.app.bot_data["app"], bot.app.bot)
    (message,) = [
        m for m in bot.fake.bot_messages(bot.uid("to_chuc")) if "Sơ kết 6 tháng" in m.text
    ]
    buttons = dict(message.buttons())
    assert buttons["🗓 Ghi nhận sơ kết 6 tháng năm 2027"] == "ent:rv:steering_half_year:2027"

    replies = await bot.driver.press_data(
        bot.uid("to_chuc"), message.message_id, "ent:rv:steering_half_year:2027"
    )

    # The screen that asks the date of this review, for this period; nothing recorded yet.
    assert any("sơ kết, tổng kết (2027) vào ngày nào" in r.text for r in replies), [
        r.text for r in replies
    ]
    with bot.db.transaction() as s:
        assert s.scalars(select(SteeringReview)).all() == []
    t = Taps(bot, "to_chuc")
    await t.type("17/06/2027")
    await t.tap("ent:rvs:")
    with bot.db.transaction() as s:
        (row,) = s.scalars(select(SteeringReview)).all()
        assert (row.obligation, row.period, row.held_on) == (
            "steering_half_year",
            "2027",
            date(2027, 6, 17),
        )
