"""/meeting (/sinhhoat), /meetings and /model: log a cell meeting with taps, read and correct it.

Handlers only parse the update, call one use case of :mod:`storage.meetings` and render.
Every button carries ``mtg:<action>:<conversation key>:…`` (or ``mdl:…`` for study models); the use
case re-checks the draft is at that step and that the presser still writes for the cell, so
stale buttons, double taps and a second device change nothing. The common path — a regular
meeting, 90 minutes, today, two absences, one follower — takes 11 taps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from domain.errors import AlreadyRecorded, InvalidInput, NotInScope, StaleAction
from domain.i18n import N_
from domain.rules.meetings import CONTENT_ITEMS, TOPIC_MAX, UNEXCUSED, QualityGrade
from domain.text import h, truncate
from handlers import flows
from handlers.base import (
    Context,
    Env,
    button,
    command,
    error_text,
    int_arg,
    parse_data,
    send,
    show,
)
from storage import meetings as m
from storage.meetings import State
from storage.models import AbsenceReason, Draft, MeetingKind

Rows = list[list[tuple[str, str]]]
Screen = tuple[str, Rows]

KIND_NAMES: dict[MeetingKind, str] = {
    MeetingKind.REGULAR: N_("Regular monthly meeting"),
    MeetingKind.THEMATIC: N_("Thematic meeting"),
    MeetingKind.COMBINED: N_("Regular + thematic meeting"),
    MeetingKind.COMMITTEE: N_("Committee meeting"),
    MeetingKind.EXTRAORDINARY: N_("Extraordinary meeting"),
}
KIND_ORDER = list(KIND_NAMES)

REASON_NAMES: dict[str, str] = {
    AbsenceReason.TRIP.value: N_("business trip"),
    AbsenceReason.ILLNESS.value: N_("illness"),
    AbsenceReason.FAMILY.value: N_("family"),
    AbsenceReason.STUDY.value: N_("study"),
    AbsenceReason.OTHER.value: N_("other reason"),
    UNEXCUSED: N_("no valid reason"),
}
REASON_ICONS = {"trip": "🧳", "illness": "🤒", "family": "👪", "study": "📚", "other": "📝"}

CONTENT_NAMES: dict[str, str] = {
    "criticism": N_("Criticism and self-criticism"),
    "ho_chi_minh": N_("Studying and following Hồ Chí Minh"),
    "commitments": N_("Monthly review of commitments"),
    "new_members": N_("New-member work"),
    "current_affairs": N_("Current affairs"),
}

GRADE_NAMES: dict[QualityGrade, str] = {
    QualityGrade.GOOD: N_("good"),
    QualityGrade.FAIR: N_("fair"),
    QualityGrade.AVERAGE: N_("average"),
    QualityGrade.POOR: N_("poor"),
}

SECTION_LABELS: dict[str, str] = {
    "kind": N_("✏️ Kind"),
    "date": N_("✏️ Date"),
    "attendance": N_("✏️ Attendance"),
    "reasons": N_("✏️ Reasons"),
    "guests": N_("✏️ Guests"),
    "content": N_("✏️ Content"),
}


def _reason(env: Env, code: str) -> str:
    """The translated name of a reason code ("illness" → "ốm đau")."""
    return env.t.gettext(REASON_NAMES.get(code, REASON_NAMES["other"]))


def _ddmm(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}"


def _cancel_row(env: Env, draft_id: int) -> list[tuple[str, str]]:
    return [(env.t.gettext("✖ Cancel"), f"mtg:x:{draft_id}")]


# --- Rendering the conversation --------------------------------------------------------------


def render(env: Env, session: Session, draft: Draft) -> Screen:
    """Show the step the /meeting conversation is at (also used to resume it)."""
    v = m.view(session, draft, today=env.today())
    _ = env.t.gettext
    head = _("<b>📝 Meeting — {cell}</b>").format(cell=h(v.org_name)) if v.org_name else ""
    if v.editing:
        head += "\n" + _("✏️ Correcting the meeting of {date}").format(
            date=env.t.date(v.held_on) if v.held_on else "?"
        )
    body, rows = _SCREENS[v.state](env, v)
    return (f"{head}\n\n{body}" if head else body), rows


def _screen_cell(env: Env, v: m.DraftView) -> Screen:
    rows = [
        [(truncate(f"{c.code} — {c.name}", 60), f"mtg:cell:{v.draft_id}:{c.id}")] for c in v.cells
    ]
    return env.t.gettext("Which cell is this meeting for?"), [*rows, _cancel_row(env, v.draft_id)]


def _screen_kind(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    rows = [
        [(("• " if v.kind is k else "") + _(KIND_NAMES[k]), f"mtg:kind:{v.draft_id}:{k.value}")]
        for k in KIND_ORDER
    ]
    return _("What kind of meeting was it?"), [*rows, _cancel_row(env, v.draft_id)]


def _screen_topic(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _("Type the topic of the thematic meeting (at most {limit} characters).").format(
        limit=TOPIC_MAX
    )
    rows: Rows = []
    if v.topic:
        text += "\n" + _("Current topic: {topic}").format(topic=h(v.topic))
        rows.append([(_("Keep the current topic ▶"), f"mtg:topic:{v.draft_id}")])
    rows.append([(_("◀ Back"), f"mtg:go:{v.draft_id}:{State.KIND.value}")])
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _screen_duration(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _("How long did the meeting last?")
    if v.duration_minimum:
        text += "\n" + _("Guidance: at least {minutes} minutes for this kind of meeting.").format(
            minutes=v.duration_minimum
        )
    choices = [120, 90] if v.kind is MeetingKind.COMBINED else [90, 120]
    rows: Rows = [
        [(_("{minutes} minutes").format(minutes=n), f"mtg:dur:{v.draft_id}:{n}") for n in choices]
        + [(_("Other…"), f"mtg:go:{v.draft_id}:{State.DURATION_TYPED.value}")],
        [(_("◀ Back"), f"mtg:go:{v.draft_id}:{State.KIND.value}")],
    ]
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _screen_duration_typed(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _("Type the duration in minutes, for example 100 or 1h45.")
    rows = [[(_("◀ Back"), f"mtg:go:{v.draft_id}:{State.DURATION.value}")]]
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _duration_note(env: Env, v: m.DraftView) -> str:
    if not (v.duration_short and v.kind):
        return ""
    return env.t.gettext(
        "⚠️ {minutes} minutes is shorter than the {minimum} minutes the guidance asks for a "
        "{kind}. It will be recorded with this note."
    ).format(
        minutes=v.duration,
        minimum=v.duration_minimum,
        kind=h(env.t.gettext(KIND_NAMES[v.kind]).lower()),
    )


def _screen_date(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    note = _duration_note(env, v)
    text = (note + "\n\n" if note else "") + _(
        "When was it held? Tap a date or type it (5/11 or 05/11/2026)."
    )
    today, yesterday = v.today_choices
    row = [
        (_("Today {date}").format(date=_ddmm(today)), f"mtg:date:{v.draft_id}:{today:%Y%m%d}"),
        (
            _("Yesterday {date}").format(date=_ddmm(yesterday)),
            f"mtg:date:{v.draft_id}:{yesterday:%Y%m%d}",
        ),
    ]
    rows: Rows = [row]
    if v.usual_day and v.usual_day not in v.today_choices:
        rows.append(
            [
                (
                    _("Usual day {date}").format(date=_ddmm(v.usual_day)),
                    f"mtg:date:{v.draft_id}:{v.usual_day:%Y%m%d}",
                )
            ]
        )
    rows.append([(_("◀ Back"), f"mtg:go:{v.draft_id}:{State.DURATION.value}")])
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _screen_date_confirm(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    day = v.pending_date
    assert day is not None
    text = _(
        "{date} is before last month. Late entries are fine, but please make sure the date is "
        "right. Record the meeting on {date}?"
    ).format(date=env.t.date(day))
    rows = [
        [(_("Yes, {date}").format(date=env.t.date(day)), f"mtg:dateok:{v.draft_id}:{day:%Y%m%d}")],
        [(_("◀ Choose another date"), f"mtg:go:{v.draft_id}:{State.DATE.value}")],
    ]
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _screen_duplicate(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    assert v.duplicate is not None
    meeting_id, held_on = v.duplicate
    text = _(
        "The regular meeting of {month} is already recorded (held on {date}). A cell holds "
        "one regular meeting a month: open the recorded one to correct it, or choose another "
        "date or kind."
    ).format(month=env.t.month(held_on.year, held_on.month), date=env.t.date(held_on))
    rows = [
        [(_("📂 Open the recorded meeting"), f"mtg:open:{meeting_id}")],
        [(_("📅 Choose another date"), f"mtg:go:{v.draft_id}:{State.DATE.value}")],
        [(_("🔁 Record another kind"), f"mtg:go:{v.draft_id}:{State.KIND.value}")],
    ]
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _attendance_line(env: Env, present: int, required: int) -> str:
    if required == 0:
        return env.t.gettext("no members required to attend")
    rate = env.t.percent(present / required)
    return env.t.gettext("{present}/{required} present ({rate})").format(
        present=present, required=required, rate=rate
    )


def _screen_attendance(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    d = v.draft_id
    if not v.roll:
        text = _(
            "This cell has no members required to attend, so there is no attendance to record."
        )
        if v.exempt:
            text += "\n" + _exempt_line(env, [e.name for e in v.exempt])
        return text, [[(_("Done ▶"), f"mtg:attok:{d}")], _cancel_row(env, d)]
    text = _("<b>Attendance</b>: {line}").format(
        line=_attendance_line(env, v.present_count, len(v.roll))
    )
    text += "\n" + _(
        "Everyone is present unless you tap them. Tap a name to mark them absent (❌); tap "
        "again to mark them present."
    )
    if v.exempt:
        text += "\n" + _exempt_line(env, [e.name for e in v.exempt])
    if v.pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=v.page + 1, pages=v.pages)
    absent = set(v.absent)
    buttons = []
    for member in v.page_members():
        name = truncate(member.name, 28)
        if member.id in absent:
            buttons.append((f"❌ {name}", f"mtg:pre:{d}:{member.id}"))
        else:
            buttons.append((f"✅ {name}", f"mtg:abs:{d}:{member.id}"))
    rows: Rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if v.pages > 1:
        nav = []
        if v.page > 0:
            nav.append((_("◀ Page {page}").format(page=v.page), f"mtg:page:{d}:{v.page - 1}"))
        if v.page + 1 < v.pages:
            nav.append((_("Page {page} ▶").format(page=v.page + 2), f"mtg:page:{d}:{v.page + 1}"))
        rows.append(nav)
    extra = [(_("✅ Everyone present"), f"mtg:all:{d}")]
    if v.last_meeting:
        extra.append((_("↺ As on {date}").format(date=_ddmm(v.last_meeting)), f"mtg:last:{d}"))
    rows.append(extra)
    rows.append([(_("Done ▶"), f"mtg:attok:{d}")])
    return text, [*rows, _cancel_row(env, d)]


def _exempt_line(env: Env, names: list[str]) -> str:
    return env.t.gettext("Exempt from party activity (not counted): {names}").format(
        names=h(", ".join(names))
    )


def _screen_reasons(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    d = v.draft_id
    member = v.queue_member
    if member is None:
        return _("No one is left to ask about."), [[(_("Continue ▶"), f"mtg:rsnok:{d}")]]
    absent_count = len(v.absent)
    position = absent_count - v.queue_left + 1 if not v.returning else None
    text = _("Why was <b>{name}</b> absent?").format(name=h(member.name))
    if position is not None and absent_count > 1:
        text += " " + _("({n} of {total})").format(n=max(position, 1), total=absent_count)
    current = v.reasons.get(member.id)

    def btn(code: str) -> tuple[str, str]:
        mark = "✓ " if current == code else ""
        if code == UNEXCUSED:
            label = "⛔ " + _("Unexcused (no valid reason)")
        else:
            label = (
                REASON_ICONS[code] + " " + _("Excused: {reason}").format(reason=_reason(env, code))
            )
        return (mark + label, f"mtg:rsn:{d}:{member.id}:{code}")

    rows: Rows = [
        [btn("trip"), btn("illness")],
        [btn("family"), btn("study")],
        [btn("other")],
        [btn(UNEXCUSED)],
    ]
    return text, [*rows, _cancel_row(env, d)]


def _screen_guests(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    d = v.draft_id
    text = _(
        "<b>Guests</b>: did a member of the superior party committee attend? Tap the person "
        "assigned to follow the cell, or type another name."
    )
    if v.guests:
        text += "\n" + _("Superior committee: {names}").format(
            names=h(", ".join(g.name for g in v.guests))
        )
    text += "\n" + _("Other guests: {count}").format(count=v.other_guests)
    chosen = {g.person_id for g in v.guests if g.person_id}
    rows: Rows = [
        [(f"👤 {truncate(name, 40)}", f"mtg:fol:{d}:{pid}")]
        for pid, name in v.followers
        if pid not in chosen
    ]
    rows += [
        [(_("✖ Remove {name}").format(name=truncate(g.name, 32)), f"mtg:ung:{d}:{g.key}")]
        for g in v.guests
    ]
    rows.append([(_("✍️ Type another name"), f"mtg:go:{d}:{State.GUEST_NAME.value}")])
    count_row = [(_("➕ Other guest"), f"mtg:og:{d}:{v.other_guests + 1}")]
    if v.other_guests > 0:
        count_row.insert(0, (_("➖ Other guest"), f"mtg:og:{d}:{v.other_guests - 1}"))
    rows.append(count_row)
    label = _("Continue ▶") if v.guests else _("No superior guest ▶")
    rows.append([(label, f"mtg:gok:{d}")])
    return text, [*rows, _cancel_row(env, d)]


def _screen_guest_name(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _("Type the name of the superior committee member who attended.")
    rows = [[(_("◀ Back"), f"mtg:go:{v.draft_id}:{State.GUESTS.value}")]]
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _minutes_line(env: Env, ref: str | None, has_file: bool) -> str:
    _ = env.t.gettext
    parts = []
    if ref:
        parts.append(h(ref))
    if has_file:
        parts.append(_("photo/file kept"))
    return ", ".join(parts) if parts else _("not recorded")


def _screen_content(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    d = v.draft_id
    text = _("<b>Content</b>: untick what did not happen.")
    text += "\n\n" + _(
        "Minutes (optional): send a photo or file of the minutes (biên bản), or type its "
        "number in the minutes book."
    )
    text += "\n" + _("⛔ Never send documents marked secret (Mật, Tối mật, Tuyệt mật).")
    text += "\n" + _("Minutes: {minutes}").format(
        minutes=_minutes_line(env, v.minutes_ref, v.minutes_file)
    )
    rows: Rows = []
    for item in CONTENT_ITEMS:
        on = v.content.get(item, False)
        label = ("☑ " if on else "☐ ") + _(CONTENT_NAMES[item])
        rows.append([(label, f"mtg:ct:{d}:{item}:{0 if on else 1}")])
    if v.minutes_ref or v.minutes_file:
        rows.append([(_("🗑 Remove the minutes"), f"mtg:nomin:{d}")])
    rows.append([(_("Continue ▶"), f"mtg:cok:{d}")])
    return text, [*rows, _cancel_row(env, d)]


def _screen_quality(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _(
        "Self-assessed quality on the 100-point scale: type the score (for example 85). "
        "Good is 90 or more with full marks on attendance, duration, members speaking and "
        "minutes; fair 70–89; average 50–69; poor below 50."
    )
    rows = [[(_("Skip ▶"), f"mtg:qskip:{v.draft_id}")]]
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _summary_lines(env: Env, v: m.DraftView) -> list[str]:
    _ = env.t.gettext
    assert v.kind is not None
    lines = [_("Kind: {kind}").format(kind=h(_(KIND_NAMES[v.kind])))]
    if v.topic:
        lines.append(_("Topic: {topic}").format(topic=h(v.topic)))
    when = env.t.date(v.held_on) if v.held_on else "?"
    duration = (
        _("{minutes} minutes").format(minutes=v.duration) if v.duration else _("duration not set")
    )
    lines.append(_("Date: {date} · {duration}").format(date=when, duration=duration))
    note = _duration_note(env, v)
    if note:
        lines.append(note)
    lines.append(
        _("Attendance: {line}").format(line=_attendance_line(env, v.present_count, len(v.roll)))
    )
    names = {e.id: e.name for e in v.roll}
    excused = [
        f"{names[i]} ({_reason(env, v.reasons.get(i, 'other'))})"
        for i in v.absent
        if i in names and v.reasons.get(i, UNEXCUSED) != UNEXCUSED
    ]
    unexcused = [
        names[i] for i in v.absent if i in names and v.reasons.get(i, UNEXCUSED) == UNEXCUSED
    ]
    if excused:
        lines.append("  • " + _("Excused: {names}").format(names=h(", ".join(excused))))
    if unexcused:
        lines.append("  • " + _("Unexcused: {names}").format(names=h(", ".join(unexcused))))
    if v.exempt:
        lines.append("  • " + _exempt_line(env, [e.name for e in v.exempt]))
    if v.quorum_ok is False:
        lines.append(_("⚠️ Fewer than two thirds present: this meeting cannot vote on admissions."))
    guests = ", ".join(g.name for g in v.guests) or _("none")
    lines.append(
        _("Superior committee: {names} · other guests: {count}").format(
            names=h(guests), count=v.other_guests
        )
    )
    done = [_(CONTENT_NAMES[i]) for i in CONTENT_ITEMS if v.content.get(i)]
    lines.append(_("Content: {items}").format(items=h("; ".join(done)) or "—"))
    lines.append(
        _("Minutes: {minutes}").format(minutes=_minutes_line(env, v.minutes_ref, v.minutes_file))
    )
    if v.quality is not None and v.quality_grade is not None:
        lines.append(
            _("Quality: {score}/100 ({grade})").format(
                score=v.quality, grade=_(GRADE_NAMES[v.quality_grade])
            )
        )
    return lines


def _screen_confirm(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    d = v.draft_id
    text = _("<b>Check and save</b>") + "\n" + "\n".join(_summary_lines(env, v))
    sections = [s for s in m.SECTIONS if s != "reasons" or v.absent]
    change = [(_(SECTION_LABELS[s]), f"mtg:chg:{d}:{s}") for s in sections]
    rows: Rows = [[(_("💾 Save"), f"mtg:save:{d}")]]
    rows += [change[i : i + 3] for i in range(0, len(change), 3)]
    return text, [*rows, _cancel_row(env, d)]


_SCREENS: dict[State, Callable[[Env, m.DraftView], Screen]] = {
    State.CELL: _screen_cell,
    State.KIND: _screen_kind,
    State.TOPIC: _screen_topic,
    State.DURATION: _screen_duration,
    State.DURATION_TYPED: _screen_duration_typed,
    State.DATE: _screen_date,
    State.DATE_CONFIRM: _screen_date_confirm,
    State.DUPLICATE: _screen_duplicate,
    State.ATTENDANCE: _screen_attendance,
    State.REASONS: _screen_reasons,
    State.GUESTS: _screen_guests,
    State.GUEST_NAME: _screen_guest_name,
    State.CONTENT: _screen_content,
    State.QUALITY: _screen_quality,
    State.CONFIRM: _screen_confirm,
}


# --- Commands --------------------------------------------------------------------------------


def _with_start_new(env: Env, draft: Draft, data: str) -> Screen:
    text, rows = flows.resume_offer(env, draft)
    new_rows = [list(r) for r in rows or []]
    new_rows.append([(env.t.gettext("🆕 Discard it and start this"), data)])
    return text, new_rows


@command("meeting")
async def meeting_command(update: Update, context: Context, env: Env) -> None:
    """Starts logging a meeting, or offers back the conversation left unfinished."""
    assert env.who is not None
    with env.db.transaction() as session:
        started = m.start_meeting(session, person_id=env.who.person_id, now=env.now())
        screen = None if started.resumed else render(env, session, started.draft)
    if started.resumed:
        screen = _with_start_new(
            env, started.draft, f"mtg:new:{m.conversation_key(started.draft)}"
        )
    assert screen is not None
    await send(env, context, *screen)


@button
async def on_new(update: Update, context: Context, env: Env) -> None:
    """Discards the unfinished conversation and starts logging a meeting."""
    assert env.who is not None
    args = _args(update, "new")
    old = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        started = m.start_meeting(
            session, person_id=env.who.person_id, now=env.now(), replace_draft=old or None
        )
        screen = None if started.resumed else render(env, session, started.draft)
    if started.resumed:
        screen = _with_start_new(
            env, started.draft, f"mtg:new:{m.conversation_key(started.draft)}"
        )
    assert screen is not None
    await show(update, env, context, *screen)


def _args(update: Update, action: str) -> list[str]:
    data = update.callback_query.data if update.callback_query else None
    return parse_data(data, f"mtg:{action}")


def _step(
    action: str, use_case: Callable[..., Draft], nargs: int = 0
) -> Callable[[Update, Context], Any]:
    """A button handler: ``mtg:<action>:<draft>:<args…>`` → ``use_case`` → the next screen."""

    @button
    async def handler(update: Update, context: Context, env: Env) -> None:
        assert env.who is not None
        args = _args(update, action)
        if len(args) != nargs + 1:
            raise StaleAction()
        draft_id = int_arg(args[0])
        with env.db.transaction() as session:
            draft = use_case(session, env, draft_id, *args[1:])
            screen = render(env, session, draft)
        await show(update, env, context, *screen)

    handler.__doc__ = use_case.__doc__
    return handler


def _person(env: Env) -> int:
    assert env.who is not None
    return env.who.person_id


def _date_arg(value: str) -> date:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise StaleAction() from exc


def _kind_arg(value: str) -> MeetingKind:
    try:
        return MeetingKind(value)
    except ValueError as exc:
        raise StaleAction() from exc


def _state_arg(value: str) -> State:
    try:
        return State(value)
    except ValueError as exc:
        raise StaleAction() from exc


# Each use-case adapter turns button arguments into keyword arguments; no logic here.
def _u_cell(s: Session, env: Env, d: int, org: str) -> Draft:
    """Stores the chosen cell and asks for the kind."""
    return m.choose_cell(s, person_id=_person(env), draft_id=d, org_id=int_arg(org), now=env.now())


def _u_kind(s: Session, env: Env, d: int, kind: str) -> Draft:
    """Stores the kind and asks for the topic or the duration."""
    return m.set_kind(s, person_id=_person(env), draft_id=d, kind=_kind_arg(kind), now=env.now())


def _u_topic_keep(s: Session, env: Env, d: int) -> Draft:
    """Keeps the current topic and asks for the duration."""
    return m.set_topic(s, person_id=_person(env), draft_id=d, text=None, now=env.now())


def _u_duration(s: Session, env: Env, d: int, minutes: str) -> Draft:
    """Stores the duration and asks for the date."""
    return m.set_duration(
        s, person_id=_person(env), draft_id=d, minutes=int_arg(minutes), now=env.now()
    )


def _u_go(s: Session, env: Env, d: int, target: str) -> Draft:
    """Goes back, or to a step that takes typed input."""
    return m.move(s, person_id=_person(env), draft_id=d, target=_state_arg(target), now=env.now())


def _u_date(s: Session, env: Env, d: int, day: str) -> Draft:
    """Stores the date and asks for the attendance."""
    return m.set_date(
        s, person_id=_person(env), draft_id=d, day=_date_arg(day), today=env.today(), now=env.now()
    )


def _u_date_ok(s: Session, env: Env, d: int, day: str) -> Draft:
    """Stores a confirmed old date and asks for the attendance."""
    return m.set_date(
        s,
        person_id=_person(env),
        draft_id=d,
        day=_date_arg(day),
        today=env.today(),
        now=env.now(),
        confirmed=True,
    )


def _u_absent(s: Session, env: Env, d: int, member: str) -> Draft:
    """Marks one member absent."""
    return m.mark(
        s,
        person_id=_person(env),
        draft_id=d,
        member_id=int_arg(member),
        absent=True,
        now=env.now(),
    )


def _u_present(s: Session, env: Env, d: int, member: str) -> Draft:
    """Marks one member present."""
    return m.mark(
        s,
        person_id=_person(env),
        draft_id=d,
        member_id=int_arg(member),
        absent=False,
        now=env.now(),
    )


def _u_all(s: Session, env: Env, d: int) -> Draft:
    """Marks everyone present."""
    return m.everyone_present(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_last(s: Session, env: Env, d: int) -> Draft:
    """Starts from the attendance of the previous regular meeting."""
    return m.same_as_last(s, person_id=_person(env), draft_id=d, today=env.today(), now=env.now())


def _u_page(s: Session, env: Env, d: int, page: str) -> Draft:
    """Shows another page of the roll."""
    return m.set_page(s, person_id=_person(env), draft_id=d, page=int_arg(page), now=env.now())


def _u_attendance_done(s: Session, env: Env, d: int) -> Draft:
    """Finishes the attendance and asks the reasons of the absent."""
    return m.attendance_done(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_reason(s: Session, env: Env, d: int, member: str, code: str) -> Draft:
    """Stores one absent member's reason and asks the next."""
    return m.set_reason(
        s, person_id=_person(env), draft_id=d, member_id=int_arg(member), code=code, now=env.now()
    )


def _u_reasons_done(s: Session, env: Env, d: int) -> Draft:
    """Leaves the reasons when nobody is left to ask."""
    return m.reasons_done(s, person_id=_person(env), draft_id=d, now=env.now())


def _u_follower(s: Session, env: Env, d: int, person: str) -> Draft:
    """Records the follower's attendance and asks for the content."""
    return m.add_follower(
        s, person_id=_person(env), draft_id=d, guest_id=int_arg(person), now=env.now()
    )


def _u_unguest(s: Session, env: Env, d: int, key: str) -> Draft:
    """Removes a guest."""
    return m.remove_guest(s, person_id=_person(env), draft_id=d, key=key, now=env.now())


def _u_other_guests(s: Session, env: Env, d: int, count: str) -> Draft:
    """Sets the number of other guests."""
    return m.set_other_guests(
        s, person_id=_person(env), draft_id=d, count=int_arg(count), now=env.now()
    )


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


STEP_BUTTONS: list[tuple[str, Callable[..., Draft], int]] = [
    ("cell", _u_cell, 1),
    ("kind", _u_kind, 1),
    ("topic", _u_topic_keep, 0),
    ("dur", _u_duration, 1),
    ("go", _u_go, 1),
    ("date", _u_date, 1),
    ("dateok", _u_date_ok, 1),
    ("abs", _u_absent, 1),
    ("pre", _u_present, 1),
    ("all", _u_all, 0),
    ("last", _u_last, 0),
    ("page", _u_page, 1),
    ("attok", _u_attendance_done, 0),
    ("rsn", _u_reason, 2),
    ("rsnok", _u_reasons_done, 0),
    ("fol", _u_follower, 1),
    ("ung", _u_unguest, 1),
    ("og", _u_other_guests, 1),
    ("gok", _u_guests_done, 0),
    ("ct", _u_content, 2),
    ("nomin", _u_no_minutes, 0),
    ("cok", _u_content_done, 0),
    ("qskip", _u_quality_skip, 0),
    ("chg", _u_change, 1),
]


@button
async def on_cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves the conversation; nothing of it is saved."""
    args = _args(update, "x")
    draft_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        had = m.cancel(session, person_id=_person(env), draft_id=draft_id)
    if not had:
        raise StaleAction()
    await show(update, env, context, env.t.gettext("Cancelled. Nothing was saved."))


@button
async def on_save(update: Update, context: Context, env: Env) -> None:
    """Saves the meeting, confirms it, and tells the secretary about any flag it raised."""
    args = _args(update, "save")
    draft_id = int_arg(args[0]) if args else 0
    _ = env.t.gettext
    try:
        with env.db.transaction() as session:
            result = m.save(
                session,
                person_id=_person(env),
                draft_id=draft_id,
                today=env.today(),
                now=env.now(),
            )
    except AlreadyRecorded as exc:
        await _already_recorded(update, context, env, exc, draft_id)
        return
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
        [(_("📂 Open"), f"mtg:open:{result.meeting_id}"), (_("📋 Meetings"), "mtg:list")],
    ]
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
    query = update.callback_query
    if query is not None:
        await query.answer()
    with env.db.transaction() as session:
        draft = m.current_draft(session, person_id=_person(env))
        screen = (
            render(env, session, draft)
            if draft is not None and m.conversation_key(draft) == draft_id
            else ("", [])
        )
    text, rows = screen
    notice = error_text(env, exc)
    existing = exc.params.get("meeting_id")
    extra: Rows = []
    if existing:
        extra.append([(env.t.gettext("📂 Open the recorded meeting"), f"mtg:open:{existing}")])
    await show(update, env, context, f"⚠️ {notice}\n\n{text}".strip(), [*extra, *rows])


# --- Typed steps -----------------------------------------------------------------------------


def _typed(
    use_case: Callable[[Session, Env, int, str], Draft],
) -> Callable[[Update, Context, Env, Draft], Any]:
    async def step(update: Update, context: Context, env: Env, draft: Draft) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        with env.db.transaction() as session:
            new = use_case(session, env, m.conversation_key(draft), text)
            screen = render(env, session, new)
        await send(env, context, *screen)

    step.__doc__ = use_case.__doc__
    return step


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
    try:
        with env.db.transaction() as session:
            new = m.attach_minutes(
                session,
                person_id=_person(env),
                draft_id=m.conversation_key(draft),
                file_id=file_id,
                kind=kind,
                file_name=name,
                caption=msg.caption,
                now=env.now(),
            )
            screen = render(env, session, new)
    except InvalidInput as exc:
        if exc.message == m.SECRET_REFUSAL:
            # The file must not stay in the chat either; best effort (old messages cannot be
            # deleted by bots).
            try:
                await msg.delete()
            except TelegramError:
                pass
        raise
    await send(env, context, *screen)


flows.register(
    flows.Flow(
        name=m.FLOW,
        title=N_("logging a cell meeting"),
        render=render,
        text_steps={
            State.TOPIC.value: _typed(_t_topic),
            State.DURATION.value: _typed(_t_duration),
            State.DURATION_TYPED.value: _typed(_t_duration),
            State.DATE.value: _typed(_t_date),
            State.GUESTS.value: _typed(_t_guest),
            State.GUEST_NAME.value: _typed(_t_guest),
            State.CONTENT.value: _typed(_t_minutes),
            State.QUALITY.value: _typed(_t_quality),
        },
        file_steps={State.CONTENT.value: _minutes_file},
    )
)


# --- /meetings: the cell's meetings, one meeting, corrections and deletion ------------------

CELLS_PER_PAGE = 20


def _overview_screen(env: Env, ov: m.CellOverview) -> Screen:
    _ = env.t.gettext
    lines = [_("<b>📋 Meetings — {cell}</b>").format(cell=h(ov.org.name))]
    for (year, month), fig in ov.months:
        label = f"<b>{env.t.month(year, month)}</b>"
        if not fig.regular_held:
            lines.append(label + ": " + _("❌ no regular meeting recorded"))
            continue
        parts = [_("✅ regular meeting"), _attendance_line(env, fig.present, fig.required)]
        if fig.unexcused:
            parts.append(
                env.t.ngettext("{n} unexcused", "{n} unexcused", fig.unexcused).format(
                    n=fig.unexcused
                )
            )
        if fig.superior_attended:
            parts.append(_("👤 superior committee"))
        lines.append(label + ": " + " · ".join(parts))
    quarters = " · ".join(_("Q{q}: {n}").format(q=q, n=n) for q, n in sorted(ov.thematic.items()))
    lines.append(
        _("Thematic meetings in {year}: {quarters}").format(year=ov.year, quarters=quarters)
    )
    rows: Rows = []
    for row in ov.meetings[:12]:
        label = f"{_ddmm(row.held_on)} · {_(KIND_NAMES[row.kind])}"
        if row.counts.required:
            label += f" · {row.counts.present}/{row.counts.required}"
        rows.append([(truncate(label, 60), f"mtg:open:{row.id}")])
    if not ov.meetings:
        lines.append(_("No meetings recorded in the last months."))
    if ov.can_write:
        rows.append([(_("➕ Log a meeting"), "mtg:new:0")])
    return "\n".join(lines), rows


def _cells_screen(env: Env, cells: list[m.CellRef], page: int) -> Screen:
    _ = env.t.gettext
    pages = max(1, -(-len(cells) // CELLS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = cells[page * CELLS_PER_PAGE : (page + 1) * CELLS_PER_PAGE]
    rows: Rows = [[(truncate(f"{c.code} — {c.name}", 60), f"mtg:list:{c.id}")] for c in chunk]
    nav = []
    if page > 0:
        nav.append((_("◀ Page {page}").format(page=page), f"mtg:cells:{page - 1}"))
    if page + 1 < pages:
        nav.append((_("Page {page} ▶").format(page=page + 2), f"mtg:cells:{page + 1}"))
    if nav:
        rows.append(nav)
    return _("Which cell's meetings? (or type /meetings CODE)"), rows


@command("meetings")
async def meetings_command(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's last months at a glance, or asks which cell."""
    code = (context.args[0] if context.args else "").strip().upper()
    with env.db.transaction() as session:
        cells = m.readable_cells(session, person_id=_person(env))
        if code:
            match = [c for c in cells if c.code == code]
            if not match:
                raise NotInScope()
            cells = match
        screen = (
            _overview_screen(
                env,
                m.cell_overview(
                    session, person_id=_person(env), org_id=cells[0].id, today=env.today()
                ),
            )
            if len(cells) == 1
            else _cells_screen(env, cells, 0)
        )
    if not cells:
        raise NotInScope()
    await send(env, context, *screen)


@button
async def on_cells(update: Update, context: Context, env: Env) -> None:
    """Shows another page of the cells to choose from."""
    args = _args(update, "cells")
    page = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        cells = m.readable_cells(session, person_id=_person(env))
    await show(update, env, context, *_cells_screen(env, cells, page))


@button
async def on_list(update: Update, context: Context, env: Env) -> None:
    """Shows one cell's meetings (the writer's own cell when none is named)."""
    args = _args(update, "list")
    with env.db.transaction() as session:
        if args:
            org_id = int_arg(args[0])
            if not org_id:
                raise StaleAction()
        else:
            cells = m.writable_cells(session, person_id=_person(env)) or m.readable_cells(
                session, person_id=_person(env)
            )
            if len(cells) != 1:
                screen = _cells_screen(env, m.readable_cells(session, person_id=_person(env)), 0)
                org_id = 0
            else:
                org_id = cells[0].id
        if org_id:
            screen = _overview_screen(
                env,
                m.cell_overview(session, person_id=_person(env), org_id=org_id, today=env.today()),
            )
    await show(update, env, context, *screen)


def _detail_screen(env: Env, d: m.MeetingDetail) -> Screen:
    _ = env.t.gettext
    lines = [
        f"<b>{h(_(KIND_NAMES[d.kind]))}</b> — {h(d.org.name)}",
        _("Date: {date} · {duration}").format(
            date=env.t.date(d.held_on),
            duration=_("{minutes} minutes").format(minutes=d.duration)
            if d.duration
            else _("duration not set"),
        ),
    ]
    if d.duration_minimum:
        lines.append(
            _("⚠️ Shorter than the {minimum} minutes the guidance asks for.").format(
                minimum=d.duration_minimum
            )
        )
    if d.topic:
        lines.append(_("Topic: {topic}").format(topic=h(d.topic)))
    lines.append(
        _("Attendance: {line}").format(
            line=_attendance_line(env, d.counts.present, d.counts.required)
        )
    )
    if d.excused:
        names = ", ".join(f"{n} ({_reason(env, r.value if r else 'other')})" for n, r in d.excused)
        lines.append("  • " + _("Excused: {names}").format(names=h(names)))
    if d.unexcused:
        lines.append("  • " + _("Unexcused: {names}").format(names=h(", ".join(d.unexcused))))
    if d.exempt:
        lines.append("  • " + _exempt_line(env, d.exempt))
    if d.quorum_ok is False:
        lines.append(_("⚠️ Fewer than two thirds present: this meeting cannot vote on admissions."))
    lines.append(
        _("Superior committee: {names} · other guests: {count}").format(
            names=h(", ".join(d.guests) or _("none")), count=d.other_guests
        )
    )
    done = [_(CONTENT_NAMES[i]) for i in CONTENT_ITEMS if d.content.get(i)]
    lines.append(_("Content: {items}").format(items=h("; ".join(done)) or "—"))
    lines.append(
        _("Minutes: {minutes}").format(
            minutes=_minutes_line(env, d.minutes_ref, bool(d.minutes_file))
        )
    )
    if d.quality is not None and d.quality_grade is not None:
        lines.append(
            _("Quality: {score}/100 ({grade})").format(
                score=d.quality, grade=_(GRADE_NAMES[d.quality_grade])
            )
        )
    lines.append(
        _("Recorded by {name} on {date}").format(
            name=h(d.created_by or "?"),
            date=env.t.date(d.created_at.astimezone(env.app.settings.tz)),
        )
    )
    rows: Rows = []
    if d.can_write:
        rows.append([(_("✏️ Correct"), f"mtg:fix:{d.id}"), (_("🗑 Delete"), f"mtg:del:{d.id}")])
    if d.minutes_file:
        rows.append([(_("📎 Minutes file"), f"mtg:file:{d.id}")])
    rows.append([(_("◀ Meetings"), f"mtg:list:{d.org.id}")])
    return "\n".join(lines), rows


@button
async def on_open(update: Update, context: Context, env: Env) -> None:
    """Shows one meeting in full."""
    args = _args(update, "open")
    meeting_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        detail = m.meeting_detail(
            session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
        )
    await show(update, env, context, *_detail_screen(env, detail))


@button
async def on_file(update: Update, context: Context, env: Env) -> None:
    """Sends the kept photo or file of the minutes."""
    args = _args(update, "file")
    meeting_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        kind, file_id = m.minutes_file(session, person_id=_person(env), meeting_id=meeting_id)
    if kind == "photo":
        await context.bot.send_photo(env.chat_id, file_id)
    else:
        await context.bot.send_document(env.chat_id, file_id)


@button
async def on_fix(update: Update, context: Context, env: Env) -> None:
    """Opens a saved meeting for correction at its confirmation screen."""
    args = _args(update, "fix")
    if not args:
        raise StaleAction()
    meeting_id = int_arg(args[0])
    replace = int_arg(args[1]) if len(args) > 1 else None
    with env.db.transaction() as session:
        started = m.start_correction(
            session,
            person_id=_person(env),
            meeting_id=meeting_id,
            now=env.now(),
            replace_draft=replace,
        )
        screen = None if started.resumed else render(env, session, started.draft)
    if started.resumed:
        screen = _with_start_new(
            env, started.draft, f"mtg:fix:{meeting_id}:{m.conversation_key(started.draft)}"
        )
    assert screen is not None
    await show(update, env, context, *screen)


@button
async def on_delete_ask(update: Update, context: Context, env: Env) -> None:
    """Asks to confirm the deletion of a meeting."""
    args = _args(update, "del")
    meeting_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        d = m.meeting_detail(session, person_id=_person(env), meeting_id=meeting_id, now=env.now())
    _ = env.t.gettext
    text = _(
        "Delete the {kind} of {date}? The cell's records will show no such meeting; the "
        "deletion is kept in the audit log."
    ).format(kind=h(_(KIND_NAMES[d.kind]).lower()), date=env.t.date(d.held_on))
    rows = [
        [(_("🗑 Yes, delete it"), f"mtg:dely:{d.id}")],
        [(_("◀ No, keep it"), f"mtg:open:{d.id}")],
    ]
    await show(update, env, context, text, rows)


@button
async def on_delete(update: Update, context: Context, env: Env) -> None:
    """Deletes a meeting (soft delete, audited)."""
    args = _args(update, "dely")
    meeting_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        outcome = m.delete_meeting(
            session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
        )
    _ = env.t.gettext
    await show(
        update,
        env,
        context,
        _("🗑 The meeting was deleted."),
        [[(_("◀ Meetings"), f"mtg:list:{outcome.org_id}")]],
    )


# --- /model: the cell's Hồ Chí Minh study model ----------------------------------------------


def _model_screen(env: Env, ov: m.ModelOverview) -> Screen:
    _ = env.t.gettext
    lines = [
        _("<b>🌟 “Learn from and follow Uncle Hồ” model — {cell}</b>").format(cell=h(ov.org.name))
    ]
    rows: Rows = []
    if not ov.models:
        lines.append(
            _(
                "No model is registered for {year} yet. Each cell needs at least one, fitted to "
                "its work, registered and reviewed every year."
            ).format(year=ov.year)
        )
    for model in ov.models:
        line = (
            "• "
            + h(model.title)
            + " — "
            + _("registered {date}").format(date=env.t.date(model.registered_on))
        )
        if model.reviewed_on:
            line += "; " + _("reviewed {date}: {result}").format(
                date=env.t.date(model.reviewed_on), result=h(model.result or "")
            )
        lines.append(line)
        rows.append(
            [
                (
                    _("📝 Review: {title}").format(title=truncate(model.title, 30)),
                    f"mdl:rv:{model.id}",
                ),
                (_("🗑 Remove"), f"mdl:rm:{model.id}"),
            ]
        )
    for model in ov.carry_over:
        rows.append(
            [
                (
                    _("🔁 Keep “{title}” for {year}").format(
                        title=truncate(model.title, 30), year=ov.year
                    ),
                    f"mdl:cp:{model.id}",
                )
            ]
        )
    rows.append([(_("➕ Register a model"), f"mdl:new:{ov.org.id}")])
    return "\n".join(lines), rows


def _margs(update: Update, action: str) -> list[str]:
    data = update.callback_query.data if update.callback_query else None
    return parse_data(data, f"mdl:{action}")


@command("model")
async def model_command(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's study models, or asks which cell."""
    with env.db.transaction() as session:
        cells = m.writable_cells(session, person_id=_person(env))
        screen: Screen
        if len(cells) == 1:
            screen = _model_screen(
                env,
                m.model_overview(
                    session, person_id=_person(env), org_id=cells[0].id, today=env.today()
                ),
            )
        else:
            screen = (
                env.t.gettext("Which cell?"),
                [[(truncate(f"{c.code} — {c.name}", 60), f"mdl:cell:{c.id}")] for c in cells],
            )
    await send(env, context, *screen)


@button
async def on_model_cell(update: Update, context: Context, env: Env) -> None:
    """Shows one cell's study models."""
    args = _margs(update, "cell")
    org_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
    await show(update, env, context, *_model_screen(env, ov))


@button
async def on_model_new(update: Update, context: Context, env: Env) -> None:
    """Asks for the new model's name."""
    args = _margs(update, "new")
    org_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        draft = m.start_model_entry(session, person_id=_person(env), org_id=org_id, now=env.now())
        screen = render_model(env, session, draft)
    await show(update, env, context, *screen)


@button
async def on_model_review(update: Update, context: Context, env: Env) -> None:
    """Asks for the result of the model's yearly review."""
    args = _margs(update, "rv")
    model_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        org_id = m.model_org(session, person_id=_person(env), model_id=model_id)
        draft = m.start_model_entry(
            session, person_id=_person(env), org_id=org_id, model_id=model_id, now=env.now()
        )
        screen = render_model(env, session, draft)
    await show(update, env, context, *screen)


@button
async def on_model_copy(update: Update, context: Context, env: Env) -> None:
    """Registers last year's model again for this year."""
    args = _margs(update, "cp")
    model_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        row = m.carry_over_model(
            session, person_id=_person(env), model_id=model_id, today=env.today(), now=env.now()
        )
        org_id = m.model_org(session, person_id=_person(env), model_id=row.id)
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
    await show(update, env, context, *_model_screen(env, ov))


@button
async def on_model_remove_ask(update: Update, context: Context, env: Env) -> None:
    """Asks to confirm removing a model."""
    args = _margs(update, "rm")
    model_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        org_id = m.model_org(session, person_id=_person(env), model_id=model_id)
    _ = env.t.gettext
    await show(
        update,
        env,
        context,
        _("Remove this model? Use this only for a model registered by mistake."),
        [
            [(_("🗑 Yes, remove it"), f"mdl:rmy:{model_id}")],
            [(_("◀ Back"), f"mdl:cell:{org_id}")],
        ],
    )


@button
async def on_model_remove(update: Update, context: Context, env: Env) -> None:
    """Removes a model (soft delete, audited)."""
    args = _margs(update, "rmy")
    model_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        org_id = m.delete_model(session, person_id=_person(env), model_id=model_id, now=env.now())
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
    await show(update, env, context, *_model_screen(env, ov))


@button
async def on_model_cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves the model entry and shows the models again."""
    args = _margs(update, "x")
    org_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        m.cancel_model_entry(session, person_id=_person(env))
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
    await show(update, env, context, *_model_screen(env, ov))


def render_model(env: Env, session: Session, draft: Draft) -> Screen:
    """Show the step of the /model conversation (a typed answer is awaited)."""
    _ = env.t.gettext
    if draft.state == m.ModelState.RESULT:
        text = _("Type the result of this year's review of the model (at most 500 characters).")
    else:
        text = _(
            "Type the name of the model (at most 300 characters), for example: "
            "“Kỷ cương, tận tụy, vì người bệnh”."
        )
    return text, [[(_("✖ Cancel"), f"mdl:x:{draft.data.get('org_id', 0)}")]]


async def _model_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Saves the typed model name or review result and shows the models."""
    assert update.effective_message is not None
    with env.db.transaction() as session:
        row = m.save_model_text(
            session,
            person_id=_person(env),
            text=update.effective_message.text or "",
            today=env.today(),
            now=env.now(),
        )
        org_id = m.model_org(session, person_id=_person(env), model_id=row.id)
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
    text, rows = _model_screen(env, ov)
    await send(env, context, env.t.gettext("✅ Saved.") + "\n\n" + text, rows)


flows.register(
    flows.Flow(
        name=m.MODEL_FLOW,
        title=N_("the cell's study model"),
        render=render_model,
        text_steps={
            m.ModelState.TITLE.value: _model_text,
            m.ModelState.RESULT.value: _model_text,
        },
    )
)


# --- Wiring ----------------------------------------------------------------------------------


def handlers() -> list[object]:
    """The handlers of /meeting, /meetings and /model (group 0)."""
    out: list[object] = [
        CommandHandler(["meeting", "sinhhoat"], meeting_command),
        CommandHandler("meetings", meetings_command),
        CommandHandler("model", model_command),
        CallbackQueryHandler(on_new, pattern=r"^mtg:new:\d+$"),
        CallbackQueryHandler(on_save, pattern=r"^mtg:save:\d+$"),
        CallbackQueryHandler(on_cancel, pattern=r"^mtg:x:\d+$"),
        CallbackQueryHandler(on_cells, pattern=r"^mtg:cells:\d+$"),
        CallbackQueryHandler(on_list, pattern=r"^mtg:list(:\d+)?$"),
        CallbackQueryHandler(on_open, pattern=r"^mtg:open:\d+$"),
        CallbackQueryHandler(on_file, pattern=r"^mtg:file:\d+$"),
        CallbackQueryHandler(on_fix, pattern=r"^mtg:fix:\d+(:\d+)?$"),
        CallbackQueryHandler(on_delete_ask, pattern=r"^mtg:del:\d+$"),
        CallbackQueryHandler(on_delete, pattern=r"^mtg:dely:\d+$"),
        CallbackQueryHandler(on_model_cell, pattern=r"^mdl:cell:\d+$"),
        CallbackQueryHandler(on_model_new, pattern=r"^mdl:new:\d+$"),
        CallbackQueryHandler(on_model_review, pattern=r"^mdl:rv:\d+$"),
        CallbackQueryHandler(on_model_copy, pattern=r"^mdl:cp:\d+$"),
        CallbackQueryHandler(on_model_remove_ask, pattern=r"^mdl:rm:\d+$"),
        CallbackQueryHandler(on_model_remove, pattern=r"^mdl:rmy:\d+$"),
        CallbackQueryHandler(on_model_cancel, pattern=r"^mdl:x:\d+$"),
    ]
    for action, use_case, nargs in STEP_BUTTONS:
        pattern = rf"^mtg:{action}:\d+" + r":[\w-]+" * nargs + "$"
        out.append(CallbackQueryHandler(_step(action, use_case, nargs), pattern=pattern))
    return out
