"""/meeting (/sinhhoat): the conversation's commands, button steps, typed steps and saving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from domain.errors import AlreadyRecorded, StaleAction
from domain.i18n import N_
from domain.text import h
from handlers import candidates, flows
from handlers.base import (
    Context,
    Env,
    button,
    command,
    error_text,
    mark_saved,
    send,
    show,
)
from handlers.callbacks import Family
from handlers.meetings.buttons import (
    KIND_NAMES,
    MTG_ABS,
    MTG_ALL,
    MTG_ATTOK,
    MTG_CELL,
    MTG_CHG,
    MTG_COK,
    MTG_CT,
    MTG_DATE,
    MTG_DATEOK,
    MTG_DUR,
    MTG_FOL,
    MTG_GO,
    MTG_GOK,
    MTG_KIND,
    MTG_LAST,
    MTG_LIST_OWN,
    MTG_NEW,
    MTG_NOMIN,
    MTG_OG,
    MTG_OPEN,
    MTG_PAGE,
    MTG_PRE,
    MTG_QSKIP,
    MTG_RSN,
    MTG_RSNOK,
    MTG_SAVE,
    MTG_TOPIC,
    MTG_UNG,
    MTG_X,
    Rows,
    Screen,
)
from handlers.meetings.screens import _attendance_line, _summary_lines, render
from storage import meetings as m
from storage.meetings import State
from storage.models import Draft, MeetingKind


def _begin(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    """Start logging a meeting, or (``meeting_id``) correcting one; replaces the draft the
    person chose to discard."""
    existing = m.current_draft(session, person_id=env.person_id)
    replace = m.conversation_key(existing) if existing is not None else None
    if args.get("meeting_id"):
        started = m.start_correction(
            session,
            person_id=env.person_id,
            meeting_id=int(args["meeting_id"]),
            now=env.now(),
            replace_draft=replace,
        )
    else:
        started = m.start_meeting(
            session, person_id=env.person_id, now=env.now(), replace_draft=replace
        )
    return started.draft


def _lost(env: Env, session: Session, draft: Draft) -> list[str]:
    """What discarding an unsaved meeting loses: everything answered so far."""
    v = m.view(session, draft, today=env.today(), everything=True)
    if v.kind is None:
        return []  # at most the cell was chosen
    return _summary_lines(env, v)


@command("meeting")
async def meeting_command(update: Update, context: Context, env: Env) -> None:
    """Starts logging a meeting, or offers back the conversation left unfinished."""
    await flows.start(update, context, env, m.FLOW, {}, edit=False)


@button
async def on_new(update: Update, context: Context, env: Env) -> None:
    """Starts logging a meeting ("log a meeting" on the overview; "start over" on an older
    offer, whose number names the conversation it discards)."""
    old = MTG_NEW.args(update)[0]
    existing = await env.read(lambda session: m.current_draft(session, person_id=env.person_id))
    if existing is not None and old and m.conversation_key(existing) == old:
        await flows.step(
            update,
            context,
            env,
            lambda session: _begin(env, session, {}),
            render=render,
        )
        return
    await flows.start(update, context, env, m.FLOW, {})


def _step(family: Family, use_case: Callable[..., Draft]) -> Callable[[Update, Context], Any]:
    """A button handler: ``family`` data (the conversation key, then the step's arguments)
    → ``use_case`` → the next screen."""

    @button
    async def handler(update: Update, context: Context, env: Env) -> None:
        draft_id, *args = family.args(update)
        await flows.step(
            update,
            context,
            env,
            lambda session: use_case(session, env, draft_id, *args),
            render=render,
        )

    handler.__doc__ = use_case.__doc__
    return handler


def _person(env: Env) -> int:
    return env.person_id


# Each use-case adapter turns button arguments into keyword arguments; no logic here.
def _u_cell(s: Session, env: Env, d: int, org: int) -> Draft:
    """Stores the chosen cell and asks for the kind."""
    return m.choose_cell(s, person_id=_person(env), draft_id=d, org_id=org, now=env.now())


def _u_kind(s: Session, env: Env, d: int, kind: str) -> Draft:
    """Stores the kind and asks for the topic or the duration."""
    return m.set_kind(s, person_id=_person(env), draft_id=d, kind=MeetingKind(kind), now=env.now())


def _u_topic_keep(s: Session, env: Env, d: int) -> Draft:
    """Keeps the current topic and asks for the duration."""
    return m.set_topic(s, person_id=_person(env), draft_id=d, text=None, now=env.now())


def _u_duration(s: Session, env: Env, d: int, minutes: int) -> Draft:
    """Stores the duration and asks for the date."""
    return m.set_duration(s, person_id=_person(env), draft_id=d, minutes=minutes, now=env.now())


def _u_go(s: Session, env: Env, d: int, target: str) -> Draft:
    """Goes back, or to a step that takes typed input."""
    return m.move(s, person_id=_person(env), draft_id=d, target=State(target), now=env.now())


def _u_date(s: Session, env: Env, d: int, day: date) -> Draft:
    """Stores the date and asks for the attendance."""
    return m.set_date(
        s, person_id=_person(env), draft_id=d, day=day, today=env.today(), now=env.now()
    )


def _u_date_ok(s: Session, env: Env, d: int, day: date) -> Draft:
    """Stores a confirmed old date and asks for the attendance."""
    return m.set_date(
        s,
        person_id=_person(env),
        draft_id=d,
        day=day,
        today=env.today(),
        now=env.now(),
        confirmed=True,
    )


def _u_absent(s: Session, env: Env, d: int, member: int) -> Draft:
    """Marks one member absent."""
    return m.mark(
        s,
        person_id=_person(env),
        draft_id=d,
        member_id=member,
        absent=True,
        now=env.now(),
    )


def _u_present(s: Session, env: Env, d: int, member: int) -> Draft:
    """Marks one member present."""
    return m.mark(
        s,
        person_id=_person(env),
        draft_id=d,
        member_id=member,
        absent=False,
        now=env.now(),
    )


def _u_all(s: Session, env: Env, d: int) -> Draft:
    """Marks everyone present."""
    return m.everyone_present(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_last(s: Session, env: Env, d: int) -> Draft:
    """Starts from the attendance of the previous regular meeting."""
    return m.same_as_last(s, person_id=_person(env), draft_id=d, today=env.today(), now=env.now())


def _u_page(s: Session, env: Env, d: int, page: int) -> Draft:
    """Shows another page of the roll."""
    return m.set_page(s, person_id=_person(env), draft_id=d, page=page, now=env.now())


def _u_attendance_done(s: Session, env: Env, d: int) -> Draft:
    """Finishes the attendance and asks the reasons of the absent."""
    return m.attendance_done(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_reason(s: Session, env: Env, d: int, member: int, code: str) -> Draft:
    """Stores one absent member's reason and asks the next."""
    return m.set_reason(
        s, person_id=_person(env), draft_id=d, member_id=member, code=code, now=env.now()
    )


def _u_reasons_done(s: Session, env: Env, d: int) -> Draft:
    """Leaves the reasons when nobody is left to ask."""
    return m.reasons_done(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_follower(s: Session, env: Env, d: int, person: int) -> Draft:
    """Records the follower's attendance and asks for the content."""
    return m.add_follower(s, person_id=_person(env), draft_id=d, guest_id=person, now=env.now())


def _u_unguest(s: Session, env: Env, d: int, key: str) -> Draft:
    """Removes a guest."""
    return m.remove_guest(s, person_id=_person(env), draft_id=d, key=key, now=env.now())


def _u_other_guests(s: Session, env: Env, d: int, count: int) -> Draft:
    """Sets the number of other guests."""
    return m.set_other_guests(s, person_id=_person(env), draft_id=d, count=count, now=env.now())


def _u_guests_done(s: Session, env: Env, d: int) -> Draft:
    """Finishes the guests and asks for the content."""
    return m.guests_done(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_content(s: Session, env: Env, d: int, item: str, on: str) -> Draft:
    """Ticks or unticks one content item."""
    return m.set_content(
        s, person_id=_person(env), draft_id=d, item=item, done=on == "1", now=env.now()
    )


def _u_no_minutes(s: Session, env: Env, d: int) -> Draft:
    """Forgets the minutes."""
    return m.clear_minutes(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_content_done(s: Session, env: Env, d: int) -> Draft:
    """Finishes the content and shows the confirmation."""
    return m.content_done(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_quality_skip(s: Session, env: Env, d: int) -> Draft:
    """Skips the quality score."""
    return m.set_quality(s, person_id=_person(env), draft_id=d, text=None, now=env.now())


def _u_change(s: Session, env: Env, d: int, section: str) -> Draft:
    """Opens one section of the confirmation to change it."""
    return m.change(s, person_id=_person(env), draft_id=d, section=section, now=env.now())


STEP_BUTTONS: list[tuple[Family, Callable[..., Draft]]] = [
    (MTG_CELL, _u_cell),
    (MTG_KIND, _u_kind),
    (MTG_TOPIC, _u_topic_keep),
    (MTG_DUR, _u_duration),
    (MTG_GO, _u_go),
    (MTG_DATE, _u_date),
    (MTG_DATEOK, _u_date_ok),
    (MTG_ABS, _u_absent),
    (MTG_PRE, _u_present),
    (MTG_ALL, _u_all),
    (MTG_LAST, _u_last),
    (MTG_PAGE, _u_page),
    (MTG_ATTOK, _u_attendance_done),
    (MTG_RSN, _u_reason),
    (MTG_RSNOK, _u_reasons_done),
    (MTG_FOL, _u_follower),
    (MTG_UNG, _u_unguest),
    (MTG_OG, _u_other_guests),
    (MTG_GOK, _u_guests_done),
    (MTG_CT, _u_content),
    (MTG_NOMIN, _u_no_minutes),
    (MTG_COK, _u_content_done),
    (MTG_QSKIP, _u_quality_skip),
    (MTG_CHG, _u_change),
]


@button
async def on_cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves the conversation; nothing of it is saved."""
    draft_id = MTG_X.args(update)[0]
    had = await env.run(
        lambda session: m.cancel(session, person_id=_person(env), draft_id=draft_id)
    )
    if not had:
        raise StaleAction()
    await show(update, env, context, env.t.gettext("Cancelled. Nothing was saved."))


@button
async def on_save(update: Update, context: Context, env: Env) -> None:
    """Saves the meeting, confirms it, and tells the secretary about any flag it raised."""
    draft_id = MTG_SAVE.args(update)[0]
    try:
        # On the database's threads, with the sender's identity in the same transaction.
        result = await env.run(
            lambda session: m.save(
                session,
                person_id=_person(env),
                draft_id=draft_id,
                today=env.today(),
                now=env.now(),
            )
        )
    except AlreadyRecorded as exc:
        await _already_recorded(update, context, env, exc, draft_id)
        return
    mark_saved(update)
    _ = env.t.gettext
    kind = _(KIND_NAMES[result.kind])
    text = (
        _("✅ Correction saved: {kind} of {date}.")
        if result.updated
        else _("✅ Saved: {kind} of {date}.")
    ).format(kind=h(kind), date=env.t.date(result.held_on))
    text += "\n" + _("Attendance: {line}").format(
        line=_attendance_line(env, result.present, result.required)
    )
    if result.duration_minimum:
        text += "\n" + _("⚠️ Shorter than the {minimum} minutes the guidance asks for.").format(
            minimum=result.duration_minimum
        )
    if result.quorum_ok is False:
        text += "\n" + _(
            "⚠️ Fewer than two thirds present: this meeting cannot vote on admissions."
        )
    if result.dropped:
        text += "\n" + env.t.ngettext(
            "ℹ️ {names} is no longer on the cell's roll, so no attendance was recorded for them.",
            "ℹ️ {names} are no longer on the cell's roll, so no attendance was recorded for them.",
            len(result.dropped),
        ).format(names=h(", ".join(result.dropped)))
    rows = [
        [
            (_("📂 Open"), MTG_OPEN.data(result.meeting_id)),
            (_("📋 Meetings"), MTG_LIST_OWN.data()),
        ],
    ]
    question = await candidates.meeting_question(env, result.meeting_id)
    if question is not None:
        text += "\n\n" + question[0]
        rows.append(question[1])
    await show(update, env, context, text, rows)
    for notice in result.flags:
        await send(env, context, _flag_text(env, notice))


def _flag_text(env: Env, notice: m.FlagNotice) -> str:
    _ = env.t.gettext
    months = ", ".join(env.t.month(notice.year, mo) for mo in notice.months)
    params = {
        "member": h(notice.member_name),
        "cell": h(notice.org_name),
        "count": len(notice.months),
        "year": notice.year,
        "months": months,
    }
    if notice.level >= 2:
        text = env.t.ngettext(
            "🚩 <b>Three-months rule</b>: {member} ({cell}) was absent without a valid reason "
            "from the regular meeting in {count} month of {year} ({months}). Under the Party "
            "Statute the cell is to consider removing the member from the list (xóa tên).",
            "🚩 <b>Three-months rule</b>: {member} ({cell}) was absent without a valid reason "
            "from the regular meeting in {count} months of {year} ({months}). Under the Party "
            "Statute the cell is to consider removing the member from the list (xóa tên).",
            len(notice.months),
        ).format(**params)
        if notice.board_notified:
            text += "\n" + _("The Organization Board has been informed.")
        return text
    return env.t.ngettext(
        "⚠️ {member} has been absent without a valid reason from the regular meeting in "
        "{count} month of {year} ({months}). At three months the Party Statute asks the cell "
        "to consider removal from the list (xóa tên).",
        "⚠️ {member} has been absent without a valid reason from the regular meeting in "
        "{count} months of {year} ({months}). At three months the Party Statute asks the cell "
        "to consider removal from the list (xóa tên).",
        len(notice.months),
    ).format(**params)


async def _already_recorded(
    update: Update, context: Context, env: Env, exc: AlreadyRecorded, draft_id: int
) -> None:
    """Shows the confirmation again with a way to open the meeting already recorded."""

    def unit(session: Session) -> Screen:
        draft = m.current_draft(session, person_id=_person(env))
        if draft is not None and m.conversation_key(draft) == draft_id:
            return render(env, session, draft)
        return "", []

    text, rows = await env.run(unit)
    notice = error_text(env, exc)
    existing = exc.params.get("meeting_id")
    extra: Rows = []
    if existing:
        extra.append([(env.t.gettext("📂 Open the recorded meeting"), MTG_OPEN.data(existing))])
    await show(update, env, context, f"⚠️ {notice}\n\n{text}".strip(), [*extra, *rows])


def _t_topic(s: Session, env: Env, d: int, text: str) -> Draft:
    """Stores the typed topic and asks for the duration."""
    return m.set_topic(s, person_id=_person(env), draft_id=d, text=text, now=env.now())


def _t_duration(s: Session, env: Env, d: int, text: str) -> Draft:
    """Stores a typed duration and asks for the date."""
    return m.type_duration(s, person_id=_person(env), draft_id=d, text=text, now=env.now())


def _t_date(s: Session, env: Env, d: int, text: str) -> Draft:
    """Stores a typed date and asks for the attendance."""
    return m.type_date(
        s, person_id=_person(env), draft_id=d, text=text, today=env.today(), now=env.now()
    )


def _t_guest(s: Session, env: Env, d: int, text: str) -> Draft:
    """Adds a typed superior committee member."""
    return m.add_guest_name(s, person_id=_person(env), draft_id=d, text=text, now=env.now())


def _t_minutes(s: Session, env: Env, d: int, text: str) -> Draft:
    """Stores the number of the minutes in the minutes book."""
    return m.set_minutes_ref(s, person_id=_person(env), draft_id=d, text=text, now=env.now())


def _t_quality(s: Session, env: Env, d: int, text: str) -> Draft:
    """Stores the quality score and shows the confirmation."""
    return m.set_quality(s, person_id=_person(env), draft_id=d, text=text, now=env.now())


async def _minutes_file(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Keeps a photo or file of the minutes, unless it is marked secret."""
    msg = update.effective_message
    assert msg is not None
    if msg.photo:
        kind, file_id, name = "photo", msg.photo[-1].file_id, None
    elif msg.document:
        kind, file_id, name = "document", msg.document.file_id, msg.document.file_name
    else:
        return
    key = m.conversation_key(draft)
    await flows.step(
        update,
        context,
        env,
        lambda session: m.attach_minutes(
            session,
            person_id=_person(env),
            draft_id=key,
            file_id=file_id,
            kind=kind,
            file_name=name,
            caption=msg.caption,
            now=env.now(),
        ),
        render=render,
    )


MEETING_FLOW = flows.Flow(
    name=m.FLOW,
    title=N_("logging a cell meeting"),
    render=render,
    begin=_begin,
    lost=_lost,
    text_steps={
        State.TOPIC.value: flows.typed_step(_t_topic, render),
        State.DURATION.value: flows.typed_step(_t_duration, render),
        State.DURATION_TYPED.value: flows.typed_step(_t_duration, render),
        State.DATE.value: flows.typed_step(_t_date, render),
        State.GUESTS.value: flows.typed_step(_t_guest, render),
        State.GUEST_NAME.value: flows.typed_step(_t_guest, render),
        State.CONTENT.value: flows.typed_step(_t_minutes, render),
        State.QUALITY.value: flows.typed_step(_t_quality, render),
    },
    file_steps={State.CONTENT.value: _minutes_file},
)
