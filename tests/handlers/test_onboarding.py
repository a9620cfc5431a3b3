"""Onboarding stories: invite → join → /help per role → strangers refused → reuse refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage import orgs, people
from storage.audit import Actor
from storage.models import AuditLog, Invite, Person, Role, RoleAssignment

NEWCOMER = 5001


def make_invite(bot, org_code: str, role: Role, days: int = 7) -> str:
    with bot.db.transaction() as session:
        org = orgs.by_code(session, org_code)
        assert org is not None
        invite = people.create_invite(
            session, org=org, role=role, actor=Actor("test"), now=bot.clock.now(), days=days
        )
        return invite.code


async def test_a_new_secretary_joins_with_an_invite_and_sees_her_commands(bot) -> None:
    code = make_invite(bot, "CBVP-SYT", Role.DEPUTY)
    bot.fake.add_user(NEWCOMER, first_name="Hương", last_name="Trần Thị", language_code="vi")

    replies = await bot.driver.send(NEWCOMER, f"/start {code}")

    texts = "\n".join(m.text for m in replies)
    assert "Phó Bí thư chi bộ" in texts
    assert "Chi bộ Văn phòng Sở Y tế" in texts
    assert "/meeting" in texts and "/review" in texts
    with bot.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.telegram_user_id == NEWCOMER))
        assert person is not None
        assert person.display_name == "Trần Thị Hương"
        roles = session.scalars(
            select(RoleAssignment).where(RoleAssignment.person_id == person.id)
        ).all()
        assert [(r.role, r.revoked_at) for r in roles] == [(Role.DEPUTY, None)]
        assert session.scalar(select(Invite.used_by).where(Invite.code == code)) == person.id
        actions = set(
            session.scalars(select(AuditLog.action).where(AuditLog.actor_person_id == person.id))
        )
        assert {"create", "grant", "redeem"} <= actions


def listed_commands(text: str) -> set[str]:
    return {line.split()[0] for line in text.splitlines() if line.startswith("/")}


async def test_help_lists_exactly_the_commands_of_each_role(bot) -> None:
    secretary = listed_commands((await bot.send("bt_bv", "/help"))[-1].text)
    leader = listed_commands((await bot.send("lanh_dao", "/help"))[-1].text)
    committee = listed_commands((await bot.send("bt_syt", "/trogiup"))[-1].text)
    everyone = {"/summary", "/deadlines", "/settings", "/language", "/cancel", "/help"}
    assert secretary == everyone | {
        "/meeting",
        "/meetings",
        "/review",
        "/commitments",
        "/model",
        "/report",
        "/candidates",
    }
    assert leader == everyone | {"/meetings", "/report", "/enterprises"}
    assert committee == everyone | {"/meetings", "/report"}


async def test_a_stranger_is_told_how_to_get_an_invite_and_sees_no_data(bot) -> None:
    bot.fake.add_user(NEWCOMER, first_name="Lạ", language_code="vi")
    for text in ("xin chào", "/summary", "/meeting", "/start", "/help"):
        replies = await bot.driver.send(NEWCOMER, text)
        assert len(replies) == 1
        assert "liên kết mời" in replies[0].text
        assert "Chi bộ" not in replies[0].text.replace("Sổ tay Chi bộ", "")


async def test_a_stranger_in_english_gets_english(bot) -> None:
    bot.fake.add_user(NEWCOMER, first_name="Stranger", language_code="en")
    replies = await bot.driver.send(NEWCOMER, "hello")
    assert "invite link" in replies[0].text


async def test_a_used_expired_unknown_malformed_or_huge_code_is_refused(bot) -> None:
    code = make_invite(bot, "CBBV-DK", Role.COMMITTEE_MEMBER)
    expired = make_invite(bot, "CBBV-DK", Role.COMMITTEE_MEMBER, days=1)
    bot.fake.add_user(NEWCOMER, first_name="A", language_code="vi")
    bot.fake.add_user(NEWCOMER + 1, first_name="B", language_code="vi")
    await bot.driver.send(NEWCOMER, f"/start {code}")

    reuse = await bot.driver.send(NEWCOMER + 1, f"/start {code}")
    assert "Mã mời không hợp lệ" in reuse[0].text
    bot.clock.advance(timedelta(days=2))
    late = await bot.driver.send(NEWCOMER + 1, f"/start {expired}")
    assert "Mã mời không hợp lệ" in late[0].text
    for bad in ("abcdefghijklmnop", "<b>oops</b>", "x" * 200, "đ" * 20):
        replies = await bot.driver.send(NEWCOMER + 1, f"/start {bad}")
        assert "Mã mời không hợp lệ" in replies[0].text
    with bot.db.transaction() as session:
        assert (
            session.scalar(select(Person).where(Person.telegram_user_id == NEWCOMER + 1)) is None
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Invite).where(Invite.used_at.is_not(None))
            )
            == 1
        )


async def test_language_switch_changes_replies_and_is_remembered(bot) -> None:
    await bot.send("bt_bv", "/language")
    replies = await bot.press("bt_bv", "English")
    assert replies[-1].text == "Language set: English."
    help_text = (await bot.send("bt_bv", "/help"))[-1].text
    assert "What you can do" in help_text
    await bot.send("bt_bv", "/ngonngu")
    replies = await bot.press("bt_bv", "Tiếng Việt")
    assert replies[-1].text == "Đã chọn ngôn ngữ: Tiếng Việt."


async def test_cancel_with_nothing_in_progress_says_so(bot) -> None:
    replies = await bot.send("bt_bv", "/cancel")
    assert "Không có thao tác nào" in replies[-1].text


async def test_the_command_menu_is_set_per_language(bot) -> None:
    await bot.app.post_init(bot.app)
    vi = {c["command"]: c["description"] for c in bot.fake.commands("default", "vi")}
    en = {c["command"]: c["description"] for c in bot.fake.commands("default", "en")}
    default = {c["command"]: c["description"] for c in bot.fake.commands("default", "")}
    assert vi["summary"] == "tình hình các chi bộ thuộc phạm vi theo dõi"
    assert en["summary"] == "status of the cells in your scope"
    assert default == vi


async def test_long_messages_and_odd_text_do_not_break_the_bot(bot) -> None:
    for text in ("x" * 4096, "🙂" * 100, "Nguye\u0302\u0303n <b>", "&amp; <script>"):
        replies = await bot.send("bt_bv", text)
        assert replies, text
        assert "/trogiup" in replies[-1].text
