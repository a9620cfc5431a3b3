"""/report (/baocao): the secretary drafts, assesses, submits and downloads the cell's reports;
leaders see which cells submitted on time, late or not at all.

Buttons carry the cell, the report kind and the period (``rpt:v:<org>:<kind>:<period>``); the
person's role and scope are checked again on every press. Typed steps (assessment, reason for
reopening) run in a draft of the flow ``report``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler

from documents.report_parts import STATE_ICONS, STATE_LABELS, period_label
from documents.reports import chat_text, docx_bytes, docx_name
from domain import access
from domain.errors import (
    AlreadyRecorded,
    ChiboError,
    InvalidInput,
    NotAllowed,
    NotFound,
    NotInScope,
    StaleAction,
)
from domain.i18n import N_
from domain.rules.periods import PeriodError, parse_period
from domain.rules.reporting import COMMITTEE_REPORT_KINDS, submits_report
from domain.rules.reviews import ReportState
from domain.text import h, truncate
from handlers import flows
from handlers.base import Context, Env, Handlers, Keyboard, button, command, mark_saved, send, show
from handlers.callbacks import ID, Family, Field
from handlers.reviews import watch_entry_text
from storage import access as access_facts
from storage import drafts, report_kinds, report_steps, reports, reviews
from storage.models import Draft, ReportStatus
from storage.report_steps import ReportStep

LIST_MAX = 60


def _holder(env: Env, session: Session) -> access.Holder:
    return access_facts.holder(session, env.person_id)


def _writer_cells(env: Env, session: Session) -> dict[int, access.OrgNode]:
    """The organizations whose own reports the person writes: their cells, and the grassroots
    party committees they are secretary of."""
    return {c.id: c for c in access.report_orgs(_holder(env, session))}


def _kinds_of(node: access.OrgNode) -> list[reports.ReportKind]:
    """The report kinds the organization drafts and submits (domain.rules.reporting)."""
    return [k for k in report_kinds.KINDS.values() if submits_report(node.kind, k.code)]


def _check_command(env: Env, session: Session) -> None:
    if not access.may_use("report", _holder(env, session).roles):
        raise NotAllowed()


def _require_writer(env: Env, session: Session, org_id: int) -> None:
    access.require_report_write(_holder(env, session), org_id)


def _scope_cells(env: Env, session: Session, kind: reports.ReportKind | None = None) -> list[int]:
    """The organizations whose report standing the person follows: the cells, and for a kind
    committees submit, the grassroots party committees too."""
    who = _holder(env, session)
    committees = kind is not None and kind.code in COMMITTEE_REPORT_KINDS
    return access.standing_orgs(who, on=env.today(), committees=committees)


# --- Buttons: one declaration per family (data, pattern and parser) ----------------------------

KIND = Field(r"[a-z_]{1,16}", str)
PERIOD = Field(r"\d{4}(?:-Q[1-4])?", str)
#: A report: the cell, the kind, the period.
REF = (ID, KIND, PERIOD)
RPT_MENU = Family("rpt:menu")
RPT_V = Family("rpt:v", REF)
RPT_S = Family("rpt:s", (*REF, ID))
RPT_OK = Family("rpt:ok", (*REF, ID))
RPT_D = Family("rpt:d", REF)
RPT_LD = Family("rpt:ld", REF)
RPT_A = Family("rpt:a", REF)
RPT_R = Family("rpt:r", REF)
RPT_X = Family("rpt:x", (ID,))
RPT_ST = Family("rpt:st", (KIND, PERIOD))
RPT_W = Family("rpt:w")


def _target(args: tuple[Any, ...]) -> tuple[int, reports.ReportKind, str]:
    org_id = int(args[0])
    try:
        kind = report_kinds.kind_of(args[1])
        period = reports.period_of(kind, args[2])
    except (NotFound, InvalidInput) as exc:  # forged data is a stale button
        raise StaleAction() from exc
    return org_id, kind, period.key


def _ref(org_id: int, kind: reports.ReportKind, period: str) -> tuple[int, str, str]:
    return org_id, kind.code, period


# --- Menu ----------------------------------------------------------------------------------------


def _icon(v: reports.ReportView, env: Env) -> str:
    if v.status is ReportStatus.REOPENED:
        return "↩️"
    state = v.state(env.app.settings.tz)
    if v.status is ReportStatus.SUBMITTED:
        return STATE_ICONS[state]
    return "❌" if state is ReportState.MISSING else "📝"


def render_menu(env: Env, session: Session) -> flows.Screen:
    """The /report menu: the cell's reports, the cells' standing, the watch list."""

    _ = env.t.gettext
    today = env.today()
    lines = [_("📄 <b>Reports</b>")]
    rows: list[list[tuple[str, str]]] = []
    for org_id, node in _writer_cells(env, session).items():
        lines.append("")
        lines.append(f"<b>{h(node.name)}</b>")
        for kind in _kinds_of(node):
            row = []
            for period in reports.recent_periods(session, kind, today):
                v = reports.view(session, org_id=org_id, kind=kind, period=period, today=today)
                if v.status is None and v.start > today:
                    continue
                state = v.state(env.app.settings.tz)
                if v.status is ReportStatus.SUBMITTED:
                    status = _("submitted, {state}").format(state=_(STATE_LABELS[state]))
                elif v.status is ReportStatus.REOPENED:
                    status = _("reopened for correction")
                else:
                    status = _(STATE_LABELS[state])
                lines.append(
                    _("{icon} {title}, {period}: due {due} — {status}").format(
                        icon=_icon(v, env),
                        title=h(_(kind.title)),
                        period=h(period_label(env.t, period)),
                        due=env.t.date(v.due_on),
                        status=h(status),
                    )
                )
                short = _(kind.short or kind.title)
                label = f"{_icon(v, env)} {short} · {period_label(env.t, period)}"
                row.append((truncate(label, 40), RPT_V.data(*_ref(org_id, kind, period.key))))
            if row:
                rows.append(row)
    if _holder(env, session).roots(access.STANDING_ROLES):
        lines.append("")
        lines.append(_("📊 Which cells submitted, per report:"))
        for kind in report_kinds.KINDS.values():
            rows.append(
                [
                    (
                        truncate(
                            f"📊 {_(kind.short or kind.title)} · {period_label(env.t, period)}", 40
                        ),
                        RPT_ST.data(kind.code, period.key),
                    )
                    for period in reports.recent_periods(session, kind, today)
                ]
            )
    if _holder(env, session).roots(access.WATCH_ROLES):
        rows.append([(_("👁 Members under watch"), RPT_W.data())])
    if len(lines) == 1:
        lines.append(_("No report is due from you."))
    return "\n".join(lines), rows


@command("report")
async def report_command(update: Update, context: Context, env: Env) -> None:
    """Shows the reports menu, or the report of the typed period (2026-Q4, 2026)."""

    if context.args:
        try:
            period = parse_period(context.args[0])
        except PeriodError as exc:
            raise InvalidInput(N_("Please give a period like 2026-Q4 or 2026.")) from exc
        kind = next(
            (k for k in report_kinds.KINDS.values() if k.schedule.period_kind == period.kind), None
        )
        if kind is None:
            raise InvalidInput(N_("Please give a period like 2026-Q4 or 2026."))
        report_kind = kind

        def unit(session: Session) -> flows.Screen:
            mine = [n for n in _writer_cells(env, session).values() if report_kind in _kinds_of(n)]
            if mine:
                return _report_screen(env, session, mine[0].id, report_kind, period.key)
            return _status_screen(env, session, report_kind, period.key)

        text, rows = await env.run(unit)
        await send(env, context, text, rows)
        return
    text, rows = await env.run(lambda session: render_menu(env, session))
    await send(env, context, text, rows)


@button
async def on_menu(update: Update, context: Context, env: Env) -> None:
    """Goes back to the reports menu."""

    def unit(session: Session) -> flows.Screen:
        _check_command(env, session)
        return render_menu(env, session)

    text, rows = await env.run(unit)
    await show(update, env, context, text, rows)


# --- One cell's report ---------------------------------------------------------------------------


def _report_screen(
    env: Env, session: Session, org_id: int, kind: reports.ReportKind, period: str
) -> flows.Screen:
    _require_writer(env, session, org_id)
    _ = env.t.gettext
    v = reports.view(session, org_id=org_id, kind=kind, period=period, today=env.today())
    ref = _ref(org_id, kind, period)
    rows: list[list[tuple[str, str]]]
    if v.submitted:
        rows = [
            [(_("📄 Download .docx"), RPT_D.data(*ref)), (_("↩️ Reopen"), RPT_R.data(*ref))],
        ]
    else:
        rows = [
            [
                (_("✍️ Assessment"), RPT_A.data(*ref)),
                (_("📤 Submit"), RPT_S.data(*ref, v.submissions)),
            ],
            [(_("📄 Draft .docx"), RPT_D.data(*ref))],
        ]
    rows.append([(_("◀ Reports"), RPT_MENU.data())])
    return chat_text(env.t, v, env.app.settings.tz), rows


@button
async def on_view(update: Update, context: Context, env: Env) -> None:
    """Shows a report of the cell: the submitted one, or the draft from the reviews."""
    org_id, kind, period = _target(RPT_V.args(update))
    text, rows = await env.run(lambda session: _report_screen(env, session, org_id, kind, period))
    await show(update, env, context, text, rows)


@button
async def on_submit(update: Update, context: Context, env: Env) -> None:
    """Asks to confirm the submission."""
    args = RPT_S.args(update)
    org_id, kind, period = _target(args)
    expected = args[3]

    def unit(session: Session) -> reports.ReportView:
        _require_writer(env, session, org_id)
        return reports.view(session, org_id=org_id, kind=kind, period=period, today=env.today())

    v = await env.run(unit)
    _ = env.t.gettext
    if v.submitted:
        raise AlreadyRecorded(N_("This report has already been submitted."))
    text = _(
        "Submit the <b>{title}</b>, {period}, of {cell}?\nIt goes to the Inspection Committee. "
        "After that, a change needs a reopening with a reason."
    ).format(title=h(_(kind.title)), period=h(period_label(env.t, v.period)), cell=h(v.org_name))
    ref = _ref(org_id, kind, period)
    rows: Keyboard
    if v.figures.get("no_reviews") and not v.assessment:
        # What the submission would refuse is said now, not promised away.
        text = _(
            "No review was recorded in this period. Add an assessment explaining why "
            "before submitting."
        )
        rows = [[(_("✍️ Assessment"), RPT_A.data(*ref)), (_("◀ Back"), RPT_V.data(*ref))]]
        await show(update, env, context, text, rows)
        return
    if v.figures.get("no_reviews"):
        text += "\n" + _("⚠️ No review was recorded in this period: the report will say so.")
    rows = [[(_("✅ Yes, submit"), RPT_OK.data(*ref, expected)), (_("◀ Back"), RPT_V.data(*ref))]]
    await show(update, env, context, text, rows)


@button
async def on_confirm(update: Update, context: Context, env: Env) -> None:
    """Submits the report, notifies the recipients and confirms to the secretary."""

    args = RPT_OK.args(update)
    org_id, kind, period = _target(args)

    def submit(session: Session) -> reports.Submission:
        _require_writer(env, session, org_id)
        return reports.submit(
            session,
            org_id=org_id,
            kind=kind,
            period=period,
            expected=args[3],
            actor=env.who.actor(),
            now=env.now(),
            today=env.today(),
            tz=env.app.settings.tz,
        )

    def screen(session: Session) -> flows.Screen:
        return _report_screen(env, session, org_id, kind, period)

    try:
        done = await env.run(submit)
    except ChiboError:
        # Already submitted (another device) or refused: show the report as it stands.
        text, rows = await env.run(screen)
        await show(update, env, context, text, rows)
        raise
    mark_saved(update)
    text, rows = await env.run(screen)
    await show(update, env, context, text, rows)
    _ = env.t.gettext
    local = env.now().astimezone(env.app.settings.tz)
    confirmation = _("✅ Report submitted on {date} at {time} ({state}).").format(
        date=env.t.date(local), time=f"{local:%H:%M}", state=_(STATE_LABELS[done.state])
    )
    confirmation += "\n" + env.t.ngettext(
        "{n} person at the Inspection Committee will be notified.",
        "{n} people at the Inspection Committee will be notified.",
        done.notified,
    ).format(n=done.notified)
    await send(env, context, confirmation)


@button
async def on_docx(update: Update, context: Context, env: Env) -> None:
    """Sends the report as a Word document in the Party's layout."""
    org_id, kind, period = _target(RPT_D.args(update))
    await _send_docx(update, context, env, org_id, kind, period)


@button
async def on_leader_docx(update: Update, context: Context, env: Env) -> None:
    """Sends a cell's submitted report to a leader who has it in scope."""
    org_id, kind, period = _target(RPT_LD.args(update))
    await _send_docx(update, context, env, org_id, kind, period, submitted_only=True)


async def _send_docx(
    update: Update,
    context: Context,
    env: Env,
    org_id: int,
    kind: reports.ReportKind,
    period: str,
    *,
    submitted_only: bool = False,
) -> None:
    def unit(session: Session) -> reports.ReportView:
        if not submitted_only:
            _require_writer(env, session, org_id)
        else:
            _check_command(env, session)
            if org_id not in _scope_cells(env, session, kind):
                raise NotInScope()
        v = reports.view(session, org_id=org_id, kind=kind, period=period, today=env.today())
        if submitted_only and not v.submitted:
            raise InvalidInput(N_("This report is not submitted."))
        reports.note_export(session, report=v, actor=env.who.actor(), now=env.now())
        return v

    v = await env.run(unit)
    data = docx_bytes(v, tz=env.app.settings.tz)
    caption = env.t.gettext("{title}, {period} — {cell}").format(
        title=h(env.t.gettext(kind.title)),
        period=h(period_label(env.t, v.period)),
        cell=h(v.org_name),
    )
    if not v.submitted:
        caption += "\n" + env.t.gettext("(draft, not submitted)")
    await context.bot.send_document(
        env.chat_id, document=data, filename=docx_name(v), caption=caption
    )


# --- Typed steps: assessment and reason for reopening --------------------------------------------


@button
async def on_assessment(update: Update, context: Context, env: Env) -> None:
    """Asks for the secretary's short assessment."""
    await _start_typed(update, context, env, RPT_A, ReportStep.ASSESSMENT)


@button
async def on_reopen(update: Update, context: Context, env: Env) -> None:
    """Asks for the reason to reopen a submitted report."""
    await _start_typed(update, context, env, RPT_R, ReportStep.REASON)


async def _start_typed(
    update: Update, context: Context, env: Env, family: Family, step: ReportStep
) -> None:
    org_id, kind, period = _target(family.args(update))
    await env.read(lambda session: _require_writer(env, session, org_id))
    args = {"org": org_id, "kind": kind.code, "period": period, "step": step.value}

    def same(d: Draft) -> bool:
        return (
            d.flow == report_steps.FLOW
            and d.state == step
            and report_steps.target(d)
            == {
                "org": org_id,
                "kind": kind.code,
                "period": period,
            }
        )

    await flows.start(update, context, env, report_steps.FLOW, args, same=same)


def _begin_typed(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    return report_steps.start(
        session,
        person_id=env.person_id,
        org_id=int(args["org"]),
        kind=str(args["kind"]),
        period=str(args["period"]),
        step=ReportStep(args["step"]),
        now=env.now(),
    )


def render_report_flow(env: Env, session: Session, draft: Draft) -> flows.Screen:
    """The prompt of the report flow's current step."""
    _ = env.t.gettext
    back = [[(_("◀ Cancel"), RPT_X.data(drafts.key(draft)))]]
    if draft.state == ReportStep.REASON:
        return (
            _(
                "↩️ Why reopen this report? Type the reason, at most {limit} characters "
                "(it is kept with the report)."
            ).format(limit=reports.REASON_MAX),
            back,
        )
    return (
        _(
            "✍️ Type a short assessment for the report (up to {limit} characters). "
            "It replaces any earlier one."
        ).format(limit=reports.ASSESSMENT_MAX),
        back,
    )


def _about_screen(env: Env, session: Session, about: dict[str, Any], note: str) -> flows.Screen:
    text, rows = _report_screen(
        env, session, about["org"], report_kinds.kind_of(about["kind"]), about["period"]
    )
    return (f"{note}\n\n{text}" if note else text), rows


@button
async def on_cancel_typed(update: Update, context: Context, env: Env) -> None:
    """Leaves the typed step and shows the report again."""
    (draft_key,) = RPT_X.args(update)

    def done(session: Session) -> flows.Screen:
        about = report_steps.cancel(session, person_id=env.person_id, key=draft_key)
        return _about_screen(env, session, about, "")

    await flows.step(update, context, env, lambda s: None, render=render_report_flow, done=done)


def _typed(update: Update) -> str:
    assert update.effective_message is not None
    return update.effective_message.text or ""


async def on_assessment_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Stores the typed assessment and shows the report."""
    key, text = drafts.key(draft), _typed(update)

    def done(session: Session) -> flows.Screen:
        about = report_steps.save_assessment(
            session,
            person_id=env.person_id,
            key=key,
            text=text,
            actor=env.who.actor(),
            today=env.today(),
            now=env.now(),
        )
        return _about_screen(env, session, about, env.t.gettext("Assessment saved."))

    await flows.step(update, context, env, lambda s: None, render=render_report_flow, done=done)


async def on_reason_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Reopens the report with the typed reason and shows it."""
    key, text = drafts.key(draft), _typed(update)

    def done(session: Session) -> flows.Screen:
        about = report_steps.save_reason(
            session,
            person_id=env.person_id,
            key=key,
            text=text,
            actor=env.who.actor(),
            now=env.now(),
        )
        note = env.t.gettext("↩️ Report reopened. Correct it and submit it again.")
        return _about_screen(env, session, about, note)

    await flows.step(update, context, env, lambda s: None, render=render_report_flow, done=done)


REPORT_FLOW = flows.Flow(
    name=report_steps.FLOW,
    title=N_("a report"),
    render=render_report_flow,
    text_steps={
        ReportStep.ASSESSMENT.value: on_assessment_text,
        ReportStep.REASON.value: on_reason_text,
    },
    begin=_begin_typed,
)


# --- Leaders: which cells submitted; members under watch --------------------------------------


def _status_screen(
    env: Env, session: Session, kind: reports.ReportKind, period: str
) -> flows.Screen:
    _check_command(env, session)
    _ = env.t.gettext
    cells = _scope_cells(env, session, kind)
    if not cells:
        raise NotAllowed()
    p = reports.period_of(kind, period)
    status = reports.status_rows(
        session, cells, kind, p, today=env.today(), tz=env.app.settings.tz
    )
    due = reports.due_on(session, kind, p)
    counts = {state: sum(1 for r in status if r.state is state) for state in ReportState}
    orgs = _holder(env, session).orgs
    committees = sum(
        1 for r in status if r.org_id in orgs and not orgs[r.org_id].kind.holds_meetings
    )
    head = _("Due {due} · {n} cells").format(due=env.t.date(due), n=len(status) - committees)
    if committees:
        head = _("Due {due} · {n} cells, {m} grassroots party committees").format(
            due=env.t.date(due), n=len(status) - committees, m=committees
        )
    lines = [
        f"📊 <b>{h(_(kind.title))}</b> — {h(period_label(env.t, p))}",
        head,
        " · ".join(
            f"{STATE_ICONS[state]} {h(_(STATE_LABELS[state]))}: {counts[state]}"
            for state in ReportState
        ),
        "",
    ]
    order = {
        ReportState.MISSING: 0,
        ReportState.LATE: 1,
        ReportState.NOT_DUE: 2,
        ReportState.ON_TIME: 3,
    }
    rows: list[list[tuple[str, str]]] = []
    for row in sorted(status, key=lambda r: (order[r.state], r.code))[:LIST_MAX]:
        line = f"{STATE_ICONS[row.state]} {h(row.code)} — {h(row.name)}"
        if row.submitted_at is not None:
            line += " — " + _("submitted {date}").format(
                date=env.t.date(row.submitted_at.astimezone(env.app.settings.tz))
            )
        if row.reopened:
            line += " " + _("(reopened for correction)")
        lines.append(line)
        if row.status is ReportStatus.SUBMITTED and len(rows) < 20:
            rows.append([(f"📄 {row.code}", RPT_LD.data(*_ref(row.org_id, kind, p.key)))])
    if len(status) > LIST_MAX:
        lines.append(_("… and {n} more").format(n=len(status) - LIST_MAX))
    rows.append([(_("◀ Reports"), RPT_MENU.data())])
    return "\n".join(lines), rows


@button
async def on_status(update: Update, context: Context, env: Env) -> None:
    """Lists the cells in scope: submitted on time, late, missing, not due."""
    args = RPT_ST.args(update)
    try:
        kind = report_kinds.kind_of(args[0])
        period = reports.period_of(kind, args[1]).key
    except (NotFound, InvalidInput) as exc:  # forged data is a stale button
        raise StaleAction() from exc
    text, rows = await env.run(lambda session: _status_screen(env, session, kind, period))
    await show(update, env, context, text, rows)


@button
async def on_watch(update: Update, context: Context, env: Env) -> None:
    """Lists the members under watch in the cells of the Inspection Committee's scope."""

    def unit(session: Session) -> list[reviews.WatchEntry]:
        _check_command(env, session)
        cells = access.watch_cells(_holder(env, session), on=env.today())
        watch = reviews.watch_list(session, cell_ids=cells)
        reviews.note_list_read(
            session,
            what="watch_list",
            cell_ids=cells,
            shown=len(watch),
            actor=env.who.actor(),
            now=env.now(),
        )
        return watch

    watch = await env.run(unit)
    _ = env.t.gettext
    lines = [
        _("👁 <b>Members under watch</b>"),
        _(
            "A new sign of degradation, or no change for 3 months, until a later review says "
            "progressing."
        ),
    ]
    current = None
    for entry in watch[:LIST_MAX]:
        if entry.org_code != current:
            current = entry.org_code
            lines.append(f"\n<b>{h(entry.org_code)}</b>")
        lines.append("• " + h(watch_entry_text(env, entry)))
    if len(watch) > LIST_MAX:
        lines.append(_("… and {n} more").format(n=len(watch) - LIST_MAX))
    if not watch:
        lines.append(_("None."))
    await show(update, env, context, "\n".join(lines), [[(_("◀ Reports"), RPT_MENU.data())]])


def handlers() -> Handlers:
    """The handlers of /report."""
    return [
        CommandHandler(["report", "baocao"], report_command),
        RPT_MENU.handler(on_menu),
        RPT_V.handler(on_view),
        RPT_S.handler(on_submit),
        RPT_OK.handler(on_confirm),
        RPT_D.handler(on_docx),
        RPT_LD.handler(on_leader_docx),
        RPT_A.handler(on_assessment),
        RPT_R.handler(on_reopen),
        RPT_X.handler(on_cancel_typed),
        RPT_ST.handler(on_status),
        RPT_W.handler(on_watch),
    ]
