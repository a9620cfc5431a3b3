"""/candidates: the list, a file's card and the conversation's screens; a broken rule in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from domain.i18n import N_
from domain.rules import candidates as rules
from domain.rules.candidates import RuleViolated
from domain.text import h, truncate
from domain.vocab import CandidateStage, Gender, IntroducerForm, PriorityGroup
from handlers.base import (
    Env,
    Rows,
)
from handlers.base import RowScreen as Screen
from handlers.candidates.buttons import (
    ADD,
    APPROVAL,
    BACK,
    BIRTH_MON,
    BIRTH_YEAR,
    CANCEL,
    CONSIDER,
    CONSIDER_MONTH,
    CONSIDER_RECORD,
    DECADE,
    DUP_OK,
    EXTEND,
    FORM,
    GENDER,
    GROUP,
    INTRODUCER,
    INTRODUCERS_OK,
    LIST,
    MOVE,
    OPEN,
    REDO,
    SAVE,
    STEP_DAY,
    TICK,
    UNIT,
)
from storage import candidates as cs
from storage.candidates import State
from storage.models import Draft
from storage.summary import CANDIDATE_STAGES, PRIORITY_GROUPS

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
    return [(env.t.gettext("✖ Cancel"), CANCEL.data(key))]


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
        rows.append([(truncate(f"{i}. {c.name}", 40), OPEN.data(c.id))])
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
            (_("➕ Add a non-member"), ADD.data(cl.org_id)),
            (_("🗓 Monthly consideration"), CONSIDER.data(cl.org_id)),
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
        rows.append([(_(NEXT_LABELS[nxt]), MOVE.data(c.id, v, nxt))])
    prev = rules.previous_stage(c.stage)
    if prev is not None and c.stage is not CandidateStage.PROBATION:
        rows.append([(_("↩️ Back a stage"), MOVE.data(c.id, v, prev))])
    if c.introductions_stale:
        lines.append(
            "⚠️ "
            + _(
                "The introductions are more than 12 months old: the cell cannot consider the "
                "file until they are redone."
            )
        )
        rows.insert(0, [(_("🔁 Redo the introductions"), REDO.data(c.id, v))])
    if c.stage is CandidateStage.CELL_RESOLUTION and not c.decision_extended:
        rows.append([(_("⏱ Decision deadline extended (+30 working days)"), EXTEND.data(c.id, v))])
    exits = rules.exits_from(c.stage)
    if exits:
        rows.append([(f"🚪 {stage_name(env, e.value)}", MOVE.data(c.id, v, e)) for e in exits])
    rows.append([(_("⬅️ The list"), LIST.data(org_id))])
    return "\n".join(lines), rows


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
        [(_("Male"), GENDER.data(k, Gender.MALE)), (_("Female"), GENDER.data(k, Gender.FEMALE))]
    ]


def _s_decade(env: Env, s: Session, d: Draft, k: int) -> Screen:
    decades = cs.birth_decades(env.today(), cs.candidate_rules(s))
    row = [(f"{x}–{x + 9}", DECADE.data(k, x)) for x in decades]
    text = env.t.gettext("Born in which decade? (or type the year, e.g. 1995)")
    return _who(d) + text, [row[i : i + 3] for i in range(0, len(row), 3)]


def _s_year(env: Env, s: Session, d: Draft, k: int) -> Screen:
    decade = int(d.data.get("decade", 1990))
    years = [y for y in range(decade, decade + 10) if y <= env.today().year]
    row = [(str(y), BIRTH_YEAR.data(k, y)) for y in years]
    rows = [row[i : i + 5] for i in range(0, len(row), 5)]
    rows.append([(env.t.gettext("⬅️ Another decade"), BACK.data(k))])
    return _who(d) + env.t.gettext("Year of birth?"), rows


def _s_month(env: Env, s: Session, d: Draft, k: int) -> Screen:
    row = [(f"{m:02d}", BIRTH_MON.data(k, m)) for m in range(1, 13)]
    rows = [row[i : i + 6] for i in range(0, 12, 6)]
    rows.append([(env.t.gettext("Month unknown"), BIRTH_MON.data(k, 0))])
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
    return text, [[(_("Yes, another person: add"), DUP_OK.data(k))]]


def _s_unit(env: Env, s: Session, d: Draft, k: int) -> Screen:
    units = cs.unit_choices(s, int(d.data["org_id"]))
    rows = [[(truncate(u, 50), UNIT.data(k, i))] for i, u in enumerate(units)]
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
                GROUP.data(k, g),
            )
        )
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    rows.append([(_("✅ Save"), SAVE.data(k))])
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
        rows.append([(label, CONSIDER_MONTH.data(k))])
    proposable = set(rules.PATH[:5])
    for i, c in enumerate(cl.open, 1):
        lines.append(f"{i}. {h(c.name)} — {h(stage_name(env, c.stage.value))}")
        row: list[tuple[str, str]] = []
        if c.stage is CandidateStage.SYMPATHIZER:
            row.append(
                (
                    ("✅" if c.id in cls else "📚") + f" {i}. " + truncate(c.name, 22),
                    TICK.data(k, c.id, "cls"),
                )
            )
        if c.stage in proposable:
            row.append(
                (
                    ("✅" if c.id in prop else "📨") + f" {i}. " + _("propose"),
                    TICK.data(k, c.id, "prop"),
                )
            )
        if row:
            rows.append(row)
    if not cl.open:
        lines.append(_("Nobody is on the list: the consideration can still be recorded."))
    rows.append([(_("✅ Record the consideration"), CONSIDER_RECORD.data(k))])
    return "\n".join(lines), rows


def _target(d: Draft) -> CandidateStage:
    return CandidateStage(d.data["target"])


def _move_head(env: Env, s: Session, d: Draft) -> str:
    assert env.who is not None
    c = cs.card(
        s, person_id=env.who.person_id, candidate_id=int(d.data["cand"]), today=env.today()
    )
    if d.data.get("redo"):
        return f"<b>{h(c.name)}</b> — {h(env.t.gettext('🔁 Redo the introductions'))}\n"
    here, there = stage_name(env, c.stage.value), stage_name(env, _target(d).value)
    return f"<b>{h(c.name)}</b> — {h(here)} → {h(there)}\n"


def _date_rows(env: Env, k: int) -> Rows:
    today = env.today()
    return [
        [
            (
                env.t.gettext("Today {date}").format(date=env.t.date(today)),
                STEP_DAY.data(k, today),
            ),
            (env.t.gettext("Yesterday"), STEP_DAY.data(k, today - timedelta(days=1))),
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
    rows = [[(_(FORM_NAMES[f]), FORM.data(k, f))] for f in IntroducerForm]
    return _move_head(env, s, d) + text, rows


def _s_introducers(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    picked = set(d.data.get("members", []))
    need = 2 if d.data.get("form") == IntroducerForm.TWO_MEMBERS.value else 1
    rows: Rows = []
    pair: list[tuple[str, str]] = []
    for mid, name in cs.introducer_choices(s, int(d.data["org_id"])):
        pair.append(
            (("✅ " if mid in picked else "") + truncate(name, 28), INTRODUCER.data(k, mid))
        )
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    rows.append([(_("✅ Each has worked with the applicant ≥ 12 months"), INTRODUCERS_OK.data(k))])
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
    cs.APPROVAL_DECISION_BREACHED: (
        N_(
            "⚠️ The decision is later than 90 working days after the cell's resolution, the "
            "longest the rules allow even with the extension: the deadline was breached. If the "
            "decision really is of that date, record it acknowledging the breach: it is kept "
            "with the file and shown to the leaders among the overdue admission steps."
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
    cs.APPROVAL_DECISION_BREACHED: N_("⚠️ Record it, acknowledging the breach"),
}


def _s_approval(env: Env, s: Session, d: Draft, k: int) -> Screen:
    _ = env.t.gettext
    code = str(d.data.get("pending_approval"))
    message, source = APPROVALS.get(code, APPROVALS[cs.APPROVAL_LATE_CEREMONY])
    text = _(message)
    text += "\n<i>" + _("Source: {source}").format(source=h(source)) + "</i>"
    label = APPROVAL_BUTTONS.get(code, N_("📝 The approval was given: record it"))
    return _move_head(env, s, d) + text, [[(_(label), APPROVAL.data(k))], _cancel_row(env, k)]


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
