"""Stories of the command menu: each person is offered, in their chat, the commands their roles
allow; strangers and everyone before binding see only the commands every role has."""

from __future__ import annotations

from sqlalchemy import select

from domain.access import COMMAND_ROLES, EVERYONE
from domain.i18n import translator
from handlers import common
from storage import people
from storage.audit import Actor
from storage.models import Organization, Role, RoleAssignment


def menu(bot, uid: int, language: str = "") -> list[str]:
    """The commands Telegram shows in the user's chat (chat scope), in order."""
    return [c["command"] for c in bot.fake.commands("chat", language, chat_id=uid)]


def default_menu(bot, language: str = "") -> list[str]:
    return [c["command"] for c in bot.fake.commands("default", language)]


async def test_default_menu_is_what_every_role_has(bot) -> None:
    """A stranger opening the menu is not offered /meeting or /report."""
    assert await common.set_default_menus(bot.app)
    everyone = [c for c, roles in COMMAND_ROLES.items() if roles == EVERYONE]
    assert default_menu(bot) == everyone
    assert default_menu(bot, "en") == everyone
    assert "meeting" not in everyone and "summary" in everyone
    descriptions = {c["command"]: c["description"] for c in bot.fake.commands("default", "en")}
    assert descriptions["summary"] == "status of the cells in your scope"


async def test_start_up_sets_each_known_person_menu_in_batches(bot) -> None:
    """On start-up every known person gets their roles' menu, a batch at a time; a second pass
    with nothing changed calls Telegram no more."""
    total = len(bot.khoi.users)
    assert await common.sync_menus(bot.app, limit=3) == 3
    assert await common.sync_menus(bot.app, limit=3) == 3
    assert await common.sync_menus(bot.app) == total - 6
    calls = len(bot.fake.calls)
    assert await common.sync_menus(bot.app) == 0
    assert len(bot.fake.calls) == calls

    secretary = menu(bot, bot.uid("bt_bv"))
    assert secretary[:3] == ["meeting", "meetings", "review"]
    leader = menu(bot, bot.uid("lanh_dao"))
    assert "meeting" not in leader and "review" not in leader
    assert {"summary", "report", "meetings"} <= set(leader)
    grassroots = menu(bot, bot.uid("bt_syt"))
    assert "meeting" not in grassroots and "report" in grassroots
    # Vietnamese descriptions, the people's language.
    described = bot.fake.commands("chat", "", chat_id=bot.uid("bt_bv"))
    assert described[0]["description"] == bot_vi("log a cell meeting and its attendance")


def bot_vi(msgid: str) -> str:
    return translator("vi").gettext(msgid)


async def test_binding_by_invite_sets_the_menu_at_once(bot) -> None:
    """A deputy who opens an invite link is offered /meeting right away."""
    with bot.db.transaction() as session:
        org = session.get(Organization, bot.khoi.orgs["CBDIEN"])
        code = people.create_invite(
            session, org=org, role=Role.DEPUTY, actor=Actor.system("test"), now=bot.clock.now()
        ).code
    bot.fake.add_user(5001, first_name="Phó", language_code="vi")
    assert menu(bot, 5001) == []
    await bot.driver.send(5001, f"/start {code}")
    assert menu(bot, 5001)[:2] == ["meeting", "meetings"]


async def test_a_revoked_role_takes_the_menu_back(bot) -> None:
    """When a secretary's role is revoked (from the command line), the next pass gives them the
    default menu back; a new role adds its commands."""
    await common.sync_menus(bot.app)
    uid = bot.uid("bt_dien")
    assert "meeting" in menu(bot, uid)
    with bot.db.transaction() as session:
        held = session.scalar(
            select(RoleAssignment).where(
                RoleAssignment.person_id == bot.khoi.users["bt_dien"].person_id
            )
        )
        held.revoked_at = bot.clock.now()
        leader = bot.khoi.users["lanh_dao"].person_id
        session.add(
            RoleAssignment(
                person_id=leader,
                org_id=bot.khoi.orgs["CBDIEN"],
                role=Role.SECRETARY,
                granted_at=bot.clock.now(),
                granted_by="test",
            )
        )
    assert await common.sync_menus(bot.app) == 2
    assert menu(bot, uid) == []
    assert "meeting" in menu(bot, bot.uid("lanh_dao"))


async def test_choosing_a_language_redescribes_the_menu(bot) -> None:
    """A secretary who switches to English gets the menu described in English."""
    uid = bot.uid("bt_bv")
    await bot.driver.send(uid, "/language")
    await bot.press("bt_bv", "English")
    described = {c["command"]: c["description"] for c in bot.fake.commands("chat", chat_id=uid)}
    assert described["meeting"] == "log a cell meeting and its attendance"
