"""Stories of /meeting, /meetings and /model through a real PTB Application and the Bot API
test double (the ``bot`` fixture: demo Khối, Monday 16 November 2026, 08:00 in Vietnam)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.testing.driver import InProcessDriver
from bot.testing.request import FakeTelegramRequest
from bot.testing.telegram_double import FakeMessage
from domain.text import fold
from storage import drafts, figures, orgs
from storage import meetings as m
from storage.audit import Actor
from storage.models import (
    AttendanceStatus,
    AuditLog,
    Draft,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Outbox,
    Person,
    Role,
    RoleAssignment,
    Setting,
)
from storage.people import revoke_role
from tests.auxil.botkit import BotKit
from tests.auxil.botkit import test_settings as make_settings

TODAY = date(2026, 11, 16)


class Taps:
    """Presses buttons by their callback data (language-independent) and counts the taps."""

    def __init__(self, bot: BotKit, key: str) -> None:
        self.bot, self.key, self.uid = bot, key, bot.uid(key)
        self.count = 0
        self.typed = 0

    def find(self, match: Callable[[str, str], bool]) -> tuple[int, str]:
        for msg in reversed(self.bot.fake.bot_messages(self.uid)):
            for label, data in self.bot.fake.buttons(msg):
                if data and match(label, data):
                    return msg.message_id, data
        shown = self.bot.fake.buttons(self.bot.fake.last_message(self.uid))  # type: ignore[arg-type]
        raise AssertionError(f"no such button; last message has {shown}")

    async def tap(self, prefix: str, suffix: str = "") -> list[FakeMessage]:
        """Press the newest button whose data starts with ``prefix`` (and ends with ``suffix``)."""
        mid, data = self.find(lambda _l, d: d.startswith(prefix) and d.endswith(suffix))
        self.count += 1
        return await self.bot.driver.press_data(self.uid, mid, data)

    async def type(self, text: str) -> list[FakeMessage]:
        self.typed += len(text)
        return await self.bot.send(self.key, text)

    def text(self) -> str:
        return self.bot.last_text(self.key)

    def data(self) -> list[str]:
        msg = self.bot.fake.last_message(self.uid)
        assert msg is not None
        return [d for _l, d in self.bot.fake.buttons(msg) if d]

    def answers(self) -> list[Any]:
        return [a for a in self.bot.fake.callback_answers if a.user_id == self.uid]


def members(bot: BotKit, code: str = "CBBV-DK") -> list[Member]:
    with bot.db.transaction() as s:
        org = orgs.by_code(s, code)
        assert org is not None
        return [x for x in orgs.active_members(s, org.id) if x.status is not MemberStatus.EXEMPT]


def draft_of(bot: BotKit, key: str) -> Draft | None:
    with bot.db.transaction() as s:
        return drafts.get(s, bot.khoi.users[key].person_id)


def count(bot: BotKit, model: Any, *where: Any) -> int:
    with bot.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def to_attendance(t: Taps, kind: str = "regular") -> None:
    await t.type("/meeting")
    await t.tap("mtg:kind:", f":{kind}")
    await t.tap("mtg:dur:", ":90")
    await t.tap("mtg:date:", f":{TODAY:%Y%m%d}")


async def to_confirm(t: Taps) -> None:
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")


# --- The story the issue asks for ------------------------------------------------------------


async def test_a_secretary_logs_a_meeting_in_eleven_taps_and_corrects_an_absence(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    roll = members(bot)
    a, b = roll[2], roll[9]
    follower = bot.khoi.users["to_chuc"].person_id

    await t.type("/meeting")  # the command itself: 8 characters
    assert "Chi bộ Bệnh viện Đa khoa" in t.text()
    await t.tap("mtg:kind:", ":regular")  # 1
    await t.tap("mtg:dur:", ":90")  # 2
    await t.tap("mtg:date:", f":{TODAY:%Y%m%d}")  # 3
    assert "24/24" in t.text()
    await t.tap("mtg:abs:", f":{a.id}")  # 4
    await t.tap("mtg:abs:", f":{b.id}")  # 5
    assert "22/24" in t.text()
    await t.tap("mtg:attok:")  # 6
    assert a.full_name in t.text()
    await t.tap("mtg:rsn:", f":{a.id}:illness")  # 7
    assert b.full_name in t.text()
    await t.tap("mtg:rsn:", f":{b.id}:unexcused")  # 8
    await t.tap("mtg:fol:", f":{follower}")  # 9
    ticks = [d for d in t.data() if d.startswith("mtg:ct:")]
    assert len(ticks) == 5 and all(d.endswith(":0") for d in ticks)  # all pre-ticked
    await t.tap("mtg:cok:")  # 10
    summary = t.text()
    assert "Phạm Quốc Huy" in summary and "22/24" in summary
    assert a.full_name in summary and b.full_name in summary
    await t.tap("mtg:save:")  # 11
    assert (t.count, t.typed) == (11, len("/meeting"))
    assert "22/24" in t.text()

    with bot.db.transaction() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None
        saved = {x.member_id: (x.status, x.reason) for x in meeting.attendance}
        assert len(saved) == 25 and meeting.held_on == TODAY
        assert saved[a.id] == (AttendanceStatus.EXCUSED, "illness")
        assert saved[b.id] == (AttendanceStatus.UNEXCUSED, None)
        assert [g.person_id for g in meeting.guests] == [follower]
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "meeting")).all()
        assert [(x.action, x.actor_person_id) for x in audit] == [
            ("create", bot.khoi.users["bt_bv"].person_id)
        ]
        assert audit[0].at == bot.clock.now()
        meeting_id = meeting.id

    # The secretary learns the unexcused absence was a business trip and corrects it.
    await t.type("/meetings")
    assert "11/2026" in t.text() and "22/24" in t.text()
    await t.tap("mtg:open:", f":{meeting_id}")
    assert b.full_name in t.text()
    await t.tap("mtg:fix:", f":{meeting_id}")
    await t.tap("mtg:chg:", ":reasons")
    await t.tap("mtg:rsn:", f":{a.id}:illness")
    await t.tap("mtg:rsn:", f":{b.id}:trip")
    await t.tap("mtg:save:")

    cell = bot.khoi.orgs["CBBV-DK"]
    with bot.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 1
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None
        saved = {x.member_id: (x.status, x.reason) for x in meeting.attendance}
        assert saved[b.id] == (AttendanceStatus.EXCUSED, "trip")
        month = figures.monthly_figures(s, [cell], TODAY, TODAY)[cell][(2026, 11)]
        assert month.regular_held and month.superior_attended
        assert (month.present, month.required, month.excused, month.unexcused) == (22, 24, 2, 0)
        assert round(month.attendance_rate or 0, 3) == 0.917
        assert figures.unexcused_months(s, [cell], 2026) == {}
        actions = s.scalars(
            select(AuditLog.action).where(AuditLog.entity == "meeting").order_by(AuditLog.id)
        ).all()
        assert actions == ["create", "view", "update"]


# --- Double taps, stale buttons, restarts ----------------------------------------------------


async def test_the_same_save_callback_delivered_twice_records_one_meeting(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_confirm(t)
    mid, data = t.find(lambda _l, d: d.startswith("mtg:save:"))
    first = bot.fake.user_presses(t.uid, mid, data)
    second = bot.fake.user_presses(t.uid, mid, data)
    await bot.driver.feed(first)
    await bot.driver.feed(second)
    assert count(bot, Meeting) == 1
    assert count(bot, AuditLog, AuditLog.entity == "meeting") == 1
    last = t.answers()[-1]
    assert last.text  # "no longer active": the second delivery is answered, not executed


async def test_an_attendance_tap_delivered_twice_is_a_no_op(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    x = members(bot)[0]
    mid, data = t.find(
        lambda _l, d: d == f"mtg:abs:{m.conversation_key(draft_of(bot, 'bt_bv'))}:{x.id}"
    )  # type: ignore[union-attr]
    first = bot.fake.user_presses(t.uid, mid, data)
    second = bot.fake.user_presses(t.uid, mid, data)
    await bot.driver.feed(first)
    await bot.driver.feed(second)
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.data["absent"] == [x.id]
    assert "23/24" in t.text()


async def test_a_button_of_a_replaced_conversation_changes_nothing(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    x = members(bot)[0]
    old_mid, old_data = t.find(lambda _l, d: d.startswith("mtg:abs:") and d.endswith(f":{x.id}"))
    await t.type("/meeting")  # a new message offers to continue or start over
    await t.tap("mtg:new:")
    new = draft_of(bot, "bt_bv")
    assert new is not None and new.state == m.State.KIND
    await bot.driver.press_data(t.uid, old_mid, old_data)  # the old message still shows it
    assert t.answers()[-1].text  # "This button is no longer active…"
    after = draft_of(bot, "bt_bv")
    assert after is not None and (after.id, after.step) == (new.id, new.step)
    await t.tap("mtg:x:")
    assert draft_of(bot, "bt_bv") is None
    assert count(bot, Meeting) == 0


async def test_restart_mid_conversation_continues_where_the_user_was(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    x, y = members(bot)[0], members(bot)[1]
    await t.tap("mtg:abs:", f":{x.id}")
    old_mid, old_data = t.find(lambda _l, d: d.endswith(f":{y.id}") and d.startswith("mtg:abs:"))

    # The process dies; a new Application starts on the same database and Telegram.
    await bot.app.shutdown()
    app = build_application(
        make_settings(),
        bot.db,
        clock=bot.clock,
        request=FakeTelegramRequest(bot.fake),
        rate_limiter=False,
        jobs=False,
    )
    await app.initialize()
    bot.app, bot.driver = app, InProcessDriver(bot.fake, app)

    await bot.driver.press_data(t.uid, old_mid, old_data)  # the old message still works
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.data["absent"] == [x.id, y.id]
    assert "22/24" in t.text()

    await t.type("/meeting")  # typing the command again offers to continue or start over
    assert set(t.data()) >= {"resume:go", "resume:drop", f"mtg:new:{m.conversation_key(d)}"}
    await t.tap("resume:go")
    assert "22/24" in t.text()
    await t.tap("mtg:attok:")
    await t.tap("mtg:rsn:", f":{x.id}:trip")
    await t.tap("mtg:rsn:", f":{y.id}:study")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    await t.tap("mtg:save:")
    assert count(bot, Meeting) == 1


async def test_starting_over_discards_the_unfinished_meeting(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    old = draft_of(bot, "bt_bv")
    await t.type("/sinhhoat")
    await t.tap("mtg:new:")
    new = draft_of(bot, "bt_bv")
    assert old is not None and new is not None
    assert m.conversation_key(new) != m.conversation_key(old)
    assert new.state == m.State.KIND


# --- Bad input -------------------------------------------------------------------------------


async def test_typed_text_where_a_button_is_expected_is_not_taken(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    before = draft_of(bot, "bt_bv")
    out = await t.type("thường kỳ")
    assert len(out) == 2  # a hint, then the buttons again
    assert any(d.startswith("mtg:kind:") for d in t.data())
    after = draft_of(bot, "bt_bv")
    assert before is not None and after is not None and after.step == before.step


async def test_a_photo_sent_where_text_is_expected_is_not_kept(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":thematic")
    out = await bot.driver.send_photo(t.uid, b"\xff\xd8\xff fake jpeg", caption="chuyên đề")
    assert len(out) == 2
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.state == m.State.TOPIC and not d.data.get("topic")


async def test_a_3000_character_topic_is_refused_politely(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":combined")
    await t.type(("Chuyên đề " * 300)[:-1] + ".")
    assert "3000" in t.text() and "500" in t.text()
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.state == m.State.TOPIC
    await t.type("Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh")
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.state == m.State.DURATION
    assert any(dd.endswith(":120") for dd in t.data())


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("31/2", None),
        ("5/11/26", "2026"),
        ("20/11/2026", "20/11/2026"),
        ("01/01/2020", "01/01/2020"),
    ],
)
async def test_bad_dates_are_refused_with_a_reason(
    bot: BotKit, typed: str, fragment: str | None
) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:dur:", ":90")
    await t.type(typed)
    if fragment:
        assert fragment in t.text()
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.state == m.State.DATE


async def test_a_typed_date_and_an_old_one_confirmed(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:go:", ":duration_typed")
    await t.type("100")
    await t.type("12-9-2026")
    assert "12/09/2026" in t.text()
    await t.tap("mtg:dateok:", ":20260912")
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.state == m.State.ATTENDANCE
    assert (d.data["held_on"], d.data["duration"]) == ("2026-09-12", 100)


async def test_a_second_regular_meeting_in_the_month_offers_the_existing_one(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_confirm(t)
    await t.tap("mtg:save:")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:dur:", ":90")
    await t.tap("mtg:date:", f":{TODAY:%Y%m%d}")
    with bot.db.transaction() as s:
        existing = s.scalar(select(Meeting.id))
    assert f"mtg:open:{existing}" in t.data()
    await t.tap("mtg:open:")
    assert "16/11/2026" in t.text()
    assert count(bot, Meeting) == 1


async def test_a_regular_meeting_recorded_meanwhile_is_offered_at_save(bot: BotKit) -> None:
    """The deputy recorded this month's regular meeting while the secretary was typing."""
    t = Taps(bot, "bt_bv")
    await to_attendance(t, kind="extraordinary")
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    with bot.db.transaction() as s:
        _seed_meeting(s, bot, date(2026, 11, 10), {})
    await t.tap("mtg:chg:", ":kind")
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:dur:", ":90")
    await t.tap("mtg:save:")
    with bot.db.transaction() as s:
        existing = s.scalar(select(Meeting.id))
    assert f"mtg:open:{existing}" in t.data() and any(d.startswith("mtg:chg:") for d in t.data())
    assert "10/11/2026" in t.text()
    assert count(bot, Meeting) == 1
    await t.tap("mtg:chg:", ":kind")  # the draft is kept: record it as another kind instead
    await t.tap("mtg:kind:", ":extraordinary")
    await t.tap("mtg:dur:", ":90")
    await t.tap("mtg:save:")
    assert count(bot, Meeting) == 2


async def test_a_member_removed_while_the_conversation_is_open(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    gone = members(bot)[4]
    await to_confirm(t)
    with bot.db.transaction() as s:
        row = s.get(Member, gone.id)
        assert row is not None
        row.status = MemberStatus.TRANSFERRED
    await t.tap("mtg:save:")
    assert gone.full_name in t.text()
    with bot.db.transaction() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None
        assert gone.id not in {x.member_id for x in meeting.attendance}


async def test_a_user_who_loses_the_role_mid_conversation(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_confirm(t)
    with bot.db.transaction() as s:
        assignment = s.scalar(
            select(RoleAssignment.id).where(
                RoleAssignment.person_id == bot.khoi.users["bt_bv"].person_id
            )
        )
        revoke_role(s, assignment_id=assignment, actor=Actor.system("admin"), now=bot.clock.now())
    await t.tap("mtg:save:")
    answer = t.answers()[-1]
    assert answer.show_alert and answer.text
    assert count(bot, Meeting) == 0


async def test_documents_marked_secret_are_refused(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await bot.driver.send_document(t.uid, "Bien ban TOI MAT thang 11.pdf", b"%PDF-1.4 ...")
    assert "Mật" in t.text()
    d = draft_of(bot, "bt_bv")
    assert d is not None and not d.data.get("minutes_file_id")
    await bot.driver.send_photo(t.uid, b"\xff\xd8\xff jpeg", caption="Biên bản tháng 11")
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.data["minutes_file_id"].startswith("photo:")
    await t.type("Biên bản số 11, sổ 2026")
    await t.tap("mtg:cok:")
    await t.tap("mtg:save:")
    with bot.db.transaction() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None and meeting.minutes_ref == "Biên bản số 11, sổ 2026"
        meeting_id = meeting.id
    await t.tap("mtg:open:")
    await t.tap("mtg:file:", f":{meeting_id}")
    assert bot.fake.last_message(t.uid).has_media  # type: ignore[union-attr]


async def test_a_cell_of_120_members_pages_its_roll(bot: BotKit) -> None:
    cell = bot.khoi.orgs["CBBV-DK"]
    now = bot.clock.now()
    with bot.db.transaction() as s:
        for i in range(96):
            name = f"Trần Văn Bổ Sung {i:03d}"
            s.add(
                Member(
                    code=f"ADD-{i:03d}",
                    org_id=cell,
                    full_name=name,
                    name_folded=fold(name),
                    status=MemberStatus.FULL,
                    created_at=now,
                    updated_at=now,
                )
            )
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    assert len([d for d in t.data() if d.startswith("mtg:abs:")]) == 30
    assert [d.rsplit(":", 1)[1] for d in t.data() if d.startswith("mtg:page:")] == ["1"]
    await t.tap("mtg:page:", ":1")
    await t.tap("mtg:page:", ":2")
    await t.tap("mtg:page:", ":3")
    assert [d.rsplit(":", 1)[1] for d in t.data() if d.startswith("mtg:page:")] == ["2"]
    last = members(bot)[-1]
    await t.tap("mtg:abs:", f":{last.id}")
    assert "119/120" in t.text()


async def test_a_cell_with_no_members(bot: BotKit) -> None:
    now = bot.clock.now()
    with bot.db.transaction() as s:
        org = Organization(
            code="CBRONG",
            name="Chi bộ Công ty Mới",
            name_folded=fold("Chi bộ Công ty Mới"),
            kind=OrgKind.GRASSROOTS_CELL,
            parent_id=bot.khoi.top_id,
            created_at=now,
            updated_at=now,
        )
        s.add(org)
        s.flush()
        person = Person(display_name="Lê Văn Mới", telegram_user_id=5555, created_at=now)
        s.add(person)
        s.flush()
        s.add(
            RoleAssignment(
                person_id=person.id,
                org_id=org.id,
                role=Role.SECRETARY,
                granted_at=now,
                granted_by="t",
            )
        )
    bot.fake.add_user(5555, first_name="Mới", language_code="vi")
    await bot.driver.send(5555, "/meeting")
    for prefix, suffix in (
        ("mtg:kind:", ":regular"),
        ("mtg:dur:", ":90"),
        ("mtg:date:", f":{TODAY:%Y%m%d}"),
    ):
        msg = bot.fake.last_message(5555)
        assert msg is not None
        data = next(
            d
            for _l, d in bot.fake.buttons(msg)
            if d and d.startswith(prefix) and d.endswith(suffix)
        )
        await bot.driver.press_data(5555, msg.message_id, data)
    msg = bot.fake.last_message(5555)
    assert msg is not None
    assert not any(d.startswith("mtg:abs:") for _l, d in bot.fake.buttons(msg) if d)
    for prefix in ("mtg:attok:", "mtg:gok:", "mtg:cok:", "mtg:save:"):
        msg = bot.fake.last_message(5555)
        assert msg is not None
        data = next(d for _l, d in bot.fake.buttons(msg) if d and d.startswith(prefix))
        await bot.driver.press_data(5555, msg.message_id, data)
    assert count(bot, Meeting) == 1


# --- Several cells, guests, quality ----------------------------------------------------------


async def test_a_deputy_of_two_cells_chooses_the_cell_first_and_types_a_guest(bot: BotKit) -> None:
    person = bot.khoi.users["bt_bv"].person_id
    with bot.db.transaction() as s:
        s.add(
            RoleAssignment(
                person_id=person,
                org_id=bot.khoi.orgs["CBVP-SYT"],
                role=Role.DEPUTY,
                granted_at=bot.clock.now(),
                granted_by="t",
            )
        )
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:cell:", f":{bot.khoi.orgs['CBVP-SYT']}")
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:dur:", ":120")
    await t.tap("mtg:date:", f":{TODAY:%Y%m%d}")
    await t.tap("mtg:attok:")
    assert not any(d.startswith("mtg:fol:") for d in t.data())  # nobody follows this cell
    await t.tap("mtg:go:", ":guest_name")
    await t.type("Nguyễn Thanh Sơn")
    await t.tap("mtg:og:", ":1")
    await t.tap("mtg:og:", ":2")
    await t.tap("mtg:gok:")
    await t.tap("mtg:ct:", ":new_members:0")
    await t.tap("mtg:cok:")
    await t.tap("mtg:save:")
    with bot.db.transaction() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.org_id == bot.khoi.orgs["CBVP-SYT"]
        assert [(g.name, g.person_id) for g in meeting.guests] == [("Nguyễn Thanh Sơn", None)]
        assert meeting.other_guests == 2 and meeting.duration_min == 120
        assert meeting.content["new_members"] is False and meeting.content["criticism"] is True


async def test_quality_scoring_when_the_province_uses_it(bot: BotKit) -> None:
    with bot.db.transaction() as s:
        setting = s.get(Setting, "quality_scoring")
        assert setting is not None
        setting.value = {**setting.value, "enabled": True}
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    assert "mtg:qskip:" in t.data()[0]
    await t.type("150")
    await t.type("92")
    assert "92/100" in t.text()
    await t.tap("mtg:save:")
    with bot.db.transaction() as s:
        assert s.scalar(select(Meeting.quality_score)) == 92


async def test_a_short_meeting_is_saved_with_a_gentle_warning(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:go:", ":duration_typed")
    await t.type("60 phút")
    assert "60" in t.text() and "90" in t.text()
    await t.tap("mtg:date:", f":{TODAY:%Y%m%d}")
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    await t.tap("mtg:save:")
    assert "90" in t.text()
    assert count(bot, Meeting) == 1


# --- The three-months rule -------------------------------------------------------------------


async def test_the_third_unexcused_month_flags_the_member(bot: BotKit) -> None:
    x = members(bot)[6]
    secretary = bot.khoi.users["bt_bv"].person_id
    for month in (3, 7):
        with bot.db.transaction() as s:
            _seed_meeting(s, bot, date(2026, month, 10), {x.id: AttendanceStatus.UNEXCUSED})
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:abs:", f":{x.id}")
    await t.tap("mtg:attok:")
    await t.tap("mtg:rsn:", f":{x.id}:unexcused")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    sent = await t.tap("mtg:save:")
    flag = t.text()
    assert x.full_name in flag and "03/2026" in flag and "11/2026" in flag
    assert len([msg for msg in sent if x.full_name in msg.text]) >= 1
    with bot.db.transaction() as s:
        rows = s.scalars(select(Outbox)).all()
        assert [(r.person_id, r.kind) for r in rows] == [
            (bot.khoi.users["to_chuc"].person_id, "flag")
        ]
        assert secretary not in {r.person_id for r in rows}


def _seed_meeting(s: Any, bot: BotKit, day: date, absent: dict[int, AttendanceStatus]) -> None:
    from storage.models import Attendance

    cell = bot.khoi.orgs["CBBV-DK"]
    now = bot.clock.now()
    meeting = Meeting(
        org_id=cell,
        kind=MeetingKind.REGULAR,
        held_on=day,
        regular_key=f"{cell}:{day:%Y-%m}",
        duration_min=90,
        content={},
        other_guests=0,
        created_at=now,
        updated_at=now,
    )
    meeting.attendance = [
        Attendance(member_id=x.id, status=absent.get(x.id, AttendanceStatus.PRESENT))
        for x in members(bot)
    ]
    s.add(meeting)


# --- Reading, deleting, study models ---------------------------------------------------------


async def test_meetings_list_open_and_delete_with_confirmation(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_confirm(t)
    await t.tap("mtg:save:")
    await t.type("/meetings")
    assert "10/2026" in t.text()  # a month without a regular meeting is shown as missing
    await t.tap("mtg:open:")
    await t.tap("mtg:del:")
    assert count(bot, Meeting, Meeting.deleted_at.is_(None)) == 1
    mid, data = t.find(lambda _l, d: d.startswith("mtg:dely:"))
    press = bot.fake.user_presses(t.uid, mid, data)
    again = bot.fake.user_presses(t.uid, mid, data)
    await bot.driver.feed(press)
    await bot.driver.feed(again)
    assert count(bot, Meeting, Meeting.deleted_at.is_(None)) == 0
    assert count(bot, AuditLog, AuditLog.action == "delete") == 1


async def test_a_follower_reads_but_cannot_correct_and_others_do_not_see(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_confirm(t)
    await t.tap("mtg:save:")
    with bot.db.transaction() as s:
        meeting_id = s.scalar(select(Meeting.id))
    leader = Taps(bot, "to_chuc")
    await leader.type("/meetings CBBV-DK")
    await leader.tap("mtg:open:", f":{meeting_id}")
    assert not any(d.startswith("mtg:fix:") for d in leader.data())
    other = Taps(bot, "bt_vp")
    await other.type("/meetings CBBV-DK")
    assert count(bot, AuditLog, AuditLog.action == "view") == 1
    await other.type("/meeting")
    assert "Chi bộ Văn phòng Sở Y tế" in other.text()


async def test_a_leader_picks_a_cell_from_a_list(bot: BotKit) -> None:
    t = Taps(bot, "lanh_dao")
    await t.type("/meetings")
    assert any(d.startswith("mtg:list:") for d in t.data())
    await t.tap("mtg:list:", f":{bot.khoi.orgs['CBMEKONG']}")
    assert "Mekong" in t.text()


async def test_a_secretary_registers_and_reviews_the_study_model(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/model")
    await t.tap("mdl:new:")
    await t.type("Kỷ cương, tận tụy, vì người bệnh")
    assert "Kỷ cương" in t.text()
    await t.tap("mdl:rv:")
    await t.type("Hoàn thành tốt, lan tỏa trong bệnh viện")
    assert "Hoàn thành tốt" in t.text()
    cells = [bot.khoi.orgs[c] for c in ("CBBV-DK", "CBDIEN")]
    with bot.db.transaction() as s:
        assert figures.cells_without_study_model(s, cells, 2026) == [bot.khoi.orgs["CBDIEN"]]
        assert s.scalar(select(func.count()).select_from(Draft)) == 0
    assert isinstance(bot.clock.now(), datetime)


async def test_reviews_made_before_the_meeting_are_linked_when_it_is_saved(bot: BotKit) -> None:
    """The head reviewed commitments first and logged the month's meeting afterwards."""
    from storage.models import Meeting, Review, ReviewOutcome

    roll = members(bot)
    with bot.db.transaction() as s:
        for m in roll[:2]:
            s.add(
                Review(
                    org_id=m.org_id,
                    member_id=m.id,
                    year=TODAY.year,
                    month=TODAY.month,
                    outcome=ReviewOutcome.PROGRESSING,
                    reviewed_at=bot.clock.now(),
                )
            )
    t = Taps(bot, "bt_bv")
    await to_confirm(t)
    await t.tap("mtg:save:")
    with bot.db.transaction() as s:
        meeting_id = s.scalar(select(Meeting.id))
        linked = s.scalars(select(Review.meeting_id)).all()
    assert meeting_id is not None
    assert linked == [meeting_id, meeting_id]
