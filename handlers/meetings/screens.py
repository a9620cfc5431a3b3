"""The screens of the /meeting conversation (also used to resume it)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from domain.rules.meetings import CONTENT_ITEMS, TOPIC_MAX, UNEXCUSED
from domain.text import h, truncate
from handlers.base import (
    Env,
)
from handlers.meetings.buttons import (
    CONTENT_NAMES,
    GRADE_NAMES,
    KIND_NAMES,
    KIND_ORDER,
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
    REASON_ICONS,
    SECTION_LABELS,
    Rows,
    Screen,
    _cancel_row,
    _ddmm,
    _reason,
)
from storage import meetings as m
from storage.meetings import State
from storage.models import Draft, MeetingKind


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
        [(truncate(f"{c.code} — {c.name}", 60), MTG_CELL.data(v.draft_id, c.id))] for c in v.cells
    ]
    return env.t.gettext("Which cell is this meeting for?"), [*rows, _cancel_row(env, v.draft_id)]


def _screen_kind(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    rows = [
        [(("• " if v.kind is k else "") + _(KIND_NAMES[k]), MTG_KIND.data(v.draft_id, k.value))]
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
        rows.append([(_("Keep the current topic ▶"), MTG_TOPIC.data(v.draft_id))])
    rows.append([(_("◀ Back"), MTG_GO.data(v.draft_id, State.KIND.value))])
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
        [(_("{minutes} minutes").format(minutes=n), MTG_DUR.data(v.draft_id, n)) for n in choices]
        + [(_("Other…"), MTG_GO.data(v.draft_id, State.DURATION_TYPED.value))],
        [(_("◀ Back"), MTG_GO.data(v.draft_id, State.KIND.value))],
    ]
    return text, [*rows, _cancel_row(env, v.draft_id)]


def _screen_duration_typed(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _("Type the duration in minutes, for example 100 or 1h45.")
    rows = [[(_("◀ Back"), MTG_GO.data(v.draft_id, State.DURATION.value))]]
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
        (_("Today {date}").format(date=_ddmm(today)), MTG_DATE.data(v.draft_id, today)),
        (
            _("Yesterday {date}").format(date=_ddmm(yesterday)),
            MTG_DATE.data(v.draft_id, yesterday),
        ),
    ]
    rows: Rows = [row]
    if v.usual_day and v.usual_day not in v.today_choices:
        rows.append(
            [
                (
                    _("Usual day {date}").format(date=_ddmm(v.usual_day)),
                    MTG_DATE.data(v.draft_id, v.usual_day),
                )
            ]
        )
    rows.append([(_("◀ Back"), MTG_GO.data(v.draft_id, State.DURATION.value))])
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
        [(_("Yes, {date}").format(date=env.t.date(day)), MTG_DATEOK.data(v.draft_id, day))],
        [(_("◀ Choose another date"), MTG_GO.data(v.draft_id, State.DATE.value))],
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
        [(_("📂 Open the recorded meeting"), MTG_OPEN.data(meeting_id))],
        [(_("📅 Choose another date"), MTG_GO.data(v.draft_id, State.DATE.value))],
        [(_("🔁 Record another kind"), MTG_GO.data(v.draft_id, State.KIND.value))],
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
        return text, [[(_("Done ▶"), MTG_ATTOK.data(d))], _cancel_row(env, d)]
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
            buttons.append((f"❌ {name}", MTG_PRE.data(d, member.id)))
        else:
            buttons.append((f"✅ {name}", MTG_ABS.data(d, member.id)))
    rows: Rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if v.pages > 1:
        nav = []
        if v.page > 0:
            nav.append((_("◀ Page {page}").format(page=v.page), MTG_PAGE.data(d, v.page - 1)))
        if v.page + 1 < v.pages:
            nav.append((_("Page {page} ▶").format(page=v.page + 2), MTG_PAGE.data(d, v.page + 1)))
        rows.append(nav)
    extra = [(_("✅ Everyone present"), MTG_ALL.data(d))]
    if v.last_meeting:
        extra.append((_("↺ As on {date}").format(date=_ddmm(v.last_meeting)), MTG_LAST.data(d)))
    rows.append(extra)
    rows.append([(_("Done ▶"), MTG_ATTOK.data(d))])
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
        return _("No one is left to ask about."), [[(_("Continue ▶"), MTG_RSNOK.data(d))]]
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
        return (mark + label, MTG_RSN.data(d, member.id, code))

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
        [(f"👤 {truncate(name, 40)}", MTG_FOL.data(d, pid))]
        for pid, name in v.followers
        if pid not in chosen
    ]
    rows += [
        [(_("✖ Remove {name}").format(name=truncate(g.name, 32)), MTG_UNG.data(d, g.key))]
        for g in v.guests
    ]
    rows.append([(_("✍️ Type another name"), MTG_GO.data(d, State.GUEST_NAME.value))])
    count_row = [(_("➕ Other guest"), MTG_OG.data(d, v.other_guests + 1))]
    if v.other_guests > 0:
        count_row.insert(0, (_("➖ Other guest"), MTG_OG.data(d, v.other_guests - 1)))
    rows.append(count_row)
    label = _("Continue ▶") if v.guests else _("No superior guest ▶")
    rows.append([(label, MTG_GOK.data(d))])
    return text, [*rows, _cancel_row(env, d)]


def _screen_guest_name(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _("Type the name of the superior committee member who attended.")
    rows = [[(_("◀ Back"), MTG_GO.data(v.draft_id, State.GUESTS.value))]]
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
        rows.append([(label, MTG_CT.data(d, item, 0 if on else 1))])
    if v.minutes_ref or v.minutes_file:
        rows.append([(_("🗑 Remove the minutes"), MTG_NOMIN.data(d))])
    rows.append([(_("Continue ▶"), MTG_COK.data(d))])
    return text, [*rows, _cancel_row(env, d)]


def _screen_quality(env: Env, v: m.DraftView) -> Screen:
    _ = env.t.gettext
    text = _(
        "Self-assessed quality on the 100-point scale: type the score (for example 85). "
        "Good is 90 or more with full marks on attendance, duration, members speaking and "
        "minutes; fair 70–89; average 50–69; poor below 50."
    )
    rows = [[(_("Skip ▶"), MTG_QSKIP.data(v.draft_id))]]
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
    change = [(_(SECTION_LABELS[s]), MTG_CHG.data(d, s)) for s in sections]
    rows: Rows = [[(_("💾 Save"), MTG_SAVE.data(d))]]
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
