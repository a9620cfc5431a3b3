"""/candidates (/camtinh): the cell's sympathizer list, the monthly consideration, dated steps.

Handlers only parse the update, call one use case of :mod:`storage.candidates` and render.
Buttons carry ``cnd:<action>:<conversation key or file>:…``; the use case re-checks the draft's
step, the presser's role and the file's version, so stale buttons, double taps and a second
secretary change nothing. A rule the step breaks is explained with its source, never silently
accepted; where the rules allow an exception approved higher up, the secretary records it.

Adding a non-member: the name is typed, the rest is 6 taps plus one per priority group. The
monthly consideration of a list: 2 taps, plus one per sympathizer sent to the class or
candidate proposed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from domain.errors import AlreadyRecorded, ChiboError, NotAllowed, StaleAction
from domain.i18n import N_
from domain.rules import candidates as rules
from domain.rules.candidates import CandidateClosed, RuleViolated
from domain.text import h, truncate
from domain.vocab import CandidateStage, Gender, IntroducerForm, PriorityGroup
from handlers import flows
from handlers.base import (
    Context,
    Env,
    Handlers,
    Rows,
    button,
    command,
    error_text,
    int_arg,
    keyboard,
    mark_saved,
    parse_data,
    send,
    show,
)
from handlers.base import RowScreen as Screen
from storage import candidates as cs
from storage.candidates import State
from storage.models import Draft
from storage.summary import CANDIDATE_STAGES, PRIORITY_GROUPS

log = logging.getLogger(__name__)

#: The forward button of each stage: what the next step records.
NEXT_LABELS: dict[CandidateStage, str] = {
    CandidateStage.CLASS_DONE: N_("➡️ Awareness class done"),
    CandidateStage.MENTORS: N_("➡️ Introducers"),
    CandidateStage.APPLICATION: N_("➡️ File complete"),
    CandidateStage.BACKGROUND_CHECK: N_("➡️ Background checked"),
    CandidateStage.CELL_RESOLUTION: N_("➡️ Cell resolution"),
    CandidateStage.DECISION: N_("➡️ Admission decision"),
    CandidateStage.PROBATION: N_("➡️ Ceremony held"),
    CandidateStage.FULL_MEMBER: N_("➡️ Full membership"),
}
#: The question of the date step of each move.
DATE_QUESTIONS: dict[CandidateStage, str] = {
    CandidateStage.CLASS_DONE: N_("Date of the awareness-class certificate?"),
    CandidateStage.APPLICATION: N_("Date the application and personal history were complete?"),
    CandidateStage.BACKGROUND_CHECK: N_("Date the background check was concluded?"),
    CandidateStage.CELL_RESOLUTION: N_("Date of the cell's resolution proposing admission?"),
    CandidateStage.DECISION: N_("Date of the admission decision?"),
    CandidateStage.PROBATION: N_("Date of the admission ceremony?"),
    CandidateStage.FULL_MEMBER: N_("Date of the cell's consideration of full membership?"),
}
FORM_NAMES: dict[IntroducerForm, str] = {
    IntroducerForm.YOUTH_UNION: N_("Youth Union introduction + 1 full member"),
    IntroducerForm.TRADE_UNION: N_("Trade union introduction + 1 full member"),
    IntroducerForm.TWO_MEMBERS: N_("Two full members"),
}
DEADLINE_NAMES = {
    "decision": N_("admission decision due by {date}"),
    "ceremony": N_("ceremony due by {date}"),
    "full_membership": N_("full membership to be considered by {date}"),
}
GROUP_ICONS = {
    "women": "👩",
    "khmer": "🛕",
    "ethnic_minority": "🏞",
    "youth_union": "🧑‍🎓",
    "association": "🤝",
    "worker": "🛠",
    "private_owner": "🏭",
}


def stage_name(env: Env, stage: str) -> str:
    """The translated name of a stage."""
    return env.t.gettext(CANDIDATE_STAGES.get(stage, stage))


def _birth(c: cs.CandidateRow) -> str:
    if c.birth_year is None:
        return "?"
    return f"{c.birth_month:02d}/{c.birth_year}" if c.birth_month else str(c.birth_year)


def _cancel_row(env: Env, key: int) -> list[tuple[str, str]]:
    return [(env.t.gettext("✖ Cancel"), f"cnd:x:{key}")]


def violation_text(env: Env, exc: RuleViolated) -> str:
    """A broken rule in the user's language, with the rule it comes from."""
    params: dict[str, Any] = {}
    stages = {s.value for s in CandidateStage}
    for key, value in exc.violation.params.items():
        if isinstance(value, date):
            params[key] = env.t.date(value)
        elif isinstance(value, str) and value in stages:
            params[key] = stage_name(env, value)
        else:
            params[key] = h(value)
    text = env.t.gettext(exc.violation.message).format(**params)
    source = env.t.gettext("Source: {source}").format(source=h(exc.violation.rule_source))
    return f"⚠️ {text}\n<i>{source}</i>"


# --- The list and a file's card ---------------------------------------------------------------


def list_screen(env: Env, cl: cs.CellList, today: date) -> Screen:
    """The cell's open files, this month's consideration, and what can be done."""
    _ = env.t.gettext
    lines = [_("<b>🌱 Candidates — {cell}</b>").format(cell=h(cl.org_name))]
    month = env.t.month(today.year, today.month)
    lines.append(
        _("✅ The list was considered for {month}.").format(month=month)
        if cl.considered
        else _("⏳ The list is not yet considered for {month}.").format(month=month)
    )
    rows: Rows = []
    if not cl.open:
        lines.append(_("Nobody is on the list yet."))
    for i, c in enumerate(cl.open, 1):
        line = f"{i}. <b>{h(c.name)}</b> ({_birth(c)}) — {h(stage_name(env, c.stage.value))}"
        if c.deadline is not None:
            mark = "🔴" if c.deadline.overdue else "🕑"
            line += f"\n   {mark} " + _(DEADLINE_NAMES[c.deadline.what]).format(
                date=env.t.date(c.deadline.due)
            )
        lines.append(line)
        rows.append([(truncate(f"{i}. {c.name}", 40), f"cnd:open:{c.id}")])
    if cl.closed:
        lines.append(
            env.t.ngettext(
                "{n} closed file (admitted, left or not admitted).",
                "{n} closed files (admitted, left or not admitted).",
                cl.closed,
            ).format(n=cl.closed)
        )
    rows.append(
        [
            (_("➕ Add a non-member"), f"cnd:add:{cl.org_id}"),
            (_("🗓 Monthly consideration"), f"cnd:cons:{cl.org_id}"),
        ]
    )
    return "\n".join(lines), rows


def card_screen(env: Env, c: cs.CandidateRow, org_id: int) -> Screen:
    """One file: who, where it stands, its dates and deadline, and the moves it allows."""
    _ = env.t.gettext
    groups = ", ".join(_(PRIORITY_GROUPS.get(g, g)) for g in c.groups) or "—"
    lines = [
        f"<b>{h(c.name)}</b> ({_birth(c)})",
        _("Unit: {unit}").format(unit=h(c.unit or "—")),
        _("Priority groups: {groups}").format(groups=h(groups)),
        _("Stage: <b>{stage}</b> since {date}").format(
            stage=h(stage_name(env, c.stage.value)), date=env.t.date(c.stage_since)
        ),
    ]
    facts = [
        (c.class_planned_on, N_("Sent to the awareness class: {date}")),
        (c.proposed_on, N_("Proposed by the cell: {date}")),
        (c.certificate_on, N_("Awareness-class certificate: {date}")),
        (c.resolution_on, N_("Cell resolution: {date}")),
        (c.decision_on, N_("Admission decision: {date}")),
        (c.received_on, N_("Decision received: {date}")),
        (c.ceremony_on, N_("Ceremony: {date}")),
        (c.probation_end, N_("Probation ends: {date}")),
    ]
    lines += [_(msg).format(date=env.t.date(d)) for d, msg in facts if d]
    if c.introducers:
        lines.append(_("Introducers: {names}").format(names=h(", ".join(c.introducers))))
    if c.votes:
        lines.append(
            _("Votes in favour: {votes}/{members} full members").format(
                votes=c.votes[0], members=c.votes[1]
            )
        )
    if c.deadline is not None:
        mark = "🔴" if c.deadline.overdue else "🕑"
        lines.append(
            f"{mark} " + _(DEADLINE_NAMES[c.deadline.what]).format(date=env.t.date(c.deadline.due))
        )
    rows: Rows = []
    nxt = rules.next_stage(c.stage)
    v = c.version
    if nxt is not None:
        rows.append([(_(NEXT_LABELS[nxt]), f"cnd:mv:{c.id}:{v}:{nxt.value}")])
    prev = rules.previous_stage(c.stage)
    if prev is not None and c.stage is not CandidateStage.PROBATION:
        rows.append([(_("↩️ Back a stage"), f"cnd:mv:{c.id}:{v}:{prev.value}")])
    if c.stage is CandidateStage.CELL_RESOLUTION and not c.decision_extended:
        rows.append(
            [(_("⏱ Decision deadline extended (+30 working days)"), f"cnd:ext:{c.id}:{v}")]
        )
    exits = rules.exits_from(c.stage)
    if exits:
        rows.append(
            [(f"🚪 {stage_name(env, e.value)}", f"cnd:mv:{c.id}:{v}:{e.value}") for e in exits]
        )
    rows.append([(_("⬅️ The list"), f"cnd:list:{org_id}")])
    return "\n".join(lines), rows


# --- The conversation's screens ---------------------------------------------------------------


def render(env: Env, session: Session, draft: Draft) -> Screen:
    """Show the step the /candidates conversation is at (also used to resume it)."""
    key = cs.conversation_key(draft)
    state = State(draft.state)
    body, rows = _SCREENS[state](env, session, draft, key)
    return body, [*rows, _cancel_row(env, key)]


def _who(draft: Draft) -> str:
    name = draft.data.get("name")
    return f"<b>{h(name)}</b>\n" if name else ""


def _s_name(env: Env, s: Session, d: Draft, k: int) -> Screen:
    return env.t.gettext(
        "➕ Adding an outstanding non-member to the sympathizer list.\nPlease type the full name."
    ), []


def _s_gender(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    return _who(d) + _("Gender?"), [
        [(_("Male"), f"cnd:g:{k}:male"), (_("Female"), f"cnd:g:{k}:female")]
    ]


def _s_decade(env: Env, s: Session, d: Draft, k: int) -> Screen:
    decades = cs.birth_decades(env.today(), cs.candidate_rules(s))
    row = [(f"{x}–{x + 9}", f"cnd:dec:{k}:{x}") for x in decades]
    text = env.t.gettext("Born in which decade? (or type the year, e.g. 1995)")
    return _who(d) + text, [row[i : i + 3] for i in range(0, len(row), 3)]


def _s_year(env: Env, s: Session, d: Draft, k: int) -> Screen:
    decade = int(d.data.get("decade", 1990))
    years = [y for y in range(decade, decade + 10) if y <= env.today().year]
    row = [(str(y), f"cnd:y:{k}:{y}") for y in years]
    rows = [row[i : i + 5] for i in range(0, len(row), 5)]
    rows.append([(env.t.gettext("⬅️ Another decade"), f"cnd:back:{k}")])
    return _who(d) + env.t.gettext("Year of birth?"), rows


def _s_month(env: Env, s: Session, d: Draft, k: int) -> Screen:
    row = [(f"{m:02d}", f"cnd:mo:{k}:{m}") for m in range(1, 13)]
    rows = [row[i : i + 6] for i in range(0, 12, 6)]
    rows.append([(env.t.gettext("Month unknown"), f"cnd:mo:{k}:0")])
    text = env.t.gettext("Month of birth? (age is counted in months)")
    return _who(d) + text + f" — {d.data.get('year')}", rows


def _s_duplicate(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    month = int(d.data.get("month") or 0)
    text = _(
        "⚠️ {name}, born {born}, is already on this cell's list. Is this another person?"
    ).format(
        name=h(d.data.get("name", "")),
        born=f"{month:02d}/{d.data.get('year')}" if month else d.data.get("year"),
    )
    return text, [[(_("Yes, another person: add"), f"cnd:dupok:{k}")]]


def _s_unit(env: Env, s: Session, d: Draft, k: int) -> Screen:
    units = cs.unit_choices(s, int(d.data["org_id"]))
    rows = [[(truncate(u, 50), f"cnd:u:{k}:{i}")] for i, u in enumerate(units)]
    text = env.t.gettext("Unit (department) where they work? Pick one or type it.")
    return _who(d) + text, rows


def _s_groups(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    picked = set(d.data.get("groups", []))
    rows: Rows = []
    pair: list[tuple[str, str]] = []
    for g in PriorityGroup:
        mark = "✅ " if g.value in picked else ""
        pair.append(
            (
                mark + GROUP_ICONS[g.value] + " " + _(PRIORITY_GROUPS[g.value]),
                f"cnd:grp:{k}:{g.value}",
            )
        )
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    rows.append([(_("✅ Save"), f"cnd:save:{k}")])
    month = int(d.data.get("month") or 0)
    born = f"{month:02d}/{d.data.get('year')}" if month else str(d.data.get("year"))
    gender = _("Female") if d.data.get("gender") == "female" else _("Male")
    text = (
        _who(d)
        + f"{gender}, {born} — {h(d.data.get('unit', ''))}\n"
        + _("Priority groups of the plan? Tick all that apply, then save.")
    )
    return text, rows


def _s_consider(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    assert env.who is not None
    cl = cs.cell_list(
        s, person_id=env.who.person_id, org_id=int(d.data["org_id"]), today=env.today()
    )
    cls, prop = set(d.data.get("cls", [])), set(d.data.get("prop", []))
    today = env.today()
    late = d.data.get("late")
    for_late = bool(late and d.data.get("for_late"))
    year, month = (int(late[0]), int(late[1])) if late and for_late else (today.year, today.month)
    lines = [
        _("<b>🗓 Monthly consideration — {cell}, {month}</b>").format(
            cell=h(cl.org_name), month=env.t.month(year, month)
        ),
        _(
            "Tick 📚 to send a sympathizer to the next awareness class, 📨 to propose a candidate "
            "for admission, then record the consideration."
        ),
    ]
    rows: Rows = []
    if late:
        late_month = env.t.month(int(late[0]), int(late[1]))
        lines.insert(
            1,
            _("🔴 The list was not considered for {month}, which is over (overdue).").format(
                month=late_month
            ),
        )
        label = (
            _("📅 Record it for {month} instead").format(
                month=env.t.month(today.year, today.month)
            )
            if for_late
            else _("🔴 Record it for {month} (overdue)").format(month=late_month)
        )
        rows.append([(label, f"cnd:cmo:{k}")])
    proposable = set(rules.PATH[:5])
    for i, c in enumerate(cl.open, 1):
        lines.append(f"{i}. {h(c.name)} — {h(stage_name(env, c.stage.value))}")
        row: list[tuple[str, str]] = []
        if c.stage is CandidateStage.SYMPATHIZER:
            row.append(
                (
                    ("✅" if c.id in cls else "📚") + f" {i}. " + truncate(c.name, 22),
                    f"cnd:ct:{k}:{c.id}:cls",
                )
            )
        if c.stage in proposable:
            row.append(
                (
                    ("✅" if c.id in prop else "📨") + f" {i}. " + _("propose"),
                    f"cnd:ct:{k}:{c.id}:prop",
                )
            )
        if row:
            rows.append(row)
    if not cl.open:
        lines.append(_("Nobody is on the list: the consideration can still be recorded."))
    rows.append([(_("✅ Record the consideration"), f"cnd:crec:{k}")])
    return "\n".join(lines), rows


def _target(d: Draft) -> CandidateStage:
    return CandidateStage(d.data["target"])


def _move_head(env: Env, s: Session, d: Draft) -> str:
    assert env.who is not None
    c = cs.card(
        s, person_id=env.who.person_id, candidate_id=int(d.data["cand"]), today=env.today()
    )
    here, there = stage_name(env, c.stage.value), stage_name(env, _target(d).value)
    return f"<b>{h(c.name)}</b> — {h(here)} → {h(there)}\n"


def _date_rows(env: Env, k: int) -> Rows:
    today = env.today()
    return [
        [
            (
                env.t.gettext("Today {date}").format(date=env.t.date(today)),
                f"cnd:d:{k}:{today:%Y%m%d}",
            ),
            (env.t.gettext("Yesterday"), f"cnd:d:{k}:{today - timedelta(days=1):%Y%m%d}"),
        ]
    ]


def _s_date(env: Env, s: Session, d: Draft, k: int) -> Screen:
    question = env.t.gettext(DATE_QUESTIONS[_target(d)])
    hint = env.t.gettext("Pick a day or type it (day/month/year).")
    return _move_head(env, s, d) + f"{question}\n{hint}", _date_rows(env, k)


def _s_received(env: Env, s: Session, d: Draft, k: int) -> Screen:
    question = env.t.gettext("Date the cell received the decision?")
    return _move_head(env, s, d) + question, _date_rows(env, k)


def _s_form(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    text = _(
        "Who introduces the applicant? Where a Youth Union exists and the applicant is of its "
        "age, its introduction is a condition; otherwise the trade union's where one exists; "
        "elsewhere two full members."
    )
    rows = [[(_(FORM_NAMES[f]), f"cnd:f:{k}:{f.value}")] for f in IntroducerForm]
    return _move_head(env, s, d) + text, rows


def _s_introducers(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    picked = set(d.data.get("members", []))
    need = 2 if d.data.get("form") == IntroducerForm.TWO_MEMBERS.value else 1
    rows: Rows = []
    pair: list[tuple[str, str]] = []
    for mid, name in cs.introducer_choices(s, int(d.data["org_id"])):
        pair.append((("✅ " if mid in picked else "") + truncate(name, 28), f"cnd:im:{k}:{mid}"))
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    rows.append([(_("✅ Each has worked with the applicant ≥ 12 months"), f"cnd:iok:{k}")])
    text = env.t.ngettext(
        "Pick {n} full member who introduces the applicant.",
        "Pick {n} full members who introduce the applicant.",
        need,
    ).format(n=need)
    return _move_head(env, s, d) + text, rows


def _s_votes(env: Env, s: Session, d: Draft, k: int) -> Screen:
    assert env.who is not None
    cl_full = cs.cell_list(
        s, person_id=env.who.person_id, org_id=int(d.data["org_id"]), today=env.today()
    ).full_members
    text = env.t.gettext(
        "Please type the votes in favour (the cell has {n} full members; "
        "probationary members do not vote), e.g. {example}, or in favour/full members."
    ).format(n=cl_full, example=rules.votes_needed(max(cl_full, 1)))
    return _move_head(env, s, d) + text, []


def _s_reason(env: Env, s: Session, d: Draft, k: int) -> Screen:
    text = env.t.gettext("Please type the reason (at most 300 characters).")
    return _move_head(env, s, d) + text, []


#: What each exception asks for, and the rule it comes from.
APPROVALS: dict[str, tuple[str, str]] = {
    cs.APPROVAL_OVER_AGE: (
        N_(
            "⚠️ The candidate is over 60: admission needs the approval of a committee directly "
            "under the Central Committee."
        ),
        rules.RULE_SOURCE_AGE,
    ),
    cs.APPROVAL_LATE_CEREMONY: (
        N_(
            "⚠️ The ceremony is later than 30 working days after the decision was received: "
            "it needs the approval of the direct superior committee."
        ),
        rules.RULE_SOURCE_CEREMONY,
    ),
    cs.APPROVAL_DECISION_EXTENDED: (
        N_(
            "⚠️ The decision is later than 60 working days after the cell's resolution: it is "
            "within the rules only if the deadline was extended (by at most 30 working days)."
        ),
        rules.RULE_SOURCE_DECISION,
    ),
    cs.APPROVAL_LATE_FULL: (
        N_(
            "⚠️ Full membership is considered later than 30 working days after probation "
            "ended: it needs the approval of the direct superior committee."
        ),
        rules.RULE_SOURCE_FULL,
    ),
}
APPROVAL_BUTTONS: dict[str, str] = {
    cs.APPROVAL_DECISION_EXTENDED: N_("📝 The deadline was extended: record it"),
}


def _s_approval(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    code = str(d.data.get("pending_approval"))
    message, source = APPROVALS.get(code, APPROVALS[cs.APPROVAL_LATE_CEREMONY])
    text = _(message)
    text += "\n<i>" + _("Source: {source}").format(source=h(source)) + "</i>"
    label = APPROVAL_BUTTONS.get(code, N_("📝 The approval was given: record it"))
    return _move_head(env, s, d) + text, [[(_(label), f"cnd:ap:{k}")], _cancel_row(env, k)]


def _s_cell(env: Env, s: Session, d: Draft, k: int) -> Screen:
    return "", []


_SCREENS: dict[State, Callable[[Env, Session, Draft, int], Screen]] = {
    State.CELL: _s_cell,
    State.NAME: _s_name,
    State.GENDER: _s_gender,
    State.DECADE: _s_decade,
    State.YEAR: _s_year,
    State.MONTH: _s_month,
    State.DUPLICATE: _s_duplicate,
    State.UNIT: _s_unit,
    State.GROUPS: _s_groups,
    State.CONSIDER: _s_consider,
    State.DATE: _s_date,
    State.RECEIVED: _s_received,
    State.FORM: _s_form,
    State.INTRODUCERS: _s_introducers,
    State.VOTES: _s_votes,
    State.REASON: _s_reason,
    State.APPROVAL: _s_approval,
}


# --- Commands and list buttons ----------------------------------------------------------------


def _person(env: Env) -> int:
    assert env.who is not None
    return env.who.person_id


def _args(update: Update, action: str) -> list[str]:
    data = update.callback_query.data if update.callback_query else None
    return parse_data(data, f"cnd:{action}")


def _cells_screen(env: Env, cells: list[Any]) -> Screen:
    rows = [[(truncate(f"{c.code} — {c.name}", 60), f"cnd:list:{c.id}")] for c in cells]
    return env.t.gettext("Which cell's list?"), rows


@command("candidates")
async def candidates_command(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's sympathizer list (or asks which cell)."""
    with env.db.transaction() as session:
        cells = cs.cells(session, person_id=_person(env))
        if len(cells) == 1:
            cl = cs.cell_list(
                session, person_id=_person(env), org_id=cells[0].id, today=env.today()
            )
    if not cells:
        raise NotAllowed()
    screen = list_screen(env, cl, env.today()) if len(cells) == 1 else _cells_screen(env, cells)
    await send(env, context, *screen)


@button
async def on_list(update: Update, context: Context, env: Env) -> None:
    """Shows a cell's list."""
    args = _args(update, "list")
    org_id = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        cl = cs.cell_list(session, person_id=_person(env), org_id=org_id, today=env.today())
    await show(update, env, context, *list_screen(env, cl, env.today()))


@button
async def on_open(update: Update, context: Context, env: Env) -> None:
    """Shows one file's card."""
    args = _args(update, "open")
    cid = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        c = cs.card(session, person_id=_person(env), candidate_id=cid, today=env.today())
        org_id = cs.org_of(session, person_id=_person(env), candidate_id=cid)
    await show(update, env, context, *card_screen(env, c, org_id))


def _begin(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    """Starts the conversation asked for: adding a non-member, the month's consideration, or
    a dated step of a file."""
    what = args.get("what")
    if what == "add":
        return cs.start_add(session, person_id=env.person_id, org_id=args["org"], now=env.now())
    if what == "consider":
        return cs.start_consider(
            session, person_id=env.person_id, org_id=args["org"], now=env.now(), today=env.today()
        )
    if what == "move":
        return cs.start_move(
            session,
            person_id=env.person_id,
            candidate_id=args["cand"],
            version=args["version"],
            target=_enum_arg(CandidateStage, args["target"]),
            now=env.now(),
        )
    raise StaleAction()


def _lost(env: Env, session: Session, draft: Draft) -> list[str]:
    """What discarding an unfinished step loses: the name typed, the ticks, the step begun."""
    d = draft.data
    state = State(draft.state)
    if state is State.CELL:
        return []
    if state is State.CONSIDER:
        ticked = {int(i) for i in (*d.get("cls", []), *d.get("prop", []))}
        if not ticked:
            return []
        cl = cs.cell_list(
            session, person_id=env.person_id, org_id=int(d["org_id"]), today=env.today()
        )
        return [h(c.name) for c in cl.open if c.id in ticked]
    if "cand" in d:
        try:
            return [_move_head(env, session, draft).strip()]
        except ChiboError:
            return []
    return [h(d["name"])] if d.get("name") else []


async def _start(update: Update, context: Context, env: Env, args: dict[str, Any]) -> None:
    """Starts a conversation, or offers back the one open (continue / discard) when
    discarding it would lose something."""
    await flows.start(update, context, env, cs.FLOW, args)


@button
async def on_add(update: Update, context: Context, env: Env) -> None:
    """Starts adding a non-member: asks the name."""
    args = _args(update, "add")
    org_id = int_arg(args[0]) if args else 0
    await _start(update, context, env, {"what": "add", "org": org_id})


@button
async def on_consider(update: Update, context: Context, env: Env) -> None:
    """Opens the month's consideration of the list."""
    args = _args(update, "cons")
    org_id = int_arg(args[0]) if args else 0
    await _start(update, context, env, {"what": "consider", "org": org_id})


@button
async def on_move(update: Update, context: Context, env: Env) -> None:
    """Starts a dated step of a file (forward, back or out)."""
    args = _args(update, "mv")
    if len(args) != 3:
        raise StaleAction()
    cid, version = int_arg(args[0]), int_arg(args[1])
    target = _enum_arg(CandidateStage, args[2])
    try:
        await _start(
            update,
            context,
            env,
            {"what": "move", "cand": cid, "version": version, "target": target.value},
        )
    except (CandidateClosed, cs.ConcurrentChange, RuleViolated) as exc:
        await _refused(update, context, env, exc, cid)


async def _refused(update: Update, context: Context, env: Env, exc: Exception, cid: int) -> None:
    """Explains why the file cannot move and shows its card again."""
    if isinstance(exc, RuleViolated):
        text = violation_text(env, exc)
    else:
        assert isinstance(exc, ChiboError)
        text = "⚠️ " + error_text(env, exc)
    with env.db.transaction() as session:
        c = cs.card(session, person_id=_person(env), candidate_id=cid, today=env.today())
        org_id = cs.org_of(session, person_id=_person(env), candidate_id=cid)
    body, rows = card_screen(env, c, org_id)
    await show(update, env, context, f"{text}\n\n{body}", rows)


@button
async def on_extend(update: Update, context: Context, env: Env) -> None:
    """Records that the decision's deadline was extended by 30 working days."""
    args = _args(update, "ext")
    if len(args) != 2:
        raise StaleAction()
    cid = int_arg(args[0])
    try:
        with env.db.transaction() as session:
            c = cs.extend_decision(
                session,
                person_id=_person(env),
                candidate_id=cid,
                version=int_arg(args[1]),
                today=env.today(),
                now=env.now(),
            )
            org_id = cs.org_of(session, person_id=_person(env), candidate_id=cid)
    except cs.ConcurrentChange as exc:
        await _refused(update, context, env, exc, cid)
        return
    mark_saved(update)
    await show(update, env, context, *card_screen(env, c, org_id))


# --- Conversation steps -----------------------------------------------------------------------


async def _after(update: Update, context: Context, env: Env, result: Any, *, edit: bool) -> None:
    """Shows the next step, or what a finished step did."""
    out = show if edit else None
    if isinstance(result, Draft):
        with env.db.transaction() as session:
            screen = render(env, session, result)
    elif isinstance(result, cs.Moved):
        screen = _moved_screen(env, result)
    elif isinstance(result, cs.Added):
        with env.db.transaction() as session:
            cl = cs.cell_list(
                session, person_id=_person(env), org_id=result.org_id, today=env.today()
            )
        body, rows = list_screen(env, cl, env.today())
        screen = (
            env.t.gettext("✅ {name} is on the sympathizer list.").format(name=h(result.name))
            + "\n\n"
            + body,
            rows,
        )
    else:
        assert isinstance(result, cs.Considered)
        with env.db.transaction() as session:
            cl = cs.cell_list(
                session, person_id=_person(env), org_id=result.org_id, today=env.today()
            )
        body, rows = list_screen(env, cl, env.today())
        head = env.t.gettext(
            "✅ Consideration recorded for {month}: {to_class} to the awareness class, "
            "{proposed} proposed."
        ).format(
            month=env.t.month(result.year, result.month),
            to_class=result.to_class,
            proposed=result.proposed,
        )
        screen = (f"{head}\n\n{body}", rows)
    if out is not None:
        await show(update, env, context, *screen)
    else:
        await send(env, context, *screen)


def _moved_screen(env: Env, r: cs.Moved) -> Screen:
    _ = env.t.gettext
    text = _("✅ {name}: {stage} on {date}.").format(
        name=h(r.name), stage=h(stage_name(env, r.stage.value)), date=env.t.date(r.day)
    )
    if r.stage is CandidateStage.PROBATION:
        text += "\n" + _(
            "Now a probationary member of the cell, on the roll (and in attendance) "
            "from this month."
        )
    if r.stage is CandidateStage.FULL_MEMBER:
        text += "\n" + _("Now a full member of the cell, as of the end of probation.")
    if r.late:
        text += "\n" + _(
            "⚠️ The decision came after its deadline (60 working days, 90 if extended); "
            "recorded as it is."
        )
    if r.deadline is not None:
        text += "\n🕑 " + _(DEADLINE_NAMES[r.deadline.what]).format(
            date=env.t.date(r.deadline.due)
        )
    return text, [
        [(_("📂 Open"), f"cnd:open:{r.candidate_id}"), (_("⬅️ The list"), f"cnd:list:{r.org_id}")]
    ]


def _step(
    action: str, use_case: Callable[..., Any], nargs: int = 0
) -> Callable[[Update, Context], Any]:
    """A button handler: ``cnd:<action>:<key>:<args…>`` → ``use_case`` → the next screen."""

    @button
    async def handler(update: Update, context: Context, env: Env) -> None:
        args = _args(update, action)
        if len(args) != nargs + 1:
            raise StaleAction()
        key = int_arg(args[0])
        try:
            with env.db.transaction() as session:
                result = use_case(session, env, key, *args[1:])
        except RuleViolated as exc:
            with env.db.transaction() as session:
                draft = cs.current(session, person_id=_person(env))
                body, rows = (
                    render(env, session, draft) if draft and draft.flow == cs.FLOW else ("", [])
                )
            await show(update, env, context, f"{violation_text(env, exc)}\n\n{body}".strip(), rows)
            return
        mark_saved(update)
        await _after(update, context, env, result, edit=True)

    handler.__doc__ = use_case.__doc__
    return handler


def _date_arg(value: str) -> date:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise StaleAction() from exc


def _enum_arg(cls: Any, value: str) -> Any:
    try:
        return cls(value)
    except ValueError as exc:
        raise StaleAction() from exc


def _u_gender(s: Session, env: Env, k: int, g: str) -> Draft:
    """Stores the gender and asks for the decade of birth."""
    return cs.set_gender(
        s, person_id=_person(env), draft_id=k, gender=_enum_arg(Gender, g), now=env.now()
    )


def _u_decade(s: Session, env: Env, k: int, decade: str) -> Draft:
    """Stores the decade and asks for the year."""
    return cs.set_decade(
        s, person_id=_person(env), draft_id=k, decade=int_arg(decade), now=env.now()
    )


def _u_back(s: Session, env: Env, k: int) -> Draft:
    """Goes back to the decades."""
    return cs.back_to_decades(s, person_id=_person(env), draft_id=k, now=env.now())


def _u_year(s: Session, env: Env, k: int, year: str) -> Draft:
    """Stores the birth year and asks for the month."""
    return cs.set_year(
        s, person_id=_person(env), draft_id=k, year=int_arg(year), today=env.today(), now=env.now()
    )


def _u_month(s: Session, env: Env, k: int, month: str) -> Draft:
    """Stores the birth month (or "unknown") and asks for the unit."""
    return cs.set_month(
        s,
        person_id=_person(env),
        draft_id=k,
        month=int_arg(month),
        today=env.today(),
        now=env.now(),
    )


def _u_dupok(s: Session, env: Env, k: int) -> Draft:
    """Confirms the namesake is another person."""
    return cs.keep_duplicate(s, person_id=_person(env), draft_id=k, now=env.now())


def _u_unit(s: Session, env: Env, k: int, idx: str) -> Draft:
    """Stores the unit and asks for the priority groups."""
    return cs.set_unit(s, person_id=_person(env), draft_id=k, index=int_arg(idx), now=env.now())


def _u_group(s: Session, env: Env, k: int, g: str) -> Draft:
    """Ticks or unticks a priority group."""
    return cs.toggle_group(
        s, person_id=_person(env), draft_id=k, group=_enum_arg(PriorityGroup, g), now=env.now()
    )


def _u_save(s: Session, env: Env, k: int) -> cs.Added:
    """Puts the non-member on the list."""
    return cs.save_candidate(
        s, person_id=_person(env), draft_id=k, today=env.today(), now=env.now()
    )


def _u_ctoggle(s: Session, env: Env, k: int, cid: str, what: str) -> Draft:
    """Ticks a sympathizer for the class or a candidate for a proposal."""
    return cs.toggle_consider(
        s,
        person_id=_person(env),
        draft_id=k,
        candidate_id=int_arg(cid),
        what=what,
        today=env.today(),
        now=env.now(),
    )


def _u_cmonth(s: Session, env: Env, k: int) -> Draft:
    """Switches the month the consideration records (this month or last month's, late)."""
    return cs.toggle_consider_month(s, person_id=_person(env), draft_id=k, now=env.now())


def _u_crecord(s: Session, env: Env, k: int) -> cs.Considered:
    """Records the month's consideration."""
    return cs.record_consider(
        s, person_id=_person(env), draft_id=k, today=env.today(), now=env.now()
    )


def _u_date(s: Session, env: Env, k: int, day: str) -> Any:
    """Stores the date of the step."""
    return cs.set_step_date(
        s, person_id=_person(env), draft_id=k, day=_date_arg(day), today=env.today(), now=env.now()
    )


def _u_form(s: Session, env: Env, k: int, form: str) -> Draft:
    """Stores which introduction the rule asks for."""
    return cs.set_form(
        s, person_id=_person(env), draft_id=k, form=_enum_arg(IntroducerForm, form), now=env.now()
    )


def _u_intro(s: Session, env: Env, k: int, member: str) -> Draft:
    """Ticks or unticks an introducer."""
    return cs.toggle_introducer(
        s, person_id=_person(env), draft_id=k, member_id=int_arg(member), now=env.now()
    )


def _u_intro_ok(s: Session, env: Env, k: int) -> Any:
    """Records the introducers (the secretary confirms the 12 months)."""
    return cs.confirm_introducers(
        s, person_id=_person(env), draft_id=k, today=env.today(), now=env.now()
    )


def _u_approval(s: Session, env: Env, k: int) -> Any:
    """Records the higher body's approval and finishes the move."""
    return cs.record_approval(
        s, person_id=_person(env), draft_id=k, today=env.today(), now=env.now()
    )


STEP_BUTTONS: list[tuple[str, Callable[..., Any], int]] = [
    ("g", _u_gender, 1),
    ("dec", _u_decade, 1),
    ("back", _u_back, 0),
    ("y", _u_year, 1),
    ("mo", _u_month, 1),
    ("dupok", _u_dupok, 0),
    ("u", _u_unit, 1),
    ("grp", _u_group, 1),
    ("save", _u_save, 0),
    ("ct", _u_ctoggle, 2),
    ("cmo", _u_cmonth, 0),
    ("crec", _u_crecord, 0),
    ("d", _u_date, 1),
    ("f", _u_form, 1),
    ("im", _u_intro, 1),
    ("iok", _u_intro_ok, 0),
    ("ap", _u_approval, 0),
]


@button
async def on_cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves the conversation; nothing of it is saved."""
    args = _args(update, "x")
    key = int_arg(args[0]) if args else 0
    with env.db.transaction() as session:
        had = cs.cancel(session, person_id=_person(env), draft_id=key)
    if not had:
        raise StaleAction()
    await show(update, env, context, env.t.gettext("Cancelled. Nothing was saved."))


def _typed(
    use_case: Callable[[Session, Env, int, str], Any],
) -> Callable[[Update, Context, Env, Draft], Any]:
    async def step(update: Update, context: Context, env: Env, draft: Draft) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        try:
            with env.db.transaction() as session:
                result = use_case(session, env, cs.conversation_key(draft), text)
        except RuleViolated as exc:
            with env.db.transaction() as session:
                current = cs.current(session, person_id=_person(env))
                body, rows = render(env, session, current) if current else ("", [])
            await send(env, context, f"{violation_text(env, exc)}\n\n{body}".strip(), rows)
            return
        mark_saved(update)
        await _after(update, context, env, result, edit=False)

    step.__doc__ = use_case.__doc__
    return step


def _t_name(s: Session, env: Env, k: int, text: str) -> Draft:
    """Stores the typed name and asks for the gender."""
    return cs.set_name(s, person_id=_person(env), draft_id=k, text=text, now=env.now())


def _t_year(s: Session, env: Env, k: int, text: str) -> Draft:
    """Reads a typed birth year."""
    return cs.type_year(
        s, person_id=_person(env), draft_id=k, text=text, today=env.today(), now=env.now()
    )


def _t_unit(s: Session, env: Env, k: int, text: str) -> Draft:
    """Stores a typed unit."""
    return cs.type_unit(s, person_id=_person(env), draft_id=k, text=text, now=env.now())


def _t_date(s: Session, env: Env, k: int, text: str) -> Any:
    """Reads a typed date of the step."""
    return cs.type_step_date(
        s, person_id=_person(env), draft_id=k, text=text, today=env.today(), now=env.now()
    )


def _t_votes(s: Session, env: Env, k: int, text: str) -> Any:
    """Reads the votes in favour."""
    return cs.type_votes(
        s, person_id=_person(env), draft_id=k, text=text, today=env.today(), now=env.now()
    )


def _t_reason(s: Session, env: Env, k: int, text: str) -> Any:
    """Reads the reason of a step back or an exit."""
    return cs.type_reason(
        s, person_id=_person(env), draft_id=k, text=text, today=env.today(), now=env.now()
    )


CANDIDATES_FLOW = flows.Flow(
    name=cs.FLOW,
    title=N_("the candidates' list"),
    render=render,
    begin=_begin,
    lost=_lost,
    text_steps={
        State.NAME.value: _typed(_t_name),
        State.DECADE.value: _typed(_t_year),
        State.YEAR.value: _typed(_t_year),
        State.UNIT.value: _typed(_t_unit),
        State.DATE.value: _typed(_t_date),
        State.RECEIVED.value: _typed(_t_date),
        State.VOTES.value: _typed(_t_votes),
        State.REASON.value: _typed(_t_reason),
    },
)


# --- After a regular meeting with "new-member work" -------------------------------------------


def meeting_question(env: Env, meeting_id: int) -> tuple[str, list[tuple[str, str]]] | None:
    """The question (and its buttons) a saved regular meeting with "new-member work" asks
    once: did the cell consider its sympathizer list? None when there is nothing to ask."""
    with env.db.transaction() as session:
        ask = cs.meeting_asks(session, person_id=_person(env), meeting_id=meeting_id)
    if not ask:
        return None
    _ = env.t.gettext
    return (
        _("The meeting covered new-member work. Did the cell consider its sympathizer list?"),
        [(_("Yes, record it"), f"cnd:mtg:{meeting_id}:y"), (_("No"), f"cnd:mtg:{meeting_id}:n")],
    )


@button
async def on_meeting_answer(update: Update, context: Context, env: Env) -> None:
    """Records (or not) that the meeting considered the list; the question is asked once."""
    args = _args(update, "mtg")
    if len(args) != 2:
        raise StaleAction()
    _ = env.t.gettext
    meeting_id = int_arg(args[0])
    if args[1] != "y":
        await _drop_question(update)
        await send(env, context, _("Not recorded. Use /candidates for the monthly consideration."))
        return
    # Recorded first, then the question's buttons go: a failed edit (Telegram down, or slow
    # and applied) never takes the buttons away from an answer that was not recorded.
    try:
        with env.db.transaction() as session:
            done = cs.record_from_meeting(
                session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
            )
    except AlreadyRecorded:
        await _drop_question(update)
        await send(env, context, _("The consideration of that month was already recorded."))
        return
    mark_saved(update)
    await _drop_question(update)
    await send(
        env,
        context,
        _("✅ Consideration of the sympathizer list recorded for {month}.").format(
            month=env.t.month(done.year, done.month)
        ),
    )


async def _drop_question(update: Update) -> None:
    """Take the answered question's buttons off the saved meeting's screen (its own text and
    buttons stay). Best effort: a question left showing is answered "already recorded"."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message) or not query.message.reply_markup:
        return
    kept = [
        [(b.text, str(b.callback_data)) for b in row]
        for row in query.message.reply_markup.inline_keyboard
        if not any(str(b.callback_data).startswith("cnd:mtg:") for b in row)
    ]
    try:
        await query.edit_message_reply_markup(keyboard(kept))
    except TelegramError as exc:
        log.warning("question left on screen: %s", type(exc).__name__)


# --- Wiring -----------------------------------------------------------------------------------


def handlers() -> Handlers:
    """The handlers of /candidates (group 0)."""
    out: Handlers = [
        CommandHandler(["candidates", "camtinh"], candidates_command),
        CallbackQueryHandler(on_list, pattern=r"^cnd:list:\d+$"),
        CallbackQueryHandler(on_open, pattern=r"^cnd:open:\d+$"),
        CallbackQueryHandler(on_add, pattern=r"^cnd:add:\d+$"),
        CallbackQueryHandler(on_consider, pattern=r"^cnd:cons:\d+$"),
        CallbackQueryHandler(on_move, pattern=r"^cnd:mv:\d+:\d+:\w+$"),
        CallbackQueryHandler(on_extend, pattern=r"^cnd:ext:\d+:\d+$"),
        CallbackQueryHandler(on_cancel, pattern=r"^cnd:x:\d+$"),
        CallbackQueryHandler(on_meeting_answer, pattern=r"^cnd:mtg:\d+:[yn]$"),
    ]
    for action, use_case, nargs in STEP_BUTTONS:
        pattern = rf"^cnd:{action}:\d+" + r":\w+" * nargs + "$"
        out.append(CallbackQueryHandler(_step(action, use_case, nargs), pattern=pattern))
    return out
