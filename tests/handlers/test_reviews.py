"""Stories of /review and /commitments, told through the real bot on the Telegram double."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from storage.models import (
    AuditLog,
    Commitment,
    Draft,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Review,
    ReviewOutcome,
    Role,
    RoleAssignment,
    SignGroup,
)

P, N, S = ReviewOutcome.PROGRESSING, ReviewOutcome.NO_CHANGE, ReviewOutcome.NEW_SIGN


# --- Helpers -------------------------------------------------------------------------------------


def cell_id(bot, code: str = "CBBV-DK") -> int:
    return bot.khoi.orgs[code]


def members(bot, code: str = "CBBV-DK") -> list[Member]:
    with bot.db.transaction() as session:
        return list(
            session.scalars(
                select(Member).where(Member.org_id == cell_id(bot, code)).order_by(Member.id)
            )
        )


def reviewable(bot, code: str = "CBBV-DK") -> list[Member]:
    return [m for m in members(bot, code) if m.status is not MemberStatus.EXEMPT]


def add_meeting(bot, held_on: date, code: str = "CBBV-DK") -> int:
    """A recorded regular meeting, inserted directly (the meetings feature is built elsewhere)."""
    org = cell_id(bot, code)
    with bot.db.transaction() as session:
        meeting = Meeting(
            org_id=org,
            kind=MeetingKind.REGULAR,
            held_on=held_on,
            regular_key=f"{org}:{held_on:%Y-%m}",
            content={},
            created_at=bot.clock.now(),
            updated_at=bot.clock.now(),
        )
        session.add(meeting)
        session.flush()
        return meeting.id


def reviews_of(bot, year: int, month: int) -> dict[int, Review]:
    with bot.db.transaction() as session:
        rows = session.scalars(
            select(Review).where(Review.year == year, Review.month == month)
        ).all()
        return {r.member_id: r for r in rows}


def set_day(bot, day: date, hour: int = 8) -> None:
    """Move the clock to ``day`` at ``hour`` o'clock, Vietnam time (UTC+7)."""
    bot.clock.set(datetime(day.year, day.month, day.day, hour - 7, 0, tzinfo=UTC))


class Taps:
    """Presses buttons for a demo user and counts the taps."""

    def __init__(self, bot, key: str = "bt_bv") -> None:
        self.bot, self.key, self.count = bot, key, 0

    async def press(self, label: str):
        self.count += 1
        return await self.bot.press(self.key, label)

    async def press_data(self, prefix: str, suffix: str = ""):
        """Press the newest button whose callback data starts with ``prefix`` and ends with
        ``suffix``."""
        uid = self.bot.uid(self.key)
        for msg in reversed(self.bot.fake.bot_messages(uid)):
            for _label, data in msg.buttons():
                if data and data.startswith(prefix) and data.endswith(suffix):
                    self.count += 1
                    return await self.bot.driver.press_data(uid, msg.message_id, data)
        raise AssertionError(f"no button {prefix}…{suffix}")

    async def member(self, member_id: int):
        return await self.press_data("rev:m:", f":{member_id}")


async def review_two_not_progressing(bot, taps: Taps, no_change: Member, new_sign: Member):
    """The October walk-through: one "no change", one new sign, everyone else progressing."""
    await taps.member(no_change.id)
    await taps.press("Chưa khắc phục")
    await taps.member(new_sign.id)
    await taps.press("Phát hiện biểu hiện mới")
    await taps.press("đạo đức, lối sống")
    await taps.press("9. Vi phạm đạo đức gia đình")
    await bot.send("bt_bv", "Chi ủy nhắc nhở, đảng viên viết kiểm điểm")
    return await taps.press("Những người còn lại có tiến bộ")


# --- /review -------------------------------------------------------------------------------------


async def test_a_month_where_everyone_progresses_takes_one_tap(bot) -> None:
    taps = Taps(bot)
    shown = await bot.send("bt_bv", "/review")
    board = shown[-1].text
    assert "Nhận xét bản cam kết tháng 11/2026" in board
    assert "Chưa ghi nhận buổi sinh hoạt tháng 11/2026" in board
    assert "Miễn sinh hoạt, không nhận xét:" in board
    assert "Những người còn lại có tiến bộ (24)" in shown[-1].buttons()[0][0]

    after = await taps.press("Những người còn lại có tiến bộ")

    assert taps.count == 1
    assert "Đã nhận xét 24/24: ✅ 0 · 🔄 24 · ➖ 0 · ⚠️ 0" in after[-1].text
    saved = reviews_of(bot, 2026, 11)
    assert len(saved) == 24 and {r.outcome for r in saved.values()} == {P}
    exempt = next(m for m in members(bot) if m.status is MemberStatus.EXEMPT)
    assert exempt.id not in saved
    assert "Đã ghi 24 đảng viên có tiến bộ." in [a.text for a in bot.fake.callback_answers]


async def test_a_month_with_two_members_not_progressing_takes_seven_taps(bot) -> None:
    add_meeting(bot, date(2026, 11, 10))
    a, b = reviewable(bot)[:2]
    taps = Taps(bot)
    await bot.send("bt_bv", "/camket")

    after = await review_two_not_progressing(bot, taps, no_change=a, new_sign=b)

    # The new sign takes taps only (member, outcome, group, sign) plus the typed measure.
    assert taps.count == 7
    assert "Đã nhận xét 24/24: ✅ 0 · 🔄 22 · ➖ 1 · ⚠️ 1" in after[-1].text
    saved = reviews_of(bot, 2026, 11)
    assert saved[a.id].outcome is N
    sign = saved[b.id]
    assert (sign.outcome, sign.sign_group, sign.sign_code) == (S, SignGroup.ETHICS, "DD9")
    assert sign.description is None  # nothing typed about the person
    assert sign.measure == "Chi ủy nhắc nhở, đảng viên viết kiểm điểm"
    assert all(r.meeting_id is not None for r in saved.values())
    assert "1 đảng viên đang được theo dõi" in after[-1].text


async def test_a_review_for_a_month_in_the_future_is_refused(bot) -> None:
    replies = await bot.send("bt_bv", "/review 12/2026")
    assert "Tháng 12/2026 chưa bắt đầu" in replies[-1].text
    with bot.db.transaction() as session:
        assert session.scalar(select(func.count(Draft.id))) == 0


async def test_an_earlier_month_can_be_reviewed_and_the_board_switches_months(bot) -> None:
    await bot.send("bt_bv", "/review")
    shown = await bot.press("bt_bv", "📅 10/2026")
    assert "tháng 10/2026" in shown[-1].text
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    assert len(reviews_of(bot, 2026, 10)) == 24
    assert reviews_of(bot, 2026, 11) == {}


async def test_a_new_sign_is_picked_from_the_list_and_an_empty_measure_is_refused(bot) -> None:
    member = reviewable(bot)[0]
    taps = Taps(bot)
    await bot.send("bt_bv", "/review")
    await taps.member(member.id)
    await taps.press("Phát hiện biểu hiện mới")
    shown = await taps.press("tư tưởng chính trị")
    # The nine signs of the group are offered, with their wording.
    labels = [label for label, _data in shown[-1].buttons()]
    assert sum(1 for label in labels if label[:2] in {f"{i}." for i in range(1, 10)}) == 9
    assert "Phai nhạt lý tưởng cách mạng" in shown[-1].text
    shown = await taps.press("3. Nhận thức sai lệch về lý luận")
    assert "Đồng chí vui lòng nhập biện pháp chi bộ đã thống nhất" in shown[-1].text

    replies = await bot.send("bt_bv", " . ")

    assert "biện pháp" in replies[-1].text
    assert reviews_of(bot, 2026, 11) == {}
    with bot.db.transaction() as session:
        draft = session.scalar(select(Draft))
        assert draft is not None and draft.state == "measure"
    await bot.send("bt_bv", "Học lại nghị quyết, viết thu hoạch")
    saved = reviews_of(bot, 2026, 11)[member.id]
    assert (saved.sign_code, saved.sign_group) == ("TT3", SignGroup.POLITICAL)
    assert saved.measure == "Học lại nghị quyết, viết thu hoạch"


async def test_a_double_tap_records_once(bot) -> None:
    member = reviewable(bot)[0]
    taps = Taps(bot)
    await bot.send("bt_bv", "/review")
    await taps.member(member.id)
    uid = bot.uid("bt_bv")
    screen = bot.fake.last_message(uid)
    data = next(d for label, d in screen.buttons() if "Chưa khắc phục" in label)
    first = bot.fake.user_presses(uid, screen.message_id, data)
    second = bot.fake.user_presses(uid, screen.message_id, data)
    await bot.driver.feed(first)
    await bot.driver.feed(second)

    assert reviews_of(bot, 2026, 11)[member.id].outcome is N
    with bot.db.transaction() as session:
        assert (
            session.scalar(select(func.count(AuditLog.id)).where(AuditLog.entity == "review")) == 1
        )
    assert bot.fake.unanswered_callback_queries() == []


async def test_a_review_can_be_corrected(bot) -> None:
    member = reviewable(bot)[0]
    taps = Taps(bot)
    await bot.send("bt_bv", "/review")
    await taps.member(member.id)
    await taps.press("Chưa khắc phục")
    await taps.member(member.id)
    shown = await taps.press("Đang khắc phục")
    assert reviews_of(bot, 2026, 11)[member.id].outcome is P
    assert "Đã nhận xét 1/24" in shown[-1].text
    with bot.db.transaction() as session:
        update = session.scalar(
            select(AuditLog).where(AuditLog.entity == "review", AuditLog.action == "update")
        )
        assert update is not None
        assert (update.before["outcome"], update.after["outcome"]) == ("no_change", "progressing")


async def test_a_comment_is_optional_and_kept(bot) -> None:
    member = reviewable(bot)[0]
    taps = Taps(bot)
    await bot.send("bt_bv", "/review")
    await taps.member(member.id)
    await taps.press("Đang khắc phục")
    await taps.member(member.id)
    await taps.press("Ghi chú")
    await bot.send("bt_bv", "Gương mẫu trong công tác")
    assert reviews_of(bot, 2026, 11)[member.id].comment == "Gương mẫu trong công tác"


async def test_an_old_button_after_cancel_changes_nothing(bot) -> None:
    await bot.send("bt_bv", "/review")
    await bot.send("bt_bv", "/cancel")
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    assert reviews_of(bot, 2026, 11) == {}
    assert bot.fake.callback_answers[-1].text == (
        "Nút này không còn hiệu lực. Không có gì thay đổi."
    )


async def test_the_role_is_checked_again_on_every_press(bot) -> None:
    await bot.send("bt_bv", "/review")
    with bot.db.transaction() as session:
        for assignment in session.scalars(
            select(RoleAssignment).where(
                RoleAssignment.person_id == bot.khoi.users["bt_bv"].person_id
            )
        ):
            assignment.revoked_at = bot.clock.now()
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    assert reviews_of(bot, 2026, 11) == {}
    assert bot.fake.callback_answers[-1].show_alert


async def test_the_review_resumes_where_it_was_left(bot) -> None:
    member = reviewable(bot)[0]
    taps = Taps(bot)
    await bot.send("bt_bv", "/review")
    await taps.member(member.id)
    await taps.press("Phát hiện biểu hiện mới")
    await taps.press("tự diễn biến")
    await taps.press("4. Kích động bất mãn")
    await bot.send("bt_bv", "/start")
    resumed = await bot.press("bt_bv", "Tiếp tục")
    assert "nhập biện pháp chi bộ đã thống nhất" in resumed[-1].text
    await bot.send("bt_bv", "Gỡ bài, viết kiểm điểm")
    saved = reviews_of(bot, 2026, 11)[member.id]
    assert (saved.sign_group, saved.sign_code) == (SignGroup.SELF_EVOLUTION, "TD4")


async def test_the_cell_sees_its_members_under_watch_and_the_read_is_audited(bot) -> None:
    a, b = reviewable(bot)[:2]
    taps = Taps(bot)
    await bot.send("bt_bv", "/review")
    await review_two_not_progressing(bot, taps, no_change=a, new_sign=b)
    shown = await bot.press("bt_bv", "Đang theo dõi (1)")
    assert b.full_name in shown[-1].text
    assert "phát hiện biểu hiện suy thoái mới (đạo đức, lối sống)" in shown[-1].text
    assert a.full_name not in shown[-1].text
    with bot.db.transaction() as session:
        assert (
            session.scalar(select(func.count(AuditLog.id)).where(AuditLog.entity == "watch_list"))
            == 1
        )


async def test_members_who_left_are_not_on_the_board(bot) -> None:
    leaver = reviewable(bot)[0]
    with bot.db.transaction() as session:
        row = session.get(Member, leaver.id)
        row.status, row.status_since = MemberStatus.TRANSFERRED, date(2026, 10, 5)
    shown = await bot.send("bt_bv", "/review")
    assert "Đã nhận xét 0/23" in shown[-1].text
    assert all(not (d or "").endswith(f":{leaver.id}") for _l, d in shown[-1].buttons())


# --- /commitments --------------------------------------------------------------------------------


async def test_the_secretary_marks_commitments_quickly(bot) -> None:
    a, b = reviewable(bot)[:2]
    taps = Taps(bot)
    shown = await bot.send("bt_bv", "/commitments")
    assert "Bản cam kết năm 2026" in shown[-1].text and "Đã ký: 0/25." in shown[-1].text
    await taps.press_data("cmt:m:", f":{a.id}")
    shown = await taps.press("Đã ký hôm nay")
    assert "Đã ký: 1/25." in shown[-1].text
    await taps.press_data("cmt:m:", f":{b.id}")
    await taps.press("Nhập ngày ký")
    shown = await bot.send("bt_bv", "05/01/2026")
    assert "Đã ký: 2/25." in shown[-1].text
    with bot.db.transaction() as session:
        signed = dict(session.execute(select(Commitment.member_id, Commitment.signed_on)).all())
    assert signed == {a.id: date(2026, 11, 16), b.id: date(2026, 1, 5)}


async def test_commitment_items_and_the_heads_commitment_made_public(bot) -> None:
    a = reviewable(bot)[0]
    taps = Taps(bot)
    await bot.send("bt_bv", "/commitments")
    await taps.press_data("cmt:m:", f":{a.id}")
    await taps.press("Đã ký hôm nay")
    await taps.press_data("cmt:m:", f":{a.id}")
    await taps.press("+ đạo đức, lối sống")
    await bot.send("bt_bv", "Đi họp muộn")
    await taps.press("+ tư tưởng chính trị")
    await taps.press("Chỉ ghi nhóm")
    shown = await taps.press("📢 Đã công khai")
    assert "📢 Đã công khai." in shown[-1].text
    assert "đạo đức, lối sống: Đi họp muộn" in shown[-1].text
    with bot.db.transaction() as session:
        row = session.scalar(select(Commitment))
        assert row is not None and row.made_public
        assert row.items == [{"group": "ethics", "text": "Đi họp muộn"}, {"group": "political"}]


async def test_a_probationary_members_commitment_cannot_predate_admission(bot) -> None:
    probationary = next(m for m in members(bot) if m.status is MemberStatus.PROBATIONARY)
    with bot.db.transaction() as session:
        row = session.get(Member, probationary.id)
        row.admitted_on = row.ceremony_on = date(2026, 3, 2)
    taps = Taps(bot)
    await bot.send("bt_bv", "/commitments")
    await taps.press_data("cmt:m:", f":{probationary.id}")
    await taps.press("Nhập ngày ký")
    replies = await bot.send("bt_bv", "10/01/2026")
    assert "trước ngày kết nạp 02/03/2026" in replies[-1].text
    replies = await bot.send("bt_bv", "10/03/2026")
    assert "Đã ký: 1/25." in replies[-1].text


async def test_all_remaining_commitments_in_one_tap(bot) -> None:
    await bot.send("bt_bv", "/commitments")
    shown = await bot.press("bt_bv", "Những người còn lại đã ký hôm nay")
    assert "Đã ký: 25/25." in shown[-1].text
    with bot.db.transaction() as session:
        assert session.scalar(select(func.count(Commitment.id))) == 25


async def test_reviews_saved_before_the_meeting_join_it_when_the_review_is_reopened(bot) -> None:
    await bot.send("bt_bv", "/review")
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    assert {r.meeting_id for r in reviews_of(bot, 2026, 11).values()} == {None}
    meeting_id = add_meeting(bot, date(2026, 11, 14))
    shown = await bot.send("bt_bv", "/review")
    assert "Buổi sinh hoạt ngày 14/11/2026" in shown[-1].text
    assert {r.meeting_id for r in reviews_of(bot, 2026, 11).values()} == {meeting_id}


async def test_a_secretary_of_two_cells_chooses_the_cell(bot) -> None:
    with bot.db.transaction() as session:
        session.add(
            RoleAssignment(
                person_id=bot.khoi.users["bt_bv"].person_id,
                org_id=cell_id(bot, "CBVP-SYT"),
                role=Role.SECRETARY,
                granted_at=bot.clock.now(),
                granted_by="test",
            )
        )
    shown = await bot.send("bt_bv", "/review")
    assert shown[-1].text == "Chi bộ nào?"
    shown = await bot.press("bt_bv", "Chi bộ Văn phòng Sở Y tế")
    assert "Đã nhận xét 0/13" in shown[-1].text
    await bot.send("bt_bv", "/commitments")
    shown = await bot.press("bt_bv", "Chi bộ Văn phòng Sở Y tế")
    assert "Đã ký: 0/14." in shown[-1].text
