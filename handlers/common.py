"""/start (with an invite code), /help, /language, /cancel, and each person's command menu."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.orm import Session
from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from domain.access import ALIASES, COMMAND_HELP, ROLE_NAMES, commands_for, default_menu, menu_for
from domain.errors import ChiboError
from domain.i18n import SUPPORTED, pick_locale, translator
from domain.text import h
from domain.vocab import Role
from handlers import flows
from handlers.base import (
    Context,
    Env,
    Handlers,
    Visitor,
    button,
    command,
    error_text,
    load_env,
    send,
    show,
    stranger_text,
)
from handlers.callbacks import Family, choice
from services.context import AppContext
from storage import access as access_facts
from storage import drafts, people
from storage.people import Identity, RoleView

log = logging.getLogger(__name__)
#: People whose menu one run of the menu job may set, and how often it runs (seconds): the
#: menu is a convenience, so it takes a small share of Telegram's 30 calls a second.
MENU_BATCH = 20
MENU_EVERY = 15

#: The language chosen on /language.
LANG = Family("lang", (choice(*SUPPORTED),))


async def start(update: Update, context: Context) -> None:
    """Binds an invite code to the sender, or greets a known person."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    env = load_env(update, context)
    user = update.effective_user
    assert user is not None
    code = context.args[0] if context.args else ""
    if code:

        def redeem(session: Session) -> tuple[Identity, RoleView]:
            return people.redeem_invite(
                session,
                code=code,
                telegram_user_id=user.id,
                telegram_name=vietnamese_order(user.first_name, user.last_name),
                locale=user.language_code,
                now=env.now(),
            )

        try:
            who, role = await env.run(redeem)
        except ChiboError as exc:
            await send(env, context, error_text(env, exc))
            if env.who is None:
                return
        else:
            env.who = who
            await set_menu(context.bot, env.app, user.id, env.t.locale, who.role_set)
            await send(
                env,
                context,
                env.t.gettext(
                    "Welcome, {name}! You are registered as <b>{role}</b> of <b>{org}</b>."
                ).format(
                    name=h(who.display_name),
                    role=h(env.t.gettext(ROLE_NAMES[role.role])),
                    org=h(role.org_name),
                ),
            )
            await send(env, context, help_text(env))
            return
    await env.load()  # the sender's identity, read off the event loop
    if env.who is None:
        await send(env, context, stranger_text(env))
        return
    known = env.known()
    assert known is not None

    def unit(session: Session) -> flows.Screen | None:
        people.touch_started(session, known.person_id, env.now())
        draft = drafts.get(session, known.person_id)
        return (
            flows.resume_offer(known, draft, session)
            if draft is not None and draft.flow in flows.FLOWS
            else None
        )

    offer = await env.run(unit)
    greeting = env.t.gettext("Hello, {name}!").format(name=h(known.who.display_name))
    await send(env, context, greeting + "\n\n" + help_text(env))
    if offer is not None:
        await send(env, context, *offer)


def vietnamese_order(first: str, last: str | None) -> str:
    """Put the family name first: Telegram's "Hương" + "Trần Thị" → "Trần Thị Hương"."""
    return f"{last} {first}" if last else first


def help_text(env: Visitor) -> str:
    """The commands this person's roles allow, with their roles listed first."""
    assert env.who is not None
    _ = env.t.gettext
    lines = [_("<b>Your roles</b>")]
    for r in env.who.roles:
        lines.append(f"• {h(_(ROLE_NAMES[r.role]))} — {h(r.org_name)}")
    lines.append("")
    lines.append(_("<b>What you can do</b>"))
    aliases = {v: k for k, v in ALIASES.items()}
    for cmd in commands_for(env.who.role_set):
        alias = f" (/{aliases[cmd]})" if cmd in aliases else ""
        lines.append(f"/{cmd}{alias} — {h(_(COMMAND_HELP[cmd]))}")
    return "\n".join(lines)


@command("help")
async def help_command(update: Update, context: Context, env: Env) -> None:
    """Lists the commands the sender's roles allow."""
    await env.load()  # the identity and the role check, off the event loop
    await send(env, context, help_text(env))


@command("language")
async def language(update: Update, context: Context, env: Env) -> None:
    """Offers the languages as buttons."""
    await env.load()  # the identity and the role check, off the event loop
    await send(
        env,
        context,
        env.t.gettext("Choose your language:"),
        [[("🇻🇳 Tiếng Việt", LANG.data("vi")), ("🇬🇧 English", LANG.data("en"))]],
    )


@button
async def language_chosen(update: Update, context: Context, env: Env) -> None:
    """Stores the chosen language and confirms in it."""
    (locale,) = LANG.args(update)
    await env.run(
        lambda session: people.set_locale(
            session, person_id=env.person_id, locale=locale, now=env.now()
        )
    )
    env.t = translator(locale)
    await set_menu(context.bot, env.app, env.user_id, locale, env.who.role_set)
    await show(update, env, context, env.t.gettext("Language set: English."))


@command("cancel")
async def cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves any conversation in progress; nothing half-written is kept."""
    had = await env.run(lambda session: drafts.finish(session, env.person_id))
    if had:
        text = env.t.gettext("Cancelled. Nothing from that conversation was saved.")
    else:
        text = env.t.gettext("There is nothing to cancel.")
    await send(env, context, text)


# --- The command menu ----------------------------------------------------------------------------


def bot_commands(locale: str, commands: Iterable[str]) -> list[BotCommand]:
    """Telegram's menu entries for ``commands``, described in ``locale``."""
    t = translator(locale)
    return [BotCommand(cmd, t.gettext(COMMAND_HELP[cmd])[:256]) for cmd in commands]


def _menu_key(locale: str, roles: Iterable[Role]) -> tuple[str, tuple[str, ...]] | None:
    commands = menu_for(roles)
    return None if commands is None else (locale, tuple(commands))


async def set_menu(
    bot: Bot, app: AppContext, telegram_user_id: int, locale: str, roles: Iterable[Role]
) -> bool:
    """Offer a person, in their chat, the commands their roles allow, in their language (a
    person without a role gets the default menu back). Returns False if it was already so."""
    key = _menu_key(locale, roles)
    menus: dict[int, object] = app.extras.setdefault("menus", {})
    if telegram_user_id in menus and menus[telegram_user_id] == key:
        return False
    scope = BotCommandScopeChat(telegram_user_id)
    try:
        if key is None:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(bot_commands(key[0], key[1]), scope=scope)
    except (NetworkError, RetryAfter) as exc:
        # Telegram unreachable or busy: the menu job tries again on its next run.
        log.warning("command menu not set for one person: %s", type(exc).__name__)
        return False
    except TelegramError as exc:
        # Refused for good (the person blocked the bot): not retried until their roles change.
        log.warning("command menu not set for one person: %s", type(exc).__name__)
    menus[telegram_user_id] = key
    return True


async def set_default_menus(application: Application) -> bool:
    """Set Telegram's default command menu (the commands every role has; each person's chat
    gets their roles' menu from :func:`sync_menus`): Vietnamese by default, English for
    English clients. When Telegram fails, the menu job tries again (returns False)."""
    app: AppContext = application.bot_data["app"]
    try:
        for locale in (None, *SUPPORTED):
            commands = bot_commands(locale or "vi", default_menu())
            await application.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=locale
            )
    except TelegramError as exc:
        log.warning("default command menu not set: %s", type(exc).__name__)
        app.extras["default_menu"] = False
        return False
    app.extras["default_menu"] = True
    return True


async def sync_menus(application: Application, limit: int | None = None) -> int:
    """Bring up to ``limit`` people's menus in line with their roles now (start-up, and roles
    changed from the command line); returns how many menus were set."""
    app: AppContext = application.bot_data["app"]
    if app.extras.get("default_menu") is False:  # failed at start-up
        await set_default_menus(application)
    reachable = await app.db.read(access_facts.reachable_roles)
    menus: dict[int, object] = app.extras.setdefault("menus", {})
    done = 0
    for uid, (stored, roles) in sorted(reachable.items()):
        if limit is not None and done >= limit:
            break
        locale = pick_locale(stored, None, app.settings.locale)
        if uid in menus and menus[uid] == _menu_key(locale, roles):
            continue
        done += await set_menu(application.bot, app, uid, locale, roles)
    return done


async def _menu_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await sync_menus(context.application, MENU_BATCH)


def install_jobs(application: Application, app: AppContext) -> None:
    """Keep everyone's menu in line with their roles, a batch at a time."""
    del app  # the job reads the shared services from ``bot_data``
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _menu_job, interval=MENU_EVERY, first=5, name="command-menus"
        )


def handlers() -> Handlers:
    """The handlers of this module."""
    return [
        CommandHandler("start", start),
        CommandHandler(["help", "trogiup"], help_command),
        CommandHandler(["language", "ngonngu"], language),
        CommandHandler(["cancel", "huy"], cancel),
        LANG.handler(language_chosen),
    ]
