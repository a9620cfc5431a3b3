"""/candidates: the conversation's steps, tapped or typed, and the flow's declaration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from domain.errors import StaleAction
from domain.i18n import N_
from domain.rules.candidates import RuleViolated
from domain.text import h
from domain.vocab import CandidateStage, Gender, IntroducerForm, PriorityGroup
from handlers import flows
from handlers.base import (
    Context,
    Env,
    button,
    mark_saved,
    send,
    show,
)
from handlers.base import RowScreen as Screen
from handlers.callbacks import Family
from handlers.candidates.buttons import (
    APPROVAL,
    BACK,
    BIRTH_MON,
    BIRTH_YEAR,
    CANCEL,
    CONSIDER_MONTH,
    CONSIDER_RECORD,
    DECADE,
    DUP_OK,
    FORM,
    GENDER,
    GROUP,
    INTRODUCER,
    INTRODUCERS_OK,
    LIST,
    OPEN,
    SAVE,
    STEP_DAY,
    TICK,
    UNIT,
)
from handlers.candidates.commands import _begin, _lost, _person
from handlers.candidates.screens import (
    DEADLINE_NAMES,
    list_screen,
    render,
    stage_name,
    violation_text,
)
from storage import candidates as cs
from storage.candidates import State
from storage.models import Draft


async def _after(update: Update, context: Context, env: Env, result: Any, *, edit: bool) -> None:
    """Shows the next step, or what a finished step did."""
    out = show if edit else None
    if isinstance(result, Draft):
        draft = result

        def unit(session: Session) -> Screen:
            return render(env, session, draft)

        screen = await env.run(unit)
    elif isinstance(result, cs.Moved):
        screen = _moved_screen(env, result)
    elif isinstance(result, cs.Added):
        cl = await env.run(_cell_list(env, result.org_id))
        body, rows = list_screen(env, cl, env.today())
        screen = (
            env.t.gettext("✅ {name} is on the sympathizer list.").format(name=h(result.name))
            + "\n\n"
            + body,
            rows,
        )
    else:
        assert isinstance(result, cs.Considered)
        cl = await env.run(_cell_list(env, result.org_id))
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


def _cell_list(env: Env, org_id: int) -> Callable[[Session], cs.CellList]:
    """The unit that reads a cell's list, as the sender sees it today."""

    def unit(session: Session) -> cs.CellList:
        return cs.cell_list(session, person_id=_person(env), org_id=org_id, today=env.today())

    return unit


def _current_screen(env: Env, *, only_flow: bool) -> Callable[[Session], Screen]:
    """The unit that renders the step the sender's open conversation is at (empty when none;
    ``only_flow``: also empty when the open conversation is not /candidates')."""

    def unit(session: Session) -> Screen:
        draft = cs.current(session, person_id=_person(env))
        if draft is None or (only_flow and draft.flow != cs.FLOW):
            return "", []
        return render(env, session, draft)

    return unit


def _moved_screen(env: Env, r: cs.Moved) -> Screen:
    _ = env.t.gettext
    text = _("✅ {name}: {stage} on {date}.").format(
        name=h(r.name), stage=h(stage_name(env, r.stage.value)), date=env.t.date(r.day)
    )
    if r.redone:
        text = _(
            "✅ {name}: the introductions are redone on {date}; the cell can now consider the "
            "file."
        ).format(name=h(r.name), date=env.t.date(r.day))
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
        [(_("📂 Open"), OPEN.data(r.candidate_id)), (_("⬅️ The list"), LIST.data(r.org_id))]
    ]


def _step(family: Family, use_case: Callable[..., Any]) -> Callable[[Update, Context], Any]:
    """A button handler: ``cnd:<action>:<key>:<values…>`` → ``use_case`` → the next screen."""

    @button
    async def handler(update: Update, context: Context, env: Env) -> None:
        key, *values = family.args(update)

        def unit(session: Session) -> Any:
            return use_case(session, env, key, *values)

        try:
            result = await env.run(unit)
        except RuleViolated as exc:
            body, rows = await env.run(_current_screen(env, only_flow=True))
            await show(update, env, context, f"{violation_text(env, exc)}\n\n{body}".strip(), rows)
            return
        mark_saved(update)
        await _after(update, context, env, result, edit=True)

    handler.__doc__ = use_case.__doc__
    return handler


def _u_gender(s: Session, env: Env, k: int, g: Gender) -> Draft:
    """Stores the gender and asks for the decade of birth."""
    return cs.set_gender(s, person_id=_person(env), draft_id=k, gender=g, now=env.now())


def _u_decade(s: Session, env: Env, k: int, decade: int) -> Draft:
    """Stores the decade and asks for the year."""
    return cs.set_decade(s, person_id=_person(env), draft_id=k, decade=decade, now=env.now())


def _u_back(s: Session, env: Env, k: int) -> Draft:
    """Goes back to the decades."""
    return cs.back_to_decades(s, person_id=_person(env), draft_id=k, now=env.now())


def _u_year(s: Session, env: Env, k: int, year: int) -> Draft:
    """Stores the birth year and asks for the month."""
    return cs.set_year(
        s, person_id=_person(env), draft_id=k, year=year, today=env.today(), now=env.now()
    )


def _u_month(s: Session, env: Env, k: int, month: int) -> Draft:
    """Stores the birth month (or "unknown") and asks for the unit."""
    return cs.set_month(
        s,
        person_id=_person(env),
        draft_id=k,
        month=month,
        today=env.today(),
        now=env.now(),
    )


def _u_dupok(s: Session, env: Env, k: int) -> Draft:
    """Confirms the namesake is another person."""
    return cs.keep_duplicate(s, person_id=_person(env), draft_id=k, now=env.now())


def _u_unit(s: Session, env: Env, k: int, idx: int) -> Draft:
    """Stores the unit and asks for the priority groups."""
    return cs.set_unit(s, person_id=_person(env), draft_id=k, index=idx, now=env.now())


def _u_group(s: Session, env: Env, k: int, g: PriorityGroup) -> Draft:
    """Ticks or unticks a priority group."""
    return cs.toggle_group(s, person_id=_person(env), draft_id=k, group=g, now=env.now())


def _u_save(s: Session, env: Env, k: int) -> cs.Added:
    """Puts the non-member on the list."""
    return cs.save_candidate(
        s, person_id=_person(env), draft_id=k, today=env.today(), now=env.now()
    )


def _u_ctoggle(s: Session, env: Env, k: int, cid: int, what: str) -> Draft:
    """Ticks a sympathizer for the class or a candidate for a proposal."""
    return cs.toggle_consider(
        s,
        person_id=_person(env),
        draft_id=k,
        candidate_id=cid,
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


def _u_date(s: Session, env: Env, k: int, day: date) -> Any:
    """Stores the date of the step."""
    return cs.set_step_date(
        s, person_id=_person(env), draft_id=k, day=day, today=env.today(), now=env.now()
    )


def _u_form(s: Session, env: Env, k: int, form: IntroducerForm) -> Draft:
    """Stores which introduction the rule asks for."""
    return cs.set_form(s, person_id=_person(env), draft_id=k, form=form, now=env.now())


def _u_intro(s: Session, env: Env, k: int, member: int) -> Draft:
    """Ticks or unticks an introducer."""
    return cs.toggle_introducer(
        s, person_id=_person(env), draft_id=k, member_id=member, now=env.now()
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


STEP_BUTTONS: list[tuple[Family, Callable[..., Any]]] = [
    (GENDER, _u_gender),
    (DECADE, _u_decade),
    (BACK, _u_back),
    (BIRTH_YEAR, _u_year),
    (BIRTH_MON, _u_month),
    (DUP_OK, _u_dupok),
    (UNIT, _u_unit),
    (GROUP, _u_group),
    (SAVE, _u_save),
    (TICK, _u_ctoggle),
    (CONSIDER_MONTH, _u_cmonth),
    (CONSIDER_RECORD, _u_crecord),
    (STEP_DAY, _u_date),
    (FORM, _u_form),
    (INTRODUCER, _u_intro),
    (INTRODUCERS_OK, _u_intro_ok),
    (APPROVAL, _u_approval),
]


@button
async def on_cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves the conversation; nothing of it is saved."""
    (key,) = CANCEL.args(update)

    def unit(session: Session) -> bool:
        return cs.cancel(session, person_id=_person(env), draft_id=key)

    had = await env.run(unit)
    if not had:
        raise StaleAction()
    await show(update, env, context, env.t.gettext("Cancelled. Nothing was saved."))


def _typed(
    use_case: Callable[[Session, Env, int, str], Any],
) -> Callable[[Update, Context, Env, Draft], Any]:
    async def step(update: Update, context: Context, env: Env, draft: Draft) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""

        def unit(session: Session) -> Any:
            return use_case(session, env, cs.conversation_key(draft), text)

        try:
            result = await env.run(unit)
        except RuleViolated as exc:
            body, rows = await env.run(_current_screen(env, only_flow=False))
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
