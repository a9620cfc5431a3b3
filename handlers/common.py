"""/start (with an invite code), /help, /language, /cancel."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from domain.access import ALIASES, COMMAND_HELP, ROLE_NAMES, commands_for
from domain.errors import ChiboError
from domain.i18n import SUPPORTED, translator
from domain.text import h
from handlers import flows
from handlers.base import (
    Context,
    Env,
    Handlers,
    button,
    command,
    error_text,
    load_env,
    parse_data,
    send,
    show,
    stranger_text,
)
from storage import drafts, people


async def start(update: Update, context: Context) -> None:
    """Binds an invite code to the sender, or greets a known person."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    env = load_env(update, context)
    user = update.effective_user
    assert user is not None
    code = context.args[0] if context.args else ""
    if code:
        try:
            with env.db.transaction() as session:
                who, role = people.redeem_invite(
                    session,
                    code=code,
                    telegram_user_id=user.id,
                    telegram_name=vietnamese_order(user.first_name, user.last_name),
                    locale=user.language_code,
                    now=env.now(),
                )
        except ChiboError as exc:
            await send(env, context, error_text(env, exc))
            if env.who is None:
                return
        else:
            env.who = who
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
    if env.who is None:
        await send(env, context, stranger_text(env))
        return
    with env.db.transaction() as session:
        people.touch_started(session, env.who.person_id, env.now())
        draft = drafts.get(session, env.who.person_id)
    greeting = env.t.gettext("Hello, {name}!").format(name=h(env.who.display_name))
    await send(env, context, greeting + "\n\n" + help_text(env))
    if draft is not None and draft.flow in flows.FLOWS:
        await send(env, context, *flows.resume_offer(env, draft))


def vietnamese_order(first: str, last: str | None) -> str:
    """Put the family name first: Telegram's "Hương" + "Trần Thị" → "Trần Thị Hương"."""
    return f"{last} {first}" if last else first


def help_text(env: Env) -> str:
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
    await send(env, context, help_text(env))


@command("language")
async def language(update: Update, context: Context, env: Env) -> None:
    """Offers the languages as buttons."""
    await send(
        env,
        context,
        env.t.gettext("Choose your language:"),
        [[("🇻🇳 Tiếng Việt", "lang:vi"), ("🇬🇧 English", "lang:en")]],
    )


@button
async def language_chosen(update: Update, context: Context, env: Env) -> None:
    """Stores the chosen language and confirms in it."""
    assert env.who is not None
    args = parse_data(update.callback_query.data if update.callback_query else None, "lang")
    locale = args[0] if args and args[0] in SUPPORTED else None
    if locale is None:
        return
    with env.db.transaction() as session:
        people.set_locale(session, person_id=env.who.person_id, locale=locale, now=env.now())
    env.t = translator(locale)
    await show(update, env, context, env.t.gettext("Language set: English."))


@command("cancel")
async def cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves any conversation in progress; nothing half-written is kept."""
    assert env.who is not None
    with env.db.transaction() as session:
        had = drafts.finish(session, env.who.person_id)
    if had:
        text = env.t.gettext("Cancelled. Nothing from that conversation was saved.")
    else:
        text = env.t.gettext("There is nothing to cancel.")
    await send(env, context, text)


def handlers() -> Handlers:
    """The handlers of this module."""
    return [
        CommandHandler("start", start),
        CommandHandler(["help", "trogiup"], help_command),
        CommandHandler(["language", "ngonngu"], language),
        CommandHandler(["cancel", "huy"], cancel),
        CallbackQueryHandler(language_chosen, pattern=r"^lang:"),
    ]
