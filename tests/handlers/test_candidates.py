"""Stories of /candidates and /enterprises through a real PTB Application and the Bot API test
double (the ``bot`` fixture: demo Khối, Monday 16 November 2026, 08:00 in Vietnam)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select

from bot.testing.telegram_double import FakeMessage
from storage.models import (
    Candidate,
    CandidateConsideration,
    CandidateEvent,
    Enterprise,
    Meeting,
    Role,
    RoleAssignment,
)
from tests.auxil.botkit import BotKit

TODAY = date(2026, 11, 16)


class Taps:
    """Presses buttons by their callback data and counts the taps."""

    def __init__(self, bot: BotKit, key: str) -> None:
        self.bot, self.key, self.uid = bot, key, bot.uid(key)
        self.count = 0

    def find(self, match: Callable[[str, str], bool]) -> tuple[int, str]:
        for msg in reversed(self.bot.fake.bot_messages(self.uid)):
            for label, data in self.bot.fake.buttons(msg):
                if data and match(label, data):
                    return msg.message_id, data
        shown = self.bot.fake.buttons(self.bot.fake.last_message(self.uid))  # type: ignore[arg-type]
        raise AssertionError(f"no such button; last message has {shown}")

    async def tap(self, prefix: str, suffix: str = "") -> list[FakeMessage]:
        mid, data = self.find(lambda _l, d: d.startswith(prefix) and d.endswith(suffix))
        self.count += 1
        return await self.bot.driver.press_data(self.uid, mid, data)

    async def tap_label(self, prefix: str, label: str) -> list[FakeMessage]:
        mid, data = self.find(lambda lab, d: d.startswith(prefix) and label in lab)
        self.count += 1
        return await self.bot.driver.press_data(self.uid, mid, data)

    async def type(self, text: str) -> list[FakeMessage]:
        return await self.bot.send(self.key, text)

    def text(self) -> str:
        return self.bot.last_text(self.key)


def count(bot: BotKit, model: object, *where: object) -> int:
    with bot.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


async def add_candidate(
    t: Taps, name: str, year: int = 1998, month: int = 3, groups: int = 1
) -> None:
    await t.tap("cnd:add:")
    await t.type(name)
    await t.tap("cnd:g:", ":female")
    await t.tap("cnd:dec:", f":{year // 10 * 10}")
    await t.tap("cnd:y:", f":{year}")
    await t.tap("cnd:mo:", f":{month}")
    await t.tap("cnd:u:", ":0")
    for g in ["worker", "youth_union", "khmer"][:groups]:
        await t.tap("cnd:grp:", f":{g}")
    await t.tap("cnd:save:")


async def test_a_secretary_adds_a_non_member_in_eight_taps(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/camtinh")
    assert "Chi bộ Bệnh viện Đa khoa" in t.text()
    await add_candidate(t, "Lê Thị Mai")
    assert t.count == 8  # add, gender, decade, year, month, unit, one group, save
    assert "Lê Thị Mai" in t.text()
    with bot.db.transaction() as s:
        c = s.scalar(select(Candidate))
        assert c is not None and c.priority_groups == ["women", "worker"]
        assert (c.birth_year, c.birth_month, c.gender.value) == (1998, 3, "female")


async def test_a_namesake_born_the_same_month_is_asked_about(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/camtinh")
    await add_candidate(t, "Lê Thị Mai")
    await t.tap("cnd:add:")
    await t.type("le thi mai")
    await t.tap("cnd:g:", ":female")
    await t.tap("cnd:dec:", ":1990")
    await t.tap("cnd:y:", ":1998")
    await t.tap("cnd:mo:", ":3")
    assert "đã có trong danh sách" in t.text() or "already on" in t.text()
    await t.tap("cnd:dupok:")
    await t.tap("cnd:u:", ":0")
    await t.tap("cnd:save:")
    assert count(bot, Candidate) == 2


async def test_birth_year_3000_is_explained_and_the_step_stays(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/camtinh")
    await t.tap("cnd:add:")
    await t.type("Trần Văn Bình")
    await t.tap("cnd:g:", ":male")
    await t.type("3000")
    assert "3000" in t.text() and "294-QĐ/TW" in t.text()
    await t.type("1995")  # still at the year step
    await t.tap("cnd:mo:", ":0")
    assert t.find(lambda _l, d: d.startswith("cnd:u:"))


async def test_monthly_consideration_of_six_people_and_the_cell_is_no_longer_chased(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/camtinh")
    for i, name in enumerate(["An", "Bình", "Chi", "Dung", "Giang", "Hà"]):
        await add_candidate(t, f"Nguyễn Thị {name}", year=1990 + i, groups=0)
    t.count = 0
    await t.tap("cnd:cons:")
    await t.tap("cnd:ct:", ":cls")  # one sympathizer to the next class
    # A proposal without the awareness class is explained, not accepted.
    await t.tap("cnd:ct:", ":prop")
    assert "294-QĐ/TW" in t.text()
    await t.tap("cnd:crec:")
    assert t.count == 4
    assert count(bot, CandidateConsideration) == 1
    assert count(bot, Candidate, Candidate.class_planned_on == TODAY) == 1
    assert count(bot, Candidate, Candidate.proposed_on.is_not(None)) == 0


async def test_a_second_consideration_in_the_month_records_no_second_row(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/camtinh")
    for _ in range(2):
        await t.tap("cnd:cons:")
        await t.tap("cnd:crec:")
    assert count(bot, CandidateConsideration) == 1
    assert "✅" in t.text()


async def test_a_meeting_with_new_member_work_asks_once_and_records(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:dur:", ":90")
    await t.tap("mtg:date:", f":{TODAY:%Y%m%d}")
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")  # "new-member work" is ticked by default in a regular meeting
    await t.tap("mtg:save:")
    assert count(bot, Meeting) == 1
    await t.tap("cnd:mtg:", ":y")
    assert count(bot, CandidateConsideration) == 1
    # The answered question goes; the saved meeting's own buttons stay, and still work.
    saved = next(
        m for m in bot.fake.bot_messages(t.uid) if "mtg:list" in _data(t, m)
    )  # the saved meeting's message, edited
    assert not any(d.startswith("cnd:mtg:") for d in _data(t, saved))
    assert any(d.startswith("mtg:open:") for d in _data(t, saved))
    await t.tap("mtg:open:")
    opened = next(m for m in bot.fake.bot_messages(t.uid) if m.message_id == saved.message_id)
    assert "16/11/2026" in (opened.text or "")


async def test_a_name_typed_for_the_list_is_not_lost_to_another_command(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/camtinh")
    await t.tap("cnd:add:")
    await t.type("Lê Thị Mai")
    await t.type("/meeting")
    assert "Lê Thị Mai" in t.text()  # what discarding would lose is shown
    await t.tap("resume:go:")
    assert "Lê Thị Mai" in t.text() and any(d.startswith("cnd:g:") for d in _data(t))
    await t.type("/meeting")
    await t.tap("resume:new:")  # discarded by choice: the meeting starts
    assert any(d.startswith("mtg:kind:") for d in _data(t))
    assert count(bot, Candidate) == 0

    # Nothing typed yet: another command starts without asking.
    await t.type("/cancel")
    await t.type("/camtinh")
    await t.tap("cnd:add:")
    await t.type("/meeting")
    assert any(d.startswith("mtg:kind:") for d in _data(t))


def _data(t: Taps, message: FakeMessage | None = None) -> list[str]:
    shown = message or t.bot.fake.last_message(t.uid)
    return [d for _l, d in t.bot.fake.buttons(shown)]  # type: ignore[arg-type]


async def test_enterprises_for_the_offices(bot: BotKit) -> None:
    t = Taps(bot, "to_chuc")
    await t.type("/doanhnghiep")
    await t.tap("ent:add")
    await t.type("Công ty TNHH May Tây Đô")
    await t.type("KCN Trà Nóc 2")
    await t.type("-40")
    assert "-40" in t.text()
    await t.type("850")
    await t.type("3")
    await t.tap("ent:u:", ":tu")
    await t.tap("ent:save:")
    await t.tap("ent:adv:")
    await t.tap("ent:adv:")
    with bot.db.transaction() as s:
        e = s.scalar(select(Enterprise))
        assert e is not None and e.status.value == "conditions_met" and e.workforce == 850
    # A cell secretary does not manage enterprises.
    await bot.send("bt_bv", "/enterprises")
    assert "không" in bot.last_text("bt_bv").lower() or "not" in bot.last_text("bt_bv").lower()


async def test_two_secretaries_move_the_same_candidate_the_second_is_told(bot: BotKit) -> None:
    # The cell's deputy works on another phone.
    with bot.db.transaction() as s:
        s.add(
            RoleAssignment(
                person_id=bot.khoi.users["bt_vp"].person_id,
                org_id=bot.khoi.orgs["CBBV-DK"],
                role=Role.DEPUTY,
                granted_at=bot.clock.now(),
                granted_by="test",
            )
        )
    a, b = Taps(bot, "bt_bv"), Taps(bot, "bt_vp")
    await a.type("/camtinh")
    await add_candidate(a, "Lê Thị Mai")
    await a.tap("cnd:open:")
    await b.type("/camtinh")
    await b.tap("cnd:list:", f":{bot.khoi.orgs['CBBV-DK']}")
    await b.tap("cnd:open:")
    await a.tap("cnd:mv:", ":class_done")
    await b.tap("cnd:mv:", ":class_done")
    await a.tap("cnd:d:")
    await b.tap("cnd:d:")
    told = [x.text or "" for x in bot.fake.callback_answers if x.user_id == b.uid]
    assert "vừa cập nhật hồ sơ của Lê Thị Mai" in told[-1]
    with bot.db.transaction() as s:
        c = s.scalar(select(Candidate))
        assert c is not None and c.stage == "class_done" and c.version == 2
    # A double tap of the same stale button changes nothing either.
    await b.tap("cnd:d:")
    with bot.db.transaction() as s:
        c = s.scalar(select(Candidate))
        assert c is not None and c.version == 2


async def test_a_file_with_introductions_over_12_months_old_has_them_redone_from_its_card(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/camtinh")
    await add_candidate(t, "Lê Thị Mai")
    with bot.db.transaction() as s:  # introduced on 1/9/2025, background checked since
        c = s.scalar(select(Candidate))
        assert c is not None
        c.stage, c.stage_since = "background_check", date(2025, 10, 1)
        c.certificate_on = date(2025, 6, 10)
        s.add(
            CandidateEvent(
                candidate_id=c.id,
                stage="mentors",
                happened_on=date(2025, 9, 1),
                detail={},
                created_at=bot.clock.now(),
                action="forward",
            )
        )
    await t.tap("cnd:open:")
    assert "quá 12 tháng" in t.text()
    await t.tap("cnd:redo:")
    assert "Làm lại thủ tục giới thiệu" in t.text()
    await t.tap("cnd:f:", ":two_members")
    await t.tap("cnd:im:")
    first = t.find(lambda _l, d: d.startswith("cnd:im:"))[1]
    # The first member is ticked: tick a second one, the same rule as the first time.
    mid, second = t.find(lambda lab, d: d.startswith("cnd:im:") and "✅" not in lab)
    await bot.driver.press_data(t.uid, mid, second)
    await t.tap("cnd:iok:")
    assert "đã làm lại giới thiệu ngày 16/11/2026" in t.text()
    with bot.db.transaction() as s:
        c = s.scalar(select(Candidate))
        assert c is not None and c.stage == "background_check" and len(c.introducers) == 2
        assert int(first.rsplit(":", 1)[1]) in c.introducers
        events = s.scalars(select(CandidateEvent).where(CandidateEvent.action == "redo")).all()
        assert [(e.stage, e.happened_on) for e in events] == [("mentors", TODAY)]
    # The card no longer offers the redo, and the resolution can go on.
    await t.tap("cnd:open:")
    assert not any(
        d.startswith("cnd:redo:") for _l, d in bot.fake.buttons(bot.fake.last_message(t.uid))
    )  # type: ignore[arg-type]
