"""/deadlines (/hanchot), /settings, and the buttons of reminder messages."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application, CommandHandler

from domain.access import may_use
from domain.errors import StaleAction
from domain.i18n import N_
from domain.rules.deadlines import ReminderPlan, sending_hour, slot_time
from handlers.base import (
    Context,
    Env,
    Handlers,
    Keyboard,
    button,
    command,
    send,
    show,
)
from handlers.callbacks import ID, Family, choice
from services import calendar
from services import scheduler as sch
from services.context import AppContext
from storage import obligations as ob

#: The hours a person may choose for their reminders.
HOURS = range(6, 21)

#: /settings: the reminder hour (``hour``, 6–20) or muting (``mute``, 0 or 1).
REM_SET = Family("rem", (choice("hour", "mute"), ID))


@command("deadlines")
async def deadlines(update: Update, context: Context, env: Env) -> None:
    """Lists what the sender owes in the next 30 days and what is overdue, per cell."""

    def unit(session: Session) -> sch.Owed:
        return sch.owed_by(
            session, settings=env.app.settings, person_id=env.person_id, now=env.now()
        )

    owed = await env.run(unit)
    text, rows = sch.render_owed(owed, env.t, today=env.today())
    await send(env, context, text, rows)


@button
async def on_deadlines_page(update: Update, context: Context, env: Env) -> None:
    """Shows another page of a long /deadlines list."""
    (page,) = sch.DEADLINES_PAGE.args(update)
    owed = await env.read(
        lambda session: sch.owed_by(
            session, settings=env.app.settings, person_id=env.person_id, now=env.now()
        )
    )
    await show(update, env, context, *sch.render_owed(owed, env.t, today=env.today(), page=page))


def _settings_screen(
    env: Env, plan: ReminderPlan, hour: int | None, muted: bool
) -> tuple[str, Keyboard]:
    t = env.t
    shown = sending_hour(hour, plan)
    lines = [
        t.gettext("⚙️ <b>Reminder settings</b>"),
        t.gettext("Reminders arrive at <b>{hour}:00</b> (never at night, not on Sundays).").format(
            hour=f"{shown:02d}"
        ),
        t.gettext("Non-essential reminders: <b>muted</b>.")
        if muted
        else t.gettext("Non-essential reminders: <b>on</b>."),
        "",
        t.gettext("Choose the hour:"),
    ]
    hours = [(f"{'✅ ' if h == shown else ''}{h}h", REM_SET.data("hour", h)) for h in HOURS]
    rows: list[list[tuple[str, str]]] = [hours[i : i + 5] for i in range(0, len(hours), 5)]
    rows.append(
        [(t.gettext("🔔 Turn non-essential reminders on"), REM_SET.data("mute", 0))]
        if muted
        else [(t.gettext("🔕 Mute non-essential reminders"), REM_SET.data("mute", 1))]
    )
    return "\n".join(lines), rows


def _plan(session: Session, env: Env) -> ReminderPlan:
    return calendar.current(session, env.app.settings).plan


@command("settings")
async def settings_command(update: Update, context: Context, env: Env) -> None:
    """Shows the reminder hour and muting, with buttons to change them."""

    def unit(session: Session) -> tuple[ReminderPlan, int | None, bool]:
        person = ob.people_info(session, [env.person_id])[env.person_id]
        return _plan(session, env), person.reminder_hour, person.mute_nonessential

    plan, hour, muted = await env.run(unit)
    await send(env, context, *_settings_screen(env, plan, hour, muted))


@button
async def on_settings(update: Update, context: Context, env: Env) -> None:
    """Stores the chosen hour or muting and shows the settings again."""
    what, value = REM_SET.args(update)
    changes: dict[str, object] = {}
    if what == "hour":
        if value not in HOURS:
            raise StaleAction()
        changes["hour"] = value
    else:
        if value not in (0, 1):
            raise StaleAction()
        changes["mute_nonessential"] = bool(value)

    def unit(session: Session) -> tuple[ReminderPlan, int | None, bool]:
        person = ob.set_preferences(
            session,
            person_id=env.person_id,
            now=env.now(),
            **changes,  # type: ignore[arg-type]
        )
        return _plan(session, env), person.reminder_hour, person.mute_nonessential

    plan, hour, muted = await env.run(unit)
    await show(update, env, context, *_settings_screen(env, plan, hour, muted))


#: Reminder button → the command handler that opens the right conversation.
OPENERS: dict[str, tuple[str, str]] = {
    "meeting": ("handlers.meetings", "meeting_command"),
    "review": ("handlers.reviews", "review_command"),
    "report": ("handlers.reports", "report_command"),
    "candidates": ("handlers.candidates", "candidates_command"),
}


@button
async def on_open(update: Update, context: Context, env: Env) -> None:
    """Answers a reminder's main button by pointing to the command that records it."""
    (target,) = sch.REM_OPEN.args(update)
    await env.load()  # the sender's roles, read off the event loop
    if may_use(target, env.who.role_set):
        # The same entry as typing the command: it starts (or offers back) the conversation.
        module, name = OPENERS[target]
        opener = getattr(importlib.import_module(module), name)
        await opener(update, context)
        return
    else:
        text = env.t.gettext(
            "Your role cannot use /{command}: please ask the cell's secretary to do it."
        ).format(command=target)
    await send(env, context, text)


def _tomorrow(session: Session, env: Env, hour: int | None) -> datetime:
    """The next sending morning after today at the person's hour."""
    catalog = calendar.current(session, env.app.settings)
    cal = calendar.work_calendar(session, catalog)
    day = cal.next_sending_day(env.today() + timedelta(days=1))
    return slot_time(day, sending_hour(hour, catalog.plan), env.app.settings.tz)


@button
async def on_snooze(update: Update, context: Context, env: Env) -> None:
    """Reminds the person of this message's obligations again tomorrow morning."""
    (outbox_id,) = sch.REM_SNOOZE.args(update)

    def unit(session: Session) -> datetime:
        rows = ob.sent_rows_of_message(session, outbox_id=outbox_id, person_id=env.person_id)
        person = ob.people_info(session, [env.person_id])[env.person_id]
        keys = [str(r.payload.get("instance")) for r in rows if r.payload.get("instance")]
        if not keys:
            raise StaleAction()  # not this person's reminder (or a forged button)
        until = _tomorrow(session, env, person.reminder_hour)
        ob.snooze(session, person_id=env.person_id, instance_keys=keys, until=until, now=env.now())
        return until

    until = await env.run(unit)
    local = until.astimezone(env.app.settings.tz)
    env.notice = env.t.gettext("OK: I will remind you on {date} at {hour}:00.").format(
        date=env.t.date(local), hour=f"{local.hour:02d}"
    )


_ANSWERS = {
    "seen": N_("Thank you: marked as read."),
    "attend": N_("Thank you: you will attend."),
    "decline": N_("Noted: you cannot attend."),
}


@button
async def on_notice(update: Update, context: Context, env: Env) -> None:
    """Records a secretary's one-tap answer to a notice or briefing invitation."""
    answer, notice_id = sch.NOTICE_ANSWER.args(update)

    def unit(session: Session) -> None:
        # The button is not trusted: only someone the notice was sent to may answer it.
        if not ob.was_sent_notice(session, notice_id=notice_id, person_id=env.person_id):
            raise StaleAction()
        ob.reply_to_notice(
            session,
            notice_id=notice_id,
            person_id=env.person_id,
            answer=answer,
            now=env.now(),
        )

    await env.run(unit)
    env.notice = env.t.gettext(_ANSWERS[answer])


def handlers() -> Handlers:
    """The handlers of this module."""
    return [
        CommandHandler(["deadlines", "hanchot"], deadlines),
        sch.DEADLINES_PAGE.handler(on_deadlines_page),
        CommandHandler("settings", settings_command),
        sch.REM_OPEN.handler(on_open),
        sch.REM_SNOOZE.handler(on_snooze),
        REM_SET.handler(on_settings),
        sch.NOTICE_ANSWER.handler(on_notice),
    ]


def install_jobs(application: Application, app_ctx: AppContext) -> None:
    """Adds the reminder tick (every minute: plan due reminders, drain the outbox)."""
    sch.install(application, app_ctx)
