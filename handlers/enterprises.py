"""/enterprises (/doanhnghiep): the non-state enterprises the steering group works with.

For the top organization's offices. Adding one types its name, location, workforce and the party
members working there (who attend meetings elsewhere), then two taps for the unions; each status
change and each update of the figures is dated and audited (:mod:`storage.enterprises`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler

from domain.errors import StaleAction
from domain.i18n import N_
from domain.text import h, truncate
from domain.vocab import EnterpriseStatus
from handlers import flows
from handlers.base import (
    Context,
    Env,
    Handlers,
    Rows,
    button,
    command,
    mark_saved,
    send,
    show,
)
from handlers.base import RowScreen as Screen
from handlers.callbacks import DAY, ID, Family, choice
from services import scheduler as sch
from storage import enterprises as es
from storage.models import Draft

STATUS_NAMES: dict[EnterpriseStatus, str] = {
    EnterpriseStatus.SURVEYED: N_("surveyed"),
    EnterpriseStatus.WORKING: N_("working with the owner"),
    EnterpriseStatus.CONDITIONS_MET: N_("conditions met (≥ 3 full members)"),
    EnterpriseStatus.FOUNDED: N_("party organization founded"),
}
QUESTIONS = {
    "name": N_("Please type the enterprise's name."),
    "location": N_("Please type the location (economic zone, industrial park, address)."),
    "workforce": N_("Please type the workforce (number of employees)."),
    "members": N_(
        "Please type the number of party members working there who attend meetings elsewhere."
    ),
    "update": N_("Please type the new figures as workforce/members, e.g. 250/4."),
}


#: The list; an enterprise's card; adding one; updating its figures; one status forward.
LIST = Family("ent:list")
OPEN = Family("ent:open", (ID,))
ADD = Family("ent:add")
UPDATE = Family("ent:upd", (ID,))
ADVANCE = Family("ent:adv", (ID, ID))
#: "Party organization founded": which cell? (enterprise, version), then the cell picked.
FOUND_ASK = Family("ent:fnd", (ID, ID))
FOUND = Family("ent:fnd", (ID, ID, ID))
#: A union ticked while adding; save; cancel (the conversation key first).
UNION = Family("ent:u", (ID, choice("tu", "yu")))
SAVE = Family("ent:save", (ID,))
CANCEL = Family("ent:x", (ID,))
#: The steering group's reviews; one review (obligation, period) to record; its date (a
#: button); save it without a note.
REVIEWS = Family("ent:rvl")
REVIEW = sch.STEERING_REVIEW
REVIEW_DAY = Family("ent:rvd", (ID, DAY))
REVIEW_SAVE = Family("ent:rvs", (ID,))


def _person(env: Env) -> int:
    assert env.who is not None
    return env.who.person_id


def status_name(env: Env, status: EnterpriseStatus) -> str:
    """The translated name of a status."""
    return env.t.gettext(STATUS_NAMES[status])


def list_screen(env: Env, rows_: list[es.EnterpriseRow]) -> Screen:
    """The enterprises by status."""
    _ = env.t.gettext
    lines = [_("<b>🏭 Non-state enterprises</b>")]
    counts = {s: sum(1 for r in rows_ if r.status is s) for s in EnterpriseStatus}
    lines.append(" · ".join(f"{h(status_name(env, s))}: {n}" for s, n in counts.items()))
    rows: Rows = []
    for r in rows_:
        lines.append(f"• <b>{h(r.name)}</b> — {h(status_name(env, r.status))}")
        rows.append([(truncate(r.name, 50), OPEN.data(r.id))])
    rows.append([(_("➕ Add an enterprise"), ADD.data())])
    rows.append([(_("🗓 The steering group's reviews"), REVIEWS.data())])
    return "\n".join(lines), rows


def reviews_screen(env: Env, items: list[es.SteeringDue], note: str = "") -> Screen:
    """The steering group's reviews, recorded or not, with a button for each to record."""
    _ = env.t.gettext
    lines = [note] if note else []
    lines.append(_("<b>🗓 The steering group's reviews</b> (enterprises work)"))
    rows: Rows = []
    today = env.today()
    for r in items:
        title = r.title(env.t.locale)
        if r.held_on is not None:
            lines.append(
                _("✅ {title} {period}: held on {date}").format(
                    title=h(title), period=r.period, date=env.t.date(r.held_on)
                )
            )
            label = _("✏️ Correct: {title} {period}")
        else:
            mark = "⏰" if r.due < today else "•"
            lines.append(
                _("{mark} {title} {period}: due {date}, not recorded").format(
                    mark=mark, title=h(title), period=r.period, date=env.t.date(r.due)
                )
            )
            label = _("📝 Record: {title} {period}")
        rows.append(
            [
                (
                    truncate(label.format(title=title, period=r.period), 60),
                    REVIEW.data(r.obligation, r.period),
                )
            ]
        )
    if not items:
        lines.append(_("No review is due in the calendar in force."))
    rows.append([(_("⬅️ The list"), LIST.data())])
    return "\n".join(lines), rows


def card_screen(env: Env, r: es.EnterpriseRow) -> Screen:
    """One enterprise and its next step."""
    _ = env.t.gettext
    yes, no = _("yes"), _("no")
    lines = [
        f"<b>{h(r.name)}</b>",
        _("Location: {place}").format(place=h(r.location or "—")),
        _("Workforce: {n}").format(n=r.workforce if r.workforce is not None else "—"),
        _("Party members working there (attending elsewhere): {n}").format(n=r.members_elsewhere),
        _("Trade union: {tu} · Youth Union: {yu}").format(
            tu=yes if r.has_trade_union else no, yu=yes if r.has_youth_union else no
        ),
        _("Status: <b>{status}</b> since {date}").format(
            status=h(status_name(env, r.status)), date=env.t.date(r.status_since)
        ),
    ]
    if r.founded_on and r.founded_org:
        lines.append(
            _("Founded on {date}: {cell}").format(
                date=env.t.date(r.founded_on), cell=h(r.founded_org)
            )
        )
    rows: Rows = []
    order = list(EnterpriseStatus)
    idx = order.index(r.status)
    if idx + 1 < len(order) - 1:
        nxt = order[idx + 1]
        rows.append([(f"➡️ {status_name(env, nxt)}", ADVANCE.data(r.id, r.version))])
    elif idx + 1 == len(order) - 1:
        rows.append([(_("➡️ Party organization founded…"), FOUND_ASK.data(r.id, r.version))])
    rows.append([(_("✏️ Update the figures"), UPDATE.data(r.id))])
    rows.append([(_("⬅️ The list"), LIST.data())])
    return "\n".join(lines), rows


def render(env: Env, session: Session, draft: Draft) -> Screen:
    """Show the step of the /enterprises conversation."""
    _ = env.t.gettext
    key = int(draft.data.get("cid", 0))
    cancel = [(_("✖ Cancel"), CANCEL.data(key))]
    if draft.state == "review_day":
        today = env.today()
        days = [today - timedelta(days=n) for n in range(3)]
        row = [(env.t.date(d), REVIEW_DAY.data(key, d)) for d in days]
        text = _(
            "When did the steering group hold this review ({period})? "
            "Tap the day, or type the date (day/month/year)."
        ).format(period=h(str(draft.data.get("rv_per", ""))))
        return text, [row, cancel]
    if draft.state == "review_note":
        text = _(
            "Held on {date}. Please type a short note (at most {limit} characters), "
            "or save without a note."
        ).format(
            date=env.t.date(date.fromisoformat(str(draft.data["rv_day"]))),
            limit=es.REVIEW_NOTE_MAX,
        )
        return text, [[(_("✅ Save without a note"), REVIEW_SAVE.data(key))], cancel]
    if draft.state == "unions":
        d = draft.data
        rows = [
            [
                (("✅ " if d.get("tu") else "") + _("Trade union exists"), UNION.data(key, "tu")),
                (("✅ " if d.get("yu") else "") + _("Youth Union exists"), UNION.data(key, "yu")),
            ],
            [(_("✅ Save"), SAVE.data(key))],
            cancel,
        ]
        text = _("<b>{name}</b>: which unions exist there? Then save.").format(name=h(d["name"]))
        return text, rows
    return _(QUESTIONS[draft.state]), [cancel]


@command("enterprises")
async def enterprises_command(update: Update, context: Context, env: Env) -> None:
    """Shows the enterprises the steering group works with."""
    rows = await env.read(lambda session: es.listing(session, person_id=_person(env)))
    await send(env, context, *list_screen(env, rows))


@button
async def on_list(update: Update, context: Context, env: Env) -> None:
    """Shows the list."""
    rows = await env.read(lambda session: es.listing(session, person_id=_person(env)))
    await show(update, env, context, *list_screen(env, rows))


@button
async def on_open(update: Update, context: Context, env: Env) -> None:
    """Shows one enterprise."""
    (ent,) = OPEN.args(update)
    r = await env.read(lambda session: es.get(session, person_id=_person(env), enterprise_id=ent))
    await show(update, env, context, *card_screen(env, r))


def _start(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    """Starts adding an enterprise, updating the figures of ``args["ent"]``, or recording the
    steering group's review ``args["review"]`` = [obligation, period]."""
    ent, review = args.get("ent"), args.get("review")
    return es.start_entry(
        session,
        person_id=env.person_id,
        now=env.now(),
        enterprise_id=None if ent is None else ent,
        review=None if review is None else (str(review[0]), str(review[1])),
    )


def _reviews(env: Env, session: Session, note: str = "") -> Screen:
    items = es.steering_reviews(session, person_id=_person(env), today=env.today())
    return reviews_screen(env, items, note)


async def on_reviews(update: Update, context: Context, env: Env) -> None:
    """Shows the steering group's reviews."""
    REVIEWS.args(update)
    screen = await env.read(lambda session: _reviews(env, session))
    await show(update, env, context, *screen)


async def on_review(update: Update, context: Context, env: Env) -> None:
    """Starts recording one review: asks its date."""
    obligation, period = REVIEW.args(update)
    await flows.start(update, context, env, es.FLOW, {"review": [obligation, period]})


async def on_review_day(update: Update, context: Context, env: Env) -> None:
    """The review's date, tapped; asks the note."""
    key, day = REVIEW_DAY.args(update)
    await flows.step(
        update,
        context,
        env,
        lambda session: es.review_day(
            session, person_id=_person(env), key=key, day=day, today=env.today(), now=env.now()
        ),
        render=render,
    )


def _recorded(env: Env, session: Session) -> Screen:
    return _reviews(env, session, env.t.gettext("✅ The review is recorded."))


async def on_review_save(update: Update, context: Context, env: Env) -> None:
    """Saves the review without a note."""
    (key,) = REVIEW_SAVE.args(update)

    def save(session: Session) -> None:
        es.save_review(
            session, person_id=_person(env), key=key, note=None, today=env.today(), now=env.now()
        )

    await flows.step(update, context, env, save, render=render, done=lambda s: _recorded(env, s))


def _lost(env: Env, session: Session, draft: Draft) -> list[str]:
    """What discarding an unfinished entry loses: the name typed (figures go with it)."""
    name = draft.data.get("name")
    if draft.data.get("rv_day"):
        return [
            env.t.gettext("the date of the review ({period})").format(
                period=h(str(draft.data.get("rv_per")))
            )
        ]
    return [h(name)] if name else []


async def _begin(update: Update, context: Context, env: Env, ent: int | None) -> None:
    """Starts the entry, or offers back the conversation open (continue / discard) when
    discarding it would lose something."""
    await flows.start(update, context, env, es.FLOW, {"ent": ent})


@button
async def on_add(update: Update, context: Context, env: Env) -> None:
    """Starts adding an enterprise: asks its name."""
    await _begin(update, context, env, None)


@button
async def on_update(update: Update, context: Context, env: Env) -> None:
    """Starts a dated update of the figures."""
    (ent,) = UPDATE.args(update)
    await _begin(update, context, env, ent)


@button
async def on_advance(update: Update, context: Context, env: Env) -> None:
    """Moves the effort one status forward, dated today."""
    ent, version = ADVANCE.args(update)

    def unit(session: Session) -> es.EnterpriseRow:
        return es.advance(
            session,
            person_id=_person(env),
            enterprise_id=ent,
            version=version,
            day=env.today(),
            today=env.today(),
            now=env.now(),
        )

    r = await env.run(unit)
    mark_saved(update)
    await show(update, env, context, *card_screen(env, r))


@button
async def on_found(update: Update, context: Context, env: Env) -> None:
    """Asks which cell was founded, then records it with today's date."""
    data = update.callback_query.data if update.callback_query else None
    if FOUND_ASK.matches(data):
        key, version = FOUND_ASK.parse(data)
        cells = await env.read(lambda session: es.new_cells(session, person_id=_person(env)))
        rows = [[(truncate(n, 50), FOUND.data(key, version, i))] for i, n in cells]
        rows.append([(env.t.gettext("⬅️ The list"), LIST.data())])
        await show(update, env, context, env.t.gettext("Which new cell was founded?"), rows)
        return
    ent, version, cell = FOUND.parse(data)

    def unit(session: Session) -> es.EnterpriseRow:
        return es.advance(
            session,
            person_id=_person(env),
            enterprise_id=ent,
            version=version,
            day=env.today(),
            today=env.today(),
            now=env.now(),
            founded_org_id=cell,
        )

    r = await env.run(unit)
    mark_saved(update)
    await show(update, env, context, *card_screen(env, r))


@button
async def on_union(update: Update, context: Context, env: Env) -> None:
    """Ticks a union."""
    key, which = UNION.args(update)

    def unit(session: Session) -> Screen:
        d = es.toggle_union(session, person_id=_person(env), key=key, which=which, now=env.now())
        return render(env, session, d)

    screen = await env.run(unit)
    mark_saved(update)
    await show(update, env, context, *screen)


@button
async def on_save(update: Update, context: Context, env: Env) -> None:
    """Saves the new enterprise."""
    (key,) = SAVE.args(update)

    def unit(session: Session) -> es.EnterpriseRow:
        return es.save_entry(
            session,
            person_id=_person(env),
            key=key,
            today=env.today(),
            now=env.now(),
        )

    r = await env.run(unit)
    mark_saved(update)
    text, rows = card_screen(env, r)
    await show(update, env, context, env.t.gettext("✅ Saved.") + "\n\n" + text, rows)


@button
async def on_cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves the conversation; nothing of it is saved."""
    (key,) = CANCEL.args(update)
    had = await env.run(lambda session: es.cancel_entry(session, person_id=_person(env), key=key))
    if not had:
        raise StaleAction()
    await show(update, env, context, env.t.gettext("Cancelled. Nothing was saved."))


async def _typed_review(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """The review's date or its note, typed."""
    assert update.effective_message is not None
    text = update.effective_message.text or ""

    def unit(session: Session) -> Screen:
        result = es.type_review(
            session,
            person_id=_person(env),
            key=int(draft.data.get("cid", 0)),
            text=text,
            today=env.today(),
            now=env.now(),
        )
        if isinstance(result, Draft):
            return render(env, session, result)
        return _recorded(env, session)

    screen = await env.run(unit)
    mark_saved(update)
    await send(env, context, *screen)


async def _typed(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Stores a typed answer and asks the next one."""
    assert update.effective_message is not None
    typed = update.effective_message.text or ""

    def unit(session: Session) -> Screen | es.EnterpriseRow:
        result = es.type_entry(
            session,
            person_id=_person(env),
            key=int(draft.data.get("cid", 0)),
            text=typed,
            today=env.today(),
            now=env.now(),
        )
        return render(env, session, result) if isinstance(result, Draft) else result

    outcome = await env.run(unit)
    if isinstance(outcome, es.EnterpriseRow):
        text, rows = card_screen(env, outcome)
        screen: Screen = (env.t.gettext("✅ Saved.") + "\n\n" + text, rows)
    else:
        screen = outcome
    mark_saved(update)
    await send(env, context, *screen)


ENTERPRISES_FLOW = flows.Flow(
    name=es.FLOW,
    title=N_("the enterprises' list"),
    render=render,
    begin=_start,
    lost=_lost,
    text_steps={
        **{s: _typed for s in ("name", "location", "workforce", "members", "update")},
        "review_day": _typed_review,
        "review_note": _typed_review,
    },
)


def handlers() -> Handlers:
    """The handlers of /enterprises (group 0)."""
    return [
        CommandHandler(["enterprises", "doanhnghiep"], enterprises_command),
        LIST.handler(on_list),
        OPEN.handler(on_open),
        ADD.handler(on_add),
        UPDATE.handler(on_update),
        ADVANCE.handler(on_advance),
        FOUND_ASK.handler(on_found),
        FOUND.handler(on_found),
        UNION.handler(on_union),
        SAVE.handler(on_save),
        CANCEL.handler(on_cancel),
        REVIEWS.handler(button(on_reviews)),
        REVIEW.handler(button(on_review)),
        REVIEW_DAY.handler(button(on_review_day)),
        REVIEW_SAVE.handler(button(on_review_save)),
    ]
