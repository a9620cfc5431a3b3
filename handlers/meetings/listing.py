"""/meetings: the cell's meetings, one meeting, corrections and deletion."""

from __future__ import annotations

from sqlalchemy.orm import Session
from telegram import Update

from domain.errors import NotInScope, StaleAction
from domain.rules.meetings import CONTENT_ITEMS
from domain.text import h, truncate
from handlers import flows
from handlers.base import (
    Context,
    Env,
    button,
    command,
    mark_saved,
    send,
    show,
)
from handlers.meetings.buttons import (
    CONTENT_NAMES,
    GRADE_NAMES,
    KIND_NAMES,
    MTG_CELLS,
    MTG_DEL,
    MTG_DELY,
    MTG_FILE,
    MTG_FIX,
    MTG_LIST,
    MTG_LIST_OWN,
    MTG_NEW,
    MTG_OPEN,
    Rows,
    Screen,
    _ddmm,
    _reason,
)
from handlers.meetings.log import _person
from handlers.meetings.screens import _attendance_line, _exempt_line, _minutes_line
from storage import meetings as m

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
        rows.append([(truncate(label, 60), MTG_OPEN.data(row.id))])
    if not ov.meetings:
        lines.append(_("No meetings recorded in the last months."))
    if ov.can_write:
        rows.append([(_("➕ Log a meeting"), MTG_NEW.data(0))])
    return "\n".join(lines), rows


def _cells_screen(env: Env, cells: list[m.CellRef], page: int) -> Screen:
    _ = env.t.gettext
    pages = max(1, -(-len(cells) // CELLS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = cells[page * CELLS_PER_PAGE : (page + 1) * CELLS_PER_PAGE]
    rows: Rows = [[(truncate(f"{c.code} — {c.name}", 60), MTG_LIST.data(c.id))] for c in chunk]
    nav = []
    if page > 0:
        nav.append((_("◀ Page {page}").format(page=page), MTG_CELLS.data(page - 1)))
    if page + 1 < pages:
        nav.append((_("Page {page} ▶").format(page=page + 2), MTG_CELLS.data(page + 1)))
    if nav:
        rows.append(nav)
    return _("Which cell's meetings? (or type /meetings CODE)"), rows


@command("meetings")
async def meetings_command(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's last months at a glance, or asks which cell."""
    code = (context.args[0] if context.args else "").strip().upper()

    def unit(session: Session) -> tuple[list[m.CellRef], Screen]:
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
        return cells, screen

    cells, screen = await env.run(unit)
    if not cells:
        raise NotInScope()
    await send(env, context, *screen)


@button
async def on_cells(update: Update, context: Context, env: Env) -> None:
    """Shows another page of the cells to choose from."""
    page = MTG_CELLS.args(update)[0]
    cells = await env.run(lambda session: m.readable_cells(session, person_id=_person(env)))
    await show(update, env, context, *_cells_screen(env, cells, page))


@button
async def on_list(update: Update, context: Context, env: Env) -> None:
    """Shows one cell's meetings (the writer's own cell when none is named)."""
    query = update.callback_query
    data = query.data if query is not None else None
    args = MTG_LIST.parse(data) if data != MTG_LIST_OWN.data() else ()

    def unit(session: Session) -> Screen:
        if args:
            org_id = args[0]
            if not org_id:
                raise StaleAction()
        else:
            cells = m.writable_cells(session, person_id=_person(env)) or m.readable_cells(
                session, person_id=_person(env)
            )
            if len(cells) != 1:
                return _cells_screen(env, m.readable_cells(session, person_id=_person(env)), 0)
            org_id = cells[0].id
        return _overview_screen(
            env,
            m.cell_overview(session, person_id=_person(env), org_id=org_id, today=env.today()),
        )

    screen = await env.run(unit)
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
        rows.append([(_("✏️ Correct"), MTG_FIX.data(d.id)), (_("🗑 Delete"), MTG_DEL.data(d.id))])
    if d.minutes_file:
        rows.append([(_("📎 Minutes file"), MTG_FILE.data(d.id))])
    rows.append([(_("◀ Meetings"), MTG_LIST.data(d.org.id))])
    return "\n".join(lines), rows


@button
async def on_open(update: Update, context: Context, env: Env) -> None:
    """Shows one meeting in full."""
    meeting_id = MTG_OPEN.args(update)[0]
    detail = await env.run(
        lambda session: m.meeting_detail(
            session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
        )
    )
    await show(update, env, context, *_detail_screen(env, detail))


@button
async def on_file(update: Update, context: Context, env: Env) -> None:
    """Sends the kept photo or file of the minutes."""
    meeting_id = MTG_FILE.args(update)[0]
    kind, file_id = await env.run(
        lambda session: m.minutes_file(session, person_id=_person(env), meeting_id=meeting_id)
    )
    if kind == "photo":
        await context.bot.send_photo(env.chat_id, file_id)
    else:
        await context.bot.send_document(env.chat_id, file_id)


@button
async def on_fix(update: Update, context: Context, env: Env) -> None:
    """Opens a saved meeting for correction at its confirmation screen."""
    (meeting_id,) = MTG_FIX.args(update)
    await env.run(
        lambda session: m.check_correctable(session, person_id=_person(env), meeting_id=meeting_id)
    )
    await flows.start(
        update,
        context,
        env,
        m.FLOW,
        {"meeting_id": meeting_id},
        same=lambda d: d.flow == m.FLOW and d.data.get("meeting_id") == meeting_id,
    )


@button
async def on_delete_ask(update: Update, context: Context, env: Env) -> None:
    """Asks to confirm the deletion of a meeting."""
    meeting_id = MTG_DEL.args(update)[0]
    d = await env.run(
        lambda session: m.meeting_detail(
            session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
        )
    )
    _ = env.t.gettext
    text = _(
        "Delete the {kind} of {date}? The cell's records will show no such meeting; the "
        "deletion is kept in the audit log."
    ).format(kind=h(_(KIND_NAMES[d.kind]).lower()), date=env.t.date(d.held_on))
    rows = [
        [(_("🗑 Yes, delete it"), MTG_DELY.data(d.id))],
        [(_("◀ No, keep it"), MTG_OPEN.data(d.id))],
    ]
    await show(update, env, context, text, rows)


@button
async def on_delete(update: Update, context: Context, env: Env) -> None:
    """Deletes a meeting (soft delete, audited)."""
    meeting_id = MTG_DELY.args(update)[0]
    outcome = await env.run(
        lambda session: m.delete_meeting(
            session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
        )
    )
    mark_saved(update)
    _ = env.t.gettext
    await show(
        update,
        env,
        context,
        _("🗑 The meeting was deleted."),
        [[(_("◀ Meetings"), MTG_LIST.data(outcome.org_id))]],
    )
